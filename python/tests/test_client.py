"""mpcsfaas.client against the fake platform of conftest.py (a real HTTP server on a loopback port)."""

import codecs
import threading
import time
import traceback
from concurrent.futures import CancelledError

import dill
import pytest
import requests

import mpcsfaas.client as client_module
from mpcsfaas import Client, MPCSFaaSError, RemoteError, RemoteTraceback
from mpcsfaas.client import MAX_WAIT, outcome

from conftest import Pickled


def encode(obj):
    """The platform's payload encoding, written out independently of the SDK."""
    return codecs.encode(dill.dumps(obj), "base64").decode()


def decode(text):
    return dill.loads(codecs.decode(text.encode(), "base64"))


def add(a, b=0, *, c=0):
    return a + b + c


def fail(message):
    raise ValueError(message)


class Local(Exception):
    """An exception class of this module: travels by value, comes back as a new class."""


def raise_local():
    raise Local("local problem")


@pytest.fixture
def client(platform):
    with Client(platform.url) as c:
        yield c


# -- registration and submission ----------------------------------------------------------------------

def test_register_sends_the_name_and_the_function_by_value(platform, client):
    function_id = client.register(add)
    assert function_id in platform.functions
    (request,) = platform.received("POST", "/register_function")
    assert request.path == "/register_function" and request.query == {}
    assert request.body["name"] == "add"
    fn = decode(request.body["payload"])
    assert fn is not add and fn.__module__ == "__main__" and fn(1, 2, c=3) == 6


def test_register_with_a_name(platform, client):
    client.register(add, name="adder")
    assert platform.received("POST", "/register_function")[0].body["name"] == "adder"


def test_register_payload_sends_the_payload_as_is(platform, client):
    function_id = client.register_payload(encode(len), "len")
    assert platform.functions[function_id] == {"function_id": function_id, "name": "len", "payload": encode(len)}


def test_submit_sends_args_and_kwargs(platform, client):
    platform.auto_run = False
    function_id = client.register(add)
    task_id = client.submit(function_id, 1, 2, c=3)
    assert platform.task_ids() == [task_id]
    (request,) = platform.received("POST", "/execute_function")
    assert request.query == {}  # no wait: the task id comes back at once
    assert set(request.body) == {"function_id", "payload"}  # no timeout unless asked
    assert request.body["function_id"] == function_id
    assert decode(request.body["payload"]) == ((1, 2), {"c": 3})


def test_submit_payload_with_a_task_timeout(platform, client):
    function_id = client.register(add)
    task_id = client.submit_payload(function_id, encode(((1,), {})), task_timeout=5)
    assert platform.received("POST", "/execute_function")[0].body["timeout"] == 5
    assert platform.tasks[task_id]["timeout"] == 5


def test_submit_many_uses_the_batch_endpoint_in_order(platform, client):
    platform.auto_run = False
    function_id = client.register(add)
    ids = client.submit_many(function_id, [((1, 2), {}), ([3], None), ((4,), {"c": 5})], task_timeout=7)
    assert ids == platform.task_ids()
    (request,) = platform.received("POST", "/execute_function/batch")
    assert request.body["function_id"] == function_id and request.body["timeout"] == 7
    assert [decode(p) for p in request.body["payloads"]] == [((1, 2), {}), ((3,), {}), ((4,), {"c": 5})]
    assert not platform.received("POST", "/execute_function/batch/")


def test_submit_payloads_splits_at_max_batch(platform, client, monkeypatch):
    monkeypatch.setattr(client_module, "MAX_BATCH", 3)
    function_id = client.register(add)
    ids = client.submit_payloads(function_id, [encode(((n,), {})) for n in range(7)])
    assert ids == platform.task_ids() and len(ids) == 7
    sizes = [len(r.body["payloads"]) for r in platform.received("POST", "/execute_function/batch")]
    assert sizes == [3, 3, 1]
    assert [decode(platform.tasks[t]["result"]) for t in ids] == list(range(7))


def test_submit_payloads_splits_at_max_batch_bytes(platform, client, monkeypatch):
    payloads = [encode(((n,), {})) for n in range(5)]
    monkeypatch.setattr(client_module, "MAX_BATCH_BYTES", 2 * len(payloads[0]) + 10)
    function_id = client.register(add)
    assert len(client.submit_payloads(function_id, payloads)) == 5
    sizes = [len(r.body["payloads"]) for r in platform.received("POST", "/execute_function/batch")]
    assert sizes == [2, 2, 1]


def test_submit_payloads_of_nothing_sends_nothing(platform, client):
    assert client.submit_payloads("00000000-0000-0000-0000-000000000000", []) == []
    assert platform.received() == []


def test_a_batch_answered_with_too_few_ids_raises(platform, client):
    function_id = client.register(add)
    platform.reply_next("POST", "/execute_function/batch", 201, {"task_ids": ["only-one"]})
    with pytest.raises(MPCSFaaSError, match="the batch of 2 tasks returned 1 task ids"):
        client.submit_many(function_id, [((1,), {}), ((2,), {})])


# -- call, result, status, results ----------------------------------------------------------------------

def test_call_is_one_held_request(platform, client):
    function_id = client.register(add)
    assert client.call(function_id, 2, b=3) == 5
    (request,) = platform.received("POST", "/execute_function")
    assert request.query == {"wait": str(MAX_WAIT)}
    assert platform.received("GET") == []  # no poll after it


def test_call_re_raises_the_remote_exception(platform, client):
    function_id = client.register(fail)
    with pytest.raises(ValueError, match="^remote boom$") as caught:
        client.call(function_id, "remote boom")
    cause = caught.value.__cause__
    assert isinstance(cause, RemoteTraceback)
    assert "Traceback (most recent call last)" in cause.tb and "in fail" in cause.tb
    assert cause.tb.rstrip().endswith('ValueError: remote boom\n"""')


def test_call_polls_when_the_held_request_ends_first(platform, client):
    platform.auto_run = False
    platform.max_hold = 0.1  # the server gives up holding before the task ends
    function_id = client.register(add)

    def finish_later():
        platform.complete_later(platform.wait_for_tasks(1)[0], 0.4)

    helper = threading.Thread(target=finish_later)
    helper.start()
    assert client.call(function_id, 20, 22) == 42
    helper.join()
    (task_id,) = platform.task_ids()
    gets = platform.received("GET", "/result/")
    assert gets and all(r.path == "/result/" + task_id for r in gets)


def test_call_fetches_a_result_its_answer_left_out(platform, client):
    function_id = client.register(add)
    task_id = client.submit(function_id, 20, 22)  # the task the answer below names
    platform.reply_next("POST", "/execute_function", 201,
                        {"task_id": task_id, "status": "COMPLETED", "result": None, "result_omitted": True})
    assert client.call(function_id, 1, 2) == 42, "the server had no room for the result in its answer"
    assert [r.path for r in platform.received("GET")] == ["/result/" + task_id]


def test_status(platform, client):
    platform.auto_run = False
    task_id = client.submit(client.register(add), 1)
    assert client.status(task_id) == "QUEUED"
    platform.complete(task_id)
    assert client.status(task_id) == "COMPLETED"
    assert platform.received("GET", "/status/")[0].path == "/status/" + task_id


def test_result_long_polls(platform, client):
    platform.auto_run = False
    task_id = client.submit(client.register(add), 1, 2)
    platform.complete_later(task_id, 0.2)
    started = time.monotonic()
    assert client.result(task_id) == 3
    assert time.monotonic() - started < 5
    gets = platform.received("GET", "/result/")
    assert len(gets) == 1 and gets[0].query == {"wait": str(MAX_WAIT)}


def test_result_of_a_failed_task_raises_it(platform, client):
    task_id = client.submit(client.register(fail), "no good")
    with pytest.raises(ValueError, match="no good") as caught:
        client.result(task_id)
    assert isinstance(caught.value.__cause__, RemoteTraceback)


def test_result_of_a_local_exception_class(platform, client):
    task_id = client.submit(client.register(raise_local))
    with pytest.raises(Exception) as caught:
        client.result(task_id)
    assert type(caught.value).__name__ == "Local" and str(caught.value) == "local problem"
    assert type(caught.value) is not Local  # a by-value class comes back as another class (README)


def test_result_timeout(platform, client):
    platform.auto_run = False
    task_id = client.submit(client.register(add), 1)
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="has not ended after 0.3 s"):
        client.result(task_id, timeout=0.3)
    elapsed = time.monotonic() - started
    assert 0.25 <= elapsed < 2
    waits = [float(r.query["wait"]) for r in platform.received("GET", "/result/")]
    assert waits and all(0 <= w <= 0.3 for w in waits)


def test_result_polls_a_server_that_does_not_hold(platform, client):
    platform.auto_run = False
    platform.honour_wait = False
    task_id = client.submit(client.register(add), 5, 5)
    platform.complete_later(task_id, 0.5)
    assert client.result(task_id) == 10
    polls = len(platform.received("GET", "/result/"))
    assert 2 <= polls <= 12  # it polled, with pauses (0.05 s doubling), not in a tight loop


def test_result_timeout_against_a_server_that_does_not_hold(platform, client):
    platform.auto_run = False
    platform.honour_wait = False
    task_id = client.submit(client.register(add), 1)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        client.result(task_id, timeout=0.4)
    assert 0.35 <= time.monotonic() - started < 2
    assert len(platform.received("GET", "/result/")) <= 10


@pytest.mark.parametrize("wait, sent", [(0, None), (0.25, "0.25"), (1, "1"), (2.5, "2.5"), (100, "60")])
def test_result_body_wait_parameter(platform, client, wait, sent):
    task_id = client.submit(client.register(add), 1)
    body = client.result_body(task_id, wait)
    assert body["task_id"] == task_id and body["status"] == "COMPLETED" and decode(body["result"]) == 1
    query = platform.received("GET", "/result/")[0].query
    assert query == ({} if sent is None else {"wait": sent})


def test_results_in_order_with_the_wait_and_return_when(platform, client):
    platform.auto_run = False
    function_id = client.register(add)
    ids = client.submit_many(function_id, [((n,), {}) for n in range(3)])
    platform.complete(ids[1])
    bodies = client.results(ids[::-1], wait=0.2, first_completed=True)
    assert [b["task_id"] for b in bodies] == ids[::-1]
    assert [b["status"] for b in bodies] == ["QUEUED", "COMPLETED", "QUEUED"]
    assert decode(bodies[1]["result"]) == 1
    request = platform.received("POST", "/results")[0]
    assert request.body == {"task_ids": ids[::-1], "wait": 0.2, "return_when": "FIRST_COMPLETED"}
    platform.complete(ids[0])
    platform.complete(ids[2])
    client.results(ids, wait=100)
    assert platform.received("POST", "/results")[1].body["wait"] == MAX_WAIT
    assert platform.received("POST", "/results")[1].body["return_when"] == "ALL_COMPLETED"


def test_results_of_an_unknown_task(platform, client):
    bodies = client.results(["11111111-1111-1111-1111-111111111111"])
    assert bodies == [{"task_id": "11111111-1111-1111-1111-111111111111", "error": "task not found"}]


def test_functions_pages_through_the_list(platform, client):
    for n in range(1500):
        platform.functions["f%04d" % n] = {"function_id": "f%04d" % n, "name": "fn%d" % n, "payload": ""}
    listed = client.functions()
    assert [f["function_id"] for f in listed] == ["f%04d" % n for n in range(1500)]
    queries = [r.query for r in platform.received("GET", "/functions")]
    assert queries == [{"offset": "0", "limit": "1000"}, {"offset": "1000", "limit": "1000"}]


# -- headers and URL --------------------------------------------------------------------------------------

def test_api_key_is_sent_as_a_bearer_token(platform):
    with Client(platform.url + "/", api_key="s3cret") as c:
        c.register(add)
    (request,) = platform.received()
    assert request.path == "/register_function"  # the trailing slash of the URL is dropped
    assert request.headers["authorization"] == "Bearer s3cret"
    assert request.headers["accept"] == "application/json"


def test_no_authorization_without_an_api_key(platform, client):
    client.register(add)
    assert "authorization" not in platform.received()[0].headers


# -- errors of the requests ---------------------------------------------------------------------------------

def test_a_json_error_becomes_mpcsfaas_error(platform, client):
    with pytest.raises(MPCSFaaSError) as caught:
        client.submit("22222222-2222-2222-2222-222222222222", 1)
    err = caught.value
    assert err.status_code == 404 and err.status == 404
    assert err.error == "function 22222222-2222-2222-2222-222222222222 not found"
    assert (err.method, err.path) == ("POST", "/execute_function")
    assert str(err) == "POST /execute_function -> HTTP 404: function 22222222-2222-2222-2222-222222222222 not found"


def test_an_unknown_task_is_404(platform, client):
    with pytest.raises(MPCSFaaSError) as caught:
        client.result("33333333-3333-3333-3333-333333333333")
    assert caught.value.status_code == 404 and caught.value.path == "/result/33333333-3333-3333-3333-333333333333"


def test_a_text_error_body_is_the_error(platform, client):
    platform.reply_next("POST", "/register_function", 500, "  internal trouble \n")
    with pytest.raises(MPCSFaaSError) as caught:
        client.register(add)
    assert caught.value.status_code == 500 and caught.value.error == "internal trouble"


def test_an_empty_error_body_gives_the_reason(platform, client):
    platform.reply_next("GET", "/status/", 503, None)
    with pytest.raises(MPCSFaaSError) as caught:
        client.status("44444444-4444-4444-4444-444444444444")
    assert caught.value.status_code == 503 and caught.value.error == "Service Unavailable"


def test_a_json_error_without_an_error_field(platform, client):
    platform.reply_next("GET", "/status/", 400, {"problem": "x"})
    with pytest.raises(MPCSFaaSError) as caught:
        client.status("44444444-4444-4444-4444-444444444444")
    assert caught.value.status_code == 400 and caught.value.error == '{"problem": "x"}'


@pytest.mark.parametrize("reply", [[1, 2], "not json", None])
def test_a_success_that_is_not_a_json_object(platform, client, reply):
    platform.reply_next("GET", "/status/", 200, reply)
    with pytest.raises(MPCSFaaSError, match="not a JSON object") as caught:
        client.status("44444444-4444-4444-4444-444444444444")
    assert caught.value.status_code == 200


def test_an_unreachable_server(closed_url):
    with Client(closed_url, timeout=5) as c:
        with pytest.raises(MPCSFaaSError) as caught:
            c.status("44444444-4444-4444-4444-444444444444")
    assert caught.value.status_code is None
    assert (caught.value.method, caught.value.path) == ("GET", "/status/44444444-4444-4444-4444-444444444444")
    assert isinstance(caught.value.__cause__, requests.ConnectionError)


def test_the_http_timeout_applies(platform):
    platform.auto_run = False
    with Client(platform.url, timeout=0.2) as c:
        task_id = c.submit(c.register(add), 1)
        started = time.monotonic()
        with pytest.raises(MPCSFaaSError) as caught:
            c.request("GET", "/result/%s" % task_id, params={"wait": "5"})  # held 5 s; no extra allowance
    assert time.monotonic() - started < 3
    assert caught.value.status_code is None and isinstance(caught.value.__cause__, requests.Timeout)


def test_long_polls_get_their_wait_on_top_of_the_http_timeout(platform):
    platform.auto_run = False
    with Client(platform.url, timeout=0.2) as c:
        task_id = c.submit(c.register(add), 1)
        platform.complete_later(task_id, 0.5)
        assert c.result(task_id) == 1  # the request is held 0.5 s, more than the 0.2 s HTTP timeout


# -- outcome() of a /result body -------------------------------------------------------------------------

def test_outcome_of_a_completed_task():
    assert outcome({"task_id": "t", "status": "COMPLETED", "result": encode({"v": [1]})}) == (True, {"v": [1]})


def test_outcome_of_a_failed_task():
    ok, exc = outcome({"task_id": "t", "status": "FAILED", "result": encode(KeyError("k")), "error": "tb text"})
    assert ok is False and type(exc) is KeyError and exc.args == ("k",)
    assert isinstance(exc.__cause__, RemoteTraceback) and "tb text" in str(exc.__cause__)


def test_outcome_of_a_failure_whose_exception_cannot_be_unpickled():
    ok, exc = outcome({"task_id": "t", "status": "FAILED", "result": "not base64 dill", "error": "tb"})
    assert ok is False and isinstance(exc, RemoteError) and "cannot be unpickled here" in str(exc)
    assert "tb" in str(exc.__cause__)


def test_outcome_of_a_failure_that_is_not_an_exception():
    ok, exc = outcome({"task_id": "t", "status": "FAILED", "result": encode("just text"), "error": None})
    assert ok is False and isinstance(exc, RemoteError) and str(exc) == "task t failed: 'just text'"
    assert exc.__cause__ is None


def test_outcome_of_a_failure_without_result():
    ok, exc = outcome({"task_id": "t", "status": "FAILED", "result": None, "error": "worker lost"})
    assert isinstance(exc, RemoteError) and str(exc) == "task t failed" and "worker lost" in str(exc.__cause__)


def test_outcome_of_an_unknown_task():
    with pytest.raises(MPCSFaaSError) as caught:
        outcome({"task_id": "t", "error": "task not found"})
    assert caught.value.status_code == 404 and caught.value.error == "task not found"


def test_outcome_of_a_result_that_cannot_be_unpickled():
    with pytest.raises(MPCSFaaSError, match="completed but its result cannot be unpickled"):
        outcome({"task_id": "t", "status": "COMPLETED", "result": "####"})


@pytest.mark.parametrize("status", ["QUEUED", "RUNNING"])
def test_outcome_of_a_task_that_has_not_ended(status):
    with pytest.raises(ValueError, match="has not ended"):
        outcome({"task_id": "t", "status": status, "result": None})


def test_a_remote_exception_prints_with_its_remote_traceback(platform, client):
    with pytest.raises(ValueError) as caught:
        client.call(client.register(fail), "printed")
    printed = "".join(traceback.format_exception(caught.type, caught.value, caught.value.__traceback__))
    assert "in fail" in printed and "The above exception was the direct cause" in printed


# -- task options ---------------------------------------------------------------------------------------------

def plus_timeout(x, timeout=0):
    """A function with a keyword argument named as a task option."""
    return x + timeout


def always_fail():
    raise RuntimeError("again")


def test_options_go_to_the_request_and_the_function_keeps_its_keywords(platform, client):
    function_id = client.register(plus_timeout)
    task_id = client.options(timeout=5, max_retries=2, retry_delay=0.5).submit(function_id, 1, timeout=3)
    (request,) = platform.received("POST", "/execute_function")
    assert request.body["timeout"] == 5 and request.body["max_retries"] == 2 and request.body["retry_delay"] == 0.5
    assert decode(request.body["payload"]) == ((1,), {"timeout": 3})
    assert client.result(task_id) == 4
    client.submit(function_id, 1)  # the client itself has no options
    assert set(platform.received("POST", "/execute_function")[1].body) == {"function_id", "payload"}


def test_options_of_a_view_add_up_and_explicit_arguments_win(platform, client):
    function_id = client.register(add)
    view = client.options(timeout=5).options(max_retries=1)
    assert view.session is client.session
    view.submit_payload(function_id, encode(((1,), {})), 9, retry_delay=2)
    view.submit_many(function_id, [((1,), {})])
    assert view.call(function_id, 1, 2) == 3
    bodies = [r.body for r in platform.received("POST", "/execute_function") if r.path == "/execute_function"]
    assert [{k: b.get(k) for k in ("timeout", "max_retries", "retry_delay")} for b in bodies] == [
        {"timeout": 9, "max_retries": 1, "retry_delay": 2}, {"timeout": 5, "max_retries": 1, "retry_delay": None}]
    (batch,) = platform.received("POST", "/execute_function/batch")
    assert batch.body["timeout"] == 5 and batch.body["max_retries"] == 1 and "retry_delay" not in batch.body


@pytest.mark.parametrize("options", [{"timeout": 0}, {"timeout": "5"}, {"max_retries": -1}, {"max_retries": 11},
                                     {"max_retries": 1.5}, {"max_retries": True}, {"retry_delay": -0.1}])
def test_options_the_server_would_refuse_raise_value_error(client, options):
    with pytest.raises(ValueError):
        client.options(**options)


def test_retry_options_the_server_refuses(platform, client):
    function_id = client.register(add)
    with pytest.raises(MPCSFaaSError) as caught:
        client.submit_payload(function_id, encode(((1,), {})), max_retries=11)
    assert caught.value.status_code == 400 and platform.task_ids() == []


def test_a_failing_task_runs_again_with_retries(platform, client):
    function_id = client.register(always_fail)
    task_id = client.options(max_retries=2).submit(function_id)
    with pytest.raises(RuntimeError, match="again"):
        client.result(task_id)
    assert client.result_body(task_id)["attempts"] == 3


# -- cancel ---------------------------------------------------------------------------------------------------

UNKNOWN = "33333333-3333-3333-3333-333333333333"


def test_cancel_a_task(platform, client):
    platform.auto_run = False
    task_id = client.submit(client.register(add), 1)
    assert client.cancel(task_id) is True
    assert platform.received("POST", "/cancel/")[0].path == "/cancel/" + task_id
    body = client.result_body(task_id)
    assert body["status"] == "FAILED" and body["cancelled"] is True
    with pytest.raises(CancelledError):
        client.result(task_id)
    assert client.cancel(task_id) is False  # 409: it has ended


def test_cancel_an_unknown_task(platform, client):
    with pytest.raises(MPCSFaaSError) as caught:
        client.cancel(UNKNOWN)
    assert caught.value.status_code == 404


def test_cancel_many_in_one_request_per_max_batch(platform, client, monkeypatch):
    monkeypatch.setattr(client_module, "MAX_BATCH", 2)
    platform.auto_run = False
    function_id = client.register(add)
    queued = client.submit(function_id, 1)
    ended = client.submit(function_id, 2)
    platform.complete(ended)
    entries = client.cancel_many([queued, ended, UNKNOWN])
    assert entries == [{"task_id": queued, "status": "FAILED", "cancelled": True},
                       {"task_id": ended, "error": "task %s has already ended" % ended},
                       {"task_id": UNKNOWN, "error": "task not found"}]
    assert [r.body for r in platform.received("POST", "/cancel")] == [{"task_ids": [queued, ended]},
                                                                       {"task_ids": [UNKNOWN]}]
    assert client.cancel_many([]) == [] and len(platform.received("POST", "/cancel")) == 2


# -- output -----------------------------------------------------------------------------------------------------

def test_output_so_far(platform, client):
    platform.auto_run = False
    task_id = client.submit(client.register(add), 1)
    platform.print(task_id, "hello\n", "warning\n")
    assert client.output(task_id) == {"task_id": task_id, "status": "QUEUED", "stdout": "hello\n",
                                      "stderr": "warning\n", "output_truncated": False}
    assert platform.received("GET", "/output/")[0].query == {}


def test_follow_yields_output_as_it_comes_and_ends_with_the_task(platform, client):
    platform.auto_run = False
    task_id = client.submit(client.register(add), 1)
    chunks = client.follow(task_id)
    assert platform.received("GET", "/output/")[0].query == {"follow": "true"}  # sent before the first next()
    platform.print(task_id, "line 1\n")
    assert next(chunks) == "line 1\n"
    platform.print(task_id, stderr="oops\n")
    assert next(chunks) == "oops\n"
    platform.print(task_id, "é\n")
    assert next(chunks) == "é\n"
    platform.complete(task_id)
    assert list(chunks) == []


def test_follow_has_no_read_timeout(platform):
    platform.auto_run = False
    with Client(platform.url, timeout=0.2) as c:
        task_id = c.submit(c.register(add), 1)
        chunks = c.follow(task_id)
        timer = threading.Timer(0.6, platform.print, (task_id, "late\n"))
        timer.start()
        assert next(chunks) == "late\n"
        timer.join()
        platform.complete(task_id)
        assert list(chunks) == []


def test_follow_of_an_unknown_task_raises_at_once(platform, client):
    with pytest.raises(MPCSFaaSError) as caught:
        client.follow(UNKNOWN)
    assert caught.value.status_code == 404 and caught.value.error == "task %s not found" % UNKNOWN


def test_follow_decodes_a_character_split_between_chunks():
    class Response:
        closed = False

        def iter_content(self, chunk_size):
            assert chunk_size is None  # as the data arrives
            data = "né\n".encode()
            return iter([data[:2], data[2:]])

        def close(self):
            self.closed = True

    response = Response()
    assert "".join(client_module._text_chunks(response, "/output/x")) == "né\n"
    assert response.closed


def test_a_503_refused_before_anything_was_stored_is_sent_again_after_its_retry_after(platform, client):
    function_id = client.register(add)
    busy = {"error": "the server is busy with other big requests", "retry_safe": True}
    platform.reply_next("POST", "/execute_function", 503, busy, times=2, headers={"Retry-After": "0"})
    task_id = client.submit(function_id, 1, 2)
    assert len(platform.received("POST", "/execute_function")) == 3
    assert platform.task_ids() == [task_id], "only the accepted submit made a task"
    assert client.result(task_id, timeout=5) == 3


def test_a_503_without_the_mark_may_have_stored_the_task_and_is_not_sent_again(platform, client):
    function_id = client.register(add)
    platform.reply_next("POST", "/execute_function", 503, {"error": "replicas did not confirm"},
                        headers={"Retry-After": "0"})
    with pytest.raises(MPCSFaaSError) as caught:
        client.submit(function_id, 1, 2)
    assert (caught.value.status_code, caught.value.retry_safe) == (503, False)
    assert len(platform.received("POST", "/execute_function")) == 1


def test_a_tenants_429_is_the_callers_to_handle_though_safe_to_send_again(platform, client):
    function_id = client.register(add)
    platform.reply_next("POST", "/execute_function", 429, {"error": "max_in_flight", "retry_safe": True},
                        headers={"Retry-After": "0"})
    with pytest.raises(MPCSFaaSError) as caught:
        client.submit(function_id, 1, 2)
    assert (caught.value.status_code, caught.value.retry_after, caught.value.retry_safe) == (429, 0.0, True)
    assert len(platform.received("POST", "/execute_function")) == 1


# -- pickles as bodies --------------------------------------------------------------------------------

def test_submit_and_call_send_the_pickle_itself_with_the_fields_in_the_query(platform, client):
    function_id = client.register(add)
    task_id = client.options(timeout=5, max_retries=2).submit(function_id, 1, 2)
    assert client.result(task_id) == 3
    assert client.call(function_id, 2, b=3) == 5
    submitted, called = platform.received("POST", "/execute_function")
    for request in (submitted, called):
        assert request.pickled and request.headers["content-type"] == "application/octet-stream"
        assert request.body["function_id"] == function_id
    assert (submitted.body["timeout"], submitted.body["max_retries"]) == (5, 2)
    assert decode(called.body["payload"]) == ((2,), {"b": 3})


def test_call_and_result_take_a_completed_value_as_the_pickles_bytes(platform, client):
    function_id = client.register(add)
    platform.reply_next("POST", "/execute_function", 201, Pickled("t", dill.dumps("the bytes")))
    assert client.call(function_id, 1, 2) == "the bytes"
    task_id = client.submit(function_id, 1, 2)
    platform.reply_next("GET", "/result/", 200, Pickled(task_id, dill.dumps(["the", "bytes"])))
    assert client.result(task_id) == ["the", "bytes"]
    asked = [r.headers["accept"] for r in platform.received() if r.path != "/register_function"]
    assert asked == ["application/octet-stream, application/json"] * 3
    assert client.result_body(task_id)["result"] == encode(3), "result_body is the JSON body, as ever"


def test_a_value_that_cannot_be_unpickled_is_an_error_naming_the_task(platform, client):
    function_id = client.register(add)
    task_id = client.submit(function_id, 1, 2)
    platform.reply_next("GET", "/result/", 200, Pickled(task_id, b"not a pickle"))
    with pytest.raises(MPCSFaaSError, match="task %s completed but its result cannot be unpickled" % task_id):
        client.result(task_id)


def test_a_platform_that_predates_pickle_bodies_gets_json_from_then_on(platform, client):
    platform.pickle_bodies = False
    function_id = client.register(add)
    assert client.call(function_id, 1, 2) == 3
    assert client.result(client.submit(function_id, 3, 4)) == 7
    assert [r.pickled for r in platform.received("POST", "/execute_function")] == [True, False, False]


def test_results_leave_out_what_is_longer_than_max_result_bytes_and_with_result_fetches_it(platform, client):
    function_id = client.register(add)
    small, big = client.submit(function_id, 1, 2), client.submit(function_id, 10 ** 400, 1)
    bodies = client.results([small, big], max_result_bytes=100)
    assert platform.received("POST", "/results")[0].body["max_result_bytes"] == 100
    assert decode(bodies[0]["result"]) == 3 and "result_omitted" not in bodies[0]
    assert bodies[1]["result"] is None and bodies[1]["result_omitted"] is True
    assert outcome(client.with_result(bodies[1])) == (True, 10 ** 400 + 1)
    assert platform.received("GET", "/result/")[-1].headers["accept"].startswith("application/octet-stream")
    client.results([small])
    assert "max_result_bytes" not in platform.received("POST", "/results")[1].body, "only when asked"

"""mpcsfaas.executor against the fake platform of conftest.py (a real HTTP server on a loopback port)."""

import codecs
import sys
import threading
import time
from concurrent import futures as cf
from concurrent.futures import CancelledError, Future, as_completed, wait

import dill
import pytest

import mpcsfaas.executor as executor_module
from mpcsfaas import Client, FaaSExecutor, MPCSFaaSError, RemoteTraceback


def decode(text):
    """The inverse of the platform's payload encoding, written out independently of the SDK."""
    return dill.loads(codecs.decode(text.encode(), "base64"))


SETTING = 1


def square(x):
    return x * x


def read_setting():
    return SETTING


def add(a, b=0, *, c=0):
    return a + b + c


def fail(message):
    raise ValueError(message)


class Multiplier:
    """A callable that is not hashable (it defines __eq__ only): registered by its payload."""

    def __init__(self, k):
        self.k = k

    def __call__(self, x):
        return self.k * x

    def __eq__(self, other):
        return isinstance(other, Multiplier) and other.k == self.k

    __hash__ = None


@pytest.fixture
def executor(platform):
    ex = FaaSExecutor(platform.url, poll_wait=2)
    yield ex
    ex.shutdown(wait=True, cancel_futures=True)


def shutdown_within(ex, seconds, **kwargs):
    """Runs ``ex.shutdown(**kwargs)`` and asserts it returns within ``seconds``."""
    thread = threading.Thread(target=ex.shutdown, kwargs=kwargs, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "shutdown did not return within %s s" % seconds


# -- construction -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [{"max_batch": 0}, {"max_batch": 10_001}, {"poll_wait": 0}, {"poll_wait": 61}])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        FaaSExecutor("http://127.0.0.1:1", **kwargs)


# -- submit ---------------------------------------------------------------------------------------------------

def test_submit_returns_a_future_with_the_task_id(platform, executor):
    future = executor.submit(add, 1, 2, c=3)
    assert isinstance(future, Future)
    assert future.result(timeout=5) == 6
    (task_id,) = platform.task_ids()
    assert future.task_id == task_id
    request = platform.received("POST", "/execute_function")[0]
    assert decode(request.body["payload"]) == ((1, 2), {"c": 3}) and "timeout" not in request.body


def test_submit_sends_the_pickle_itself_and_falls_back_to_json_once_for_every_view(platform, executor):
    platform.pickle_bodies = False  # a platform older than pickle bodies
    assert executor.submit(add, 1, 2).result(timeout=5) == 3
    assert executor.options(timeout=5).submit(add, 3, 4).result(timeout=5) == 7
    assert [r.pickled for r in platform.received("POST", "/execute_function")] == [True, False, False]
    platform.pickle_bodies = True
    with FaaSExecutor(platform.url, poll_wait=2) as fresh:
        assert fresh.submit(add, 5, 6).result(timeout=5) == 11
    assert platform.received("POST", "/execute_function")[-1].pickled


def test_a_big_result_is_left_out_of_the_poll_and_taken_as_a_pickle(platform, executor, monkeypatch):
    monkeypatch.setattr(executor_module, "BIG_RESULT", 100)
    assert [executor.submit(add, 1, 2).result(timeout=5), executor.submit(add, 10 ** 400, 1).result(timeout=5)] \
        == [3, 10 ** 400 + 1]
    assert all(r.body.get("max_result_bytes") == 100 for r in platform.received("POST", "/results"))
    fetched = platform.received("GET", "/result/")
    assert [r.path for r in fetched] == ["/result/" + platform.task_ids()[1]], "only the big one, on its own"
    assert fetched[0].headers["accept"].startswith("application/octet-stream")


def test_a_left_out_result_whose_fetch_fails_fails_only_its_own_future(platform, executor, monkeypatch):
    monkeypatch.setattr(executor_module, "BIG_RESULT", 100)
    platform.reply_next("GET", "/result/", 503, {"error": "busy"})  # transient: the task stays pending
    assert executor.submit(add, 10 ** 400, 1).result(timeout=5) == 10 ** 400 + 1
    platform.reply_next("GET", "/result/", 404, {"error": "task gone not found"})  # expired since /results
    values = executor.map(add, [1, 10 ** 400], [2, 2], timeout=5)  # one batch: polled in one chunk
    assert next(values) == 3
    with pytest.raises(MPCSFaaSError, match="not found"):
        next(values)


def test_each_function_is_registered_once(platform, executor):
    futures = [executor.submit(square, n) for n in range(5)] + [executor.submit(add, 1, 1)]
    assert [f.result(timeout=5) for f in futures] == [0, 1, 4, 9, 16, 2]
    names = [r.body["name"] for r in platform.received("POST", "/register_function")]
    assert names == ["square", "add"]
    assert executor.function_id(square) == platform.received("POST", "/execute_function")[0].body["function_id"]


def test_a_function_is_sent_once_with_its_globals_as_they_were(platform, executor, monkeypatch):
    """README: the clone holds a snapshot of its globals, taken at first registration (the executor
    caches functions)."""
    assert executor.submit(read_setting).result(timeout=5) == 1
    monkeypatch.setattr(sys.modules[__name__], "SETTING", 2)
    assert read_setting() == 2
    assert executor.submit(read_setting).result(timeout=5) == 1
    assert len(platform.received("POST", "/register_function")) == 1


def test_an_unhashable_callable_is_registered_once_by_its_payload(platform, executor):
    assert executor.submit(Multiplier(3), 2).result(timeout=5) == 6
    assert executor.submit(Multiplier(3), 5).result(timeout=5) == 15
    assert executor.submit(Multiplier(4), 5).result(timeout=5) == 20
    names = [r.body["name"] for r in platform.received("POST", "/register_function")]
    assert names == ["Multiplier", "Multiplier"]


def test_a_string_is_a_registered_function_id(platform, executor):
    function_id = executor.function_id(square)
    assert executor.function_id(function_id) == function_id
    assert executor.submit(function_id, 7).result(timeout=5) == 49
    assert len(platform.received("POST", "/register_function")) == 1


def test_task_timeout_is_sent(platform):
    with FaaSExecutor(platform.url, task_timeout=9) as ex:
        ex.submit(square, 2).result(timeout=5)
        list(ex.map(square, [1, 2]))
    assert platform.received("POST", "/execute_function")[0].body["timeout"] == 9
    assert platform.received("POST", "/execute_function/batch")[0].body["timeout"] == 9


def test_a_remote_exception_is_re_raised_with_its_traceback(platform, executor):
    future = executor.submit(fail, "went wrong")
    exc = future.exception(timeout=5)
    assert type(exc) is ValueError and str(exc) == "went wrong"
    assert isinstance(exc.__cause__, RemoteTraceback)
    assert "in fail" in exc.__cause__.tb and "ValueError: went wrong" in exc.__cause__.tb
    with pytest.raises(ValueError, match="went wrong"):
        future.result()


def test_errors_of_the_requests_raise_from_submit(platform, executor):
    platform.reply_next("POST", "/register_function", 500, {"error": "storage down"})
    with pytest.raises(MPCSFaaSError) as caught:
        executor.submit(square, 1)
    assert caught.value.status_code == 500 and caught.value.error == "storage down"
    with pytest.raises(MPCSFaaSError) as caught:
        executor.submit("55555555-5555-5555-5555-555555555555", 1)
    assert caught.value.status_code == 404
    assert executor.submit(square, 3).result(timeout=5) == 9  # the failed registration was not cached


def test_the_api_key_is_sent_on_every_request(platform):
    with FaaSExecutor(platform.url, api_key="k3y") as ex:
        ex.submit(square, 2).result(timeout=5)
        list(ex.map(square, [1]))
    kinds = {(r.method, r.path.split("/")[1]) for r in platform.received()}
    assert {("POST", "register_function"), ("POST", "execute_function"), ("POST", "results")} <= kinds
    assert all(r.headers.get("authorization") == "Bearer k3y" for r in platform.received())


# -- the poller ------------------------------------------------------------------------------------------

def test_pending_futures_are_resolved_by_held_results_requests(platform, executor):
    platform.auto_run = False
    futures = [executor.submit(square, n) for n in range(4)]
    ids = [f.task_id for f in futures]
    time.sleep(0.2)
    assert not any(f.done() for f in futures)
    for task_id in ids:
        platform.complete(task_id)
    assert [f.result(timeout=5) for f in futures] == [0, 1, 4, 9]
    polls = platform.received("POST", "/results")
    assert polls and all(r.body["return_when"] == "FIRST_COMPLETED" and r.body["wait"] == 2 for r in polls)
    assert {t for r in polls for t in r.body["task_ids"]} == set(ids)
    # every task was submitted before any ended: after the first request, one asks about the 3 others
    assert any(len(r.body["task_ids"]) >= 3 for r in polls)
    assert not platform.received("GET", "/result/")  # no poll per task


def test_one_results_request_asks_about_all_the_pending_tasks(platform, executor):
    platform.auto_run = False
    results = executor.map(square, range(5))
    ids = platform.task_ids()
    time.sleep(0.2)  # the poller's request is held: no task has ended
    for task_id in ids:
        platform.complete(task_id)
    assert list(results) == [0, 1, 4, 9, 16]
    assert platform.received("POST", "/results")[0].body["task_ids"] == ids


def test_a_future_resolves_as_soon_as_its_task_ends(platform):
    platform.auto_run = False
    with FaaSExecutor(platform.url, poll_wait=30) as ex:
        future = ex.submit(square, 6)
        time.sleep(0.2)  # the poller's request is now held (up to 30 s)
        platform.complete(future.task_id)
        started = time.monotonic()
        assert future.result(timeout=5) == 36
        assert time.monotonic() - started < 2


def test_a_transient_polling_error_is_retried(platform, executor):
    platform.reply_next("POST", "/results", 503, {"error": "redis unavailable"})
    assert executor.submit(square, 5).result(timeout=5) == 25
    assert len(platform.received("POST", "/results")) >= 2


def test_after_a_failed_poll_the_poller_asks_for_half_as_many_results(platform, executor):
    """The results of many big arrays at once may not fit the server's heap: the poller asks for fewer until
    a request succeeds, down to one, rather than the same too many forever."""
    platform.reply_next("POST", "/results", 503, {"error": "the server ran out of memory"}, times=3)
    assert list(executor.map(square, range(8), timeout=10)) == [x * x for x in range(8)]
    asked = [len(request.body["task_ids"]) for request in platform.received("POST", "/results")]
    assert asked[:4] == [8, 4, 2, 1], asked


def test_a_lasting_polling_error_fails_the_futures(platform, executor):
    platform.reply_next("POST", "/results", 400, {"error": "bad request"})
    exc = executor.submit(square, 5).exception(timeout=5)
    assert isinstance(exc, MPCSFaaSError) and exc.status_code == 400 and exc.error == "bad request"


def test_a_task_the_server_no_longer_knows(platform, executor):
    platform.auto_run = False
    future = executor.submit(square, 5)
    platform.forget(future.task_id)
    exc = future.exception(timeout=5)
    assert isinstance(exc, MPCSFaaSError) and exc.status_code == 404 and "task not found" in str(exc)


def test_a_result_that_cannot_be_unpickled_fails_its_future(platform, executor):
    platform.auto_run = False
    future = executor.submit(square, 5)
    with platform.cond:
        platform.tasks[future.task_id].update(status="COMPLETED", result="####")
        platform.cond.notify_all()
    exc = future.exception(timeout=5)
    assert isinstance(exc, MPCSFaaSError) and "cannot be unpickled" in str(exc)


def test_a_task_submitted_during_a_held_request_joins_the_next_one(platform):
    platform.auto_run = False
    with FaaSExecutor(platform.url, poll_wait=0.5) as ex:
        slow = ex.submit(square, 1)
        time.sleep(0.1)  # the poller now holds a request about the slow task only
        fast = ex.submit(square, 2)
        platform.complete(fast.task_id)
        started = time.monotonic()
        assert fast.result(timeout=5) == 4  # by the next request, at most poll_wait later
        assert time.monotonic() - started < 1.5
        assert not slow.done()
        slow.cancel()


def test_as_completed_yields_in_completion_order(platform):
    platform.auto_run = False
    with FaaSExecutor(platform.url, poll_wait=0.2) as ex:
        first, second = ex.submit(square, 1), ex.submit(square, 2)
        platform.complete_later(second.task_id, 0.1)
        platform.complete_later(first.task_id, 0.8)
        assert [f.result() for f in as_completed([first, second], timeout=5)] == [4, 1]


# -- map ---------------------------------------------------------------------------------------------------

def test_map_batches_and_keeps_the_order(platform):
    platform.auto_run = False
    with FaaSExecutor(platform.url, max_batch=4, poll_wait=2) as ex:
        results = ex.map(square, range(10))
        ids = platform.task_ids()
        assert len(ids) == 10
        for n, task_id in enumerate(reversed(ids)):  # the last task ends first
            platform.complete_later(task_id, 0.02 * n)
        assert list(results) == [n * n for n in range(10)]
    batches = platform.received("POST", "/execute_function/batch")
    assert [len(r.body["payloads"]) for r in batches] == [4, 4, 2]
    assert [decode(p) for r in batches for p in r.body["payloads"]] == [((n,), {}) for n in range(10)]
    assert len(platform.received("POST", "/register_function")) == 1


def test_map_of_several_iterables_stops_at_the_shortest(platform, executor):
    assert list(executor.map(add, [1, 2, 3], [10, 20])) == [11, 22]


def test_map_of_nothing_sends_nothing(platform, executor):
    assert list(executor.map(square, [])) == []
    assert platform.received() == []


def test_map_raises_the_remote_exception_at_its_place(platform, executor):
    results = executor.map(fail, ["a", "b"])
    with pytest.raises(ValueError, match="^a$"):
        next(results)


def test_map_yields_until_the_failing_call(platform, executor):
    def maybe_fail(x):
        if x == 2:
            raise KeyError(x)
        return x

    results = executor.map(maybe_fail, [0, 1, 2, 3])
    assert next(results) == 0 and next(results) == 1
    with pytest.raises(KeyError):
        next(results)


def test_map_timeout(platform):
    platform.auto_run = False
    ex = FaaSExecutor(platform.url, poll_wait=2)
    results = ex.map(square, range(3), timeout=0.3)
    started = time.monotonic()
    with pytest.raises(cf.TimeoutError):  # (the builtin TimeoutError only from Python 3.11)
        list(results)
    assert 0.2 <= time.monotonic() - started < 2
    shutdown_within(ex, 3)  # the remaining futures were cancelled: nothing to wait for


def test_map_cancels_what_it_sent_when_a_later_batch_fails(platform):
    platform.auto_run = False
    ex = FaaSExecutor(platform.url, max_batch=2, poll_wait=2)
    platform.reply_next("POST", "/execute_function/batch", 503, {"error": "storage down"}, after=1)
    with pytest.raises(MPCSFaaSError) as caught:
        ex.map(square, range(4))
    assert caught.value.status_code == 503
    assert len(platform.task_ids()) == 2  # the first batch exists, and its tasks never end
    shutdown_within(ex, 3)  # its futures were cancelled: nothing to wait for


# -- cancellation and shutdown ------------------------------------------------------------------------------

def test_cancel_a_pending_future(platform, executor):
    platform.auto_run = False
    future = executor.submit(square, 3)
    assert future.cancel() and future.cancelled()
    with pytest.raises(CancelledError):
        future.result(timeout=1)
    shutdown_within(executor, 3)


def test_a_cancelled_future_wakes_its_waiters(platform, executor):
    platform.auto_run = False
    future = executor.submit(square, 3)
    timer = threading.Timer(0.2, future.cancel)
    timer.start()
    done, not_done = wait([future], timeout=5)
    timer.join()
    assert done == {future} and not not_done


def test_shutdown_waits_for_the_futures(platform):
    platform.auto_run = False
    with FaaSExecutor(platform.url, poll_wait=2) as ex:
        futures = [ex.submit(square, n) for n in range(3)]
        for n, future in enumerate(futures):
            platform.complete_later(future.task_id, 0.1 + 0.1 * n)
    assert all(f.done() for f in futures)
    assert [f.result() for f in futures] == [0, 1, 4]


def test_shutdown_with_cancel_futures(platform):
    platform.auto_run = False
    ex = FaaSExecutor(platform.url, poll_wait=2)
    futures = [ex.submit(square, n) for n in range(3)]
    shutdown_within(ex, 3, wait=True, cancel_futures=True)
    assert all(f.cancelled() for f in futures)


def test_no_submission_after_shutdown(platform):
    ex = FaaSExecutor(platform.url)
    ex.shutdown()
    with pytest.raises(RuntimeError, match="after shutdown"):
        ex.submit(square, 1)
    with pytest.raises(RuntimeError, match="after shutdown"):
        ex.map(square, [1])
    assert platform.received() == []


def test_the_poller_stops_after_shutdown(platform):
    ex = FaaSExecutor(platform.url, poll_wait=2)
    assert ex.submit(square, 2).result(timeout=5) == 4
    poller = ex._poller
    assert poller is not None and poller.is_alive()
    ex.shutdown()
    poller.join(5)
    assert not poller.is_alive()


# -- cancelling tasks on the platform -------------------------------------------------------------------------

def platform_task(platform, task_id):
    with platform.cond:
        return dict(platform.tasks[task_id])


@pytest.mark.parametrize("status", ["QUEUED", "RUNNING"])
def test_cancel_a_future_cancels_its_queued_or_running_task(platform, executor, status):
    platform.auto_run = False
    future = executor.submit(square, 3)
    with platform.cond:
        platform.tasks[future.task_id]["status"] = status
    assert future.cancel() is True and future.cancelled()
    assert [r.body for r in platform.received("POST", "/cancel")] == [{"task_ids": [future.task_id]}]
    task = platform_task(platform, future.task_id)
    assert task["status"] == "FAILED" and task["cancelled"]
    assert future.cancel() is True  # cancelled already: no second request
    assert len(platform.received("POST", "/cancel")) == 1


def test_cancel_a_future_whose_task_has_ended_but_is_not_delivered_yet(platform, executor):
    platform.auto_run = False
    platform.reply_next("POST", "/results", 200, {"results": []}, times=10 ** 6)  # the poller learns nothing
    future = executor.submit(square, 3)
    platform.complete(future.task_id)
    assert future.cancel() is False and not future.cancelled()
    assert len(platform.received("POST", "/cancel")) == 1
    with platform.cond:
        platform.canned.clear()
    assert future.result(timeout=5) == 9  # it resolves with the task's outcome


def test_cancel_a_done_future_sends_nothing(platform, executor):
    future = executor.submit(square, 3)
    assert future.result(timeout=5) == 9
    assert future.cancel() is False
    assert platform.received("POST", "/cancel") == []


def test_a_task_cancelled_elsewhere_cancels_its_future(platform, executor):
    platform.auto_run = False
    future = executor.submit(square, 3)
    with Client(platform.url) as client:
        assert client.cancel(future.task_id)
    done, _ = wait([future], timeout=5)
    assert done == {future} and future.cancelled()
    with pytest.raises(CancelledError):
        future.result(timeout=0)


def test_when_the_cancel_request_fails_the_future_is_cancelled_anyway(platform, executor, caplog):
    platform.auto_run = False
    future = executor.submit(square, 3)
    platform.reply_next("POST", "/cancel", 503, {"error": "storage down"})
    assert future.cancel() is True and future.cancelled()
    assert "they may still run" in caplog.text
    assert platform_task(platform, future.task_id)["status"] == "QUEUED"


def test_shutdown_with_cancel_futures_cancels_the_tasks_in_one_request(platform):
    platform.auto_run = False
    ex = FaaSExecutor(platform.url, poll_wait=2)
    futures = [ex.submit(square, n) for n in range(3)]
    shutdown_within(ex, 3, wait=True, cancel_futures=True)
    assert all(f.cancelled() for f in futures)
    (request,) = platform.received("POST", "/cancel")
    assert sorted(request.body["task_ids"]) == sorted(f.task_id for f in futures)
    assert all(platform_task(platform, f.task_id)["cancelled"] for f in futures)


def test_leaving_a_map_early_cancels_the_rest_in_one_request(platform):
    platform.auto_run = False
    ex = FaaSExecutor(platform.url, poll_wait=2)
    results = ex.map(square, range(4))
    ids = platform.task_ids()
    platform.complete(ids[0])
    assert next(results) == 0
    results.close()
    (request,) = platform.received("POST", "/cancel")
    assert request.body == {"task_ids": ids[:0:-1]}
    assert [platform_task(platform, t)["cancelled"] for t in ids] == [False, True, True, True]
    shutdown_within(ex, 3)


# -- echo_output -----------------------------------------------------------------------------------------------

def test_echo_output_prints_each_line_prefixed_when_the_task_ends(platform, capsys):
    platform.auto_run = False
    with FaaSExecutor(platform.url, poll_wait=2, echo_output=True) as ex:
        future = ex.submit(square, 3)
        platform.print(future.task_id, "one\ntwo\n", "warn")
        platform.complete(future.task_id)
        assert future.result(timeout=5) == 9  # printed before the future resolves
        out, err = capsys.readouterr()
        prefix = "[task %s] " % future.task_id[:8]
        assert out == prefix + "one\n" + prefix + "two\n"
        assert err == prefix + "warn\n"
        platform.auto_run = True
        assert ex.submit(square, 2).result(timeout=5) == 4  # printing nothing: nothing echoed
        assert capsys.readouterr() == ("", "")


def test_output_is_not_echoed_by_default(platform, executor, capsys):
    platform.auto_run = False
    future = executor.submit(square, 3)
    platform.print(future.task_id, "one\n", "two\n")
    platform.complete(future.task_id)
    assert future.result(timeout=5) == 9
    assert capsys.readouterr() == ("", "")


def test_echo_output_tells_of_truncated_output(platform, capsys):
    platform.auto_run = False
    with FaaSExecutor(platform.url, poll_wait=2, echo_output=True) as ex:
        future = ex.submit(square, 3)
        platform.print(future.task_id, "tail", truncated=True)
        platform.complete(future.task_id)
        assert future.result(timeout=5) == 9
    prefix = "[task %s] " % future.task_id[:8]
    assert capsys.readouterr() == (prefix + "tail\n", prefix + "[... earlier output truncated ...]\n")


# -- per-call options -----------------------------------------------------------------------------------------

def plus_timeout(x, timeout=0):
    """A function with a keyword argument named as a task option."""
    return x + timeout


def always_fail():
    raise RuntimeError("again")


def test_options_go_to_the_requests_and_the_function_keeps_its_keywords(platform):
    with FaaSExecutor(platform.url, task_timeout=9, poll_wait=2) as ex:
        view = ex.options(timeout=5, max_retries=2, retry_delay=0.5)
        assert view.submit(plus_timeout, 1, timeout=3).result(timeout=5) == 4
        assert list(view.map(plus_timeout, [1, 2], timeout=5)) == [1, 2]
        assert view.options(max_retries=1).submit(square, 2).result(timeout=5) == 4
        assert ex.submit(square, 2).result(timeout=5) == 4  # the executor keeps its own options
    single = [r.body for r in platform.received("POST", "/execute_function") if r.path == "/execute_function"]
    (batch,) = platform.received("POST", "/execute_function/batch")
    options = [{k: b.get(k) for k in ("timeout", "max_retries", "retry_delay")} for b in single + [batch.body]]
    assert options == [{"timeout": 5, "max_retries": 2, "retry_delay": 0.5},
                       {"timeout": 5, "max_retries": 1, "retry_delay": 0.5},
                       {"timeout": 9, "max_retries": None, "retry_delay": None},
                       {"timeout": 5, "max_retries": 2, "retry_delay": 0.5}]
    assert decode(single[0]["payload"]) == ((1,), {"timeout": 3})


def test_retries_reach_the_platform(platform, executor):
    future = executor.options(max_retries=2).submit(always_fail)
    with pytest.raises(RuntimeError, match="again"):
        future.result(timeout=5)
    assert platform_task(platform, future.task_id)["attempts"] == 3


@pytest.mark.parametrize("options", [{"timeout": -1}, {"max_retries": 11}, {"retry_delay": -1}])
def test_bad_options_raise_value_error(executor, options):
    with pytest.raises(ValueError):
        executor.options(**options)
    with pytest.raises(ValueError):
        executor.options().options(**options)


# -- registration after a delete ----------------------------------------------------------------------------------

def test_a_function_deleted_on_the_platform_is_registered_again_once(platform, executor):
    assert executor.submit(square, 2).result(timeout=5) == 4
    first = executor.function_id(square)
    platform.delete_function(first)
    assert executor.submit(square, 3).result(timeout=5) == 9
    second = executor.function_id(square)
    assert second != first and second in platform.functions
    assert executor.submit(square, 4).result(timeout=5) == 16
    assert len(platform.received("POST", "/register_function")) == 2
    assert [r.body["function_id"] for r in platform.received("POST", "/execute_function")] == \
        [first, first, second, second]


def test_map_registers_a_deleted_function_again(platform, executor):
    assert executor.submit(Multiplier(3), 1).result(timeout=5) == 3  # cached by its payload
    platform.delete_function(executor.function_id(Multiplier(3)))
    assert list(executor.map(Multiplier(3), [1, 2], timeout=5)) == [3, 6]
    assert len(platform.received("POST", "/register_function")) == 2


def test_an_unknown_function_id_given_as_a_string_is_not_retried(platform, executor):
    with pytest.raises(MPCSFaaSError) as caught:
        executor.submit("55555555-5555-5555-5555-555555555555", 1)
    assert caught.value.status_code == 404
    assert len(platform.received("POST", "/execute_function")) == 1 and platform.received("POST", "/register") == []


def test_registering_again_after_a_second_404_gives_up(platform, executor):
    executor.function_id(square)
    platform.reply_next("POST", "/execute_function", 404, {"error": "function not found"}, times=2)
    with pytest.raises(MPCSFaaSError) as caught:
        executor.submit(square, 1)
    assert caught.value.status_code == 404
    assert len(platform.received("POST", "/execute_function")) == 2

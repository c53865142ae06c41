"""End-to-end tests of MPCSFaaS in local mode.

Functions sent to the platform are defined *inside* the test bodies and
serialized with ``dill.dumps(fn, recurse=True)`` (see ``conftest.register``):
module-level functions of this file would be pickled by reference to the
module ``test_local_mode``, which the worker interpreters cannot import.
``test_module_level_function_fails_with_import_error`` checks exactly that.
"""

import codecs
import re
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import dill
import requests

from conftest import (
    ALL_STATUSES,
    FAAS,
    HTTP_TIMEOUT,
    REPO_ROOT,
    deserialize,
    execute,
    free_port,
    get_result_body,
    get_status,
    register,
    serialize,
    wait_result,
    wait_result_body,
)


def _module_level_double(x):
    """Pickled by reference on purpose: workers cannot import this module."""
    return x * 2


def _assert_json_error(resp, expected_status):
    sent = resp.request.body or ""
    if isinstance(sent, bytes):
        sent = sent.decode(errors="replace")
    assert resp.status_code == expected_status, (
        f"{resp.request.method} {resp.url} with body {str(sent)[:120]!r} -> "
        f"{resp.status_code} (expected {expected_status}): {resp.text[:500]}"
    )
    try:
        body = resp.json()
    except ValueError:
        raise AssertionError(f"error response is not JSON: {resp.text[:500]!r}")
    assert isinstance(body, dict), body
    assert isinstance(body.get("error"), str) and body["error"], body
    return body


def _mentions_3(text):
    return re.search(r"(?<!\d)3(?!\d)", text) is not None


# --------------------------------------------------------------------------
# Happy paths
# --------------------------------------------------------------------------

def test_double(platform):
    def double(x):
        return x * 2

    fid = register(platform, double)
    tid = execute(platform, fid, 2)
    assert get_status(platform, tid) in ALL_STATUSES

    status, result = wait_result(platform, tid)
    assert status == "COMPLETED"
    assert result == 4
    assert get_status(platform, tid) == "COMPLETED"
    body = get_result_body(platform, tid)
    assert body["status"] == "COMPLETED"
    assert deserialize(body["result"]) == 4

    # The same function can be executed again with other arguments.
    tid2 = execute(platform, fid, 21)
    assert tid2 != tid
    assert wait_result(platform, tid2) == ("COMPLETED", 42)


def test_positional_and_keyword_arguments(platform):
    def f(a, b, *, c=1):
        return (a, b, c)

    fid = register(platform, f)
    t_kw = execute(platform, fid, 1, 2, c=3)
    t_default = execute(platform, fid, 1, 2)
    t_all_kw = execute(platform, fid, a=4, b=5, c=6)
    t_str = execute(platform, fid, "x", [1, 2], c={"k": None})

    assert wait_result(platform, t_kw) == ("COMPLETED", (1, 2, 3))
    assert wait_result(platform, t_default) == ("COMPLETED", (1, 2, 1))
    assert wait_result(platform, t_all_kw) == ("COMPLETED", (4, 5, 6))
    assert wait_result(platform, t_str) == ("COMPLETED", ("x", [1, 2], {"k": None}))


def test_closure_and_lambda(platform):
    factor = 7
    offsets = {"base": 100}

    def scale(x):
        return x * factor + offsets["base"]

    power = lambda x, y=2: x ** y  # noqa: E731

    f_scale = register(platform, scale)
    f_power = register(platform, power)
    t1 = execute(platform, f_scale, 3)
    t2 = execute(platform, f_power, 5)
    t3 = execute(platform, f_power, 2, y=10)

    assert wait_result(platform, t1) == ("COMPLETED", 121)
    assert wait_result(platform, t2) == ("COMPLETED", 25)
    assert wait_result(platform, t3) == ("COMPLETED", 1024)


def test_import_inside_function(platform):
    def root(x):
        import math
        return math.sqrt(x)

    def word_counts(text):
        import collections
        return dict(collections.Counter(text.split()))

    f_root = register(platform, root)
    f_wc = register(platform, word_counts)
    t1 = execute(platform, f_root, 16)
    t2 = execute(platform, f_wc, "a b a c a")

    assert wait_result(platform, t1) == ("COMPLETED", 4.0)
    assert wait_result(platform, t2) == ("COMPLETED", {"a": 3, "b": 1, "c": 1})


def test_raised_exception_is_returned(platform):
    def boom():
        raise ValueError("boom")

    fid = register(platform, boom)
    tid = execute(platform, fid)
    body = wait_result_body(platform, tid)
    assert body["status"] == "FAILED"
    exc = deserialize(body["result"])
    assert isinstance(exc, ValueError), repr(exc)
    assert str(exc) == "boom"
    assert get_status(platform, tid) == "FAILED"
    if body.get("error") is not None:
        assert isinstance(body["error"], str)
        assert "ValueError" in body["error"] or "boom" in body["error"], body["error"]


# --------------------------------------------------------------------------
# Error handling of the REST API
# --------------------------------------------------------------------------

def test_register_rejects_non_pickle_payload(platform):
    r = requests.post(platform + "/register_function",
                      json={"name": "bad", "payload": "payload"},
                      timeout=HTTP_TIMEOUT)
    _assert_json_error(r, 400)


def test_register_rejects_base64_that_is_not_a_pickle(platform):
    not_a_pickle = codecs.encode(b"hello, this is not a pickle", "base64").decode()
    r = requests.post(platform + "/register_function",
                      json={"name": "bad", "payload": not_a_pickle},
                      timeout=HTTP_TIMEOUT)
    _assert_json_error(r, 400)


def test_malformed_json_rejected(platform):
    headers = {"Content-Type": "application/json"}
    for path in ("/register_function", "/execute_function"):
        for raw in ('{"name": "x", "payload": ', "not json at all", "{'a': 1}"):
            r = requests.post(platform + path, data=raw, headers=headers,
                              timeout=HTTP_TIMEOUT)
            _assert_json_error(r, 400)


def test_empty_body_rejected(platform):
    # An empty body is not valid JSON either.
    headers = {"Content-Type": "application/json"}
    for path in ("/register_function", "/execute_function"):
        r = requests.post(platform + path, data=b"", headers=headers,
                          timeout=HTTP_TIMEOUT)
        _assert_json_error(r, 400)


def test_missing_or_mistyped_fields_rejected(platform):
    def ident(x):
        return x

    good_fn = serialize(ident, recurse=True)
    good_args = serialize(((1,), {}))
    fid = register(platform, ident)

    bad_register_bodies = [
        {},
        {"name": "x"},
        {"payload": good_fn},
        {"name": 5, "payload": good_fn},
        {"name": "x", "payload": 5},
        {"name": "x", "payload": None},
        [],
        "a string",
    ]
    for body in bad_register_bodies:
        r = requests.post(platform + "/register_function", json=body,
                          timeout=HTTP_TIMEOUT)
        _assert_json_error(r, 400)

    bad_execute_bodies = [
        {},
        {"function_id": fid},
        {"payload": good_args},
        {"function_id": 5, "payload": good_args},
        {"function_id": fid, "payload": 5},
        {"function_id": fid, "payload": "payload"},
        [],
    ]
    for body in bad_execute_bodies:
        r = requests.post(platform + "/execute_function", json=body,
                          timeout=HTTP_TIMEOUT)
        _assert_json_error(r, 400)

    # The function is still usable after all those rejected requests.
    assert wait_result(platform, execute(platform, fid, 9)) == ("COMPLETED", 9)


def test_execute_unknown_function_is_404(platform):
    r = requests.post(platform + "/execute_function",
                      json={"function_id": str(uuid.uuid4()),
                            "payload": serialize(((1,), {}))},
                      timeout=HTTP_TIMEOUT)
    _assert_json_error(r, 404)


def test_execute_malformed_function_id_is_client_error(platform):
    r = requests.post(platform + "/execute_function",
                      json={"function_id": "not-a-uuid",
                            "payload": serialize(((1,), {}))},
                      timeout=HTTP_TIMEOUT)
    assert r.status_code in (400, 404), r.text[:500]
    _assert_json_error(r, r.status_code)


def test_unknown_task_is_404(platform):
    tid = str(uuid.uuid4())
    for path in ("/status/", "/result/"):
        r = requests.get(platform + path + tid, timeout=HTTP_TIMEOUT)
        _assert_json_error(r, 404)


# --------------------------------------------------------------------------
# Load, crashes, unimportable functions
# --------------------------------------------------------------------------

def test_500_concurrent_tasks(platform):
    def square(x):
        return x * x

    fid = register(platform, square)
    n = 500
    with ThreadPoolExecutor(max_workers=16) as pool:
        tids = list(pool.map(lambda x: execute(platform, fid, x), range(n)))
        assert len(set(tids)) == n
        results = list(pool.map(lambda t: wait_result(platform, t, timeout=120), tids))

    failed = [(x, r) for x, r in enumerate(results) if r[0] != "COMPLETED"]
    assert not failed, f"{len(failed)} tasks did not complete, e.g. {failed[:3]}"
    wrong = [(x, r[1]) for x, r in enumerate(results) if r[1] != x * x]
    assert not wrong, f"{len(wrong)} wrong results, e.g. {wrong[:3]}"


def test_interpreter_crash_fails_task_and_is_replaced(platform):
    def die():
        import os
        os._exit(3)

    def inc(x):
        return x + 1

    f_die = register(platform, die)
    f_inc = register(platform, inc)

    # More crashes than the platform has interpreters (-w 2): if dead
    # interpreters were not replaced, the later tasks would never run.
    for i in range(3):
        tid = execute(platform, f_die)
        body = wait_result_body(platform, tid, timeout=60)
        assert body["status"] == "FAILED", body
        exc = deserialize(body["result"])
        assert isinstance(exc, BaseException), repr(exc)
        assert _mentions_3(str(exc)), f"exit code 3 not mentioned: {exc!r}"
        assert get_status(platform, tid) == "FAILED"

        tid = execute(platform, f_inc, i)
        assert wait_result(platform, tid, timeout=60) == ("COMPLETED", i + 1)

    # Both interpreter slots work again: run a few tasks at once.
    tids = [execute(platform, f_inc, 100 + k) for k in range(6)]
    assert [wait_result(platform, t, timeout=60) for t in tids] == [
        ("COMPLETED", 101 + k) for k in range(6)
    ]


def test_module_level_function_fails_with_import_error(platform):
    # recurse=True does not help: a module-level function of an importable
    # module is pickled by reference (module name + qualified name).
    raw = dill.dumps(_module_level_double, recurse=True)
    assert b"test_local_mode" in raw

    fid = register(platform, _module_level_double)
    t0 = time.monotonic()
    tid = execute(platform, fid, 2)
    body = wait_result_body(platform, tid, timeout=30)
    assert time.monotonic() - t0 < 30
    assert body["status"] == "FAILED", body
    exc = deserialize(body["result"])
    assert isinstance(exc, ImportError), repr(exc)
    assert "test_local_mode" in str(exc), str(exc)

    # The platform is still healthy afterwards.
    def ok(x):
        return x * 2

    assert wait_result(platform, execute(platform, register(platform, ok), 5)) == (
        "COMPLETED", 10)


# --------------------------------------------------------------------------
# API and dispatcher as separate processes
# --------------------------------------------------------------------------

def test_task_submitted_without_dispatcher_runs_once_it_starts(fresh_redis, faas_launcher):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    api = faas_launcher("faas-api", "api", "--port", port, "--redis", fresh_redis)
    api.wait_healthy(base)

    def triple(x):
        return x * 3

    fid = register(base, triple)
    tid = execute(base, fid, 14)

    # No dispatcher: the task stays queued.
    deadline = time.monotonic() + 2.0
    polls = 0
    while time.monotonic() < deadline:
        assert get_status(base, tid) == "QUEUED"
        body = get_result_body(base, tid)
        assert body["status"] == "QUEUED" and body["result"] is None, body
        polls += 1
        time.sleep(0.1)
    assert polls >= 5
    assert api.running

    dispatcher = faas_launcher("faas-dispatcher", "dispatcher", "-m", "local",
                               "-w", 1, "--redis", fresh_redis)
    status, result = wait_result(base, tid, timeout=120, procs=[api, dispatcher])
    assert (status, result) == ("COMPLETED", 42)
    assert get_status(base, tid) == "COMPLETED"

    # A task submitted while the dispatcher runs completes as well.
    tid2 = execute(base, fid, 5)
    assert wait_result(base, tid2, timeout=60, procs=[api, dispatcher]) == ("COMPLETED", 15)

    # Both processes stop cleanly on SIGTERM, leaving no children behind.
    for proc in (dispatcher, api):
        clean, rc, leftovers = proc.stop()
        assert clean, f"{proc.name} did not exit within 20 s of SIGTERM"
        assert not leftovers, f"{proc.name} left processes running after exit"


def test_status_command_reports_queue_workers_and_throughput(platform):
    """`./faas status` reads a running platform: counters, queue depth, throughput, dispatchers and workers."""
    fid = register(platform, lambda x: x)
    for tid in [execute(platform, fid, i) for i in range(5)]:
        assert wait_result(platform, tid)[0] == "COMPLETED"
    run = subprocess.run([str(FAAS), "status", "--url", platform, "--interval", "0.5"], cwd=str(REPO_ROOT),
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "queue: 0 waiting" in out, out
    assert re.search(r"tasks: \d+ submitted, \d+ completed, \d+ failed", out), out
    assert "throughput:" in out and "tasks/s" in out, out
    assert "dispatcher dispatcher (local mode)" in out, out
    assert re.search(r"0/2 slots busy|[12]/2 slots busy", out), out

"""Cancel and retries end to end: POST /cancel in local, push and cluster mode, max_retries and retry_delay.

Functions are defined inside the tests and pickled by value (see conftest.register). Each mode test runs a
platform with one interpreter, so the next task can only run if the cancelled task's interpreter was
stopped and replaced (its task sleeps for 60 s).
"""

import concurrent.futures
import os
import time

import pytest
import requests

from conftest import (
    HTTP_TIMEOUT,
    deserialize,
    execute,
    free_port,
    get_status,
    register,
    serialize,
    wait_result_body,
    wait_until,
    workers,
)





def submit(base, fid, *args, **fields):
    r = requests.post(base + "/execute_function", timeout=HTTP_TIMEOUT,
                      json={"function_id": fid, "payload": serialize((args, {})), **fields})
    assert r.status_code == 201, r.text
    return r.json()["task_id"]


def cancel(base, tid):
    return requests.post(f"{base}/cancel/{tid}", timeout=HTTP_TIMEOUT)


def assert_cancelled(body):
    assert body["status"] == "FAILED", body
    assert body["cancelled"] is True, body
    assert isinstance(deserialize(body["result"]), concurrent.futures.CancelledError), body


def assert_error(resp, status):
    assert resp.status_code == status, resp.text
    assert isinstance(resp.json().get("error"), str), resp.text


@pytest.fixture(params=["local", "push", "cluster"])
def one_slot(request, fresh_redis, faas_launcher):
    """Base URL of `./faas up` in the given mode with one interpreter, its worker registered."""
    mode = request.param
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["up", "--mode", mode, "--port", port, "--redis", fresh_redis, "-w", 1]
    if mode == "push":
        args += ["--dispatcher-port", free_port()]
    if mode == "cluster":
        hz = free_port()
        args += ["--dispatcher-port", free_port(), "--cluster-port", hz, "--join", f"127.0.0.1:{hz}"]
    proc = faas_launcher(f"up-{mode}", *args)
    proc.wait_healthy(base)
    wait_until(lambda: any(w["slots"] == 1 for w in workers(base)), 180, f"the {mode} worker")
    return base


def test_cancel_a_running_task_stops_it_and_the_platform_goes_on(one_slot):
    base = one_slot

    def sleepy():
        import time
        time.sleep(60)
        return "woke up"

    def double(x):
        return 2 * x

    tid = submit(base, register(base, sleepy), max_retries=3)
    wait_until(lambda: get_status(base, tid) == "RUNNING", 60, "the task to run")
    started = time.monotonic()

    r = cancel(base, tid)
    assert r.status_code == 200, r.text
    assert r.json() == {"task_id": tid, "status": "FAILED", "cancelled": True}
    assert_cancelled(wait_result_body(base, tid, timeout=10))

    # One interpreter: the next task runs only once the sleeping one was stopped and replaced.
    nxt = wait_result_body(base, execute(base, register(base, double), 21), timeout=40)
    assert nxt["status"] == "COMPLETED", nxt
    assert deserialize(nxt["result"]) == 42
    assert nxt["cancelled"] is False
    assert time.monotonic() - started < 40, "well before the 60 s sleep would have ended"

    body = wait_result_body(base, tid)
    assert_cancelled(body)
    assert body["attempts"] == 1, "never retried after a cancel"
    assert_error(cancel(base, tid), 409)


def test_a_cancelled_queued_task_never_starts(platform, tmp_path):
    def sleepy():
        import time
        time.sleep(60)

    def touch(path):
        open(path, "w").close()

    marker = str(tmp_path / "started")
    sleepers = [execute(platform, register(platform, sleepy)) for _ in range(2)]  # both interpreters
    wait_until(lambda: all(get_status(platform, t) == "RUNNING" for t in sleepers), 60, "both to run")
    queued = execute(platform, register(platform, touch), marker)
    assert get_status(platform, queued) == "QUEUED"

    r = cancel(platform, queued)
    assert r.status_code == 200, r.text
    for t in sleepers:
        assert cancel(platform, t).status_code == 200
    later = execute(platform, register(platform, touch), marker + ".later")
    assert wait_result_body(platform, later, timeout=40)["status"] == "COMPLETED"

    body = wait_result_body(platform, queued)
    assert_cancelled(body)
    assert body["started_at"] is None and body["attempts"] == 0, body
    assert not os.path.exists(marker)


def test_cancel_answers_404_400_409_and_many_at_once(platform):
    def double(x):
        return 2 * x

    fid = register(platform, double)
    done = execute(platform, fid, 1)
    assert wait_result_body(platform, done)["status"] == "COMPLETED"
    assert_error(cancel(platform, done), 409)
    assert wait_result_body(platform, done)["status"] == "COMPLETED"
    unknown = "00000000-0000-0000-0000-000000000000"
    assert_error(cancel(platform, unknown), 404)
    assert_error(cancel(platform, "not-a-uuid"), 400)
    assert_error(requests.post(platform + "/cancel", json={"task_ids": ["nope"]}, timeout=HTTP_TIMEOUT), 400)
    assert_error(requests.post(platform + "/cancel", json={"task_ids": []}, timeout=HTTP_TIMEOUT), 400)

    r = requests.post(platform + "/cancel", json={"task_ids": [done, unknown]}, timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [e["task_id"] for e in results] == [done, unknown]
    assert all(isinstance(e["error"], str) for e in results), results


def test_a_flaky_function_with_two_retries_completes_on_its_third_run(platform, tmp_path):
    def flaky(path):
        import os
        runs = int(open(path).read()) + 1 if os.path.exists(path) else 1
        with open(path, "w") as f:
            f.write(str(runs))
        if runs < 3:
            raise ValueError(f"failure {runs}")
        return f"ok after {runs}"

    fid = register(platform, flaky)
    tid = submit(platform, fid, str(tmp_path / "runs"), max_retries=2)
    body = wait_result_body(platform, tid, timeout=60)
    assert body["status"] == "COMPLETED", body
    assert deserialize(body["result"]) == "ok after 3"
    assert body["attempts"] == 3

    # Without retries it fails on its first run, with its traceback.
    once = submit(platform, fid, str(tmp_path / "once"))
    failed = wait_result_body(platform, once)
    assert failed["status"] == "FAILED" and failed["attempts"] == 1
    assert "failure 1" in failed["error"]


def test_retries_come_from_the_function_and_honour_the_delay(platform, tmp_path):
    def fails_once(path):
        import os
        if not os.path.exists(path):
            open(path, "w").close()
            raise RuntimeError("first run fails")
        return "second run"

    r = requests.post(platform + "/register_function", timeout=HTTP_TIMEOUT, json={
        "name": "fails_once", "payload": serialize(fails_once, recurse=True), "max_retries": 1, "retry_delay": 2})
    assert r.status_code == 201, r.text
    tid = execute(platform, r.json()["function_id"], str(tmp_path / "marker"))
    body = wait_result_body(platform, tid, timeout=60)
    assert body["status"] == "COMPLETED", body
    assert body["attempts"] == 2
    assert body["started_at"] >= body["created_at"] + 2, body


@pytest.mark.parametrize("fields", [
    {"max_retries": -1}, {"max_retries": 11}, {"max_retries": 1.5}, {"max_retries": "1"},
    {"max_retries": True}, {"retry_delay": -1}, {"retry_delay": "2"}, {"retry_delay": False},
])
def test_bad_retry_fields_are_refused(platform, fields):
    def double(x):
        return 2 * x

    fid = register(platform, double)
    one = requests.post(platform + "/execute_function", timeout=HTTP_TIMEOUT,
                        json={"function_id": fid, "payload": serialize(((1,), {})), **fields})
    assert_error(one, 400)
    batch = requests.post(platform + "/execute_function/batch", timeout=HTTP_TIMEOUT,
                          json={"function_id": fid, "payloads": [serialize(((1,), {}))], **fields})
    assert_error(batch, 400)
    reg = requests.post(platform + "/register_function", timeout=HTTP_TIMEOUT,
                        json={"name": "f", "payload": serialize(double, recurse=True), **fields})
    assert_error(reg, 400)

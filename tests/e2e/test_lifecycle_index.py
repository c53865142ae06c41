"""End-to-end tests of the function lifecycle and the task index, in local mode.

Idempotent registration (a script that registers on every run gets one id), ``GET /functions?name=``,
``DELETE /functions/{id}`` (new tasks refused, earlier ones still run) and ``GET /tasks`` with its filters
and cursor, all through HTTP against ``./faas up``.
"""

import subprocess
import sys
import textwrap
import uuid

from conftest import (
    HTTP_TIMEOUT,
    execute,
    execute_request,
    get_status,
    http,
    json_body,
    register,
    serialize,
    wait_result,
    wait_result_body,
    wait_until,
)

# A user's script: it defines its function and registers it, as it would on every run.
SCRIPT = textwrap.dedent("""
    import codecs, sys
    import dill, requests

    def square(x):
        return x * x

    payload = codecs.encode(dill.dumps(square, recurse=True), "base64").decode()
    r = requests.post(sys.argv[1] + "/register_function", json={"name": sys.argv[2], "payload": payload}, timeout=10)
    assert r.status_code == 201, (r.status_code, r.text)
    print(r.json()["function_id"])
""")


def _assert_json_error(resp, status):
    assert resp.status_code == status, f"{resp.request.method} {resp.url} -> {resp.status_code}: {resp.text[:300]}"
    body = json_body(resp)
    assert isinstance(body.get("error"), str) and body["error"], body


def _tasks(base, **params):
    r = http().get(base + "/tasks", params=params, timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, f"/tasks {params} -> {r.status_code}: {r.text[:300]}"
    body = json_body(r)
    assert set(body) == {"tasks", "next_cursor"}, body
    return body


def _all_tasks(base, limit, **params):
    """Every page of /tasks, following next_cursor; only the last page may be short."""
    out, cursor = [], None
    for _ in range(100):
        page = _tasks(base, limit=limit, **params, **({"cursor": cursor} if cursor else {}))
        out += page["tasks"]
        cursor = page["next_cursor"]
        if cursor is None:
            return out
        assert len(page["tasks"]) == limit, page
    raise AssertionError("no end of the pages")


def test_a_script_registering_on_every_run_gets_one_id(platform):
    name = f"square-{uuid.uuid4().hex[:8]}"
    ids = [subprocess.run([sys.executable, "-c", SCRIPT, platform, name], capture_output=True, text=True,
                          timeout=60, check=True).stdout.strip() for _ in range(2)]
    assert ids[0] == ids[1], ids

    r = http().get(platform + "/functions", params={"name": name}, timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    assert [f["function_id"] for f in json_body(r)["functions"]] == [ids[0]]
    assert [f["name"] for f in json_body(r)["functions"]] == [name]

    def cube(x):
        return x ** 3

    other = register(platform, cube, name=name)
    assert other != ids[0], "another payload under the same name is another function"
    listed = [f["function_id"] for f in json_body(http().get(platform + "/functions", params={"name": name},
                                                             timeout=HTTP_TIMEOUT))["functions"]]
    assert listed == [other, ids[0]], "newest first"
    status, result = wait_result(platform, execute(platform, ids[0], 7))
    assert (status, result) == ("COMPLETED", 49)


def test_a_deleted_function_refuses_new_tasks_while_earlier_ones_still_run(platform):
    def nap(seconds):
        import time
        time.sleep(seconds)
        return seconds

    def triple(x):
        return 3 * x

    napper = register(platform, nap, name=f"nap-{uuid.uuid4().hex[:8]}")
    fid = register(platform, triple, name=f"triple-{uuid.uuid4().hex[:8]}")
    # Both interpreters busy, so that the task below is still queued when its function is deleted.
    naps = [execute(platform, napper, 3) for _ in range(2)]
    wait_until(lambda: all(get_status(platform, t) == "RUNNING" for t in naps), 30, "both naps to run")
    earlier = execute(platform, fid, 14)
    assert get_status(platform, earlier) == "QUEUED"

    r = http().delete(f"{platform}/functions/{fid}", timeout=HTTP_TIMEOUT)
    assert r.status_code == 204, r.text
    assert r.content == b""

    _assert_json_error(http().get(f"{platform}/functions/{fid}", timeout=HTTP_TIMEOUT), 404)
    _assert_json_error(execute_request(platform, fid, (1,)), 404)
    _assert_json_error(http().post(platform + "/execute_function/batch", json={
        "function_id": fid, "payloads": [serialize(((1,), {}))]}, timeout=HTTP_TIMEOUT), 404)
    _assert_json_error(http().delete(f"{platform}/functions/{fid}", timeout=HTTP_TIMEOUT), 404)
    _assert_json_error(http().delete(f"{platform}/functions/{uuid.uuid4()}", timeout=HTTP_TIMEOUT), 404)
    _assert_json_error(http().delete(f"{platform}/functions/not-a-uuid", timeout=HTTP_TIMEOUT), 400)
    listed = json_body(http().get(platform + "/functions", params={"limit": 1000}, timeout=HTTP_TIMEOUT))
    assert fid not in [f["function_id"] for f in listed["functions"]]

    status, result = wait_result(platform, earlier, timeout=60)
    assert (status, result) == ("COMPLETED", 42), "the task submitted before the delete still ran"
    for t in naps:
        wait_result(platform, t, timeout=60)


def test_tasks_lists_failed_and_completed_tasks_by_function_newest_first(platform):
    def fails(x):
        raise ValueError(f"no {x}")

    def succeeds(x):
        return x + 1

    bad = register(platform, fails, name=f"fails-{uuid.uuid4().hex[:8]}")
    good = register(platform, succeeds, name=f"succeeds-{uuid.uuid4().hex[:8]}")
    failed = [execute(platform, bad, i) for i in range(3)]
    completed = [execute(platform, good, i) for i in range(2)]
    bodies = {t: wait_result_body(platform, t) for t in failed + completed}
    assert all(bodies[t]["status"] == "FAILED" for t in failed), bodies
    assert all(bodies[t]["status"] == "COMPLETED" for t in completed), bodies

    def newest_first(ids):
        return sorted(ids, key=lambda t: (bodies[t]["created_at"], t), reverse=True)

    page = _tasks(platform, status="FAILED", function_id=bad)
    assert [t["task_id"] for t in page["tasks"]] == newest_first(failed)
    assert page["next_cursor"] is None
    entry = page["tasks"][0]
    assert set(entry) == {"task_id", "function_id", "status", "created_at", "started_at", "finished_at",
                          "attempts", "worker"}, entry
    assert entry["function_id"] == bad and entry["status"] == "FAILED" and entry["attempts"] == 1
    assert entry["created_at"] <= entry["started_at"] <= entry["finished_at"]
    assert entry["worker"] == bodies[entry["task_id"]]["worker"]

    assert [t["task_id"] for t in _all_tasks(platform, 2, function_id=bad, status="FAILED")] == newest_first(failed)
    assert [t["task_id"] for t in _all_tasks(platform, 1, function_id=good)] == newest_first(completed)
    assert _tasks(platform, status="FAILED", function_id=good)["tasks"] == []
    assert _tasks(platform, status="COMPLETED", function_id=bad)["tasks"] == []
    every_failed = [t["task_id"] for t in _all_tasks(platform, 1000, status="FAILED")]
    assert set(failed) <= set(every_failed) and not set(completed) & set(every_failed)
    newest = _tasks(platform, limit=5)["tasks"]
    assert {t["task_id"] for t in newest} == set(failed + completed), "the five newest tasks of the platform"

    for params in ({"status": "DONE"}, {"status": "failed"}, {"limit": 0}, {"limit": 1001}, {"limit": "x"},
                   {"cursor": "nope"}, {"function_id": "nope"}):
        _assert_json_error(http().get(platform + "/tasks", params=params, timeout=HTTP_TIMEOUT), 400)

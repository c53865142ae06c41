"""What tasks print: /result's stdout, stderr and output_truncated, GET /output while a task runs, and
GET /output?follow=true, in local, push and cluster mode, through ./faas as a user starts it.

A task that must still be running when the test looks at its output waits for a marker file that the test
creates only after it has seen that output, so each test checks an order of events, not a timing.
"""

import pytest
import requests

from conftest import execute, free_port, get_status, register, wait_result_body, wait_until, workers

TRUNCATED = "[... output truncated ...]\n"


def user_functions():
    """The functions the tests run, defined in a function so that dill sends them by value (a function of
    this module would go by reference, and the workers cannot import it)."""

    def printing(x):
        import logging
        import sys
        print("to stdout", x)
        sys.stderr.write("to stderr\n")
        logging.getLogger("user").warning("logged")
        return x + 1

    def silent(x):
        return x * 2

    def megabytes(x):
        for i in range(100_000):
            print("line %06d" % i)
        print("x" * 5_000_000)
        print("the end")
        return x

    def print_wait_print(marker, first, second):
        """Prints a line, waits (at most a minute) for the marker file, prints another."""
        import os
        import time as t
        print(first, flush=True)
        deadline = t.time() + 60
        while not os.path.exists(marker) and t.time() < deadline:
            t.sleep(0.02)
        print(second)
        return os.path.exists(marker)

    return {f.__name__: f for f in (printing, silent, megabytes, print_wait_print)}


FUNCTIONS = user_functions()


def output(base, task_id, **params):
    r = requests.get(f"{base}/output/{task_id}", params=params, timeout=10)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"task_id", "status", "stdout", "stderr", "output_truncated"}, body
    assert body["task_id"] == task_id
    return body


def wait_for_output(base, task_id, stdout, timeout=60):
    """The task's /output once its stdout reads ``stdout``; the task must still be running then."""
    def shown():
        body = output(base, task_id)
        return body if body["stdout"] == stdout else None

    body = wait_until(shown, timeout, f"task {task_id} to show {stdout!r}")
    assert body["status"] == "RUNNING", body
    return body


def live_then_final(base, fid, markers, name):
    """A task prints, is seen printing through /output while it waits, then ends: its final output wins."""
    marker = markers / name
    tid = execute(base, fid, str(marker), "first", "second")
    body = wait_for_output(base, tid, "first\n")
    assert body == {"task_id": tid, "status": "RUNNING", "stdout": "first\n", "stderr": "",
                    "output_truncated": False}
    marker.touch()
    result = wait_result_body(base, tid, long_poll=True)
    assert result["status"] == "COMPLETED", result
    assert (result["stdout"], result["stderr"], result["output_truncated"]) == ("first\nsecond\n", "", False)
    assert output(base, tid)["stdout"] == "first\nsecond\n"
    return result


def follow_streams_until_the_end(base, fid, markers, name):
    """?follow=true writes the first line while the task still waits, and ends once the task has ended."""
    marker = markers / name
    tid = execute(base, fid, str(marker), "streamed", "last")
    received = ""
    with requests.get(f"{base}/output/{tid}", params={"follow": "true"}, stream=True, timeout=60) as r:
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "text/plain; charset=utf-8"
        chunks = r.iter_content(chunk_size=None, decode_unicode=True)
        while "streamed\n" not in received:
            received += next(chunks)
        assert get_status(base, tid) == "RUNNING", "the line came while the task still ran"
        marker.touch()
        for chunk in chunks:  # ends when the server ends the response
            received += chunk
    assert received == "streamed\nlast\n"
    assert get_status(base, tid) == "COMPLETED", "the stream closed at the end of the task"


@pytest.fixture
def markers(tmp_path):
    d = tmp_path / "markers"
    d.mkdir()
    d.chmod(0o777)
    return d


# ---------------------------------------------------------------- local mode (./faas up)

def test_result_carries_what_the_task_printed(platform):
    fid = register(platform, FUNCTIONS["printing"])
    body = wait_result_body(platform, execute(platform, fid, 41), long_poll=True)
    assert body["status"] == "COMPLETED", body
    assert body["stdout"] == "to stdout 41\n"
    assert body["stderr"] == "to stderr\nlogged\n"
    assert body["output_truncated"] is False

    fid = register(platform, FUNCTIONS["silent"])
    body = wait_result_body(platform, execute(platform, fid, 1), long_poll=True)
    assert (body["stdout"], body["stderr"], body["output_truncated"]) == ("", "", False)


def test_printing_megabytes_keeps_the_last_64_kib(platform):
    fid = register(platform, FUNCTIONS["megabytes"])
    body = wait_result_body(platform, execute(platform, fid, 7), long_poll=True)
    assert body["status"] == "COMPLETED", body
    assert body["output_truncated"] is True
    assert len(body["stdout"]) == 64 * 1024
    assert body["stdout"].endswith("x" * 1000 + "\nthe end\n")
    assert body["stderr"] == ""


def test_output_shows_the_first_print_while_the_task_runs(platform, markers):
    live_then_final(platform, register(platform, FUNCTIONS["print_wait_print"]), markers, "local-live")


def test_follow_streams_a_line_before_the_task_ends_and_closes_at_its_end(platform, markers):
    fid = register(platform, FUNCTIONS["print_wait_print"])
    follow_streams_until_the_end(platform, fid, markers, "local-follow")


def test_follow_of_a_task_that_printed_more_than_is_kept_marks_the_gap(platform):
    tid = execute(platform, register(platform, FUNCTIONS["megabytes"]), 1)
    wait_result_body(platform, tid, long_poll=True)
    text = requests.get(f"{platform}/output/{tid}", params={"follow": "true"}, timeout=30).text
    assert text.startswith(TRUNCATED) and text.endswith("\nthe end\n")


def test_output_refuses_bad_ids_as_json(platform):
    for path, status in (("/output/nope", 400), ("/output/nope?follow=true", 400),
                         ("/output/00000000-0000-4000-8000-000000000000", 404),
                         ("/output/00000000-0000-4000-8000-000000000000?follow=true", 404)):
        r = requests.get(platform + path, timeout=10)
        assert r.status_code == status, (path, r.text)
        assert r.headers["content-type"].startswith("application/json"), path
        assert isinstance(r.json()["error"], str), path


# ---------------------------------------------------------------- push and cluster mode


def test_push_mode_live_and_final_output(fresh_redis, faas_launcher, built_jar, markers):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    up = faas_launcher("push-up", "up", "--mode", "push", "--port", port, "--dispatcher-port", free_port(),
                       "--redis", fresh_redis, "-w", 2)
    up.wait_healthy(base)
    wait_until(lambda: any(w["mode"] == "push" for w in workers(base)), 120, "the push worker")
    fid = register(base, FUNCTIONS["print_wait_print"])
    live_then_final(base, fid, markers, "push-live")
    follow_streams_until_the_end(base, fid, markers, "push-follow")


def test_cluster_mode_live_and_final_output_from_both_workers(fresh_redis, faas_launcher, built_jar, markers):
    port, hz = free_port(), free_port()
    join = ["--join", f"127.0.0.1:{hz}"]
    base = f"http://127.0.0.1:{port}"
    faas_launcher("cluster-up", "up", "--mode", "cluster", "--port", port, "--redis", fresh_redis, "-w", 1,
                  "--cluster-port", hz, *join)
    faas_launcher("cluster-worker", "cluster-worker", 1, "--cluster-port", free_port(), *join)
    wait_until(lambda: sum(w["mode"] == "cluster" for w in workers(base)) == 2, 180, "two cluster workers")

    # One slot each, two waiting tasks: one runs in the other JVM, its output crossing the cluster.
    fid = register(base, FUNCTIONS["print_wait_print"])
    tasks = {name: execute(base, fid, str(markers / name), f"hello from {name}", "bye") for name in ("a", "b")}
    for name, tid in tasks.items():
        wait_for_output(base, tid, f"hello from {name}\n", timeout=120)
    for name in tasks:
        (markers / name).touch()
    ran_on = set()
    for name, tid in tasks.items():
        body = wait_result_body(base, tid, long_poll=True)
        assert body["status"] == "COMPLETED", body
        assert body["stdout"] == f"hello from {name}\nbye\n"
        assert output(base, tid)["stdout"] == body["stdout"]
        ran_on.add(body["worker"])
    assert len(ran_on) == 2, f"each worker ran one: {ran_on}"
    follow_streams_until_the_end(base, fid, markers, "cluster-follow")

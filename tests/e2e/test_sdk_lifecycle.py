"""End-to-end tests of the SDK's task lifecycle (``python/mpcsfaas``) against a real ``./faas up`` platform:
cancelling a running task through ``Future.cancel()`` and ``Client.cancel``, ``echo_output``,
``Client.follow`` and ``Client.output``, per-call ``options(timeout=, max_retries=)``, and registration
after a ``DELETE /functions/{id}``.

A task that must still be running when a test acts on it writes a file when it starts, or waits for a
marker file that the test creates only after it has seen what it checks, so each test checks an order of
events, not a timing. The functions below are module-level functions of this test module, which the
workers cannot import: the SDK pickles them by value.
"""

import os
import sys
import time
from concurrent.futures import CancelledError, wait
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "python"))

from mpcsfaas import Client, FaaSExecutor  # noqa: E402

from conftest import HTTP_TIMEOUT, wait_until  # noqa: E402

CANCEL_SECONDS = 10  # a cancelled running task ends within 2 s; generous for a loaded machine


# --------------------------------------------------------------------------------------------------
# Functions run remotely
# --------------------------------------------------------------------------------------------------

def start_then_sleep(started):
    """Writes the file ``started``, then sleeps for a minute: only a cancel ends it early."""
    with open(started, "w") as f:
        f.write("started")
    time.sleep(60)
    return "slept a minute"


def square(x):
    return x * x


def print_both(x):
    print("hello", x)
    print("second line")
    sys.stderr.write("oops\n")
    return x


def print_wait_print(marker, first, second):
    """Prints ``first``, waits (at most a minute) for the file ``marker``, prints ``second``."""
    print(first, flush=True)
    deadline = time.time() + 60
    while not os.path.exists(marker) and time.time() < deadline:
        time.sleep(0.02)
    print(second)
    return os.path.exists(marker)


def flaky(path):
    """Fails on its first two runs (counted in the file ``path``), succeeds on the third."""
    runs = int(Path(path).read_text()) + 1 if os.path.exists(path) else 1
    Path(path).write_text(str(runs))
    if runs < 3:
        raise ValueError("failure %d" % runs)
    return "ok after %d" % runs


def plus_timeout(x, timeout=0):
    """A function with a keyword argument named as a task option."""
    return x + timeout


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------

@pytest.fixture
def client(platform):
    with Client(platform) as c:
        yield c


@pytest.fixture
def executor(platform):
    ex = FaaSExecutor(platform)
    try:
        yield ex
    finally:
        ex.shutdown(wait=True, cancel_futures=True)


def wait_started(path):
    wait_until(lambda: Path(path).exists(), 60, f"the task to start (writing {path})")


def assert_cancelled_on_the_platform(client, task_id):
    """The task ends (FAILED, cancelled) soon after the cancel, not after its minute of sleep."""
    body = client.result_body(task_id, wait=CANCEL_SECONDS)
    assert body["status"] == "FAILED" and body["cancelled"] is True, body
    with pytest.raises(CancelledError):
        client.result(task_id, timeout=5)


# --------------------------------------------------------------------------------------------------
# Cancel
# --------------------------------------------------------------------------------------------------

def test_future_cancel_stops_a_running_task(executor, client, tmp_path):
    started = tmp_path / "started"
    future = executor.submit(start_then_sleep, str(started))
    wait_started(started)
    assert client.status(future.task_id) == "RUNNING"

    assert future.cancel() is True
    assert future.cancelled()
    with pytest.raises(CancelledError):
        future.result(timeout=0)
    assert_cancelled_on_the_platform(client, future.task_id)

    # Its interpreter was replaced: the platform goes on.
    assert executor.submit(square, 7).result(timeout=60) == 49
    # A future whose task has ended cannot be cancelled.
    done = executor.submit(square, 3)
    assert done.result(timeout=60) == 9
    assert done.cancel() is False and not done.cancelled()


def test_client_cancel_stops_a_running_task_and_its_future_ends_cancelled(executor, client, tmp_path):
    started = tmp_path / "started"
    task_id = client.submit(client.register(start_then_sleep), str(started))
    wait_started(started)
    assert client.cancel(task_id) is True
    assert_cancelled_on_the_platform(client, task_id)
    assert client.cancel(task_id) is False  # it has ended (409)

    # An executor's future whose task someone else cancels ends cancelled.
    started_too = tmp_path / "started-too"
    future = executor.submit(start_then_sleep, str(started_too))
    wait_started(started_too)
    assert client.cancel(future.task_id) is True
    done, _ = wait([future], timeout=CANCEL_SECONDS + 5)
    assert done == {future} and future.cancelled()


def test_cancel_many_and_shutdown_with_cancel_futures(platform, client, tmp_path):
    ex = FaaSExecutor(platform)
    started = [tmp_path / ("started-%d" % n) for n in range(2)]
    futures = [ex.submit(start_then_sleep, str(path)) for path in started]
    for path in started:
        wait_started(path)
    ex.shutdown(wait=True, cancel_futures=True)  # would wait a minute for tasks still running
    assert all(f.cancelled() for f in futures)
    for future in futures:
        assert_cancelled_on_the_platform(client, future.task_id)
    entries = client.cancel_many([f.task_id for f in futures])
    assert [e["task_id"] for e in entries] == [f.task_id for f in futures]
    assert all("error" in e and not e.get("cancelled") for e in entries), entries  # they have ended


# --------------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------------

def test_echo_output_prints_each_line_prefixed(platform, capsys):
    with FaaSExecutor(platform, echo_output=True) as ex:
        future = ex.submit(print_both, 3)
        assert future.result(timeout=60) == 3
        out, err = capsys.readouterr()
        prefix = "[task %s] " % future.task_id[:8]
        assert out == prefix + "hello 3\n" + prefix + "second line\n"
        assert err == prefix + "oops\n"
        assert ex.submit(square, 2).result(timeout=60) == 4  # a task that prints nothing: nothing echoed
        assert capsys.readouterr() == ("", "")


def test_follow_yields_a_line_before_the_task_ends(client, tmp_path):
    marker = tmp_path / "marker"
    task_id = client.submit(client.register(print_wait_print), str(marker), "streamed", "last")
    chunks = client.follow(task_id)
    received = ""
    while "streamed\n" not in received:
        received += next(chunks)
    assert client.status(task_id) == "RUNNING", "the line came while the task still ran"
    assert client.output(task_id)["stdout"] == "streamed\n"
    marker.touch()
    received += "".join(chunks)  # ends when the task ends
    assert received == "streamed\nlast\n"
    assert client.status(task_id) == "COMPLETED"
    assert client.result(task_id, timeout=60) is True
    assert client.output(task_id) == {"task_id": task_id, "status": "COMPLETED", "stdout": "streamed\nlast\n",
                                      "stderr": "", "output_truncated": False}


# --------------------------------------------------------------------------------------------------
# Per-call options
# --------------------------------------------------------------------------------------------------

def test_max_retries_reaches_the_server(executor, client, tmp_path):
    future = executor.options(max_retries=2).submit(flaky, str(tmp_path / "runs"))
    assert future.result(timeout=60) == "ok after 3"
    assert client.result_body(future.task_id)["attempts"] == 3

    # Through map, and a client view; without retries a failure is final.
    assert list(executor.options(max_retries=2, retry_delay=0.1).map(flaky, [str(tmp_path / "map")],
                                                                       timeout=60)) == ["ok after 3"]
    task_id = client.options(max_retries=2).submit(client.register(flaky), str(tmp_path / "client"))
    assert client.result(task_id, timeout=60) == "ok after 3"
    once = executor.submit(flaky, str(tmp_path / "once"))
    with pytest.raises(ValueError, match="failure 1"):
        once.result(timeout=60)
    assert client.result_body(once.task_id)["attempts"] == 1


def test_timeout_reaches_the_server_and_the_function_keeps_its_keyword(executor, client, tmp_path):
    started = tmp_path / "started"
    future = executor.options(timeout=1, max_retries=1).submit(start_then_sleep, str(started))
    with pytest.raises(TimeoutError):
        future.result(timeout=60)  # after 2 runs of 1 s, not the 300 s default
    body = client.result_body(future.task_id)
    assert body["status"] == "FAILED" and body["attempts"] == 2, body

    assert executor.options(timeout=30).submit(plus_timeout, 1, timeout=2).result(timeout=60) == 3


# --------------------------------------------------------------------------------------------------
# Registration
# --------------------------------------------------------------------------------------------------

def test_registering_again_is_idempotent_and_a_deleted_function_is_registered_again(platform, executor, client):
    function_id = client.register(square)
    assert client.register(square) == function_id  # same name and payload: the same id
    assert executor.function_id(square) == function_id

    r = requests.delete(f"{platform}/functions/{function_id}", timeout=HTTP_TIMEOUT)
    assert r.status_code == 204, r.text
    assert executor.submit(square, 5).result(timeout=60) == 25  # 404, registered again, sent again
    again = executor.function_id(square)
    assert again != function_id
    assert executor.submit(square, 6).result(timeout=60) == 36
    assert list(executor.map(square, [1, 2], timeout=60)) == [1, 4]
    assert executor.function_id(square) == again

"""End-to-end hardening tests of MPCSFaaS: misbehaving user code, Redis outages, access control, races.

Everything runs as a user would run it: ``./faas up``, ``./faas api``, ``./faas dispatcher`` and
``./faas push-worker`` subprocesses (the ``faas_launcher`` fixture of conftest.py), real
``redis-server`` processes, real Python interpreters, and HTTP with ``requests`` and ``dill``.

* Misbehaving functions (exceptions of every kind, endless loops, ``os._exit``, segfaults, unbounded
  allocation, unpicklable return values, megabytes of output) fail only their own task, with an error
  ``dill`` can load, and leave every interpreter slot usable (local mode and push mode).
* A Redis outage: the API answers 503 quickly, nothing crashes, and once Redis is back (same append-only
  folder) everything stored or queued before is still there and runs.
* The API key, the clean environment of user code, and the worker token.
* Many clients reading one task concurrently agree on it; a stored result never changes afterwards.

Functions are defined inside the test bodies and pickled by value (``recurse=True``).
The ``./faas`` launcher execs java, so a ``FaasProcess``'s pid is its JVM, and the Python interpreters of
a local dispatcher or a worker are that JVM's children (``/proc``).
"""

import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import (
    HTTP_TIMEOUT,
    STARTUP_TIMEOUT,
    TERMINAL_STATUSES,
    deserialize,
    execute,
    execute_request,
    free_port,
    health_status,
    http,
    live_children,
    log_text,
    proc_cmdline,
    register,
    serialize,
    wait_healthy,
    wait_listening,
    wait_result,
    wait_result_body,
    wait_until,
)

PREFIX = "faas:"
SLOTS = 2
STATUS_ORDER = {"QUEUED": 0, "RUNNING": 1, "COMPLETED": 2, "FAILED": 2}


@pytest.fixture
def launch(redis_factory, faas_launcher, built_jar):
    """``launch(name, *args) -> FaasProcess``; stopped at teardown before our Redis servers are.

    The jar is built first (``built_jar``): tests here start several ./faas at once.
    """
    return faas_launcher


# --------------------------------------------------------------------------
# HTTP helpers (results are long-polled: conftest's wait_result*(..., long_poll=True))
# --------------------------------------------------------------------------

def assert_json_error(resp, status):
    assert resp.status_code == status, \
        f"{resp.request.method} {resp.url} -> {resp.status_code} (expected {status}): {resp.text[:300]}"
    try:
        body = resp.json()
    except ValueError:
        raise AssertionError(f"error body is not JSON: {resp.text[:300]!r}")
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], body
    return body


# --------------------------------------------------------------------------
# /proc helpers
# --------------------------------------------------------------------------

def runner_children(pid):
    """Live Python runner processes (interpreters) whose parent is ``pid``."""
    return [child for child in live_children(pid) if "mpcsfaas-runner" in proc_cmdline(child)]


# --------------------------------------------------------------------------
# Platforms
# --------------------------------------------------------------------------

class Platform:
    def __init__(self, base, procs, pool_proc, worker_prefix):
        self.base = base
        self.procs = procs            # every process that must stay alive
        self.pool_proc = pool_proc    # the JVM whose children are the interpreters
        self.worker_prefix = worker_prefix


def start_up(launch, redis_url, *extra, name="up"):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    up = launch(name, "up", "--port", port, "--redis", redis_url, *extra)
    wait_healthy(up, base)
    wait_dispatcher_ready(up, [up])
    return up, base


# The machine running the suite may be busy (JIT warm-up of several JVMs on 2 cores): heartbeats are not
# what these tests are about, so a peer counts as dead only after 10 s of silence.
HEARTBEAT = ("--heartbeat-timeout-ms", 10000)


def wait_dispatcher_ready(dispatcher, procs, timeout=STARTUP_TIMEOUT):
    """Waits for the dispatcher's "ready" line: it has recovered what it held and reads the queue."""
    wait_until(lambda: re.search(r"dispatcher \S+ ready \(", log_text(dispatcher)), timeout,
               f"{dispatcher.name} to be ready", procs=procs, interval=0.1)


def start_push(launch, redis_url, slots=SLOTS, worker_args=(), dispatcher_args=()):
    """API + push dispatcher + one push worker; returns once the worker's slots are registered."""
    port, zport = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    api = launch("api", "api", "--port", port, "--redis", redis_url)
    dispatcher = launch("dispatcher-push", "dispatcher", "-m", "push", "-p", zport, "--redis", redis_url,
                        *HEARTBEAT, *dispatcher_args)
    worker = launch("push-worker", "push-worker", slots, f"tcp://127.0.0.1:{zport}", *HEARTBEAT, *worker_args)
    procs = [api, dispatcher, worker]
    wait_healthy(api, base, procs=procs)
    wait_worker_registered(base, worker, slots, procs)
    wait_dispatcher_ready(dispatcher, procs)
    return Platform(base, procs, worker, f"{worker.proc.pid}@"), zport


def live_workers(base, headers=None):
    try:
        r = requests.get(base + "/workers", headers=headers, timeout=3)
    except requests.RequestException:
        return []
    return r.json().get("workers", []) if r.status_code == 200 else []


def wait_worker_registered(base, worker, slots, procs, timeout=STARTUP_TIMEOUT, headers=None):
    prefix = f"{worker.proc.pid}@"
    wait_until(lambda: any(w["id"].startswith(prefix) and w["slots"] == slots
                           for w in live_workers(base, headers)),
               timeout, f"{worker.name} to register with {slots} slots", procs=procs, interval=0.2)


# --------------------------------------------------------------------------
# 1. Misbehaving user code fails only its own task; every slot comes back
# --------------------------------------------------------------------------

def _exits_with(text, code):
    return re.search(rf"(?<!\d){code}(?!\d)", text) is not None


@pytest.mark.parametrize("mode", ["local", "push"])
def test_misbehaving_code_fails_only_its_task(mode, fresh_redis, launch):
    limits = ("--task-timeout", 3, "--memory-limit-mb", 512)
    if mode == "local":
        up, base = start_up(launch, fresh_redis, "-w", SLOTS, *limits)
        plat = Platform(base, [up], up, None)
    else:
        plat, _ = start_push(launch, fresh_redis, worker_args=limits)
    base = plat.base
    pool_pid = plat.pool_proc.proc.pid
    wait_until(lambda: len(runner_children(pool_pid)) == SLOTS, 60,
               f"{SLOTS} interpreters under pid {pool_pid}", procs=plat.procs)

    class PlatformTestError(Exception):
        """Defined in the test: pickled by value, unknown to the worker."""

    def spin():
        while True:
            pass

    def raise_value_error():
        raise ValueError("bad value", 17)

    def raise_system_exit():
        raise SystemExit(4)

    def raise_keyboard_interrupt():
        raise KeyboardInterrupt("interrupted by the function")

    def raise_custom():
        raise PlatformTestError("custom failure", 99)

    def raise_inner_custom():
        class InnerError(LookupError):
            pass
        raise InnerError("inner", 5)

    def exit7():
        import os
        os._exit(7)

    def kill_segv():
        import os
        import signal
        os.kill(os.getpid(), signal.SIGSEGV)

    def read_null():
        import ctypes
        return ctypes.string_at(0)

    def hog():
        chunks = []
        while True:
            chunks.append(bytearray(50 * 1024 * 1024))

    def unpicklable():
        return (i for i in range(3))

    def noisy():
        import os
        import sys
        chunk = "x" * (1 << 20)
        for _ in range(20):
            sys.stdout.write(chunk)
            sys.stderr.write(chunk)
        sys.stdout.flush()
        sys.stderr.flush()
        # The raw descriptors too: fd 1 is not the protocol pipe.
        os.write(1, b"\x00\x00\x00\x10{not a frame}\n" * 1000)
        os.write(2, b"y" * (1 << 20))
        print("done", flush=True)
        return 42

    fids = {f.__name__: register(base, f) for f in (
        spin, raise_value_error, raise_system_exit, raise_keyboard_interrupt, raise_custom,
        raise_inner_custom, exit7, kill_segv, read_null, hog, unpicklable, noisy)}

    # The endless loops first, so that each starts at once on its own slot.
    submitted = {}
    t0 = time.monotonic()
    submitted["timeout_2"] = (execute(base, fids["spin"], timeout=2), time.monotonic())
    submitted["timeout_default"] = (execute(base, fids["spin"]), time.monotonic())
    for name in ("raise_value_error", "raise_system_exit", "raise_keyboard_interrupt", "raise_custom",
                 "raise_inner_custom", "exit7", "kill_segv", "read_null", "unpicklable", "noisy"):
        submitted[name] = (execute(base, fids[name]), time.monotonic())
    # Its own timeout, past the platform's 3 s: zeroing half a GiB can take longer on a loaded machine, and
    # what is checked here is the memory limit, not the timeout.
    submitted["hog"] = (execute(base, fids["hog"], timeout=25), time.monotonic())

    def finish(item):
        name, (tid, sent) = item
        body = wait_result_body(base, tid, timeout=90, procs=plat.procs, long_poll=True)
        return name, body, time.monotonic() - sent

    with ThreadPoolExecutor(max_workers=len(submitted)) as pool:
        done = {name: (body, took) for name, body, took in pool.map(finish, submitted.items())}
    bodies = {name: body for name, (body, _) in done.items()}
    errors = {name: deserialize(body["result"]) for name, body in bodies.items()}
    summary = {n: (b["status"], repr(errors[n])[:120]) for n, b in bodies.items()}

    for name, body in bodies.items():
        expected = "COMPLETED" if name == "noisy" else "FAILED"
        assert body["status"] == expected, f"{name}: {summary}"
        assert body["attempts"] == 1, f"{name} was started {body['attempts']} times: {body}"

    # Exceptions raised by the function: that very exception, with its traceback.
    for name in ("raise_value_error", "raise_system_exit", "raise_keyboard_interrupt", "raise_custom",
                 "raise_inner_custom"):
        assert "Traceback" in (bodies[name]["error"] or ""), f"{name}: error = {bodies[name]['error']!r}"
    assert type(errors["raise_value_error"]) is ValueError and \
        errors["raise_value_error"].args == ("bad value", 17), repr(errors["raise_value_error"])
    assert type(errors["raise_system_exit"]) is SystemExit and errors["raise_system_exit"].code == 4, \
        repr(errors["raise_system_exit"])
    assert type(errors["raise_keyboard_interrupt"]) is KeyboardInterrupt and \
        errors["raise_keyboard_interrupt"].args == ("interrupted by the function",)
    custom = errors["raise_custom"]
    assert isinstance(custom, Exception) and type(custom).__name__ == "PlatformTestError" and \
        custom.args == ("custom failure", 99), repr(custom)
    assert "PlatformTestError" in bodies["raise_custom"]["error"]
    inner = errors["raise_inner_custom"]
    assert isinstance(inner, LookupError) and type(inner).__name__ == "InnerError" and \
        inner.args == ("inner", 5), repr(inner)

    # Endless loops: stopped at their own timeout, or at the platform's default (--task-timeout 3).
    for name, seconds, limit in (("timeout_2", 2, 10), ("timeout_default", 3, 15)):
        exc, body, took = errors[name], bodies[name], done[name][1]
        assert isinstance(exc, TimeoutError), f"{name}: {exc!r}"
        assert _exits_with(str(exc), seconds), f"{name}: timeout of {seconds} s not mentioned: {exc}"
        ran = body["finished_at"] - body["started_at"]
        assert seconds - 0.2 <= ran, f"{name} stopped after {ran:.2f}s, before its {seconds} s timeout"
        assert took < limit, f"{name} took {took:.1f}s to fail (limit {limit}s)"

    # The interpreter died: a RuntimeError naming the exit code or the signal.
    assert isinstance(errors["exit7"], RuntimeError) and _exits_with(str(errors["exit7"]), 7), \
        repr(errors["exit7"])
    for name in ("kill_segv", "read_null"):
        assert isinstance(errors[name], BaseException) and "SIGSEGV" in str(errors[name]), \
            f"{name}: {errors[name]!r}"

    # Unbounded allocation under --memory-limit-mb 512.
    assert isinstance(errors["hog"], MemoryError), \
        f"expected MemoryError, got {errors['hog']!r}; error text: {bodies['hog']['error']!r}"
    assert done["hog"][1] < 30, f"the allocating task took {done['hog'][1]:.1f}s to fail"

    # A return value dill cannot pickle.
    unp = errors["unpicklable"]
    assert isinstance(unp, TypeError) and "pickle" in str(unp).lower(), repr(unp)

    # 40 MB of output changed nothing.
    assert errors["noisy"] == 42

    # Every process is still the one we started, and every slot is back.
    assert all(p.running for p in plat.procs)
    wait_until(lambda: len(runner_children(pool_pid)) == SLOTS, 30,
               f"{SLOTS} interpreters under pid {pool_pid} (have {runner_children(pool_pid)})",
               procs=plat.procs)

    def nap():
        import os
        import time
        start = time.time()
        time.sleep(1)
        return os.getpid(), start, time.time()

    f_nap = register(base, nap)
    payload = serialize(((), {}))
    n = 2 * SLOTS
    started = time.monotonic()
    r = http().post(base + "/execute_function/batch", json={"function_id": f_nap, "payloads": [payload] * n},
                    timeout=HTTP_TIMEOUT)
    assert r.status_code == 201, r.text
    tids = r.json()["task_ids"]
    r = http().post(base + "/results", json={"task_ids": tids, "wait": 30}, timeout=60)
    wall = time.monotonic() - started
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["COMPLETED"] * n, results
    runs = [deserialize(x["result"]) for x in results]
    pids = {pid for pid, _, _ in runs}
    # Greatest number of naps that were running at the same moment, from the interpreters' own clocks.
    events = sorted([(s, 1) for _, s, _ in runs] + [(e, -1) for _, _, e in runs], key=lambda ev: (ev[0], ev[1]))
    overlap = best = 0
    for _, delta in events:
        overlap += delta
        best = max(best, overlap)
    assert len(pids) == SLOTS and best == SLOTS, \
        f"{n} naps ran on interpreters {pids} with at most {best} at once (expected {SLOTS})"
    assert wall < 2.5, f"{n} one-second naps on {SLOTS} slots took {wall:.2f}s"
    assert set(runner_children(pool_pid)) >= pids
    for name, (status, text) in summary.items():
        print(f"\n[{mode}] {name}: {status} {text}", end="")
    print(f"\n[{mode}] failures in {time.monotonic() - t0:.1f}s; {n} naps on {SLOTS} slots: {wall:.2f}s wall")


# --------------------------------------------------------------------------
# 2. Redis outages
# --------------------------------------------------------------------------

def timed(call):
    t = time.monotonic()
    r = call()
    return r, time.monotonic() - t


def test_redis_outage_platform_answers_503_and_recovers(redis_factory, launch):
    redis = redis_factory(appendonly=True)
    up, base = start_up(launch, redis.url, "-w", SLOTS)

    def inc(x):
        return x + 1

    fid = register(base, inc)
    tids = [execute(base, fid, x) for x in range(5)]
    before = [wait_result_body(base, t, timeout=60, procs=[up], long_poll=True) for t in tids]
    assert [(b["status"], deserialize(b["result"])) for b in before] == [("COMPLETED", x + 1) for x in range(5)]

    redis.kill()
    killed_at = time.monotonic()
    payload = serialize(inc, recurse=True)
    for _ in range(2):  # right after the crash, and again once the client knows
        r, took = timed(lambda: requests.post(base + "/register_function",
                                              json={"name": "inc", "payload": payload}, timeout=10))
        assert_json_error(r, 503)
        assert took < 2.5, f"POST /register_function took {took:.2f}s to answer 503"
        r, took = timed(lambda: requests.get(f"{base}/status/{tids[0]}", timeout=10))
        assert_json_error(r, 503)
        assert took < 2.5, f"GET /status took {took:.2f}s to answer 503"
        r, took = timed(lambda: requests.get(f"{base}/result/{tids[0]}", timeout=10))
        assert_json_error(r, 503)
        assert took < 2.5, f"GET /result took {took:.2f}s to answer 503"
        assert r.json().get("retry_safe") is True and r.headers.get("Retry-After"), "a read may be sent again"
        r, took = timed(lambda: execute_request(base, fid, (1,)))
        assert_json_error(r, 503)
        assert took < 2.5, f"POST /execute_function took {took:.2f}s to answer 503"
        assert "retry_safe" not in r.json(), "a submit may have been stored: not said safe to send again"
        r, took = timed(lambda: requests.get(base + "/health", timeout=10))
        assert_json_error(r, 503)
        assert took < 2.5, f"GET /health took {took:.2f}s to answer 503"
    # Down for a few seconds: the platform waits for it.
    wait_until(lambda: time.monotonic() - killed_at > 3 and health_status(base) == 503, 10,
               "3 s of outage", procs=[up])
    assert up.running

    redis.start()
    restarted = time.monotonic()
    wait_until(lambda: requests.get(f"{base}/status/{tids[0]}", timeout=5).status_code == 200, 15,
               "GET /status to work again", procs=[up])
    wait_until(lambda: health_status(base) == 200, max(1, 15 - (time.monotonic() - restarted)),
               "/health to be 200 again", procs=[up])
    recovered = time.monotonic() - restarted

    r = requests.get(f"{base}/functions/{fid}", timeout=HTTP_TIMEOUT)
    assert r.status_code == 200 and r.json().get("name") == "inc", r.text
    after = [wait_result_body(base, t, timeout=10, procs=[up], long_poll=True) for t in tids]
    for b, a in zip(before, after):
        assert {k: a[k] for k in ("status", "result", "finished_at", "worker", "attempts")} == \
            {k: b[k] for k in ("status", "result", "finished_at", "worker", "attempts")}
    assert wait_result(base, execute(base, fid, 41), timeout=30, procs=[up], long_poll=True) == ("COMPLETED", 42)
    new_fid = register(base, inc)
    assert wait_result(base, execute(base, new_fid, 1), timeout=30, procs=[up], long_poll=True) == ("COMPLETED", 2)
    assert up.running
    print(f"\nrecovered {recovered:.1f}s after Redis restarted")


def test_queued_tasks_survive_redis_restart(redis_factory, launch):
    redis = redis_factory(appendonly=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    api = launch("api", "api", "--port", port, "--redis", redis.url)
    wait_listening(api, base)

    def triple(x):
        return x * 3

    fid = register(base, triple)
    tids = [execute(base, fid, x) for x in range(10)]
    assert [requests.get(f"{base}/status/{t}", timeout=HTTP_TIMEOUT).json()["status"] for t in tids] \
        == ["QUEUED"] * 10
    assert redis.cli("XLEN", PREFIX + "queue") == "10"

    redis.kill()
    redis.start()
    assert redis.cli("XLEN", PREFIX + "queue") == "10", "queue entries lost across the Redis restart"
    assert redis.hget(f"{PREFIX}task:{tids[-1]}", "status") == "QUEUED"
    wait_until(lambda: requests.get(f"{base}/status/{tids[0]}", timeout=5).status_code == 200, 15,
               "the API to reach Redis again", procs=[api])

    dispatcher = launch("dispatcher-local", "dispatcher", "-m", "local", "-w", SLOTS, "--redis", redis.url)
    procs = [api, dispatcher]
    results = [wait_result(base, t, timeout=120, procs=procs, long_poll=True) for t in tids]
    assert results == [("COMPLETED", x * 3) for x in range(10)]
    assert redis.cli("XLEN", PREFIX + "queue") == "0"


def test_push_mode_survives_redis_outage(redis_factory, launch):
    redis = redis_factory(appendonly=True)
    plat, _ = start_push(launch, redis.url)
    base = plat.base
    pids = [p.proc.pid for p in plat.procs]
    api, dispatcher, worker = plat.procs

    def nap_double(x):
        import time
        time.sleep(0.2)
        return x * 2

    fid = register(base, nap_double)
    expected = {}
    for x in range(30):
        expected[execute(base, fid, x)] = x * 2

    def completed():
        r = http().post(base + "/results", json={"task_ids": list(expected)}, timeout=HTTP_TIMEOUT)
        return sum(1 for t in r.json()["results"] if t["status"] == "COMPLETED")

    wait_until(lambda: completed() >= 4, 60, "4 tasks to complete", procs=plat.procs)
    assert completed() < 30, "every task ended before the outage; the test is moot"

    redis.kill()
    killed_at = time.monotonic()
    refused = []
    for x in range(100, 105):
        r = execute_request(base, fid, (x,))
        if r.status_code == 201:
            expected[r.json()["task_id"]] = x * 2
        else:
            assert_json_error(r, 503)
            refused.append(x)
    # Keep Redis down ~3 s while the worker finishes what it holds; nothing may exit meanwhile.
    wait_until(lambda: time.monotonic() - killed_at >= 3, 10, "3 s of outage", procs=plat.procs)
    redis.start()

    deadline = time.monotonic() + 15
    for x in refused:
        while True:
            r = execute_request(base, fid, (x,))
            if r.status_code == 201:
                expected[r.json()["task_id"]] = x * 2
                break
            assert_json_error(r, 503)
            assert time.monotonic() < deadline, "the API did not accept tasks 15 s after Redis restarted"
            time.sleep(0.1)

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda t: wait_result(base, t, timeout=90, procs=plat.procs, long_poll=True), expected))
    assert results == [("COMPLETED", v) for v in expected.values()]
    assert [p.proc.pid for p in plat.procs] == pids and all(p.running for p in plat.procs)
    attempts = [int(redis.hget(f"{PREFIX}task:{t}", "attempts")) for t in expected]
    assert all(1 <= a <= 2 for a in attempts), attempts
    print(f"\n{len(refused)} submissions refused during the outage; attempts: "
          f"{ {a: attempts.count(a) for a in set(attempts)} }")


# --------------------------------------------------------------------------
# 3. Access: API key, clean environment, worker token
# --------------------------------------------------------------------------

def test_api_key(fresh_redis, launch):
    key = "k-" + os.urandom(8).hex()
    up, base = start_up(launch, fresh_redis, "-w", 1, "--api-key", key)
    good = {"Authorization": f"Bearer {key}"}

    def add(a, b):
        return a + b

    payload = {"name": "add", "payload": serialize(add, recurse=True)}
    for headers in (None, {"Authorization": "Bearer wrong"}, {"Authorization": key},
                    {"Authorization": f"Bearer {key}x"}, {"Authorization": f"Basic {key}"}):
        r = requests.post(base + "/register_function", json=payload, headers=headers, timeout=HTTP_TIMEOUT)
        assert_json_error(r, 401)
    assert requests.get(base + "/health", timeout=HTTP_TIMEOUT).status_code == 200

    fid = register(base, add, headers=good)
    tid = execute(base, fid, 2, 3, headers=good)
    for path in (f"/status/{tid}", f"/result/{tid}", "/functions", f"/functions/{fid}", "/workers"):
        assert_json_error(requests.get(base + path, timeout=HTTP_TIMEOUT), 401)
        assert_json_error(requests.get(base + path, headers={"Authorization": "Bearer nope"},
                                       timeout=HTTP_TIMEOUT), 401)
    assert_json_error(execute_request(base, fid, (1, 1)), 401)
    assert wait_result(base, tid, timeout=60, procs=[up], headers=good, long_poll=True) == ("COMPLETED", 5)


def test_user_code_sees_a_clean_environment(redis_factory, launch, monkeypatch):
    secrets = {"FAAS_API_KEY": "secret-key-123", "FAAS_WORKER_TOKEN": "worker-secret-456"}
    redis = redis_factory(password="pw-789", appendonly=False)
    assert "pw-789" in redis.url
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("REDIS_URL", redis.url)
    port, zport = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    # Push mode: the embedded worker must present the token from the environment to its dispatcher.
    up = launch("up-env", "up", "--port", port, "--mode", "push", "-w", 1, "--dispatcher-port", zport,
                *HEARTBEAT)
    for name in (*secrets, "REDIS_URL"):
        monkeypatch.delenv(name)
    wait_healthy(up, base)
    wait_dispatcher_ready(up, [up])
    headers = {"Authorization": "Bearer secret-key-123"}
    wait_worker_registered(base, up, 1, [up], headers=headers)
    assert_json_error(requests.get(base + "/functions", timeout=HTTP_TIMEOUT), 401)  # the key from $FAAS_API_KEY

    def environment():
        import os
        return dict(os.environ)

    fid = register(base, environment, headers=headers)
    status, env = wait_result(base, execute(base, fid, headers=headers), timeout=60, procs=[up], headers=headers,
                              long_poll=True)
    assert status == "COMPLETED", env
    assert isinstance(env, dict) and env, env
    for name in ("FAAS_API_KEY", "FAAS_WORKER_TOKEN", "REDIS_URL"):
        assert name not in env, f"{name} is in the environment of user code"
    for secret in ("secret-key-123", "worker-secret-456", "pw-789"):
        leaks = [k for k, v in env.items() if secret in v or secret in k]
        assert not leaks, f"{secret!r} visible to user code in {leaks}"
    # The functions and tasks really went through the password-protected Redis.
    assert redis.hget(f"{PREFIX}function:{fid}", "name") == "environment"


def test_worker_token(fresh_redis, launch):
    port, zport = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    api = launch("api", "api", "--port", port, "--redis", fresh_redis)
    dispatcher = launch("dispatcher-push", "dispatcher", "-m", "push", "-p", zport, "--redis", fresh_redis,
                        "--worker-token", "right", *HEARTBEAT)
    intruder = launch("push-worker-wrong", "push-worker", 2, f"tcp://127.0.0.1:{zport}",
                      "--worker-token", "wrong", *HEARTBEAT)
    procs = [api, dispatcher, intruder]
    wait_healthy(api, base, procs=procs)
    wait_until(lambda: "refused" in log_text(intruder), 60, "the wrong-token worker to be refused",
               procs=procs)
    assert "refused" in log_text(dispatcher)

    def square(x):
        return x * x

    fid = register(base, square)
    tids = [execute(base, fid, x) for x in range(4)]
    stay_until = time.monotonic() + 3
    while time.monotonic() < stay_until:
        statuses = [http().get(f"{base}/status/{t}", timeout=HTTP_TIMEOUT).json()["status"] for t in tids]
        assert statuses == ["QUEUED"] * 4, f"tasks left the queue with only a refused worker: {statuses}"
        assert all(p.running for p in procs)
        time.sleep(0.1)
    assert live_workers(base) == []
    assert "registered with dispatcher" not in log_text(intruder)

    worker = launch("push-worker-right", "push-worker", 2, f"tcp://127.0.0.1:{zport}", "--worker-token", "right",
                    *HEARTBEAT)
    procs.append(worker)
    bodies = [wait_result_body(base, t, timeout=90, procs=procs, long_poll=True) for t in tids]
    assert [(b["status"], deserialize(b["result"])) for b in bodies] == [("COMPLETED", x * x) for x in range(4)]
    assert {b["worker"].split("@")[0] for b in bodies} == {str(worker.proc.pid)}, bodies
    wait_until(lambda: [w["id"].split("@")[0] for w in live_workers(base)] == [str(worker.proc.pid)], 10,
               "GET /workers to list only the worker with the right token", procs=procs)
    assert "registered with dispatcher" not in log_text(intruder)


# --------------------------------------------------------------------------
# 4. Concurrent readers agree; a stored result never changes
# --------------------------------------------------------------------------

def test_concurrent_readers_see_one_consistent_task(fresh_redis, launch):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    api = launch("api", "api", "--port", port, "--redis", fresh_redis)
    dispatcher = launch("dispatcher-local", "dispatcher", "-m", "local", "-w", SLOTS, "--redis", fresh_redis)
    procs = [api, dispatcher]
    wait_healthy(api, base, procs=procs)

    def slow_token(x):
        import os
        import time
        time.sleep(1.5)
        return {"x": x, "pid": os.getpid(), "at": time.time(), "nonce": os.urandom(8).hex()}

    fid = register(base, slow_token)
    tid = execute(base, fid, 7)
    wait_until(lambda: http().get(f"{base}/status/{tid}", timeout=HTTP_TIMEOUT).json()["status"] == "RUNNING",
               60, "the task to run", procs=procs, interval=0.01)

    barrier = threading.Barrier(20)

    def long_poller(_):
        barrier.wait()
        t = time.monotonic()
        r = http().get(f"{base}/result/{tid}", params={"wait": 10}, timeout=30)
        assert r.status_code == 200, r.text
        return "wait", [], r.json(), time.monotonic() - t

    def status_poller(_):
        barrier.wait()
        seen = []
        t = time.monotonic()
        while time.monotonic() - t < 20:
            r = http().get(f"{base}/status/{tid}", timeout=HTTP_TIMEOUT)
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["task_id"] == tid
            seen.append(body["status"])
            if body["status"] in TERMINAL_STATUSES:
                break
            time.sleep(0.01)
        r = http().get(f"{base}/result/{tid}", timeout=HTTP_TIMEOUT)
        return "status", seen, r.json(), time.monotonic() - t

    with ThreadPoolExecutor(max_workers=20) as pool:
        futures = [pool.submit(long_poller if i % 2 else status_poller, i) for i in range(20)]
        answers = [f.result() for f in futures]

    keys = ("task_id", "status", "result", "error", "worker", "attempts", "created_at", "started_at",
            "finished_at")
    finals = [{k: body.get(k) for k in keys} for _, _, body, _ in answers]
    assert all(f == finals[0] for f in finals), "readers disagree on the final task:\n" + \
        "\n".join(str(f)[:300] for f in finals)
    assert finals[0]["status"] == "COMPLETED" and finals[0]["attempts"] == 1, finals[0]
    value = deserialize(finals[0]["result"])
    assert value["x"] == 7
    for kind, seen, body, took in answers:
        if kind == "wait":
            assert took < 9, f"GET /result?wait=10 held {took:.1f}s for a 1.5 s task"
        else:
            assert seen and seen[-1] == "COMPLETED", seen
            ranks = [STATUS_ORDER[s] for s in seen]
            assert ranks == sorted(ranks) and "FAILED" not in seen, f"status went backwards: {seen}"
    assert http().get(f"{base}/status/{tid}", timeout=HTTP_TIMEOUT).json()["status"] == "COMPLETED"


def test_stored_results_never_change(redis_factory, launch, tmp_path):
    redis = redis_factory(appendonly=False)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    api = launch("api", "api", "--port", port, "--redis", redis.url)
    dispatcher = launch("dispatcher-local", "dispatcher", "-m", "local", "-w", SLOTS, "--redis", redis.url)
    wait_healthy(api, base, procs=[api, dispatcher])
    runs = tmp_path / "runs"
    runs.mkdir()
    runs.chmod(0o777)

    def mark_square(x, d):
        import os
        import time
        open(os.path.join(d, f"{x}-{os.getpid()}-{time.time_ns()}"), "w").close()
        return x * x

    fid = register(base, mark_square)
    tids = [execute(base, fid, x, str(runs)) for x in range(10)]
    assert [wait_result(base, t, timeout=60, procs=[api, dispatcher], long_poll=True) for t in tids] == \
        [("COMPLETED", x * x) for x in range(10)]
    fields = ("status", "result", "error", "finished_at", "started_at", "attempts", "worker")

    def snapshot():
        return [{f: redis.hget(f"{PREFIX}task:{t}", f) for f in fields} for t in tids]

    before = snapshot()
    assert all(s["status"] == "COMPLETED" and s["finished_at"] for s in before), before

    clean, rc, _ = dispatcher.stop()
    assert clean, f"dispatcher did not stop cleanly (rc {rc})"
    # A duplicate delivery of every finished task (as after a lost acknowledgement).
    for t in tids:
        redis.cli("XADD", PREFIX + "queue", "*", "task", t)
    assert redis.cli("XLEN", PREFIX + "queue") == "10"
    dispatcher2 = launch("dispatcher-local-2", "dispatcher", "-m", "local", "-w", SLOTS, "--redis", redis.url)
    procs = [api, dispatcher2]
    wait_healthy(api, base, procs=procs)
    wait_until(lambda: redis.cli("XLEN", PREFIX + "queue") == "0", 30,
               "the dispatcher to consume the duplicate entries", procs=procs)
    settle = time.monotonic() + 2
    wait_until(lambda: time.monotonic() > settle, 5, "2 s", procs=procs)

    after = snapshot()
    for t, b, a in zip(tids, before, after):
        assert a == b, f"task {t} changed after a dispatcher restart:\nbefore {b}\nafter  {a}"
    per_task = {}
    for f in os.listdir(runs):
        per_task[int(f.split("-")[0])] = per_task.get(int(f.split("-")[0]), 0) + 1
    assert per_task == {x: 1 for x in range(10)}, f"finished tasks ran again: {per_task}"
    # Still working normally.
    assert wait_result(base, execute(base, fid, 12, str(runs)), timeout=60, procs=procs, long_poll=True) == \
        ("COMPLETED", 144)


def test_tasks_queued_before_the_dispatcher_starts_run_once(fresh_redis, launch, tmp_path):
    """Tasks waiting in Redis, a worker waiting for its dispatcher: when the dispatcher starts, each task runs
    once (nothing was lost, so nothing may run twice or take two slots)."""
    port, zport = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    runs = tmp_path / "runs"
    runs.mkdir()
    runs.chmod(0o777)
    api = launch("api", "api", "--port", port, "--redis", fresh_redis)
    worker = launch("push-worker", "push-worker", SLOTS, f"tcp://127.0.0.1:{zport}", *HEARTBEAT)
    wait_listening(api, base)

    def nap_mark(x, d):
        import os
        import time
        open(os.path.join(d, f"{x}-{os.getpid()}-{time.time_ns()}"), "w").close()
        time.sleep(1)
        return x

    fid = register(base, nap_mark)
    tids = [execute(base, fid, x, str(runs)) for x in range(6)]
    dispatcher = launch("dispatcher-push", "dispatcher", "-m", "push", "-p", zport, "--redis", fresh_redis,
                        *HEARTBEAT)
    procs = [api, worker, dispatcher]
    bodies = [wait_result_body(base, t, timeout=120, procs=procs, long_poll=True) for t in tids]
    assert [(b["status"], deserialize(b["result"])) for b in bodies] == [("COMPLETED", x) for x in range(6)]
    per_task = {}
    for f in os.listdir(runs):
        x = int(f.split("-")[0])
        per_task[x] = per_task.get(x, 0) + 1
    ready = re.findall(r"ready \(\d+ tasks recovered\)", log_text(dispatcher))
    assert [b["attempts"] for b in bodies] == [1] * 6 and per_task == {x: 1 for x in range(6)}, \
        f"tasks started more than once by a dispatcher that lost nothing: attempts " \
        f"{[b['attempts'] for b in bodies]}, runs per task {per_task}; dispatcher log: {ready}"

"""End-to-end tests of MPCSFaaS in pull and push modes.

Every test starts its own processes with ``./faas``: an API, a dispatcher
(``-m pull|push``) listening for workers on a fresh ZeroMQ port, and one or
more ``pull-worker``/``push-worker`` JVMs, against a private redis-server
(``fresh_redis``).  Tasks go through the REST API; which worker ran a task
and how many times it was started are read from the raw task hash
``faas:task:{id}`` (fields ``status``, ``worker``, ``attempts``) with a tiny
RESP client (redis-py is not installed), whatever ``/result`` reports.
While a task is RUNNING its hash names the dispatcher, not the worker, so
tests that must know where a task runs use marker files (below).

Functions are defined inside the test bodies and serialized by value (see
``conftest.register``).  Tasks that must be observed while they run write
marker files into a temporary directory, named after the task's input and
the process group of their interpreter: interpreters are children of their
worker JVM and stay in its process group, which is the pid of the worker
(``start_new_session=True`` and ``./faas`` execs java).
"""

import os
import re
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from urllib.parse import urlparse

import pytest

from conftest import (
    STARTUP_TIMEOUT,
    STOP_TIMEOUT,
    deserialize,
    execute,
    free_port,
    get_status,
    live_children,
    log_text,
    proc_cmdline,
    proc_stat,
    processes,
    register,
    wait_healthy,
    wait_listening,
    wait_result,
    wait_result_body,
    wait_until,
)

MODES = ("pull", "push")
PREFIX = "faas:"


# --------------------------------------------------------------------------
# A tiny RESP client (redis-py is not available)
# --------------------------------------------------------------------------

class RedisError(Exception):
    pass


class RespClient:
    """Minimal blocking Redis client: pipelined commands, RESP2 replies."""

    def __init__(self, url, timeout=10.0):
        u = urlparse(url)
        self.sock = socket.create_connection((u.hostname or "127.0.0.1", u.port or 6379),
                                             timeout=timeout)
        self.reader = self.sock.makefile("rb")

    def close(self):
        try:
            self.reader.close()
        finally:
            self.sock.close()

    @staticmethod
    def _encode(args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if not isinstance(a, bytes):
                a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def _read(self):
        line = self.reader.readline()
        if not line.endswith(b"\r\n"):
            raise ConnectionError(f"truncated Redis reply: {line!r}")
        kind, body = line[:1], line[1:-2]
        if kind == b"+":
            return body.decode()
        if kind == b"-":
            return RedisError(body.decode())
        if kind == b":":
            return int(body)
        if kind == b"$":
            n = int(body)
            if n < 0:
                return None
            data = self.reader.read(n + 2)
            return data[:-2].decode("utf-8", errors="replace")
        if kind == b"*":
            n = int(body)
            if n < 0:
                return None
            return [self._read() for _ in range(n)]
        raise ConnectionError(f"unexpected Redis reply: {line!r}")

    def pipeline(self, commands):
        if not commands:
            return []
        self.sock.sendall(b"".join(self._encode(c) for c in commands))
        replies = [self._read() for _ in commands]
        for r in replies:
            if isinstance(r, RedisError):
                raise r
        return replies

    def call(self, *args):
        return self.pipeline([args])[0]


TASK_FIELDS = ("status", "worker", "attempts")


def task_hashes(rc, tids, fields=TASK_FIELDS):
    """``[{field: value}]`` for each task id, read from ``faas:task:{id}``."""
    replies = rc.pipeline([("HMGET", f"{PREFIX}task:{t}", *fields) for t in tids])
    return [dict(zip(fields, r)) for r in replies]


def task_hash(rc, tid, fields=TASK_FIELDS):
    return task_hashes(rc, [tid], fields)[0]


def count_status(rc, tids, status):
    return sum(1 for h in task_hashes(rc, tids, ("status",)) if h["status"] == status)


# --------------------------------------------------------------------------
# Processes (/proc based, no psutil)
# --------------------------------------------------------------------------

def live_group_members(pgid):
    return sorted(p for p, (state, _, g) in processes() if g == pgid and state != "Z")


def alive(pid):
    st = proc_stat(pid)
    return st is not None and st[0] != "Z"


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------

@pytest.fixture
def redis_client(fresh_redis):
    rc = RespClient(fresh_redis)
    try:
        yield rc
    finally:
        rc.close()


@pytest.fixture
def launch(faas_launcher, built_jar):
    """``launch(name, *args) -> FaasProcess``, the jar built first (tests here start several ./faas at once).

    At teardown every process of the test is stopped (workers first, then
    dispatchers, then the API) and the test errors if one did not exit
    within the stop timeout of SIGTERM or if anything of its process group
    (java, python interpreters) survived it.
    """
    procs = []

    def start(name, *args):
        p = faas_launcher(name, *args)
        procs.append(p)
        return p

    yield start

    def rank(p):
        return 0 if "worker" in p.name else 1 if "dispatcher" in p.name else 2

    problems = []
    for p in sorted(procs, key=rank):
        killed_by_test = getattr(p, "killed_by_test", False)
        clean, rc, leftovers = p.stop()
        if not clean and not killed_by_test:
            problems.append(f"{p.name} (pid {p.proc.pid}) did not exit within {STOP_TIMEOUT}s of "
                            f"SIGTERM; log tail:\n{p.tail(40)}")
        if leftovers:
            problems.append(f"{p.name} (pid {p.proc.pid}) left processes in its group after it "
                            f"exited; log tail:\n{p.tail(40)}")
    # Whatever stop() missed: nothing may remain in any of our process groups.
    deadline = time.monotonic() + 5
    while True:
        remaining = {p.proc.pid: live_group_members(p.proc.pid) for p in procs}
        remaining = {g: m for g, m in remaining.items() if m}
        if not remaining or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for pgid, members in remaining.items():
        problems.append(f"processes left in group {pgid}: "
                        + ", ".join(f"{m} ({proc_cmdline(m)[:100]})" for m in members))
        for m in members:
            try:
                os.kill(m, signal.SIGKILL)
            except ProcessLookupError:
                pass
    if problems:
        pytest.fail("teardown: " + "\n".join(problems), pytrace=False)


@pytest.fixture
def markers(tmp_path):
    """A directory where tasks drop marker files (world-writable for the interpreters)."""
    d = tmp_path / "markers"
    d.mkdir()
    d.chmod(0o777)
    return d


# --------------------------------------------------------------------------
# Helpers to start and watch the platform
# --------------------------------------------------------------------------

def wait_log(proc, pattern, timeout=STARTUP_TIMEOUT, count=1):
    """Waits until ``pattern`` (a regex) matched ``count`` times in the log; returns the matches."""
    rx = re.compile(pattern)

    def found():
        m = list(rx.finditer(log_text(proc)))
        return m if len(m) >= count else None

    deadline = time.monotonic() + timeout
    while True:
        m = found()
        if m:
            return m
        if not proc.running:
            time.sleep(0.2)  # the last lines may still be on their way
            m = found()
            if m:
                return m
            pytest.fail(f"{proc.name} exited with {proc.proc.returncode} before logging "
                        f"{pattern!r}; log tail:\n{proc.tail()}")
        if time.monotonic() > deadline:
            pytest.fail(f"{proc.name} did not log {pattern!r} within {timeout}s; "
                        f"log tail:\n{proc.tail()}")
        time.sleep(0.05)


def start_api(launch, redis_url):
    port = free_port()
    api = launch("api", "api", "--port", port, "--redis", redis_url)
    return api, f"http://127.0.0.1:{port}"


def start_dispatcher(launch, mode, zport, redis_url, name="dispatcher", extra=()):
    return launch(name, "dispatcher", "-m", mode, "-p", zport, "--redis", redis_url, *extra)


def start_worker(launch, mode, slots, zport, name):
    return launch(name, f"{mode}-worker", slots, f"tcp://127.0.0.1:{zport}")


def wait_dispatcher_ready(dispatcher, timeout=STARTUP_TIMEOUT):
    """Waits for ``dispatcher <name> ready (N tasks recovered)``: its start-up recovery is over.

    /health may turn 200 (and workers register) before that, and tasks
    submitted in between can be started twice (see
    ``test_workers_start_before_dispatcher``); tests about steady-state
    behaviour wait for this line first.
    """
    wait_log(dispatcher, r"dispatcher \S+ ready", timeout=timeout)


def wait_worker_up(worker, dispatcher, slots):
    """Waits until ``dispatcher`` registered ``worker`` and the worker knows it; returns its id.

    The id is found in the dispatcher's ``worker <id> registered with N slots``
    line by the pid it starts with: the pid of the JVM we started.
    """
    m = wait_log(dispatcher, rf"worker ({worker.proc.pid}@\S+) registered with {slots} slots")[0]
    wid = m.group(1)
    assert re.fullmatch(rf"{worker.proc.pid}@\S+-[0-9a-f]{{8}}", wid), f"unexpected worker id {wid}"
    wait_log(worker, r"registered with dispatcher")
    worker.wid = wid
    return wid


def wait_registered(dispatcher, wid, slots, count=1):
    wait_log(dispatcher, rf"worker {re.escape(wid)} registered with {slots} slots", count=count)


def start_cluster(launch, mode, redis_url, workers=2, slots=2):
    """API + dispatcher + ``workers`` workers, all started at once; returns a namespace."""
    zport = free_port()
    api, base = start_api(launch, redis_url)
    dispatcher = start_dispatcher(launch, mode, zport, redis_url)
    ws = [start_worker(launch, mode, slots, zport, f"{mode}-worker-{chr(ord('A') + i)}")
          for i in range(workers)]
    wait_listening(api, base)
    for w in ws:
        wait_worker_up(w, dispatcher, slots)
    wait_dispatcher_ready(dispatcher)
    wait_healthy(api, base, timeout=60)
    return SimpleNamespace(base=base, zport=zport, api=api, dispatcher=dispatcher, workers=ws,
                           procs=[api, dispatcher, *ws])


def submit_many(base, fid, inputs, pool):
    return list(pool.map(lambda x: execute(base, fid, x), inputs))


def wait_all(base, tids, pool, timeout=120, procs=()):
    return list(pool.map(lambda t: wait_result(base, t, timeout=timeout, procs=procs), tids))


def marker_files(d, kind):
    """``{x: [pgid, ...]}`` of the markers ``{kind}-{x}-{pgid}-{pid}-{ns}`` in ``d`` (one per run)."""
    out = {}
    for f in os.listdir(d):
        parts = f.split("-")
        if len(parts) == 5 and parts[0] == kind:
            out.setdefault(int(parts[1]), []).append(int(parts[2]))
    return out


def _mentions_3(text):
    return re.search(r"(?<!\d)3(?!\d)", text) is not None


# --------------------------------------------------------------------------
# 1. Load is shared between workers
# --------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_two_workers_share_work(mode, fresh_redis, redis_client, launch):
    c = start_cluster(launch, mode, fresh_redis, workers=2, slots=2)
    wids = {w.wid for w in c.workers}
    assert len(wids) == 2

    def nap_inc(x):
        import time
        time.sleep(0.05)
        return x + 1

    f_id = register(c.base, lambda x: x, name="identity")
    f_nap = register(c.base, nap_inc)

    with ThreadPoolExecutor(max_workers=16) as pool:
        t_id = submit_many(c.base, f_id, range(500), pool)
        t_nap = submit_many(c.base, f_nap, range(100), pool)
        assert len(set(t_id + t_nap)) == 600
        r_id = wait_all(c.base, t_id, pool, procs=c.procs)
        r_nap = wait_all(c.base, t_nap, pool, procs=c.procs)

    bad = [(x, r) for x, r in enumerate(r_id) if r != ("COMPLETED", x)]
    assert not bad, f"{len(bad)} identity tasks wrong, e.g. {bad[:3]}"
    bad = [(x, r) for x, r in enumerate(r_nap) if r != ("COMPLETED", x + 1)]
    assert not bad, f"{len(bad)} sleeping tasks wrong, e.g. {bad[:3]}"

    hashes = task_hashes(redis_client, t_id + t_nap)
    assert all(h["status"] == "COMPLETED" for h in hashes)
    strangers = [h for h in hashes if h["worker"] not in wids]
    assert not strangers, f"tasks not attributed to our workers {wids}: {strangers[:3]}"
    per_worker = {w: sum(1 for h in hashes if h["worker"] == w) for w in wids}
    assert all(n >= 60 for n in per_worker.values()), \
        f"work not shared (each worker should run >= 10% of 600 tasks): {per_worker}"
    per_worker_nap = {w: sum(1 for h in hashes[500:] if h["worker"] == w) for w in wids}
    assert all(n >= 10 for n in per_worker_nap.values()), \
        f"sleeping tasks not shared: {per_worker_nap}"
    # No worker was lost: no task may have been started twice.
    retried = [(t, h) for t, h in zip(t_id + t_nap, hashes) if h["attempts"] != "1"]
    assert not retried, f"{len(retried)} tasks started more than once with no worker lost: {retried[:5]}"


# --------------------------------------------------------------------------
# 2. A push worker killed with SIGKILL: its tasks run again elsewhere
# --------------------------------------------------------------------------

def test_push_worker_sigkill(fresh_redis, redis_client, launch, markers):
    c = start_cluster(launch, "push", fresh_redis, workers=2, slots=2)
    a, b = c.workers

    def slow(x, d):
        import os
        import time
        open(os.path.join(d, f"start-{x}-{os.getpgrp()}-{os.getpid()}-{time.monotonic_ns()}"), "w").close()
        time.sleep(1)
        return x

    fid = register(c.base, slow)
    tids = [execute(c.base, fid, x, str(markers)) for x in range(20)]

    def started_on_a():
        return [x for x, groups in marker_files(markers, "start").items() if a.proc.pid in groups]

    wait_until(started_on_a, 60, f"a task to start on {a.name}", procs=c.procs, interval=0.01)
    interpreters = live_children(a.proc.pid)
    os.kill(a.proc.pid, signal.SIGKILL)  # ./faas execs java: this is the worker's JVM
    killed_at = time.monotonic()
    a.killed_by_test = True
    a.proc.wait(timeout=10)
    # Which tasks A had started, and which of them (none, normally) it finished in time.
    on_a = sorted(started_on_a())
    finished_on_a = {x for x, h in zip(range(20), task_hashes(redis_client, tids))
                     if h["status"] in ("COMPLETED", "FAILED") and h["worker"] == a.wid}
    lost = [x for x in on_a if x not in finished_on_a]
    assert lost, f"every task of {a.name} had finished before it was killed: {on_a}"

    # Its interpreters die with it (PR_SET_PDEATHSIG).
    assert interpreters, f"{a.name} had no interpreter processes"
    wait_until(lambda: not any(alive(p) for p in interpreters), 5,
               f"the interpreters {interpreters} of the killed worker to exit")
    wait_until(lambda: not live_group_members(a.proc.pid), 5,
               f"the process group of the killed worker to be empty "
               f"(left: {live_group_members(a.proc.pid)})")

    survivors = [c.api, c.dispatcher, b]
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(
            lambda t: wait_result(c.base, t, timeout=max(0.1, killed_at + 15 - time.monotonic()),
                                  procs=survivors),
            tids))
    elapsed = time.monotonic() - killed_at
    assert results == [("COMPLETED", x) for x in range(20)]
    assert elapsed <= 15.5, f"tasks took {elapsed:.1f}s after the kill"

    hashes = task_hashes(redis_client, tids)
    for x in lost:
        assert hashes[x]["attempts"] == "2", f"task {x} (lost with {a.name}): {hashes[x]}"
        assert hashes[x]["worker"] == b.wid, f"task {x} (lost with {a.name}): {hashes[x]}"
    retried = [x for x, h in enumerate(hashes) if h["attempts"] != "1"]
    # Each of A's 2 interpreters runs one task and, shortly before its expected end (a steady 1 s task,
    # once learned), is handed the next: A holds at most 4.
    assert len(retried) <= 4, f"more tasks retried than {a.name} could hold: {retried}"
    assert all(hashes[x]["attempts"] == "2" and hashes[x]["worker"] == b.wid for x in retried), \
        [hashes[x] for x in retried]


# --------------------------------------------------------------------------
# 3. Dispatcher restart: nothing queued is lost, workers come back by themselves
# --------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_dispatcher_restart(mode, fresh_redis, redis_client, launch):
    c = start_cluster(launch, mode, fresh_redis, workers=2, slots=2)
    worker_pids = [w.proc.pid for w in c.workers]

    def nap_times10(x):
        import time
        time.sleep(0.2)
        return x * 10

    fid = register(c.base, nap_times10)
    with ThreadPoolExecutor(max_workers=16) as pool:
        first = submit_many(c.base, fid, range(40), pool)
    wait_until(lambda: count_status(redis_client, first, "COMPLETED") >= 8, 60,
               "8 tasks to complete", procs=c.procs)

    clean, rc, leftovers = c.dispatcher.stop()
    assert clean and not leftovers, f"dispatcher stop: clean={clean} rc={rc} leftovers={leftovers}"
    done_before = count_status(redis_client, first, "COMPLETED")
    assert done_before < 40, "all tasks were done before the dispatcher stopped; test is moot"

    with ThreadPoolExecutor(max_workers=16) as pool:
        second = submit_many(c.base, fid, range(40, 60), pool)
    # No dispatcher: they wait in the queue.
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        statuses = [h["status"] for h in task_hashes(redis_client, second)]
        assert statuses == ["QUEUED"] * 20, statuses
        time.sleep(0.1)
    assert get_status(c.base, second[0]) == "QUEUED"
    assert all(w.running for w in c.workers)

    dispatcher2 = start_dispatcher(launch, mode, c.zport, fresh_redis, name="dispatcher-2")
    procs = [c.api, dispatcher2, *c.workers]
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = wait_all(c.base, first + second, pool, timeout=90, procs=procs)
    assert results == [("COMPLETED", x * 10) for x in range(60)]

    # The same worker processes re-registered with the new dispatcher by themselves.
    assert [w.proc.pid for w in c.workers] == worker_pids
    assert all(w.running for w in c.workers)
    for w in c.workers:
        wait_registered(dispatcher2, w.wid, 2)
    hashes = task_hashes(redis_client, first + second)
    assert {h["worker"] for h in hashes} <= {w.wid for w in c.workers}, hashes
    assert all(h["status"] == "COMPLETED" for h in hashes)


# --------------------------------------------------------------------------
# 4. Workers may start before the dispatcher
# --------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_workers_start_before_dispatcher(mode, fresh_redis, redis_client, launch, markers):
    zport = free_port()
    worker = start_worker(launch, mode, 2, zport, f"{mode}-worker")
    api, base = start_api(launch, fresh_redis)
    wait_listening(api, base)
    wait_until(lambda: time.monotonic() - worker.started_at >= 2.0, 10, "2 s", procs=[worker])
    assert worker.running
    assert "registered with dispatcher" not in log_text(worker)

    def triple(x, d):
        import os
        import time
        open(os.path.join(d, f"start-{x}-{os.getpgrp()}-{os.getpid()}-{time.monotonic_ns()}"), "w").close()
        time.sleep(0.5)  # long enough to still run if something starts it a second time
        return x * 3

    fid = register(base, triple)
    early = [execute(base, fid, x, str(markers)) for x in range(5)]
    dispatcher = start_dispatcher(launch, mode, zport, fresh_redis)
    wid = wait_worker_up(worker, dispatcher, 2)
    wait_healthy(api, base, timeout=60)
    late = [execute(base, fid, x, str(markers)) for x in range(5, 10)]
    procs = [api, dispatcher, worker]
    results = [wait_result(base, t, timeout=60, procs=procs) for t in early + late]
    assert results == [("COMPLETED", x * 3) for x in range(10)]
    hashes = task_hashes(redis_client, early + late)
    assert {h["worker"] for h in hashes} == {wid}
    # No worker was lost: each task was started exactly once, including those
    # that were waiting in the queue when the dispatcher started.
    runs = {x: len(g) for x, g in marker_files(markers, "start").items()}
    retried = [(x, h, runs.get(x)) for x, h in enumerate(hashes) if h["attempts"] != "1" or runs.get(x) != 1]
    assert not retried, ("tasks started more than once with no worker lost "
                         f"(input, hash, times the function ran): {retried}")


# --------------------------------------------------------------------------
# 5. A task that kills its interpreter fails alone
# --------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_crashing_task_does_not_kill_worker(mode, fresh_redis, redis_client, launch, markers):
    c = start_cluster(launch, mode, fresh_redis, workers=1, slots=2)
    (worker,) = c.workers

    def die():
        import os
        os._exit(3)

    def inc(x):
        return x + 1

    def overlap(x, d):
        import os
        import time
        open(os.path.join(d, f"start-{x}-{os.getpgrp()}-{os.getpid()}-{time.monotonic_ns()}"), "w").close()
        deadline = time.monotonic() + 10
        # Returns True if the other task started while this one ran.
        while time.monotonic() < deadline:
            if len([f for f in os.listdir(d) if f.startswith("start-")]) >= 2:
                return True
            time.sleep(0.02)
        return False

    f_die = register(c.base, die)
    f_inc = register(c.base, inc)
    f_overlap = register(c.base, overlap)

    dead = [execute(c.base, f_die) for _ in range(5)]
    for tid in dead:
        body = wait_result_body(c.base, tid, timeout=60, procs=c.procs)
        assert body["status"] == "FAILED", body
        exc = deserialize(body["result"])
        assert isinstance(exc, BaseException), repr(exc)
        assert _mentions_3(str(exc)), f"exit code 3 not mentioned: {exc!r}"
    hashes = task_hashes(redis_client, dead)
    assert all(h["status"] == "FAILED" for h in hashes), hashes
    assert all(h["attempts"] == "1" for h in hashes), f"a crashing task was started more than once: {hashes}"
    assert all(h["worker"] == worker.wid for h in hashes), hashes

    tids = [execute(c.base, f_inc, x) for x in range(20)]
    results = [wait_result(c.base, t, timeout=60, procs=c.procs) for t in tids]
    assert results == [("COMPLETED", x + 1) for x in range(20)]
    hashes = task_hashes(redis_client, tids)
    assert {h["worker"] for h in hashes} == {worker.wid}
    assert {h["attempts"] for h in hashes} == {"1"}

    # Same JVM, still with both slots: two tasks run at the same time.
    assert worker.running and alive(worker.proc.pid)
    pair = [execute(c.base, f_overlap, x, str(markers)) for x in range(2)]
    assert [wait_result(c.base, t, timeout=60, procs=c.procs) for t in pair] == \
        [("COMPLETED", True)] * 2, "the two slots of the worker did not run tasks concurrently"
    assert {g for gs in marker_files(markers, "start").values() for g in gs} == {worker.proc.pid}
    wait_until(lambda: len(live_children(worker.proc.pid)) == 2, 10,
               f"{worker.name} to have 2 interpreters "
               f"(has {live_children(worker.proc.pid)})")


# --------------------------------------------------------------------------
# 6. SIGTERM: a worker finishes its tasks before it exits
# --------------------------------------------------------------------------

def test_sigterm_worker_finishes_tasks(fresh_redis, redis_client, launch, markers):
    c = start_cluster(launch, "push", fresh_redis, workers=1, slots=2)
    (worker,) = c.workers

    def nap2(x, d):
        import os
        import time
        tag = f"{x}-{os.getpgrp()}-{os.getpid()}-{time.monotonic_ns()}"
        open(os.path.join(d, "start-" + tag), "w").close()
        time.sleep(2)
        open(os.path.join(d, "end-" + tag), "w").close()
        return x * 7

    fid = register(c.base, nap2)
    tids = [execute(c.base, fid, x, str(markers)) for x in range(2)]
    wait_until(lambda: len(marker_files(markers, "start")) == 2, 60, "both tasks to start",
               procs=c.procs, interval=0.01)
    assert [h["status"] for h in task_hashes(redis_client, tids)] == ["RUNNING"] * 2
    interpreters = live_children(worker.proc.pid)

    worker.proc.send_signal(signal.SIGTERM)
    sent_at = time.monotonic()
    rc = worker.proc.wait(timeout=STOP_TIMEOUT)
    exited_after = time.monotonic() - sent_at
    ended = marker_files(markers, "end")
    assert sorted(ended) == [0, 1], \
        f"worker exited {exited_after:.2f}s after SIGTERM before its tasks ended (ended: {ended})"
    assert rc in (0, 143), f"worker exit code {rc}; log tail:\n{worker.tail()}"

    procs = [c.api, c.dispatcher]
    results = [wait_result(c.base, t, timeout=10, procs=procs) for t in tids]
    assert results == [("COMPLETED", 0), ("COMPLETED", 7)]
    hashes = task_hashes(redis_client, tids)
    assert all(h["attempts"] == "1" and h["worker"] == worker.wid for h in hashes), hashes
    assert {x: len(g) for x, g in marker_files(markers, "start").items()} == {0: 1, 1: 1}
    wait_until(lambda: not any(alive(p) for p in interpreters), 5,
               f"the interpreters {interpreters} of the stopped worker to exit")

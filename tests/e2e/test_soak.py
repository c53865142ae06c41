"""Soak test: four push workers (two interpreters each) kept busy for minutes.

Runs only with ``FAAS_SOAK=1`` (``./faas test --soak`` sets it); ``FAAS_SOAK_SECONDS`` sets the duration
(default 300). A mix of good, failing, crashing and sleeping tasks is submitted continuously, with a
bounded number in flight, and the test checks that

* every task ends in the right state with the right value or exception;
* no worker JVM leaks: its resident memory (``VmRSS``) and thread count (``Threads``, both from
  ``/proc/<pid>/status``) at the end are close to their values after a warm-up;
* each worker still has exactly one Python interpreter per slot, though crashing tasks kill interpreters
  all along.
"""

import os
import random
import time
from collections import Counter
from pathlib import Path

import pytest
import requests

from conftest import HTTP_TIMEOUT, deserialize, free_port, http, register, serialize, wait_healthy, wait_until
from test_hardening import live_workers, runner_children, wait_dispatcher_ready

SOAK_SECONDS = float(os.environ.get("FAAS_SOAK_SECONDS", "300"))

pytestmark = [pytest.mark.skipif(os.environ.get("FAAS_SOAK") != "1", reason="long soak: run ./faas test --soak"),
              pytest.mark.timeout(SOAK_SECONDS + 600)]

WORKERS = 4
SLOTS = 2
IN_FLIGHT = 64
WARMUP_SECONDS = 30.0
MAX_RSS_GROWTH_KIB = 64 * 1024
MAX_THREAD_GROWTH = 10
# Share of each kind of task (good, sleeping, failing, crashing).
MIX = {"good": 40, "sleepy": 35, "bad": 20, "crash": 5}
STUCK_SECONDS = 120.0


def proc_status(pid):
    """``(VmRSS in KiB, Threads)`` of a process, from /proc/<pid>/status."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]), int(fields["Threads"])


def test_soak(fresh_redis, faas_launcher):
    port, zport = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    api = faas_launcher("api", "api", "--port", port, "--redis", fresh_redis)
    dispatcher = faas_launcher("dispatcher-push", "dispatcher", "-m", "push", "-p", zport,
                               "--redis", fresh_redis)
    workers = [faas_launcher(f"push-worker-{i}", "push-worker", SLOTS, f"tcp://127.0.0.1:{zport}")
               for i in range(WORKERS)]
    procs = [api, dispatcher, *workers]
    wait_healthy(api, base, procs=procs)
    wait_dispatcher_ready(dispatcher, procs)
    wait_until(lambda: sorted(w["id"].split("@")[0] for w in live_workers(base))
               == sorted(str(w.proc.pid) for w in workers),
               180, f"{WORKERS} workers to register", procs=procs, interval=0.2)
    worker_pids = [w.proc.pid for w in workers]

    def good(x):
        return x + 1

    def sleepy(x, ms):
        import time
        time.sleep(ms / 1000.0)
        return x

    def bad(x):
        raise ValueError("soak", x)

    def crash(x):
        import os
        os._exit(3 + x % 5)

    fids = {"good": register(base, good), "sleepy": register(base, sleepy),
            "bad": register(base, bad), "crash": register(base, crash)}
    kinds = list(MIX)
    weights = [MIX[k] for k in kinds]
    rng = random.Random(20240601)

    in_flight = {}      # task id -> (kind, x, submitted at)
    done = Counter()
    attempts_over_1 = 0
    problems = []
    seq = 0
    warm = None
    started = time.monotonic()
    end = started + SOAK_SECONDS
    warmup_at = started + min(WARMUP_SECONDS, SOAK_SECONDS / 2)

    def top_up():
        nonlocal seq
        batch = {}
        for _ in range(IN_FLIGHT - len(in_flight)):
            kind = rng.choices(kinds, weights)[0]
            seq += 1
            args = (seq, rng.randint(0, 50)) if kind == "sleepy" else (seq,)
            batch.setdefault(kind, []).append(args)
        for kind, arg_list in batch.items():
            r = http().post(base + "/execute_function/batch",
                            json={"function_id": fids[kind],
                                  "payloads": [serialize((a, {})) for a in arg_list]},
                            timeout=HTTP_TIMEOUT)
            assert r.status_code == 201, f"batch submit -> {r.status_code}: {r.text[:300]}"
            ids = r.json()["task_ids"]
            assert len(ids) == len(arg_list)
            now = time.monotonic()
            for tid, a in zip(ids, arg_list):
                in_flight[tid] = (kind, a[0], now)

    def check(kind, x, body):
        status = body["status"]
        value = deserialize(body["result"])
        if kind == "good":
            ok = status == "COMPLETED" and value == x + 1
        elif kind == "sleepy":
            ok = status == "COMPLETED" and value == x
        elif kind == "bad":
            ok = (status == "FAILED" and type(value) is ValueError and value.args == ("soak", x)
                  and "Traceback" in (body.get("error") or ""))
        else:
            ok = (status == "FAILED" and isinstance(value, RuntimeError)
                  and f"exited with code {3 + x % 5}" in str(value))
        if not ok:
            problems.append(f"{kind}({x}) -> {status} {value!r}")

    def collect(wait):
        nonlocal attempts_over_1
        ids = list(in_flight)
        r = http().post(base + "/results",
                        json={"task_ids": ids, "wait": wait, "return_when": "FIRST_COMPLETED"},
                        timeout=wait + HTTP_TIMEOUT)
        assert r.status_code == 200, f"/results -> {r.status_code}: {r.text[:300]}"
        now = time.monotonic()
        for tid, body in zip(ids, r.json()["results"]):
            kind, x, sent = in_flight[tid]
            if body.get("status") in ("COMPLETED", "FAILED"):
                del in_flight[tid]
                done[kind] += 1
                attempts_over_1 += body.get("attempts", 1) > 1
                check(kind, x, body)
            elif now - sent > STUCK_SECONDS:
                pytest.fail(f"task {tid} ({kind}({x})) still {body.get('status')} after {STUCK_SECONDS}s")

    while time.monotonic() < end:
        for p in procs:
            assert p.running, f"{p.name} exited with {p.proc.returncode}; log tail:\n{p.tail()}"
        top_up()
        collect(2)
        if warm is None and time.monotonic() >= warmup_at:
            warm = {pid: proc_status(pid) for pid in worker_pids}
            warm_done = sum(done.values())
            warm_time = time.monotonic()
        assert len(problems) < 20, "\n".join(problems)
    if warm is None:  # a very short soak
        warm, warm_done, warm_time = {pid: proc_status(pid) for pid in worker_pids}, sum(done.values()), \
            time.monotonic()
    drain_deadline = time.monotonic() + STUCK_SECONDS
    while in_flight:
        assert time.monotonic() < drain_deadline, f"{len(in_flight)} tasks never ended"
        collect(5)
    elapsed = time.monotonic() - started

    for p in procs:
        assert p.running, f"{p.name} exited with {p.proc.returncode}; log tail:\n{p.tail()}"
    assert [w.proc.pid for w in workers] == worker_pids
    # Crashed interpreters are replaced: one per slot on every worker once the last replacement started.
    wait_until(lambda: all(len(runner_children(pid)) == SLOTS for pid in worker_pids), 30,
               "every worker to have one interpreter per slot "
               f"(have {[len(runner_children(pid)) for pid in worker_pids]})", procs=procs)
    final = {pid: proc_status(pid) for pid in worker_pids}
    total = sum(done.values())
    stats = requests.get(base + "/stats", timeout=HTTP_TIMEOUT).json()

    print(f"\nsoak: {elapsed:.0f}s, {total} tasks ({dict(done)}), {total / elapsed:.0f} tasks/s overall, "
          f"{(total - warm_done) / (time.monotonic() - warm_time):.0f} tasks/s after warm-up; "
          f"{attempts_over_1} tasks started more than once")
    for i, pid in enumerate(worker_pids):
        (rss0, thr0), (rss1, thr1) = warm[pid], final[pid]
        print(f"soak: worker {i} (pid {pid}): RSS {rss0 / 1024:.1f} -> {rss1 / 1024:.1f} MiB "
              f"({(rss1 - rss0) / 1024:+.1f}), threads {thr0} -> {thr1} ({thr1 - thr0:+d}), "
              f"interpreters {len(runner_children(pid))}")
    for p in (api, dispatcher):
        rss, thr = proc_status(p.proc.pid)
        print(f"soak: {p.name} (pid {p.proc.pid}): RSS {rss / 1024:.1f} MiB, threads {thr}")
    print(f"soak: /stats {dict((k, v) for k, v in stats.items() if k != 'dispatchers')}")

    assert not problems, f"{len(problems)} tasks ended wrongly:\n" + "\n".join(problems[:20])
    assert total > 0 and all(done[k] > 0 for k in kinds), dict(done)
    assert stats["submitted"] == total and stats["completed"] + stats["failed"] == total, stats
    assert stats["completed"] == done["good"] + done["sleepy"], (stats, dict(done))
    for i, pid in enumerate(worker_pids):
        (rss0, thr0), (rss1, thr1) = warm[pid], final[pid]
        assert rss1 - rss0 < MAX_RSS_GROWTH_KIB, \
            f"worker {i} RSS grew by {(rss1 - rss0) / 1024:.1f} MiB after warm-up ({rss0} -> {rss1} KiB)"
        assert thr1 - thr0 < MAX_THREAD_GROWTH, f"worker {i} threads grew from {thr0} to {thr1}"

"""Two cluster dispatchers share one Redis and one cluster; one dies and the other runs everything.

Each worker lists both dispatchers, its own first (``--name d1,d2``) and joins through both addresses. When
d1 dies, Hazelcast drops it from the cluster, its worker finds d2 listening and registers there, and d2
takes over from Redis the tasks d1 had claimed (after ``--takeover-ms``). Every process is a real ./faas
JVM on loopback. A SIGKILLed member's connections close, which drops it at once; a SIGSTOPped one (a frozen
JVM, or a machine gone without a word) keeps them open and is dropped only by the heartbeat failure
detector, after ``--member-timeout-ms``. Only the order of events is asserted.
"""

import signal
import time

import pytest
import requests

from conftest import capacity_only, deserialize, free_port, log_text, register, serialize, wait_listening, wait_until

# Generous: JVMs join a cluster in seconds, but slowly on two busy cores.
START_LIMIT = 120
END_LIMIT = 120
# Lower than the default 15 s, to keep the frozen case short; still many heartbeats on a busy machine.
MEMBER_TIMEOUT_MS = 8000


def workers_by_dispatcher(base):
    """{dispatcher name: set of cluster worker ids} of the live dispatchers."""
    try:
        body = requests.get(base + "/workers", timeout=5).json()
    except (requests.RequestException, ValueError):
        return {}
    out = {}
    for w in body.get("workers", []):
        if w.get("mode") == "cluster":
            out.setdefault(w["dispatcher"], set()).add(w["id"])
    return out


def live_dispatchers(base):
    try:
        return set(requests.get(base + "/health", timeout=5).json().get("dispatchers", []))
    except (requests.RequestException, ValueError):
        return set()


def submit(base, fid, inputs):
    r = requests.post(base + "/execute_function/batch", timeout=30,
                      json={"function_id": fid, "payloads": [serialize(((x,), {})) for x in inputs]})
    assert r.status_code == 201, r.text
    return r.json()["task_ids"]


def bodies(base, ids, wait=0):
    return requests.post(base + "/results", json={"task_ids": ids, "wait": wait}, timeout=wait + 30
                         ).json()["results"]


def ended(base, ids, limit, procs):
    """The tasks' bodies once all have ended; fails after ``limit`` seconds or when a process exits."""
    return wait_until(lambda: (lambda b: all(x["status"] in ("COMPLETED", "FAILED") for x in b) and b)(
        bodies(base, ids, wait=5)), limit, "every task to end", procs=procs, interval=0)


# The frozen case waits for the heartbeat failure detector (half a minute in all): with --capacity, to keep the
# default suite within its time; the killed case runs the same takeover by default.
@pytest.mark.parametrize("death", [signal.SIGKILL, pytest.param(signal.SIGSTOP, marks=capacity_only(
    "a frozen dispatcher, dropped only by the heartbeat failure detector"))], ids=["killed", "frozen"])
def test_a_dead_dispatchers_workers_and_tasks_move_to_the_survivor(death, request, fresh_redis,
                                                                   faas_launcher, built_jar):
    port, hz1, hz2 = free_port(), free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    api = faas_launcher("api", "api", "--port", port, "--redis", fresh_redis)

    def dispatcher(name, hz):
        # d1 is the member the others join through, and the oldest (Hazelcast's master): the one that dies.
        # A short prefetch leaves the batch in the queue for both to claim, a few tasks at a time.
        return faas_launcher(name, "dispatcher", "-m", "cluster", "--name", name, "--redis", fresh_redis,
                             "--cluster-port", hz, "--join", f"127.0.0.1:{hz1}", "--takeover-ms", 3000,
                             "--prefetch", 2, "--member-timeout-ms", MEMBER_TIMEOUT_MS)

    # One at a time, so that d2 joins d1's cluster, and each worker finds its first choice listening.
    d1 = dispatcher("d1", hz1)
    wait_listening(api, base)
    wait_until(lambda: "d1" in live_dispatchers(base), START_LIMIT, "d1", procs=[api, d1])
    d2 = dispatcher("d2", hz2)
    wait_until(lambda: "d2" in live_dispatchers(base), START_LIMIT, "d2", procs=[api, d1, d2])
    join = f"127.0.0.1:{hz1},127.0.0.1:{hz2}"
    w1, w2 = (faas_launcher(w, "cluster-worker", 1, "--worker-id", w, "--name", names, "--join", join,
                            "--cluster-port", free_port(), "--member-timeout-ms", MEMBER_TIMEOUT_MS)
              for w, names in (("w1", "d1,d2"), ("w2", "d2,d1")))
    procs = [api, d1, d2, w1, w2]
    wait_until(lambda: workers_by_dispatcher(base) == {"d1": {"w1"}, "d2": {"w2"}}, START_LIMIT,
               "w1 with d1 and w2 with d2", procs=procs)

    def slow(x):
        import time
        time.sleep(0.4)
        return x

    fid = register(base, slow)
    batch = submit(base, fid, range(30))
    # Mid-run: d1 has started a task (a running task names its dispatcher until it ends) on w1, its only
    # worker, whose result will never reach d1.
    wait_until(lambda: any(b["status"] == "RUNNING" and b["worker"] == "d1" for b in bodies(base, batch)),
               60, "d1 running a task", procs=procs)
    d1.proc.send_signal(death)
    if death == signal.SIGKILL:
        d1.proc.wait(timeout=10)
    else:
        request.addfinalizer(lambda: d1.proc.send_signal(signal.SIGKILL))  # a stopped JVM ignores SIGTERM
    killed = time.time()
    procs = [api, d2, w1, w2]

    done = ended(base, batch, END_LIMIT, procs)
    assert [b["status"] for b in done] == ["COMPLETED"] * 30, done
    assert [deserialize(b["result"]) for b in done] == list(range(30))
    print(f"30 tasks ended {max(b['finished_at'] for b in done) - killed:.1f} s after d1 got {death.name}")
    assert "took over" in log_text(d2), "d2 did not take over d1's claimed tasks"

    # d1's announcement expires; both workers are d2's now.
    wait_until(lambda: workers_by_dispatcher(base) == {"d2": {"w1", "w2"}}, 60, "both workers with d2",
               procs=procs)
    assert "following dispatcher d2" in log_text(w1)
    assert "following dispatcher" not in log_text(w2), "w2 left a dispatcher that lives"

    # Both run d2's tasks: each holds one task at a time, so each gets one of the first two.
    after = submit(base, fid, range(30, 36))
    done = ended(base, after, END_LIMIT, procs)
    assert [b["status"] for b in done] == ["COMPLETED"] * 6, done
    assert [deserialize(b["result"]) for b in done] == list(range(30, 36))
    assert {b["worker"] for b in done} == {"w1", "w2"}, done

"""Redis behind Sentinel: ``./faas up --redis-sentinels ... --redis-min-replicas 1`` loses no task whose
submit was answered 201 when its master is SIGKILLed under load, and serves again once Sentinel has promoted
a replica (docs/sentinel.md)."""

import threading
import time

import requests

from conftest import (FaasProcess, SentinelSetup, _report_stop, deserialize, free_port, health_status, http,
                      register, serialize, wait_until)

# Sentinel notices the kill after 2 s (down-after-milliseconds) and promotes a replica a few seconds later.
FAILOVER_LIMIT = 20


def test_a_killed_master_loses_no_answered_submit(sentinel_setup):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    up = FaasProcess("up-sentinel", ["up", "--port", port, "-w", 2, "--redis-sentinels", sentinel_setup.sentinels,
                                     "--redis-master", SentinelSetup.MASTER, "--redis-min-replicas", 1]).start()
    try:
        up.wait_healthy(base)
        fid = register(base, lambda x: x + 1, name="inc")

        accepted = {}  # task id -> the argument it was submitted with
        refused = []   # statuses (or errors) of the submits not answered 201
        answered_after_kill = threading.Event()
        killed = threading.Event()
        stop = threading.Event()

        def submit():
            session = requests.Session()
            n = 0
            while not stop.is_set():
                n += 1
                body = {"function_id": fid, "payload": serialize(((n,), {}))}
                try:
                    r = session.post(base + "/execute_function", json=body, timeout=5)
                except requests.RequestException as e:
                    refused.append(type(e).__name__)
                    time.sleep(0.05)
                    continue
                if r.status_code == 201:
                    accepted[r.json()["task_id"]] = n
                    if killed.is_set():
                        answered_after_kill.set()
                else:
                    refused.append((r.status_code, r.headers.get("content-type", "")))
                    time.sleep(0.05)

        submitter = threading.Thread(target=submit, name="submitter", daemon=True)
        submitter.start()
        wait_until(lambda: len(accepted) >= 100, 30, "100 submits answered 201", procs=[up])

        master = sentinel_setup.master()
        master.kill()
        killed_at = time.monotonic()
        killed.set()
        # The platform serves again: a submit answered 201 after the kill, and /health says so.
        wait_until(lambda: answered_after_kill.is_set() and health_status(base) == 200, FAILOVER_LIMIT,
                   "the platform to serve again after the master was killed", procs=[up])
        print(f"served again {time.monotonic() - killed_at:.1f} s after the kill; {len(refused)} submits refused")
        assert sentinel_setup.master_port() != master.port
        count = len(accepted)
        wait_until(lambda: len(accepted) >= count + 100, 30, "100 more submits after the failover", procs=[up])
        stop.set()
        submitter.join(10)

        ids = list(accepted)
        r = http().post(base + "/results", json={"task_ids": ids, "wait": 30}, timeout=60)
        assert r.status_code == 200, r.text[:500]
        results = r.json()["results"]
        lost = [res for res in results if res.get("status") != "COMPLETED"]
        assert not lost, f"{len(lost)} of {len(ids)} answered submits did not complete, e.g. {lost[:3]}"
        for res in results:
            assert deserialize(res["result"]) == accepted[res["task_id"]] + 1, res
        # Submits refused while there was no master: 503s (JSON), or connections the API dropped.
        assert all(isinstance(refusal, str) or (refusal[0] == 503 and refusal[1].startswith("application/json"))
                   for refusal in refused), refused
    finally:
        _report_stop(up, up.stop())

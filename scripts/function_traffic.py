#!/usr/bin/env python3
"""Counts what Redis sends and runs per task: bytes out (INFO stats total_net_output_bytes), bytes in, and
the calls of each command (INFO commandstats), over --tasks tasks of one function, divided by their number.

The function is a no-op, or one closing over --closure-mib MiB of data (its payload is that big). Tasks are
submitted in batches of 100 and waited for, so figures include the submit, start and finish of each task and
whatever else the platform did meanwhile (heartbeats, the stats flush): run it against a platform nobody else
uses, its Redis too. Start one first (``./faas up --redis URL``) and pass its URL and its Redis port.

    /usr/bin/python3 scripts/function_traffic.py --url http://127.0.0.1:8000 --redis-port 6379 --closure-mib 1
"""

import argparse
import base64
import subprocess
import sys
import time

import dill
import requests


def make_function(mib):
    if mib <= 0:
        return lambda x: x
    data = bytes(range(256)) * int(mib * 4096)

    def with_data(x):
        return len(data) + x

    return with_data


def redis_info(port, section):
    out = subprocess.run(["redis-cli", "-p", str(port), "info", section], capture_output=True, text=True,
                         check=True).stdout
    values = {}
    for line in out.splitlines():
        if ":" in line and not line.startswith("#"):
            key, value = line.strip().split(":", 1)
            values[key] = value
    return values


def counters(port):
    stats = redis_info(port, "stats")
    calls = {}
    for key, value in redis_info(port, "commandstats").items():
        fields = dict(part.split("=") for part in value.split(","))
        calls[key.replace("cmdstat_", "")] = int(fields["calls"])
    return int(stats["total_net_output_bytes"]), int(stats["total_net_input_bytes"]), calls


def run_tasks(session, url, fid, count):
    args = base64.b64encode(dill.dumps(((1,), {}))).decode()
    for start in range(0, count, 100):
        n = min(100, count - start)
        r = session.post(url + "/execute_function/batch", json={"function_id": fid, "payloads": [args] * n},
                         timeout=60)
        r.raise_for_status()
        r = session.post(url + "/results", json={"task_ids": r.json()["task_ids"], "wait": 60}, timeout=90)
        r.raise_for_status()
        for body in r.json()["results"]:
            if body.get("status") != "COMPLETED":
                raise RuntimeError("task ended %s: %s" % (body.get("status"), str(body.get("error"))[:300]))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--redis-port", type=int, default=6379)
    parser.add_argument("--closure-mib", type=float, default=0, help="data the function closes over (0: a no-op)")
    parser.add_argument("--tasks", type=int, default=200)
    args = parser.parse_args()
    session = requests.Session()
    payload = base64.b64encode(dill.dumps(make_function(args.closure_mib), recurse=True)).decode()
    r = session.post(args.url + "/register_function", json={"name": "traffic", "payload": payload}, timeout=60)
    r.raise_for_status()
    fid = r.json()["function_id"]
    run_tasks(session, args.url, fid, 10)  # the platform's first reads of this function are not counted
    time.sleep(1)
    out0, in0, calls0 = counters(args.redis_port)
    started = time.perf_counter()
    run_tasks(session, args.url, fid, args.tasks)
    elapsed = time.perf_counter() - started
    out1, in1, calls1 = counters(args.redis_port)
    n = args.tasks
    print("function payload %d bytes (base64), %d tasks in %.2f s" % (len(payload), n, elapsed))
    print("per task: Redis sent %.0f bytes, received %.0f bytes" % ((out1 - out0) / n, (in1 - in0) / n))
    for name in sorted(calls1):
        delta = calls1[name] - calls0.get(name, 0)
        if delta:
            print("  %-14s %8.2f calls per task" % (name, delta / n))


if __name__ == "__main__":
    sys.exit(main())

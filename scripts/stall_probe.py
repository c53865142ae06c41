#!/usr/bin/env python3
"""How long small requests wait while big echoes run beside them.

``--procs`` processes echo ``--size`` MiB in a loop (``scripts/big_payloads.py``'s calls, pickle or JSON bodies),
while this process sends a small request every 5 ms, alternating ``GET /openapi.json`` (the API's event loop
alone) and ``GET /status`` of an ended task (the event loop and Redis). Prints the echoes' median and each
probe's p50, p99 and max in ms. Start a platform first (``./faas up``) and pass its URL.

    /usr/bin/python3 scripts/stall_probe.py --url http://127.0.0.1:8000 --size 32 --procs 2 --seconds 20
"""

import argparse
import base64
import multiprocessing
import os
import statistics
import sys
import time

import dill
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import big_payloads  # noqa: E402


def echo(x):
    return x


def echo_loop(url, fid, size, bodies, stop, out):
    session = requests.Session()
    arg = b"x" * (size << 20)
    call = big_payloads.call_with_pickles if bodies == "pickle" else big_payloads.call
    times = []
    while time.time() < stop:
        try:
            times.append(call(session, url, fid, arg))
        except Exception as e:  # a refused or failed echo is reported, the probe goes on
            print(f"echo failed: {e!r:.200}", file=sys.stderr)
    out.put(times)


def percentiles(name, ms):
    ms.sort()
    return f" {name} p50 {ms[len(ms) // 2]:.1f} p99 {ms[int(len(ms) * 0.99)]:.1f} max {ms[-1]:.1f};"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--size", type=int, default=8, help="MiB per echo")
    parser.add_argument("--procs", type=int, default=2, help="processes echoing at once")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--bodies", choices=["pickle", "json"], default="pickle")
    args = parser.parse_args()
    session = requests.Session()
    fn = base64.b64encode(dill.dumps(echo, recurse=True)).decode()
    fid = session.post(args.url + "/register_function", json={"name": "echo", "payload": fn}).json()["function_id"]
    one = base64.b64encode(dill.dumps(((1,), {}))).decode()
    task = session.post(args.url + "/execute_function?wait=10", json={"function_id": fid, "payload": one}).json()
    stop = time.time() + args.seconds
    results = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=echo_loop, args=(args.url, fid, args.size, args.bodies, stop, results))
             for _ in range(args.procs)]
    for p in procs:
        p.start()
    waits = {"loop": [], "redis": []}
    probes = [("/openapi.json", "loop"), ("/status/" + task["task_id"], "redis")]
    i = 0
    while time.time() < stop:
        path, kind = probes[i % 2]
        started = time.perf_counter()
        session.get(args.url + path).raise_for_status()
        waits[kind].append((time.perf_counter() - started) * 1000)
        i += 1
        time.sleep(0.005)
    echoes = [t for _ in procs for t in results.get()]
    for p in procs:
        p.join()
    line = f"{args.size} MiB x{args.procs} {args.bodies}: {len(echoes)} echoes, median "
    line += f"{statistics.median(echoes) * 1000:.0f} ms;" if echoes else "- ;"
    print(line + percentiles("loop", waits["loop"]) + percentiles("redis", waits["redis"]))


if __name__ == "__main__":
    main()

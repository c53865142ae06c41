#!/usr/bin/env python3
"""Times an echo of big arguments: one call per size, from the client's pickling to the unpickled result.

Each call is what a user of the HTTP API does (docs/api.md), with ``requests``, in one of two ways
(``--bodies``): ``json``, dill and base64 of ``((arg,), {})`` in a JSON body, ``POST /execute_function?wait=60``,
then base64 and dill of the result; or ``pickle``, the pickle itself as the body and the value taken as its bytes.
A third, ``sdk``, is the Python SDK's ``Client.call`` (this repository's ``python/``, or the one ``--sdk`` names,
e.g. an older commit's, for an A/B). The figure is the median of ``--runs`` calls per size and way, client work included, with
this client's own page faults per call (on a VM where a first touch of a page is slow, they can be most of the
time; docs/payloads.md says how a client keeps its freed memory). Start a platform first (``./faas up``) and
pass its URL.

    /usr/bin/python3 scripts/big_payloads.py --url http://127.0.0.1:8000 --sizes 1,8,32 --runs 7
"""

import argparse
import base64
import os
import resource
import statistics
import sys
import time

import dill
import requests

PICKLE = "application/octet-stream"
PICKLE_HEADERS = {"Content-Type": PICKLE, "Accept": PICKLE + ", application/json"}


def echo(x):
    return x


def register(session, url):
    payload = base64.b64encode(dill.dumps(echo, recurse=True)).decode()
    r = session.post(url + "/register_function", json={"name": "echo", "payload": payload}, timeout=30)
    r.raise_for_status()
    return r.json()["function_id"]


def call(session, url, fid, arg):
    """One echo of ``arg`` in JSON: seconds taken, client work included."""
    started = time.perf_counter()
    payload = base64.b64encode(dill.dumps(((arg,), {}))).decode()
    r = session.post(url + "/execute_function?wait=60", json={"function_id": fid, "payload": payload}, timeout=120)
    r.raise_for_status()
    body = r.json()
    if body.get("status") != "COMPLETED":
        raise RuntimeError(f"echo ended {body.get('status')}: {str(body.get('error'))[:300]}")
    out = dill.loads(base64.b64decode(body["result"]))
    return checked(started, arg, out)


def call_with_pickles(session, url, fid, arg):
    """One echo of ``arg`` with pickles as bodies: seconds taken, client work included."""
    started = time.perf_counter()
    r = session.post(url + "/execute_function", params={"function_id": fid, "wait": 60},
                     data=dill.dumps(((arg,), {})), headers=PICKLE_HEADERS, timeout=120, stream=True)
    content = r.raw.read(decode_content=True)  # one buffer, as the SDK reads it
    r.raise_for_status()
    if r.headers["Content-Type"] != PICKLE:
        raise RuntimeError(f"echo answered {content[:300]!r}")
    return checked(started, arg, dill.loads(content))


def sdk_call(sdk_path, url):
    """``Client.call`` of the SDK at ``sdk_path``, as one way of calling the echo."""
    sys.path.insert(0, sdk_path)
    from mpcsfaas import Client  # noqa: E402 (the SDK to measure is chosen at run time)
    client = Client(url, timeout=120)

    def call_through_sdk(session, url, fid, arg):
        started = time.perf_counter()
        return checked(started, arg, client.call(fid, arg))
    return call_through_sdk


def checked(started, arg, out):
    elapsed = time.perf_counter() - started
    if len(out) != len(arg):
        raise RuntimeError("the echo came back changed")
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--sizes", default="1,8", help="argument sizes in MiB, comma separated")
    parser.add_argument("--runs", type=int, default=7, help="calls per size (the median is printed)")
    parser.add_argument("--warmup", type=int, default=2, help="calls per size not counted")
    parser.add_argument("--bodies", default="json,pickle", help="json, pickle, sdk, comma separated")
    parser.add_argument("--sdk", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"),
                        help="the folder holding the mpcsfaas package the sdk way measures")
    args = parser.parse_args()
    session = requests.Session()
    fid = register(session, args.url)
    ways = {"json": call, "pickle": call_with_pickles}
    if "sdk" in args.bodies.split(","):
        ways["sdk"] = sdk_call(args.sdk, args.url)
    for size in [float(s) for s in args.sizes.split(",")]:
        arg = bytes(range(256)) * int(size * 4096)
        for bodies in args.bodies.split(","):
            way = ways[bodies]
            for _ in range(args.warmup):
                way(session, args.url, fid, arg)
            faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            times = [way(session, args.url, fid, arg) * 1000 for _ in range(args.runs)]
            faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / args.runs
            print(f"{size:g} MiB, {bodies}: median {statistics.median(times):.0f} ms "
                  f"(min {min(times):.0f}, max {max(times):.0f}, {args.runs} calls; "
                  f"{faults:,.0f} page faults a call in this client)", flush=True)


if __name__ == "__main__":
    sys.exit(main())

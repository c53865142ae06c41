"""The batch driver of scripts/capacity.sh: submits TASKS no-op tasks through POST /execute_function/batch in
batches of BATCH from CONCURRENCY threads (retrying a 503, which the API answers when Redis is late), then
(unless --queue-only) waits for every result with POST /results and checks each is its argument. Prints
"N tasks/s" for submit and run together, and how many 503s it retried.

    python3 scripts/capacity_batch.py URL TASKS [--batch 1000] [--concurrency 8] [--queue-only]
"""
import argparse
import base64
import codecs
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import dill
import requests


def enc(obj):
    return codecs.encode(dill.dumps(obj), "base64").decode()


def noop(x):
    return x


class Client:
    def __init__(self, url):
        self.url = url
        self.local = threading.local()
        self.lock = threading.Lock()
        self.retried = 0

    def post(self, path, body):
        """POST with one keep-alive session per thread; a 503 (storage late) is retried after a pause."""
        session = getattr(self.local, "session", None) or requests.Session()
        self.local.session = session
        for attempt in range(100):
            r = session.post(self.url + path, json=body, timeout=120)
            if r.status_code != 503:
                r.raise_for_status()
                return r.json()
            with self.lock:
                self.retried += 1
            time.sleep(min(2.0, 0.05 * 2 ** attempt))
        raise RuntimeError(f"{path}: still 503 after 100 attempts")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("tasks", type=int)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--queue-only", action="store_true")
    a = p.parse_args()
    client = Client(a.url.rstrip("/"))
    fid = client.post("/register_function", {"name": "capacity-noop", "payload": enc(noop)})["function_id"]
    inputs = 1000
    args = [enc(((x,), {})) for x in range(inputs)]
    expected = [dill.dumps(x) for x in range(inputs)]  # pickles: servers differ in base64's line breaks
    sizes = [min(a.batch, a.tasks - start) for start in range(0, a.tasks, a.batch)]

    def run(size):
        ids = client.post("/execute_function/batch", {"function_id": fid,
                                                      "payloads": [args[i % inputs] for i in range(size)]})["task_ids"]
        if a.queue_only:
            return []
        pending = list(enumerate(ids))
        bad = []
        while pending:
            results = client.post("/results", {"task_ids": [t for _, t in pending], "wait": 30,
                                               "return_when": "ALL_COMPLETED"})["results"]
            left = []
            for (i, t), r in zip(pending, results):
                if r.get("status") in ("QUEUED", "RUNNING"):
                    left.append((i, t))
                elif r.get("status") != "COMPLETED" or base64.b64decode(r.get("result") or "") != expected[i % inputs]:
                    bad.append(f'{r.get("status")}: {(r.get("error") or "wrong result").strip().splitlines()[-1]}')
            pending = left
        return bad

    start = time.monotonic()
    with ThreadPoolExecutor(a.concurrency) as pool:
        bad = [b for batch in pool.map(run, sizes) for b in batch]
    seconds = time.monotonic() - start
    verb = "queued" if a.queue_only else "ran"
    print(f"{a.tasks / seconds:.0f} tasks/s: {verb} {a.tasks} in {seconds:.1f} s, {len(bad)} wrong, "
          f"{client.retried} submits or reads retried after 503")
    for reason, n in Counter(bad).most_common(5):
        print(f"  {n} x {reason}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()

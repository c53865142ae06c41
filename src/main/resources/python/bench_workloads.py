"""Prints one bench workload as JSON: the function and, per distinct input, the (args, kwargs) payload and
the encoded value it must return. Run once per run by `./faas bench WORKLOAD INPUTS`."""
import codecs
import json
import sys

import dill



def encode(obj):
    return codecs.encode(dill.dumps(obj), "base64").decode()


def noop(x):
    return x


def sleep(x):
    import time
    time.sleep(0.01)
    return x


def cpu(x):
    total = 0
    for i in range(100_000):  # about 10 ms of pure Python on this machine's cores
        total = (total + i * x) % 1_000_003
    return total


def main():
    fn = {"noop": noop, "sleep": sleep, "cpu": cpu}[sys.argv[1]]
    inputs = range(int(sys.argv[2]))
    json.dump({
        "function": encode(fn),  # by value: defined in __main__, which workers cannot import
        "args": [encode(((x,), {})) for x in inputs],
        "expected": [encode(x if fn is sleep else fn(x)) for x in inputs],
    }, sys.stdout)


if __name__ == "__main__":
    main()

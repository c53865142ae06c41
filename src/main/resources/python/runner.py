"""MPCSFaaS interpreter runner: executes tasks sent by its Java worker, one at a time, for its whole life.

Protocol: frames of a 4-byte big-endian length followed by UTF-8 JSON, on the process's original stdin
(requests) and stdout (replies). At start both are moved to private descriptors and fd 0/1 are pointed at
/dev/null and stderr, so nothing user code prints or reads can corrupt the framing.
  request: {"task": id, "fid": function id, "fn": base64(dill(fn)), "args": base64(dill((args, kwargs)))}
  reply:   {"task": id, "ok": bool, "result": base64(dill(value or exception)), "error": traceback or null}
"""
import base64
import codecs
import collections
import json
import os
import signal
import struct
import sys
import traceback

import dill

FUNCTION_CACHE_SIZE = 256


def encode(obj):
    return codecs.encode(dill.dumps(obj), "base64").decode()


def decode(text):
    return dill.loads(base64.b64decode(text))


def protocol_streams():
    requests = os.fdopen(os.dup(0), "rb", buffering=1 << 16)
    replies = os.fdopen(os.dup(1), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    return requests, replies


def die_with_parent():
    """Ask Linux to kill this process when the JVM that started it dies, even if user code never returns."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def limit_memory():
    megabytes = int(os.environ.pop("FAAS_MEMORY_LIMIT_MB", "0") or 0)
    if megabytes > 0:
        import resource
        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


class Runner:
    def __init__(self):
        self.functions = collections.OrderedDict()

    def function(self, fid, payload):
        fn = self.functions.get(fid)
        if fn is None:
            fn = decode(payload)
            self.functions[fid] = fn
            if len(self.functions) > FUNCTION_CACHE_SIZE:
                self.functions.popitem(last=False)
        else:
            self.functions.move_to_end(fid)
        return fn

    def run(self, request):
        try:
            fn = self.function(request["fid"], request["fn"])
            args, kwargs = decode(request["args"])
            value = fn(*args, **kwargs)
        except BaseException as exc:  # SystemExit and KeyboardInterrupt from user code fail only the task
            return self.failure(exc, traceback.format_exc())
        try:
            return {"ok": True, "result": encode(value), "error": None}
        except BaseException as exc:
            message = "the function returned a value dill cannot pickle: %s: %s" % (type(exc).__name__, exc)
            return self.failure(TypeError(message), message)

    @staticmethod
    def failure(exc, text):
        try:
            result = encode(exc)
        except BaseException:
            result = encode(RuntimeError("%s: %s (the exception itself could not be pickled)"
                                         % (type(exc).__name__, exc)))
        return {"ok": False, "result": result, "error": text}


def read_frame(stream):
    header = stream.read(4)
    if len(header) < 4:
        return None
    (length,) = struct.unpack(">I", header)
    body = stream.read(length)
    if len(body) < length:
        return None
    return json.loads(body)


def write_frame(stream, message):
    body = json.dumps(message).encode()
    stream.write(struct.pack(">I", len(body)) + body)


def main():
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C on the platform stops it through the JVM
    die_with_parent()
    limit_memory()
    requests, replies = protocol_streams()
    runner = Runner()
    while True:
        request = read_frame(requests)
        if request is None:
            return
        reply = runner.run(request)
        reply["task"] = request["task"]
        sys.stdout.flush()
        sys.stderr.flush()
        write_frame(replies, reply)


if __name__ == "__main__":
    main()

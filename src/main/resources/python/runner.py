"""MPCSFaaS interpreter runner: executes tasks sent by its Java worker, one at a time, for its whole life.

Protocol: frames on the process's original stdin (requests) and stdout (replies): a 4-byte big-endian length
of the rest, a 4-byte length of a UTF-8 JSON header, the header, then the raw pickles the header counts, in
order (raw rather than base64 inside the JSON: a pickle of many MiB is neither encoded nor parsed as a string
here). At start both streams are moved to private descriptors and fd 0/1 are pointed at /dev/null and stderr,
so nothing user code prints or reads can corrupt the framing.
  request: {"task": id, "fid": function id, "fn": bytes of dill(fn), "args": bytes of dill((args, kwargs)),
           "forget": [function ids]}, then those pickles. The JVM decides which functions this runner holds:
           it sends "fn" only for a function it has not sent here yet (or told this runner to forget), and
           lists in "forget" (optional) those to let go, as its own bounded record of what it sent lets them
           go; a function is held from the first frame that carries it until a frame says to forget it.
  reply:   {"task": id, "ok": bool, "result": bytes of dill(value or exception), "error": traceback or null},
           then that pickle
           plus, only when the task printed anything, "stdout", "stderr" (the last FAAS_MAX_OUTPUT_KB KiB of
           each, counted in characters) and "output_truncated" (whether earlier output was dropped)
  live:    {"output": id, "stdout": ..., "stderr": ..., "output_truncated": bool}, while a task that printed
           runs, at most every LIVE_INTERVAL seconds and only when its output changed; never after its reply
Output is what Python code writes to sys.stdout and sys.stderr (print, logging, sys.stdout.write); what C code
or a subprocess writes straight to fd 1 or 2 is discarded.
"""
import io
import json
import os
import signal
import struct
import sys
import threading
import time
import traceback

import dill

LIVE_INTERVAL = 0.5
# A reply whose result is at most this long goes out with its header in one write: one system call here and
# one wake-up of the JVM's reader thread, not two, for the small results most tasks return.
ONE_WRITE = 1 << 16


def encode(obj):
    return dill.dumps(obj)


def decode(data):
    return dill.loads(data)


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


def extend_path():
    """Put the platform's --python-path first on sys.path, where functions pickled by reference find their modules.
    The runner's own folder (a temporary one, which Python put first) leaves it: a stray file there must not
    shadow a module a function imports."""
    if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
        del sys.path[0]
    folders = os.environ.pop("FAAS_PYTHON_PATH", "")
    sys.path[:0] = [folder for folder in folders.split(os.pathsep) if folder]


def limit_memory():
    megabytes = int(os.environ.pop("FAAS_MEMORY_LIMIT_MB", "0") or 0)
    if megabytes > 0:
        import resource
        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


class CapturedStream(io.TextIOBase):
    """A task's sys.stdout or sys.stderr: keeps the last `limit` characters written and whether any were dropped.

    Thread-safe: user code may print from threads of its own while the reporter reads the tail.
    """

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, fd, limit, on_first_write):
        super().__init__()
        self._fd = fd
        self._limit = limit
        self._on_first_write = on_first_write
        self._lock = threading.Lock()
        self._chunks = []
        self._size = 0
        self.dropped = False
        self.writes = 0
        self.buffer = _BytesInto(self)

    def reset(self):
        with self._lock:
            self._chunks = []
            self._size = 0
            self.dropped = False
            self.writes = 0

    def writable(self):
        return True

    def fileno(self):
        return self._fd  # points where the process's stderr goes: nowhere

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        if not text:
            return 0
        with self._lock:
            if self.writes == 0:
                self._on_first_write()
            self.writes += 1
            self._chunks.append(text)
            self._size += len(text)
            if self._size > 2 * self._limit:  # joins now and then: linear in what is printed
                self._keep_tail()
        return len(text)

    def tail(self):
        """The kept text and whether earlier text was dropped."""
        with self._lock:
            self._keep_tail()
            return "".join(self._chunks), self.dropped

    def _keep_tail(self):
        text = "".join(self._chunks)
        if len(text) > self._limit:
            text = text[len(text) - self._limit:]
            self.dropped = True
        self._chunks = [text] if text else []
        self._size = len(text)


class _BytesInto(io.RawIOBase):
    """sys.stdout.buffer of a captured stream: bytes written to it are decoded into the stream."""

    def __init__(self, stream):
        super().__init__()
        self._stream = stream

    def writable(self):
        return True

    def write(self, data):
        self._stream.write(bytes(data).decode("utf-8", "replace"))
        return len(data)


class Output:
    """Captures each task's sys.stdout and sys.stderr, reports them while it runs, and adds them to its reply.

    One lock orders every frame written to the reply stream (live output from the reporter thread, replies
    from the main thread), so a task's live output never follows its reply. The reporter sleeps until a task
    first prints: a task that prints nothing costs it nothing.
    """

    def __init__(self, replies, limit):
        self.replies = replies
        self.lock = threading.Lock()
        self.task = None
        self.wake = threading.Event()
        self.stdout = CapturedStream(1, limit, self.wake.set)
        self.stderr = CapturedStream(2, limit, self.wake.set)
        threading.Thread(target=self.report, name="faas-live-output", daemon=True).start()

    def begin(self, task_id):
        with self.lock:
            self.task = task_id
            for stream in (self.stdout, self.stderr):
                if stream.writes:
                    stream.reset()
        sys.stdout, sys.stderr = self.stdout, self.stderr  # again each time: user code may have replaced them

    def reply(self, reply):
        """Writes a task's reply, with its output if it printed any; no live frame of that task follows it."""
        with self.lock:
            self.task = None
            if self.stdout.writes or self.stderr.writes:
                reply.update(self.fields())
            write_frame(self.replies, reply)

    def fields(self):
        stdout, stdout_dropped = self.stdout.tail()
        stderr, stderr_dropped = self.stderr.tail()
        return {"stdout": stdout, "stderr": stderr, "output_truncated": stdout_dropped or stderr_dropped}

    def report(self):
        try:
            while True:
                self.wake.wait()
                self.wake.clear()
                self.report_while_printing()
        except OSError:
            pass  # the JVM went away; the main thread ends too

    def report_while_printing(self):
        sent = None
        while True:
            time.sleep(LIVE_INTERVAL)
            with self.lock:
                state = (self.task, self.stdout.writes, self.stderr.writes)
                if state[0] is None or state[1] + state[2] == 0:
                    return  # no task, or a silent one: its first print wakes this thread again
                if state != sent:
                    sent = state
                    frame = {"output": self.task}
                    frame.update(self.fields())
                    write_frame(self.replies, frame)


def max_output_chars():
    return int(os.environ.pop("FAAS_MAX_OUTPUT_KB", "64") or 0) * 1024


class Undecodable(bytes):
    """A sent payload that did not decode: held as sent, so that each call of its function fails as the first."""


class Runner:
    def __init__(self):
        self.functions = {}  # function id -> the function, or its Undecodable payload

    def forget(self, fids):
        for fid in fids:
            self.functions.pop(fid, None)

    def function(self, fid, payload):
        """The function `fid`, decoded from `payload` if this frame carries it and it is not held already."""
        held = self.functions.get(fid)
        if held is not None and not isinstance(held, Undecodable):
            return held
        if payload is None:
            if held is None:
                raise RuntimeError("the platform did not send function %s to this interpreter" % fid)
            payload = held
        try:
            fn = decode(payload)
        except BaseException:
            self.functions[fid] = Undecodable(payload)
            raise
        self.functions[fid] = fn
        return fn

    def run(self, request):
        self.forget(request.get("forget", ()))
        try:
            fn = self.function(request["fid"], request.blobs[0])
            args, kwargs = decode(request.blobs[1])
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


class Request(dict):
    """A request's JSON header, with its pickles (memoryviews of the frame, in the header's order; None for one
    the header does not count) as blobs."""
    blobs = ()


def read_frame(stream):
    prefix = stream.read(4)
    if len(prefix) < 4:
        return None
    (length,) = struct.unpack(">I", prefix)
    body = stream.read(length)
    if len(body) < length:
        return None
    (header_length,) = struct.unpack(">I", body[:4])
    request = Request(json.loads(body[4:4 + header_length]))
    view, start, blobs = memoryview(body), 4 + header_length, []
    for name in ("fn", "args"):
        if name not in request:
            blobs.append(None)  # the function, when the JVM sent it before
            continue
        blobs.append(view[start:start + request[name]])
        start += request[name]
    request.blobs = blobs
    return request


def write_frame(stream, message):
    """Writes a reply: its "result" pickle (bytes) goes after the header, the header holds its length."""
    result = message.get("result", b"")
    if "result" in message:
        message["result"] = len(result)
    header = json.dumps(message).encode()
    frame = struct.pack(">II", 4 + len(header) + len(result), len(header)) + header
    if len(result) <= ONE_WRITE:
        write_all(stream, frame + result)
    else:
        write_all(stream, frame)
        write_all(stream, result)


def write_all(stream, data):
    """The stream is unbuffered: one write may take only part of a big pickle (a signal, a full pipe)."""
    view = memoryview(data)
    while view:
        view = view[stream.write(view):]


def main():
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C on the platform stops it through the JVM
    die_with_parent()
    extend_path()
    limit_memory()
    requests, replies = protocol_streams()
    output = Output(replies, max_output_chars())
    runner = Runner()
    while True:
        request = read_frame(requests)
        if request is None:
            return
        output.begin(request["task"])
        reply = runner.run(request)
        reply["task"] = request["task"]
        output.reply(reply)


if __name__ == "__main__":
    main()

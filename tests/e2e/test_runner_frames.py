"""The interpreter runner's reply frames, checked on the runner module itself (no platform started).

A reply is ``>I`` frame length, ``>I`` header length, the JSON header, then the result's pickle, as
``Interpreter.readReplies`` reads it. A small result goes out with its header in one write, so that the JVM's
reader thread wakes once per reply, not twice; a big one follows its header in writes of its own, never
copied into one buffer with it.
"""

import importlib.util
import json
import struct

import dill

from conftest import REPO_ROOT

RUNNER = REPO_ROOT / "src" / "main" / "resources" / "python" / "runner.py"


def load_runner():
    spec = importlib.util.spec_from_file_location("faas_runner", RUNNER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Recorder:
    """An unbuffered stream that keeps each write apart."""

    def __init__(self):
        self.writes = []

    def write(self, data):
        self.writes.append(bytes(data))
        return len(data)


def parse(frame):
    length, header_length = struct.unpack(">II", frame[:8])
    assert length == len(frame) - 4
    header = json.loads(frame[8:8 + header_length])
    return header, frame[8 + header_length:]


def test_a_small_reply_is_one_write_with_its_header():
    runner = load_runner()
    stream = Recorder()
    result = dill.dumps(None)
    runner.write_frame(stream, {"task": "t1", "ok": True, "result": result, "error": None})
    assert len(stream.writes) == 1
    header, body = parse(stream.writes[0])
    assert header == {"task": "t1", "ok": True, "result": len(result), "error": None}
    assert dill.loads(body) is None


def test_a_result_over_the_threshold_follows_its_header_in_writes_of_its_own():
    runner = load_runner()
    stream = Recorder()
    result = dill.dumps(b"x" * (runner.ONE_WRITE + 1))
    runner.write_frame(stream, {"task": "t2", "ok": True, "result": result, "error": None})
    assert len(stream.writes) == 2
    assert stream.writes[1] == result
    header, body = parse(b"".join(stream.writes))
    assert header["result"] == len(result)
    assert body == result


def test_a_frame_without_a_result_is_one_write():
    runner = load_runner()
    stream = Recorder()
    runner.write_frame(stream, {"output": "t3", "stdout": "hi\n", "stderr": "", "output_truncated": False})
    assert len(stream.writes) == 1
    header, body = parse(stream.writes[0])
    assert header["stdout"] == "hi\n" and body == b""

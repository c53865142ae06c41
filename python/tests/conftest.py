"""Shared fixtures of the SDK's unit tests.

The tests import ``mpcsfaas`` from this source tree (python/), not from an installed copy, and need no
MPCSFaaS server: :class:`FakePlatform` is a small real HTTP server on a free loopback port that speaks
just enough of the REST contract (register, delete, execute, batch, status, result, results, functions,
cancel, output and its ``?follow=true`` stream) and runs the tasks itself, in this process, as the
platform's worker does (``runner.py``): the function and the ``(args, kwargs)`` are decoded from their
payloads (a submit may also send the pickle itself, with its fields in the query, and a completed task's
value is sent as its pickle to a request that accepts ``application/octet-stream``, as the API does), the
return value (or the exception, with the traceback text as ``error``) is encoded back, and a failed run
is run again while the task has retries (``max_retries``; ``retry_delay`` is not waited). What a task
prints is given by the tests (:meth:`FakePlatform.print`), not captured.
"""

import codecs
import json
import os
import socket
import sys
import threading
import time
import traceback
import re
import uuid
from concurrent.futures import CancelledError
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import dill
import pytest

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # .../python
if sys.path[0] != PYTHON_DIR:
    sys.path.insert(0, PYTHON_DIR)

MAX_WAIT = 60  # seconds, as the real server
TERMINAL = ("COMPLETED", "FAILED")
PICKLE = "application/octet-stream"
JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def encode(obj):
    """The platform's payload encoding, written out here independently of the SDK."""
    return codecs.encode(dill.dumps(obj), "base64").decode()


def decode(text):
    return dill.loads(codecs.decode(text.encode(), "base64"))


class Recorded:
    """One request the platform received."""

    def __init__(self, method, path, query, body, headers, pickled=False):
        self.method = method
        self.path = path  # without the query
        self.query = query  # {name: value} (last value of each); for a pickle body, what is not a field
        self.body = body  # decoded JSON, or None; for a pickle body, its fields and the pickle as a payload
        self.headers = headers  # {lower-case name: value}
        self.pickled = pickled  # the body was the pickle itself

    def __repr__(self):
        return "Recorded(%s %s %r %r)" % (self.method, self.path, self.query, self.body)


class FakePlatform:
    """A tiny MPCSFaaS API on ``url``.

    ``auto_run``: run each task as soon as it is created (else it stays QUEUED until :meth:`complete`).
    ``honour_wait``: hold ``?wait=`` / ``"wait"`` requests until the task(s) end or the wait passes (else
    answer at once, as a server that does not long-poll). ``max_hold``: the longest a request is held,
    in seconds (a hold that ends before the task does, as the real server's at 60 s).
    """

    def __init__(self):
        self.cond = threading.Condition()
        self.functions = {}  # id -> {"function_id", "name", "payload"}
        self.function_by_content = {}  # (name, payload) -> id, as the server's idempotent registration
        self.tasks = {}  # id -> task dict, in creation order
        self.requests = []  # Recorded, in arrival order
        self.canned = []  # [method, path prefix, status, body, times left, matching requests to let by first]
        self.auto_run = True
        self.honour_wait = True
        self.pickle_bodies = True  # else a pickle body gets 415, as from a platform that predates them
        self.max_hold = MAX_WAIT
        self.closing = False
        self._decoded = {}  # function id -> callable
        self._timers = []
        platform = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                # headers and body go out in two writes: without this, each reply waits for a delayed ACK
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                platform._handle(self, "GET")

            def do_POST(self):
                platform._handle(self, "POST")

            def do_DELETE(self):
                platform._handle(self, "DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01},
                                        daemon=True)
        self._thread.start()

    def close(self):
        with self.cond:
            self.closing = True
            self.cond.notify_all()
        for timer in self._timers:
            timer.cancel()
        self.server.shutdown()
        self.server.server_close()

    # -- what tests use ------------------------------------------------------------------------------

    def reply_next(self, method, path, status, body, times=1, after=0, headers=None):
        """The next ``times`` requests ``method`` to a path starting with ``path`` (after ``after`` such
        requests served as usual) get ``status`` and ``body`` (a dict or list: JSON; a str: sent as
        text/plain; None: empty), with ``headers`` besides."""
        with self.cond:
            self.canned.append([method, path, status, body, times, after, headers or {}])

    def received(self, method=None, path=None):
        """The recorded requests, optionally only of ``method`` and a path starting with ``path``."""
        with self.cond:
            return [r for r in self.requests
                    if (method is None or r.method == method) and (path is None or r.path.startswith(path))]

    def task_ids(self):
        with self.cond:
            return list(self.tasks)

    def wait_for_tasks(self, count, timeout=5):
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.tasks) >= count, timeout):
                raise AssertionError("the platform has %d tasks, not %d" % (len(self.tasks), count))
            return list(self.tasks)

    def complete(self, task_id):
        """Runs the task now (in the calling thread), again while it fails and has retries, and records its
        outcome, unless it ended meanwhile (cancelled)."""
        while True:
            with self.cond:
                task = self.tasks[task_id]
                if task["status"] in TERMINAL:
                    return
                function_id = task["function_id"]
                task["status"] = "RUNNING"
                task["attempts"] += 1
            try:
                fn = self._decoded.get(function_id)
                if fn is None:
                    fn = self._decoded[function_id] = decode(self.functions[function_id]["payload"])
                args, kwargs = decode(task["payload"])
                value = fn(*args, **kwargs)
                status, result, error = "COMPLETED", encode(value), None
            except BaseException as exc:  # noqa: BLE001 - as the worker: the task fails
                status, result, error = "FAILED", encode(exc), traceback.format_exc()
            with self.cond:
                if task["status"] in TERMINAL:
                    return
                if status == "FAILED" and task["attempts"] <= (task["max_retries"] or 0):
                    task["error"] = error
                    continue
                task.update(status=status, result=result, error=error, finished_at=time.time())
                self.cond.notify_all()
                return

    def print(self, task_id, stdout="", stderr="", truncated=False):
        """The task prints ``stdout`` and ``stderr`` (appended to what it printed before); ``truncated``:
        earlier output was dropped."""
        with self.cond:
            task = self.tasks[task_id]
            task["stdout"] += stdout
            task["stderr"] += stderr
            task["output_truncated"] = task["output_truncated"] or truncated
            self.cond.notify_all()

    def delete_function(self, function_id):
        """As ``DELETE /functions/{id}``: new tasks of it are refused (404), registering it again gives a
        new id."""
        with self.cond:
            function = self.functions.pop(function_id)
            del self.function_by_content[(function["name"], function["payload"])]

    def complete_later(self, task_id, delay):
        timer = threading.Timer(delay, self.complete, (task_id,))
        timer.daemon = True
        self._timers.append(timer)
        timer.start()

    def forget(self, task_id):
        """The platform no longer knows the task (as after its expiry)."""
        with self.cond:
            del self.tasks[task_id]
            self.cond.notify_all()

    # -- the HTTP side -------------------------------------------------------------------------------

    def _handle(self, handler, method):
        split = urlsplit(handler.path)
        path = split.path
        query = {name: values[-1] for name, values in parse_qs(split.query, keep_blank_values=True).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in handler.headers.items()}
        pickled = headers.get("content-type", "").startswith(PICKLE)
        if pickled:  # the fields a JSON body would carry, as the API reads them from the query
            fields = {name: _query_value(value) for name, value in query.items() if name != "wait"}
            query = {name: value for name, value in query.items() if name == "wait"}
            body = dict(fields, payload=codecs.encode(raw, "base64").decode()) if raw else fields
        else:
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
        record = Recorded(method, path, query, body, headers, pickled)
        with self.cond:
            self.requests.append(record)
            canned = next((c for c in self.canned if c[0] == method and path.startswith(c[1]) and c[4] > 0), None)
            if canned is not None and canned[5] > 0:
                canned[5] -= 1
                canned = None
            elif canned is not None:
                canned[4] -= 1
        headers = {}
        if canned is not None:
            status, reply, headers = canned[2], canned[3], canned[6]
        else:
            try:
                if pickled and not (self.pickle_bodies and method == "POST" and path == "/execute_function"):
                    raise _Reject(415, "the body must be JSON (content-type application/json), not " + PICKLE)
                status, reply = self._route(method, path, query, body)
            except _Reject as rejection:
                status, reply = rejection.status, {"error": rejection.error}
            if isinstance(reply, dict) and reply.get("status") == "COMPLETED" and "result" in reply \
                    and PICKLE in headers.get("accept", ""):
                reply = Pickled(reply["task_id"], codecs.decode(reply["result"].encode(), "base64"))
        self._send(handler, status, reply, headers)

    @staticmethod
    def _send(handler, status, reply, headers=None):
        if isinstance(reply, Stream):
            handler.send_response(status)
            handler.send_header("Content-Type", "text/plain; charset=utf-8")
            handler.send_header("Transfer-Encoding", "chunked")
            handler.end_headers()
            for text in reply.chunks:
                data = text.encode()
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                handler.wfile.flush()
            handler.wfile.write(b"0\r\n\r\n")
            return
        if isinstance(reply, Pickled):
            data, kind = reply.data, PICKLE
            headers = dict(headers or {}, **{"X-Task-Id": reply.task_id, "X-Task-Status": "COMPLETED"})
        elif reply is None:
            data, kind = b"", None
        elif isinstance(reply, str):
            data, kind = reply.encode(), "text/plain"
        else:
            data, kind = json.dumps(reply).encode(), "application/json"
        handler.send_response(status)
        if kind:
            handler.send_header("Content-Type", kind)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _route(self, method, path, query, body):
        if method == "POST" and path == "/register_function":
            name, payload = _field(body, "name", str), _field(body, "payload", str)
            with self.cond:
                function_id = self.function_by_content.get((name, payload))
                if function_id is None:
                    function_id = self.function_by_content[(name, payload)] = str(uuid.uuid4())
                    self.functions[function_id] = {"function_id": function_id, "name": name, "payload": payload}
            return 201, {"function_id": function_id}
        if method == "DELETE" and path.startswith("/functions/"):
            function_id = path[len("/functions/"):]
            self._known_function(function_id)
            self.delete_function(function_id)
            return 204, None
        if method == "POST" and path == "/execute_function":
            function_id = _field(body, "function_id", str)
            payload = _field(body, "payload", str)
            wait = self._query_wait(query)
            task_id = self._create(function_id, payload, _options(body))
            if wait is None:
                return 201, {"task_id": task_id}
            self._hold([task_id], wait, any_ended=True)
            with self.cond:
                return 201, self._result_json(self.tasks[task_id])
        if method == "POST" and path == "/execute_function/batch":
            function_id = _field(body, "function_id", str)
            payloads = _field(body, "payloads", list)
            if not all(isinstance(p, str) for p in payloads):
                raise _Reject(400, "payloads must be strings")
            self._known_function(function_id)
            options = _options(body)
            return 201, {"task_ids": [self._create(function_id, p, options) for p in payloads]}
        if method == "GET" and path.startswith("/status/"):
            task_id = path[len("/status/"):]
            with self.cond:
                task = self._task(task_id)
                return 200, {"task_id": task_id, "status": task["status"]}
        if method == "GET" and path.startswith("/result/"):
            task_id = path[len("/result/"):]
            wait = self._query_wait(query)
            with self.cond:
                self._task(task_id)
            if wait is not None:
                self._hold([task_id], wait, any_ended=True)
            with self.cond:
                return 200, self._result_json(self._task(task_id))
        if method == "POST" and path == "/results":
            task_ids = _field(body, "task_ids", list)
            wait = body.get("wait", 0)
            if not isinstance(wait, (int, float)) or not 0 <= wait <= MAX_WAIT:
                raise _Reject(400, "'wait' must be a number of seconds from 0 to %d" % MAX_WAIT)
            return_when = body.get("return_when", "ALL_COMPLETED")
            if return_when not in ("ALL_COMPLETED", "FIRST_COMPLETED"):
                raise _Reject(400, "'return_when' must be ALL_COMPLETED or FIRST_COMPLETED")
            if wait:
                self._hold(task_ids, wait, any_ended=return_when == "FIRST_COMPLETED")
            with self.cond:
                results = [self._result_json(self.tasks[t]) if t in self.tasks
                           else {"task_id": t, "error": "task not found"} for t in task_ids]
            limit = body.get("max_result_bytes")
            for entry in results:
                if limit is not None and len(entry.get("result") or "") > limit:
                    entry.update(result=None, result_omitted=True)
            return 200, {"results": results}
        if method == "POST" and path.startswith("/cancel/"):
            task_id = path[len("/cancel/"):]
            answer = self._cancel(task_id)
            if answer == "MISSING":
                raise _Reject(404, "task %s not found" % task_id)
            if answer == "ENDED":
                raise _Reject(409, "task %s has already ended" % task_id)
            return 200, {"task_id": task_id, "status": "FAILED", "cancelled": True}
        if method == "POST" and path == "/cancel":
            task_ids = _field(body, "task_ids", list)
            answers = [(task_id, self._cancel(task_id)) for task_id in task_ids]
            return 200, {"results": [{"task_id": t, "status": "FAILED", "cancelled": True} if a == "CANCELLED"
                                     else {"task_id": t, "error": "task not found" if a == "MISSING"
                                           else "task %s has already ended" % t} for t, a in answers]}
        if method == "GET" and path.startswith("/output/"):
            task_id = path[len("/output/"):]
            with self.cond:
                task = self._task(task_id)
                if query.get("follow") == "true":
                    return 200, Stream(self._follow(task))
                return 200, {"task_id": task_id, "status": task["status"], "stdout": task["stdout"],
                             "stderr": task["stderr"], "output_truncated": task["output_truncated"]}
        if method == "GET" and path == "/functions":
            offset, limit = int(query.get("offset", 0)), int(query.get("limit", 100))
            with self.cond:
                listed = [{"function_id": f["function_id"], "name": f["name"]} for f in self.functions.values()]
            return 200, {"functions": listed[offset:offset + limit]}
        raise _Reject(404, "no route %s %s" % (method, path))

    def _known_function(self, function_id):
        with self.cond:
            if function_id not in self.functions:
                raise _Reject(404, "function %s not found" % function_id)

    def _create(self, function_id, payload, options):
        self._known_function(function_id)
        task_id = str(uuid.uuid4())
        with self.cond:
            self.tasks[task_id] = dict(options, task_id=task_id, function_id=function_id, payload=payload,
                                       status="QUEUED", result=None, error=None, attempts=0, cancelled=False,
                                       stdout="", stderr="", output_truncated=False, created_at=time.time(), finished_at=None)
            auto = self.auto_run
            self.cond.notify_all()
        if auto:
            self.complete(task_id)
        return task_id

    def _cancel(self, task_id):
        """Cancels the task as cancel_tasks.lua does; "CANCELLED", "ENDED" or "MISSING"."""
        with self.cond:
            task = self.tasks.get(task_id)
            if task is None:
                return "MISSING"
            if task["status"] in TERMINAL:
                return "ENDED"
            task.update(status="FAILED", cancelled=True, result=encode(CancelledError()),
                        error="CancelledError: cancelled by request", finished_at=time.time())
            self.cond.notify_all()
            return "CANCELLED"

    def _follow(self, task):
        """What the task prints from now on, as it comes, until it ends (the ?follow=true stream)."""
        sent_out = sent_err = 0
        while True:
            with self.cond:
                self.cond.wait_for(lambda: self.closing or task["status"] in TERMINAL
                                   or len(task["stdout"]) > sent_out or len(task["stderr"]) > sent_err, MAX_WAIT)
                text = task["stdout"][sent_out:] + task["stderr"][sent_err:]
                sent_out, sent_err = len(task["stdout"]), len(task["stderr"])
                ended = self.closing or task["status"] in TERMINAL
            if text:
                yield text
            if ended:
                return

    def _task(self, task_id):
        # under self.cond
        task = self.tasks.get(task_id)
        if task is None:
            raise _Reject(404, "task %s not found" % task_id)
        return task

    def _query_wait(self, query):
        if "wait" not in query:
            return None
        try:
            wait = float(query["wait"])
        except ValueError:
            wait = -1
        if not 0 <= wait <= MAX_WAIT:
            raise _Reject(400, "'wait' must be a number of seconds from 0 to %d" % MAX_WAIT)
        return wait

    def _hold(self, task_ids, wait, any_ended):
        if not self.honour_wait:
            return

        def ended():
            states = [self.tasks[t]["status"] in TERMINAL if t in self.tasks else True
                      for t in task_ids]
            return self.closing or (any(states) if any_ended else all(states))

        with self.cond:
            self.cond.wait_for(ended, min(wait, self.max_hold))

    @staticmethod
    def _result_json(task):
        terminal = task["status"] in TERMINAL
        return {"task_id": task["task_id"], "status": task["status"],
                "result": task["result"] if terminal else None, "error": task["error"],
                "worker": "fake-worker" if terminal else None, "attempts": task["attempts"],
                "cancelled": task["cancelled"], "stdout": task["stdout"], "stderr": task["stderr"],
                "output_truncated": task["output_truncated"],
                "created_at": task["created_at"], "started_at": None, "finished_at": task["finished_at"]}


class Stream:
    """A reply sent as chunked text/plain, one chunk per string of ``chunks`` as it comes."""

    def __init__(self, chunks):
        self.chunks = chunks


class Pickled:
    """A completed task's value sent as its pickle's bytes."""

    def __init__(self, task_id, data):
        self.task_id = task_id
        self.data = data


class _Reject(Exception):
    def __init__(self, status, error):
        super().__init__(error)
        self.status = status
        self.error = error


def _options(body):
    """The task options of an execute request, checked as the server does."""
    timeout, max_retries, retry_delay = body.get("timeout"), body.get("max_retries"), body.get("retry_delay")
    number = (int, float)
    if timeout is not None and (not isinstance(timeout, number) or isinstance(timeout, bool) or timeout <= 0):
        raise _Reject(400, "'timeout' must be a number of seconds above 0")
    if max_retries is not None and (type(max_retries) is not int or not 0 <= max_retries <= 10):
        raise _Reject(400, "'max_retries' must be an integer from 0 to 10")
    if retry_delay is not None and (not isinstance(retry_delay, number) or isinstance(retry_delay, bool)
                                    or retry_delay < 0):
        raise _Reject(400, "'retry_delay' must be a number of seconds of at least 0")
    return {"timeout": timeout, "max_retries": max_retries, "retry_delay": retry_delay}


def _query_value(text):
    """A query parameter as the API takes it for a field: a number when it is written as one."""
    if not JSON_NUMBER.fullmatch(text):
        return text
    return float(text) if any(c in text for c in ".eE") else int(text)


def _field(body, name, kind):
    if not isinstance(body, dict) or not isinstance(body.get(name), kind):
        raise _Reject(400, "field '%s' is required" % name)
    return body[name]


@pytest.fixture
def platform():
    fake = FakePlatform()
    try:
        yield fake
    finally:
        fake.close()


@pytest.fixture
def closed_url():
    """The URL of a loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return "http://127.0.0.1:%d" % port

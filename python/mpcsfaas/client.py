"""A thin synchronous client of the MPCSFaaS REST API."""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import requests

from .errors import MPCSFaaSError, RemoteError, attach_remote_traceback
from .serialization import deserialize, serialize_by_value

__all__ = ["Client", "MAX_BATCH", "MAX_WAIT", "TERMINAL_STATUSES"]

MAX_BATCH = 10_000  # most task ids / payloads the server takes in one request
MAX_WAIT = 60  # longest ``wait`` the server holds a request for, in seconds
MAX_BATCH_BYTES = 8 << 20  # a batch request stays well below the server's 16 MiB default body limit
TERMINAL_STATUSES = ("COMPLETED", "FAILED")

JSONObject = Dict[str, Any]  # a decoded JSON object of the API


def _function_name(fn: Any) -> str:
    return getattr(fn, "__name__", None) or type(fn).__name__


def outcome(body: Mapping[str, Any]) -> Tuple[bool, Any]:
    """``(ok, value)`` of an ended task's ``/result`` body: ``(True, return value)`` or ``(False, exception
    with the remote traceback as its cause)``. Raises :class:`MPCSFaaSError` for a task the server does
    not know and when the result cannot be unpickled here."""
    task_id = body.get("task_id")
    if "status" not in body:
        raise MPCSFaaSError("task %s: %s" % (task_id, body.get("error", "no status")), 404,
                            body.get("error"), "POST", "/results")
    status = body["status"]
    text = body.get("result")
    if status == "COMPLETED":
        try:
            return True, deserialize(text)
        except Exception as exc:
            raise MPCSFaaSError("task %s completed but its result cannot be unpickled here: %s: %s"
                                % (task_id, type(exc).__name__, exc)) from exc
    if status == "FAILED":
        remote = body.get("error") or ""
        try:
            exc = deserialize(text) if text else None
        except Exception as problem:
            exc = RemoteError("task %s failed and its exception cannot be unpickled here (%s: %s)"
                              % (task_id, type(problem).__name__, problem))
        if not isinstance(exc, BaseException):
            exc = RemoteError("task %s failed: %r" % (task_id, exc) if exc is not None
                              else "task %s failed" % task_id)
        return False, attach_remote_traceback(exc, remote)
    raise ValueError("task %s has not ended (status %s)" % (task_id, status))


class Client:
    """A client of one MPCSFaaS platform.

    ``url`` is the API's base URL (``http://127.0.0.1:8000``), ``api_key`` the key of a server started with
    ``--api-key`` (sent as ``Authorization: Bearer``), ``timeout`` the HTTP timeout of each request in
    seconds (long polls get their wait on top). A Client holds a ``requests.Session``: use one Client per
    thread.
    """

    def __init__(self, url: str, api_key: Optional[str] = None, timeout: Optional[float] = 30) -> None:
        self.url: str = url.rstrip("/")
        self.timeout: Optional[float] = timeout
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        if api_key:
            self.session.headers["Authorization"] = "Bearer %s" % api_key

    # -- plumbing -----------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, json: Any = None, params: Optional[Mapping[str, Any]] = None,
                wait: float = 0) -> JSONObject:
        """Sends one request; returns the decoded JSON body, or raises :class:`MPCSFaaSError`."""
        try:
            response = self.session.request(method, self.url + path, json=json, params=params,
                                            timeout=None if self.timeout is None else self.timeout + wait)
        except requests.RequestException as exc:
            raise MPCSFaaSError("%s %s failed: %s" % (method, path, exc), None, str(exc), method, path) from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400:
            error = body.get("error") if isinstance(body, dict) else None
            if error is None:
                error = response.text.strip()[:500] or response.reason
            raise MPCSFaaSError("%s %s -> HTTP %d: %s" % (method, path, response.status_code, error),
                                response.status_code, error, method, path)
        if not isinstance(body, dict):
            raise MPCSFaaSError("%s %s -> HTTP %d with a body that is not a JSON object: %r"
                                % (method, path, response.status_code, response.text[:200]),
                                response.status_code, None, method, path)
        return body

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # -- functions and tasks ------------------------------------------------------------------------

    def register(self, fn: Callable[..., Any], name: Optional[str] = None) -> str:
        """Registers ``fn`` (pickled by value when it comes from the caller's own modules); returns its
        function id."""
        return self.register_payload(serialize_by_value(fn), name or _function_name(fn))

    def register_payload(self, payload: str, name: str) -> str:
        """Registers an already serialized function; returns its function id."""
        return self.request("POST", "/register_function", json={"name": name, "payload": payload})["function_id"]

    def submit(self, function_id: str, /, *args: Any, **kwargs: Any) -> str:
        """Runs function ``function_id`` with ``args`` and ``kwargs``; returns the task id."""
        return self.submit_payload(function_id, serialize_by_value((args, kwargs)))

    def submit_payload(self, function_id: str, payload: str, task_timeout: Optional[float] = None) -> str:
        """Runs a function on an already serialized ``(args, kwargs)``; ``task_timeout`` (seconds) bounds
        its run time on the worker. Returns the task id."""
        body: JSONObject = {"function_id": function_id, "payload": payload}
        if task_timeout is not None:
            body["timeout"] = task_timeout
        return self.request("POST", "/execute_function", json=body)["task_id"]

    def submit_many(self, function_id: str, calls: Iterable[Tuple[Sequence[Any], Optional[Mapping[str, Any]]]],
                    task_timeout: Optional[float] = None) -> List[str]:
        """Runs function ``function_id`` once per ``(args, kwargs)`` of ``calls`` through the batch
        endpoint; returns the task ids in the same order.

        Requests carry at most 10,000 calls (and about 8 MiB); each request is all or nothing, but when
        a later request fails the tasks of the earlier ones exist already.
        """
        payloads: List[str] = []
        for call in calls:
            args, kwargs = call
            payloads.append(serialize_by_value((tuple(args), dict(kwargs or {}))))
        return self.submit_payloads(function_id, payloads, task_timeout)

    def submit_payloads(self, function_id: str, payloads: Iterable[str],
                        task_timeout: Optional[float] = None) -> List[str]:
        """:meth:`submit_many` on already serialized ``(args, kwargs)`` payloads."""
        task_ids: List[str] = []
        chunk: List[str] = []
        size = 0
        for payload in payloads:
            if chunk and (len(chunk) >= MAX_BATCH or size + len(payload) > MAX_BATCH_BYTES):
                task_ids.extend(self._batch(function_id, chunk, task_timeout))
                chunk, size = [], 0
            chunk.append(payload)
            size += len(payload) + 4
        if chunk:
            task_ids.extend(self._batch(function_id, chunk, task_timeout))
        return task_ids

    def _batch(self, function_id: str, payloads: List[str], task_timeout: Optional[float]) -> List[str]:
        body: JSONObject = {"function_id": function_id, "payloads": payloads}
        if task_timeout is not None:
            body["timeout"] = task_timeout
        ids = self.request("POST", "/execute_function/batch", json=body)["task_ids"]
        if len(ids) != len(payloads):
            raise MPCSFaaSError("the batch of %d tasks returned %d task ids" % (len(payloads), len(ids)))
        return ids

    def call(self, function_id: str, /, *args: Any, **kwargs: Any) -> Any:
        """Runs function ``function_id`` with ``args`` and ``kwargs`` and returns its value, or raises the
        remote exception: one request (``POST /execute_function?wait=``) when the task ends within
        ``MAX_WAIT`` seconds, and long polls for its result after that."""
        body = {"function_id": function_id, "payload": serialize_by_value((args, kwargs))}
        reply = self.request("POST", "/execute_function", json=body, params={"wait": MAX_WAIT}, wait=MAX_WAIT)
        if reply.get("status") in TERMINAL_STATUSES:
            return _value(reply)
        return self.result(reply["task_id"])

    def status(self, task_id: str) -> str:
        """The task's status: ``QUEUED``, ``RUNNING``, ``COMPLETED`` or ``FAILED``."""
        return self.request("GET", "/status/%s" % task_id)["status"]

    def result_body(self, task_id: str, wait: float = 0) -> JSONObject:
        """The raw ``/result`` body, held by the server until the task ends or ``wait`` seconds pass."""
        wait = max(0.0, min(float(wait), MAX_WAIT))
        params = {"wait": _seconds(wait)} if wait > 0 else None
        return self.request("GET", "/result/%s" % task_id, params=params, wait=wait)

    def results(self, task_ids: Iterable[str], wait: float = 0,
                first_completed: bool = False) -> List[JSONObject]:
        """The raw ``/results`` bodies of ``task_ids`` (at most 10,000), in order; the server answers when
        all have ended (or, with ``first_completed``, any has) or ``wait`` seconds pass."""
        wait = max(0.0, min(float(wait), MAX_WAIT))
        body = {"task_ids": list(task_ids), "wait": round(wait, 3),
                "return_when": "FIRST_COMPLETED" if first_completed else "ALL_COMPLETED"}
        return self.request("POST", "/results", json=body, wait=wait)["results"]

    def result(self, task_id: str, timeout: Optional[float] = None) -> Any:
        """Waits for the task and returns its value.

        When the task failed, raises the remote exception, with the remote traceback as its cause
        (:class:`RemoteTraceback`). Raises ``TimeoutError`` when ``timeout`` seconds pass first (the task
        keeps running: ask again later).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = 0.05
        while True:
            wait = MAX_WAIT if deadline is None else max(0.0, min(MAX_WAIT, deadline - time.monotonic()))
            asked = time.monotonic()
            body = self.result_body(task_id, wait)
            if body.get("status") in TERMINAL_STATUSES:
                return _value(body)
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                raise TimeoutError("task %s has not ended after %s s (status %s)"
                                   % (task_id, timeout, body.get("status")))
            if now - asked < wait / 2:  # a server that does not hold requests: poll, but not in a tight loop
                time.sleep(pause if deadline is None else min(pause, max(0.0, deadline - now)))
                pause = min(1.0, pause * 2)

    def functions(self) -> List[JSONObject]:
        """Every registered function: ``[{"function_id", "name", ...}]``."""
        out: List[JSONObject] = []
        offset = 0
        while True:
            page = self.request("GET", "/functions", params={"offset": offset, "limit": 1000})["functions"]
            out.extend(page)
            if len(page) < 1000:
                return out
            offset += len(page)


def _value(body: Mapping[str, Any]) -> Any:
    """The return value of an ended task's ``/result`` body; raises the remote exception of a failed one."""
    ok, value = outcome(body)
    if ok:
        return value
    raise value


def _seconds(value: float) -> str:
    text = ("%.3f" % value).rstrip("0").rstrip(".")
    return text or "0"

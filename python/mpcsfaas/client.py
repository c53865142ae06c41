"""A thin synchronous client of the MPCSFaaS REST API."""

from __future__ import annotations

import codecs
import copy
import json as jsonlib
import time
from typing import (Any, Callable, Dict, Iterable, Iterator, List, Mapping, NamedTuple, Optional, Sequence, Tuple,
                    Union, cast)

import dill
import requests
import urllib3

from .errors import MPCSFaaSError, RemoteError, attach_remote_traceback
from .serialization import deserialize, dumps_by_value, serialize_by_value

__all__ = ["Client", "MAX_BATCH", "MAX_RETRIES", "MAX_WAIT", "TERMINAL_STATUSES", "TaskOptions"]

MAX_BATCH = 10_000  # most task ids / payloads the server takes in one request
MAX_WAIT = 60  # longest ``wait`` the server holds a request for, in seconds
MAX_RETRIES = 10  # most ``max_retries`` the server takes
MAX_BATCH_BYTES = 8 << 20  # a batch request stays well below the server's 16 MiB default body limit
TERMINAL_STATUSES = ("COMPLETED", "FAILED")
BUSY_RETRY_SECONDS = 300  # how long a request the server was too busy for (503, retry_safe) is sent again
PICKLE = "application/octet-stream"  # a body that is a pickle's own bytes, not base64 in JSON (docs/api.md)

JSONObject = Dict[str, Any]  # a decoded JSON object of the API


class TaskOptions(NamedTuple):
    """Options of the tasks a request creates, sent as its fields of the same names: ``timeout`` (seconds
    a run may take on the worker), ``max_retries`` (runs after a failed one, 0 to 10) and ``retry_delay``
    (seconds before each of them). None leaves the server's default (or the function's)."""

    timeout: Optional[float] = None
    max_retries: Optional[int] = None
    retry_delay: Optional[float] = None

    @classmethod
    def checked(cls, timeout: Optional[float] = None, max_retries: Optional[int] = None,
                retry_delay: Optional[float] = None) -> TaskOptions:
        """The options, or ``ValueError`` for a value the server would refuse."""
        if timeout is not None and (not _is_number(timeout) or timeout <= 0):
            raise ValueError("timeout must be a number of seconds above 0, not %r" % (timeout,))
        if max_retries is not None and (not isinstance(max_retries, int) or isinstance(max_retries, bool)
                                        or not 0 <= max_retries <= MAX_RETRIES):
            raise ValueError("max_retries must be an integer from 0 to %d, not %r" % (MAX_RETRIES, max_retries))
        if retry_delay is not None and (not _is_number(retry_delay) or retry_delay < 0):
            raise ValueError("retry_delay must be a number of seconds of at least 0, not %r" % (retry_delay,))
        return cls(timeout, max_retries, retry_delay)

    def merged(self, other: TaskOptions) -> TaskOptions:
        """These options with those ``other`` sets."""
        return TaskOptions(*(mine if theirs is None else theirs for mine, theirs in zip(self, other)))

    def fields(self) -> JSONObject:
        """The request fields of the options set."""
        return {name: value for name, value in self._asdict().items() if value is not None}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _function_name(fn: Any) -> str:
    return getattr(fn, "__name__", None) or type(fn).__name__


def outcome(body: Mapping[str, Any]) -> Tuple[bool, Any]:
    """``(ok, value)`` of an ended task's ``/result`` body (whose ``result`` may also be the pickle's bytes,
    as :meth:`Client.with_result` gives it): ``(True, return value)`` or ``(False, exception with the remote
    traceback as its cause)``. Raises :class:`MPCSFaaSError` for a task the server does
    not know and when the result cannot be unpickled here."""
    task_id = body.get("task_id")
    if "status" not in body:
        raise MPCSFaaSError("task %s: %s" % (task_id, body.get("error", "no status")), 404,
                            body.get("error"), "POST", "/results")
    status = body["status"]
    text = body.get("result")
    if status == "COMPLETED":
        return True, _completed_value(task_id, text)
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


def _completed_value(task_id: Optional[str], result: Union[str, bytes]) -> Any:
    """The return value of a completed task, from its base64 payload or its pickle's bytes."""
    try:
        return dill.loads(result) if isinstance(result, bytes) else deserialize(result)
    except Exception as exc:
        raise MPCSFaaSError("%s completed but its result cannot be unpickled here: %s: %s"
                            % ("task %s" % task_id if task_id else "the task", type(exc).__name__, exc)) from exc


class _Platform:
    """What the platform behind a client turned out to take."""

    def __init__(self) -> None:
        self.pickle_bodies = True  # until a platform that predates them refuses one (415)


class Client:
    """A client of one MPCSFaaS platform.

    ``url`` is the API's base URL (``http://127.0.0.1:8000``, or ``https://...`` for a server started with
    ``--tls-cert``), ``api_key`` the key of a server started with ``--api-key`` (sent as
    ``Authorization: Bearer``), ``timeout`` the HTTP timeout of each request in seconds (long polls get their
    wait on top), ``ca_bundle`` a PEM file of the certificates to trust for https (e.g. the server's own
    self-signed certificate; None: the system's authorities, as ``requests`` does). A Client holds a
    ``requests.Session``: use one Client per thread.

    :meth:`options` gives a view of the client whose ``submit``, ``call`` and ``submit_many`` send task
    options (timeout, retries), which cannot collide with the keyword arguments of the function.
    """

    def __init__(self, url: str, api_key: Optional[str] = None, timeout: Optional[float] = 30,
                 ca_bundle: Optional[str] = None) -> None:
        self.url: str = url.rstrip("/")
        self.timeout: Optional[float] = timeout
        self.task_options: TaskOptions = TaskOptions()
        # Given with each request: requests lets $REQUESTS_CA_BUNDLE override a Session's own verify.
        self.ca_bundle: Optional[str] = ca_bundle
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        self._platform = _Platform()  # shared with the views of options()
        if api_key:
            self.session.headers["Authorization"] = "Bearer %s" % api_key

    # -- plumbing -----------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, json: Any = None, params: Optional[Mapping[str, Any]] = None,
                wait: float = 0) -> JSONObject:
        """Sends one request; returns the decoded JSON body, or raises :class:`MPCSFaaSError`. A request the
        server was too busy for and refused before storing anything (503 with ``retry_safe``: big bodies
        taking its heap) is sent again after its ``Retry-After``, for up to ``BUSY_RETRY_SECONDS``."""
        return cast(JSONObject, self._exchange(method, path, json=json, params=params, wait=wait))

    def _exchange(self, method: str, path: str, *, json: Any = None, pickle: Optional[bytes] = None,
                  params: Optional[Mapping[str, Any]] = None, wait: float = 0,
                  value: bool = False) -> Union[JSONObject, bytes]:
        """:meth:`request`, with ``pickle`` as the body itself when given, and with ``value``, a completed
        task's value as its pickle's bytes when the server sends it so (any other answer is JSON)."""
        deadline = time.monotonic() + BUSY_RETRY_SECONDS
        while True:
            try:
                return self._send(method, path, json, pickle, params, wait, value)
            except MPCSFaaSError as exc:
                if not (exc.status_code == 503 and exc.retry_safe and exc.retry_after is not None
                        and time.monotonic() + exc.retry_after < deadline):
                    raise
                time.sleep(exc.retry_after)

    def _send(self, method: str, path: str, json: Any, pickle: Optional[bytes],
              params: Optional[Mapping[str, Any]], wait: float, value: bool) -> Union[JSONObject, bytes]:
        headers = {"Content-Type": PICKLE} if pickle is not None else {}
        if value:
            headers["Accept"] = PICKLE + ", application/json"
        try:
            response = self.session.request(method, self.url + path, json=json, data=pickle, params=params,
                                            headers=headers, stream=True, verify=self.ca_bundle,
                                            timeout=None if self.timeout is None else self.timeout + wait)
            try:
                # Read at once into one buffer: requests' own read gathers pieces and joins them, a second copy
                # of a big result whose fresh pages cost a Python client more than the copy (docs/payloads.md).
                content = response.raw.read(decode_content=True)
            finally:
                response.close()  # after a whole read, the connection is back in the session's pool
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            raise _unreachable(method, path, exc) from exc
        if response.status_code >= 400:
            raise _refused(method, path, response, content)
        if value and response.headers.get("Content-Type", "").startswith(PICKLE):
            return content
        try:
            body = jsonlib.loads(content)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise MPCSFaaSError("%s %s -> HTTP %d with a body that is not a JSON object: %r"
                                % (method, path, response.status_code, content[:200].decode("utf-8", "replace")),
                                response.status_code, None, method, path)
        return body

    def options(self, *, timeout: Optional[float] = None, max_retries: Optional[int] = None,
                retry_delay: Optional[float] = None) -> Client:
        """A view of this client (the same session) whose tasks get these options (see
        :class:`TaskOptions`; those left None keep this client's), e.g.
        ``client.options(timeout=5, max_retries=2).submit(function_id, x)``. Raises ``ValueError`` for
        a value the server would refuse."""
        view = copy.copy(self)
        view.task_options = self.task_options.merged(TaskOptions.checked(timeout, max_retries, retry_delay))
        return view

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # -- functions and tasks ------------------------------------------------------------------------

    def register(self, fn: Callable[..., Any], name: Optional[str] = None, *, env: Optional[str] = None) -> str:
        """Registers ``fn`` (pickled by value when it comes from the caller's own modules); returns its
        function id. With ``env``, its tasks run only on interpreters of that named environment (a worker's
        ``--env NAME=PYTHON``; docs/environments.md)."""
        return self.register_payload(serialize_by_value(fn), name or _function_name(fn), env=env)

    def register_payload(self, payload: str, name: str, *, env: Optional[str] = None) -> str:
        """Registers an already serialized function (for environment ``env``, if given); returns its
        function id."""
        body: JSONObject = {"name": name, "payload": payload}
        if env is not None:
            body["env"] = env
        return self.request("POST", "/register_function", json=body)["function_id"]

    def submit(self, function_id: str, /, *args: Any, **kwargs: Any) -> str:
        """Runs function ``function_id`` with ``args`` and ``kwargs``; returns the task id. Task options:
        ``client.options(timeout=..., max_retries=..., retry_delay=...).submit(...)``."""
        return cast(JSONObject, self._submit(function_id, (args, kwargs), 0))["task_id"]

    def _submit(self, function_id: str, call: Tuple[Sequence[Any], Mapping[str, Any]],
                wait: float) -> Union[JSONObject, bytes]:
        """``POST /execute_function`` of ``call`` (with ``?wait=`` when ``wait``), its pickle sent as the body
        itself and the value taken as bytes (docs/api.md); as base64 in JSON to a platform that predates
        that (415), from then on."""
        params: Dict[str, Any] = {"wait": _seconds(wait)} if wait else {}
        options = self.task_options.fields()
        if self._platform.pickle_bodies:
            try:
                return self._exchange("POST", "/execute_function", pickle=dumps_by_value(call),
                                      params=dict(options, function_id=function_id, **params), wait=wait,
                                      value=True)
            except MPCSFaaSError as exc:
                if exc.status_code != 415:
                    raise
                self._platform.pickle_bodies = False
        body: JSONObject = dict(options, function_id=function_id, payload=serialize_by_value(call))
        return self._exchange("POST", "/execute_function", json=body, params=params, wait=wait, value=True)

    def submit_payload(self, function_id: str, payload: str, task_timeout: Optional[float] = None, *,
                       max_retries: Optional[int] = None, retry_delay: Optional[float] = None) -> str:
        """Runs a function on an already serialized ``(args, kwargs)``; ``task_timeout`` (seconds) bounds
        its run time on the worker, ``max_retries`` and ``retry_delay`` (see :class:`TaskOptions`) rerun
        it when it fails (each unset one as :meth:`options` set it). Returns the task id."""
        body: JSONObject = {"function_id": function_id, "payload": payload}
        body.update(self._option_fields(task_timeout, max_retries, retry_delay))
        return self.request("POST", "/execute_function", json=body)["task_id"]

    def submit_many(self, function_id: str, calls: Iterable[Tuple[Sequence[Any], Optional[Mapping[str, Any]]]],
                    task_timeout: Optional[float] = None, *, max_retries: Optional[int] = None,
                    retry_delay: Optional[float] = None) -> List[str]:
        """Runs function ``function_id`` once per ``(args, kwargs)`` of ``calls`` through the batch
        endpoint; returns the task ids in the same order. Task options as for :meth:`submit_payload`.

        Requests carry at most 10,000 calls (and about 8 MiB); each request is all or nothing, but when
        a later request fails the tasks of the earlier ones exist already.
        """
        payloads: List[str] = []
        for call in calls:
            args, kwargs = call
            payloads.append(serialize_by_value((tuple(args), dict(kwargs or {}))))
        return self.submit_payloads(function_id, payloads, task_timeout, max_retries=max_retries,
                                    retry_delay=retry_delay)

    def submit_payloads(self, function_id: str, payloads: Iterable[str], task_timeout: Optional[float] = None,
                        *, max_retries: Optional[int] = None, retry_delay: Optional[float] = None) -> List[str]:
        """:meth:`submit_many` on already serialized ``(args, kwargs)`` payloads."""
        options = self._option_fields(task_timeout, max_retries, retry_delay)
        task_ids: List[str] = []
        chunk: List[str] = []
        size = 0
        for payload in payloads:
            if chunk and (len(chunk) >= MAX_BATCH or size + len(payload) > MAX_BATCH_BYTES):
                task_ids.extend(self._batch(function_id, chunk, options))
                chunk, size = [], 0
            chunk.append(payload)
            size += len(payload) + 4
        if chunk:
            task_ids.extend(self._batch(function_id, chunk, options))
        return task_ids

    def _option_fields(self, task_timeout: Optional[float], max_retries: Optional[int],
                       retry_delay: Optional[float]) -> JSONObject:
        return self.task_options.merged(TaskOptions(task_timeout, max_retries, retry_delay)).fields()

    def _batch(self, function_id: str, payloads: List[str], options: JSONObject) -> List[str]:
        body: JSONObject = {"function_id": function_id, "payloads": payloads}
        body.update(options)
        ids = self.request("POST", "/execute_function/batch", json=body)["task_ids"]
        if len(ids) != len(payloads):
            raise MPCSFaaSError("the batch of %d tasks returned %d task ids" % (len(payloads), len(ids)))
        return ids

    def call(self, function_id: str, /, *args: Any, **kwargs: Any) -> Any:
        """Runs function ``function_id`` with ``args`` and ``kwargs`` and returns its value, or raises the
        remote exception: one request (``POST /execute_function?wait=``) when the task ends within
        ``MAX_WAIT`` seconds, and long polls for its result after that (or when the server had no room for a
        big result in that answer). Task options as for :meth:`submit`."""
        reply = self._submit(function_id, (args, kwargs), MAX_WAIT)
        if isinstance(reply, bytes):
            return _completed_value(None, reply)
        if reply.get("status") in TERMINAL_STATUSES and not reply.get("result_omitted"):
            return _value(reply)
        return self.result(reply["task_id"])

    def status(self, task_id: str) -> str:
        """The task's status: ``QUEUED``, ``RUNNING``, ``COMPLETED`` or ``FAILED``."""
        return self.request("GET", "/status/%s" % task_id)["status"]

    def result_body(self, task_id: str, wait: float = 0) -> JSONObject:
        """The raw ``/result`` body, held by the server until the task ends or ``wait`` seconds pass."""
        return cast(JSONObject, self._result(task_id, wait, value=False))

    def _result(self, task_id: str, wait: float, value: bool) -> Union[JSONObject, bytes]:
        """``GET /result/{task_id}`` (held up to ``wait`` seconds), and with ``value`` a completed task's value
        as its pickle's bytes."""
        wait = max(0.0, min(float(wait), MAX_WAIT))
        params = {"wait": _seconds(wait)} if wait > 0 else None
        return self._exchange("GET", "/result/%s" % task_id, params=params, wait=wait, value=value)

    def results(self, task_ids: Iterable[str], wait: float = 0, first_completed: bool = False,
                max_result_bytes: Optional[int] = None) -> List[JSONObject]:
        """The raw ``/results`` bodies of ``task_ids`` (at most 10,000), in order; the server answers when
        all have ended (or, with ``first_completed``, any has) or ``wait`` seconds pass. With
        ``max_result_bytes``, a result longer than that is left out (``"result_omitted": true``):
        :meth:`with_result` fetches it."""
        wait = max(0.0, min(float(wait), MAX_WAIT))
        body: JSONObject = {"task_ids": list(task_ids), "wait": round(wait, 3),
                            "return_when": "FIRST_COMPLETED" if first_completed else "ALL_COMPLETED"}
        if max_result_bytes is not None:
            body["max_result_bytes"] = max_result_bytes
        return self.request("POST", "/results", json=body, wait=wait)["results"]

    def with_result(self, body: JSONObject) -> JSONObject:
        """A ``/results`` body whose result was left out, with its result: the pickle's bytes of a completed
        task's value (which :func:`outcome` takes as well), else ``/result``'s JSON body."""
        reply = self._result(body["task_id"], 0, value=True)
        return dict(body, result=reply, result_omitted=False) if isinstance(reply, bytes) else reply

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
            body = self._result(task_id, wait, value=True)
            if isinstance(body, bytes):
                return _completed_value(task_id, body)
            if body.get("status") in TERMINAL_STATUSES:
                return _value(body)
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                raise TimeoutError("task %s has not ended after %s s (status %s)"
                                   % (task_id, timeout, body.get("status")))
            if now - asked < wait / 2:  # a server that does not hold requests: poll, but not in a tight loop
                time.sleep(pause if deadline is None else min(pause, max(0.0, deadline - now)))
                pause = min(1.0, pause * 2)

    # -- cancel and output --------------------------------------------------------------------------

    def cancel(self, task_id: str) -> bool:
        """Cancels the task: a queued one never starts, a running one is stopped; it ends ``FAILED`` with
        ``"cancelled": true`` (its result raises ``concurrent.futures.CancelledError``). Returns True when
        it was cancelled now, False when it had already ended; raises :class:`MPCSFaaSError` for a task
        the server does not know (404)."""
        try:
            return bool(self.request("POST", "/cancel/%s" % task_id).get("cancelled"))
        except MPCSFaaSError as exc:
            if exc.status_code == 409:  # it had ended
                return False
            raise

    def cancel_many(self, task_ids: Iterable[str]) -> List[JSONObject]:
        """Cancels the tasks ``task_ids`` (10,000 a request); returns one entry each, in order:
        ``{"task_id", "status": "FAILED", "cancelled": true}`` for a task cancelled now, ``{"task_id",
        "error"}`` for one that had ended or that the server does not know."""
        ids = list(task_ids)
        out: List[JSONObject] = []
        for start in range(0, len(ids), MAX_BATCH):
            out.extend(self.request("POST", "/cancel", json={"task_ids": ids[start:start + MAX_BATCH]})["results"])
        return out

    def output(self, task_id: str) -> JSONObject:
        """What the task printed so far (at most a second old while it runs): ``{"task_id", "status",
        "stdout", "stderr", "output_truncated"}``, the last 64 KiB (server setting) of each stream."""
        return self.request("GET", "/output/%s" % task_id)

    def follow(self, task_id: str) -> Iterator[str]:
        """The task's output as it is printed: an iterator of text chunks (stdout and stderr as they
        come, each about a second after the print) that ends when the task ends. The request is sent
        now (:class:`MPCSFaaSError` for an unknown task); it has no read timeout, since a task may print
        nothing for long; closing the iterator (or leaving a ``for`` loop) ends it."""
        path = "/output/%s" % task_id
        try:
            response = self.session.get(self.url + path, params={"follow": "true"}, stream=True,
                                        timeout=(self.timeout, None), verify=self.ca_bundle)
        except requests.RequestException as exc:
            raise _unreachable("GET", path, exc) from exc
        if response.status_code >= 400:
            content = response.content
            response.close()
            raise _refused("GET", path, response, content)
        return _text_chunks(response, path)

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


def _unreachable(method: str, path: str, exc: BaseException) -> MPCSFaaSError:
    return MPCSFaaSError("%s %s failed: %s" % (method, path, exc), None, str(exc), method, path)


def _refused(method: str, path: str, response: requests.Response, content: bytes) -> MPCSFaaSError:
    """The error of a response with a status of 400 or more, from its body (``content``)."""
    try:
        body = jsonlib.loads(content)
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if error is None:
        error = content.decode("utf-8", "replace").strip()[:500] or response.reason
    try:
        retry_after: Optional[float] = float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        retry_after = None
    retry_safe = isinstance(body, dict) and body.get("retry_safe") is True
    return MPCSFaaSError("%s %s -> HTTP %d: %s" % (method, path, response.status_code, error),
                         response.status_code, error, method, path, retry_after, retry_safe)


def _text_chunks(response: requests.Response, path: str) -> Iterator[str]:
    """The body of a streamed response as UTF-8 text, chunk by chunk as it arrives; closes it at the end."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")  # a chunk may end inside a character
    try:
        for data in response.iter_content(chunk_size=None):
            text = decoder.decode(data)
            if text:
                yield text
        rest = decoder.decode(b"", final=True)
        if rest:
            yield rest
    except requests.RequestException as exc:
        raise _unreachable("GET", path, exc) from exc
    finally:
        response.close()


def _value(body: Mapping[str, Any]) -> Any:
    """The return value of an ended task's ``/result`` body; raises the remote exception of a failed one."""
    ok, value = outcome(body)
    if ok:
        return value
    raise value


def _seconds(value: float) -> str:
    text = ("%.3f" % value).rstrip("0").rstrip(".")
    return text or "0"

"""``concurrent.futures.Executor`` on an MPCSFaaS platform."""

from __future__ import annotations

import logging
import sys
import threading
import time
import weakref
from concurrent.futures import Executor, Future
from typing import (Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Set, Tuple, TypeVar,
                    Union)

from .client import MAX_BATCH, MAX_WAIT, TERMINAL_STATUSES, Client, JSONObject, TaskOptions, _function_name, outcome
from .errors import MPCSFaaSError
from .serialization import serialize_by_value

__all__ = ["ExecutorView", "FaaSExecutor"]

log = logging.getLogger(__name__)

# A result longer than this (its base64) is left out of the poller's POST /results and taken on its own, as a
# pickle: no base64 or JSON copies of a big value here, and no answer of many at once for the server's heap.
BIG_RESULT = 1 << 20

_T = TypeVar("_T")
_R = TypeVar("_R")

FunctionRef = Union[Callable[..., Any], str]  # a function, or the id of one registered already


class FaaSExecutor(Executor):
    """Runs calls on an MPCSFaaS platform; a drop-in ``concurrent.futures.Executor``.

    ``submit(fn, *args, **kwargs)`` registers ``fn`` once (per executor) and returns a ``Future``.
    ``map`` sends its calls through the batch endpoint, ``max_batch`` per request. One background thread
    resolves every future: it asks ``POST /results`` about all pending tasks at once, each request held
    by the server until one of them ends or ``poll_wait`` seconds pass, so a future resolves as soon as
    its task ends, without one HTTP poll per task (a task submitted while a request is held joins the
    next one, at most ``poll_wait`` later). ``task_timeout``
    (seconds) bounds each task's run time on the worker (the server's default otherwise);
    :meth:`options` gives per-call options (timeout, retries). With ``echo_output``, what each task
    printed is printed here when it ends, each line prefixed with ``[task <first 8 characters of its
    id>]``: its stdout to ``sys.stdout``, its stderr to ``sys.stderr``.

    ``future.cancel()`` cancels the task on the platform too, whether it is queued or running, and returns
    True once the server confirmed it (``concurrent.futures`` would return False for a running call:
    here a running task is stopped). It returns False when the task had already ended (its future then
    resolves with the task's outcome as usual) or the server no longer knows it. A future whose task is
    cancelled elsewhere (``Client.cancel``) ends cancelled too.

    ``api_key`` and ``ca_bundle`` (the certificates to trust for an ``https://`` url) are as for
    :class:`Client`.
    """

    def __init__(self, url: str, api_key: Optional[str] = None, max_batch: int = 1000, poll_wait: float = 1,
                 task_timeout: Optional[float] = None, http_timeout: Optional[float] = 30,
                 echo_output: bool = False, ca_bundle: Optional[str] = None) -> None:
        if not 1 <= max_batch <= MAX_BATCH:
            raise ValueError("max_batch must be from 1 to %d" % MAX_BATCH)
        if not 0 < poll_wait <= MAX_WAIT:
            raise ValueError("poll_wait must be more than 0 and at most %d seconds" % MAX_WAIT)
        self._url = url
        self._api_key = api_key
        self._ca_bundle = ca_bundle
        self._http_timeout = http_timeout
        self._max_batch = max_batch
        self._poll_wait = poll_wait
        self._options = TaskOptions(timeout=task_timeout)
        self._echo_output = echo_output
        self._local = threading.local()  # one Client (requests.Session) per submitting thread
        self._clients: List[Client] = []
        self._cond = threading.Condition()
        self._pending: Dict[str, Future[Any]] = {}  # task id -> Future, oldest first
        self._inflight = 0  # submissions between the shutdown check and their futures being tracked
        self._shutdown = False
        self._poller: Optional[threading.Thread] = None
        self._register_lock = threading.Lock()
        self._function_ids: Dict[Any, str] = {}  # function object -> function id
        self._function_ids_by_payload: Dict[str, str] = {}  # serialized function -> id, for unhashable callables

    # -- clients ------------------------------------------------------------------------------------

    def _new_client(self) -> Client:
        return Client(self._url, api_key=self._api_key, timeout=self._http_timeout, ca_bundle=self._ca_bundle)

    def _client(self) -> Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._new_client()
            with self._cond:
                self._clients.append(client)
        return client

    # -- registration -------------------------------------------------------------------------------

    def function_id(self, fn: FunctionRef) -> str:
        """The platform's id of ``fn``, registering it on first use. A string is taken as the id of a
        function registered already."""
        if isinstance(fn, str):
            return fn
        try:
            return self._function_ids[fn]
        except KeyError:
            hashable = True
        except TypeError:
            hashable = False
        with self._register_lock:
            if hashable and fn in self._function_ids:
                return self._function_ids[fn]
            payload = serialize_by_value(fn)
            function_id = self._function_ids_by_payload.get(payload)
            if function_id is None:
                function_id = self._client().register_payload(payload, _function_name(fn))
                self._function_ids_by_payload[payload] = function_id
            if hashable:
                self._function_ids[fn] = function_id
            return function_id

    def _forget_function(self, function_id: str) -> None:
        """Drops ``function_id`` from the cache: the platform no longer knows it (deleted)."""
        with self._register_lock:
            for cache in (self._function_ids, self._function_ids_by_payload):
                for key in [key for key, known in cache.items() if known == function_id]:
                    del cache[key]

    def _with_function(self, fn: FunctionRef, send: Callable[[str], _R]) -> _R:
        """``send(function id of fn)``; when the platform answers 404 for a function taken from the cache
        (deleted since), registers it again once and sends again."""
        function_id = self.function_id(fn)
        try:
            return send(function_id)
        except MPCSFaaSError as exc:
            if exc.status_code != 404 or isinstance(fn, str):
                raise
            log.info("mpcsfaas: function %s is unknown to the platform; registering it again", function_id)
            self._forget_function(function_id)
            return send(self.function_id(fn))

    # -- submission ---------------------------------------------------------------------------------

    def _begin(self) -> None:
        """Starts a submission: refused after shutdown; shutdown(wait=True) waits for it to end."""
        with self._cond:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            self._inflight += 1

    def _finish(self) -> None:
        with self._cond:
            self._inflight -= 1
            self._cond.notify_all()

    def _add(self, task_ids: Iterable[str]) -> List[Future[Any]]:
        """Creates and tracks the futures of ``task_ids``."""
        futures: List[Future[Any]] = []
        me = weakref.ref(self)
        with self._cond:
            for task_id in task_ids:
                future = TaskFuture(task_id, me)
                self._pending[task_id] = future
                futures.append(future)
            self._start_poller()
            self._cond.notify_all()
        for future in futures:
            future.add_done_callback(self._forget_if_cancelled)
        return futures

    def submit(self, fn: Union[Callable[..., _T], str], /, *args: Any, **kwargs: Any) -> Future[_T]:
        """Runs ``fn(*args, **kwargs)`` on the platform; returns a ``concurrent.futures.Future`` (with the
        platform's ``task_id`` as an attribute). Errors of the request itself raise here."""
        return self._submit(self._options, fn, args, kwargs)

    def map(self, fn: Union[Callable[..., _T], str], *iterables: Iterable[Any], timeout: Optional[float] = None,
            chunksize: int = 1) -> Iterator[_T]:
        """``map(fn, *iterables)`` on the platform, like ``Executor.map``: every call is sent at once
        (through the batch endpoint, ``max_batch`` calls per request), results are yielded in order, and
        ``TimeoutError`` is raised if ``timeout`` seconds (counted from this call) pass before a result
        is ready. ``chunksize`` is accepted for compatibility; batching is by ``max_batch``."""
        return self._map(self._options, fn, iterables, timeout)

    def options(self, *, timeout: Optional[float] = None, max_retries: Optional[int] = None,
                retry_delay: Optional[float] = None) -> ExecutorView:
        """A view of this executor whose ``submit`` and ``map`` give their tasks these options, which cannot
        collide with the keyword arguments of the function: ``timeout`` (seconds a run may take on the
        worker), ``max_retries`` (runs after a failed one, 0 to 10), ``retry_delay`` (seconds before each);
        those left None keep the executor's. E.g. ``ex.options(timeout=5, max_retries=2).submit(fn, x)``.
        Raises ``ValueError`` for a value the server would refuse."""
        return ExecutorView(self, self._options.merged(TaskOptions.checked(timeout, max_retries, retry_delay)))

    def _submit(self, options: TaskOptions, fn: FunctionRef, args: Tuple[Any, ...],
                kwargs: Mapping[str, Any]) -> Future[Any]:
        self._begin()
        try:
            client = self._client().options(timeout=options.timeout, max_retries=options.max_retries,
                                            retry_delay=options.retry_delay)
            task_id = self._with_function(fn, lambda function_id: client.submit(function_id, *args, **kwargs))
            return self._add([task_id])[0]
        finally:
            self._finish()

    def _map(self, options: TaskOptions, fn: FunctionRef, iterables: Sequence[Iterable[Any]],
             timeout: Optional[float]) -> Iterator[Any]:
        end_time = None if timeout is None else timeout + time.monotonic()
        calls = [(args, {}) for args in zip(*iterables)]
        futures: List[Future[Any]] = []
        if calls:
            self._begin()
            try:
                client = self._client()
                for start in range(0, len(calls), self._max_batch):
                    payloads = [serialize_by_value(call) for call in calls[start:start + self._max_batch]]
                    task_ids = self._with_function(fn, lambda function_id: client.submit_payloads(
                        function_id, payloads, options.timeout, max_retries=options.max_retries,
                        retry_delay=options.retry_delay))
                    futures.extend(self._add(task_ids))
            except BaseException:
                self._cancel(futures)
                raise
            finally:
                self._finish()

        def result_iterator() -> Iterator[Any]:
            try:
                futures.reverse()
                while futures:
                    if end_time is None:
                        yield _result_or_cancel(futures.pop())
                    else:
                        yield _result_or_cancel(futures.pop(), end_time - time.monotonic())
            finally:
                self._cancel(futures)

        return result_iterator()

    # -- cancellation and shutdown ------------------------------------------------------------------

    def _forget_if_cancelled(self, future: Future[Any]) -> None:
        if not future.cancelled():
            return
        with self._cond:
            mine = self._pending.pop(future.task_id, None) is future  # type: ignore[attr-defined]
            self._cond.notify_all()
        if mine:  # else the poller took it and notifies the cancellation itself
            future.set_running_or_notify_cancel()

    def _cancel(self, futures: Sequence[Future[Any]]) -> List[bool]:
        """Cancels the tasks of the futures not done yet on the platform (one request), then the futures
        whose task it cancelled; returns ``future.cancel()`` of each. When the request fails, the futures
        are cancelled anyway (their tasks may still run: logged)."""
        waiting = [future for future in futures if not future.done()]
        cancelled: Set[Any] = set()
        if waiting:
            task_ids = [future.task_id for future in waiting]  # type: ignore[attr-defined]
            try:
                entries = self._client().cancel_many(task_ids)
                cancelled = {entry.get("task_id") for entry in entries if entry.get("cancelled")}
            except MPCSFaaSError as exc:
                log.warning("mpcsfaas: cancelling %d task(s) on the platform failed (%s); they may still run",
                            len(task_ids), exc)
                cancelled = set(task_ids)
        return [Future.cancel(future) if future.task_id in cancelled  # type: ignore[attr-defined]
                else future.cancelled() for future in futures]

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stops accepting work; with ``cancel_futures``, cancels the pending futures and their tasks (one
        request); with ``wait``, returns when every future is done."""
        with self._cond:
            self._shutdown = True
            pending = list(self._pending.values())
            self._cond.notify_all()
        if cancel_futures:
            self._cancel(pending)
        if wait and threading.current_thread() is not self._poller:  # (a done callback cannot wait)
            with self._cond:
                while self._inflight:
                    self._cond.wait()
                pending = list(self._pending.values())
            for future in pending:
                try:
                    future.exception()
                except BaseException:  # CancelledError
                    pass
            with self._cond:
                clients, self._clients = self._clients, []
            for client in clients:  # the poller closes its own when it stops
                client.close()

    # -- the poller ---------------------------------------------------------------------------------

    def _start_poller(self) -> None:
        # under self._cond
        if self._poller is None or not self._poller.is_alive():
            self._poller = threading.Thread(target=_poll, args=(weakref.ref(self),),
                                            name="mpcsfaas-poller", daemon=True)
            self._poller.start()

    def _next_round(self) -> Optional[List[str]]:
        """The pending task ids; [] when nothing came within a second; None when the poller should stop."""
        with self._cond:
            if not self._pending:
                if self._shutdown and not self._inflight:
                    self._poller = None
                    return None
                self._cond.wait(1.0)
            return list(self._pending)

    def _fail(self, task_ids: Iterable[str], exc: BaseException) -> None:
        """Fails the futures of ``task_ids`` with ``exc`` (the poller hit an error that will not pass)."""
        with self._cond:
            futures = [self._pending.pop(task_id, None) for task_id in task_ids]
        for future in futures:
            if future is not None and future.set_running_or_notify_cancel():
                future.set_exception(exc)

    def _deliver(self, bodies: Iterable[Mapping[str, Any]]) -> int:
        """Resolves the futures of the ended tasks among ``bodies``; returns how many."""
        ended: List[Any] = []
        with self._cond:
            for body in bodies:
                if body.get("status") in TERMINAL_STATUSES or "status" not in body:
                    future = self._pending.pop(body.get("task_id"), None)
                    if future is not None:
                        ended.append((future, body))
        for future, body in ended:
            if self._echo_output:
                _echo(body)
            if body.get("cancelled"):  # cancelled on the platform, maybe not by this executor
                Future.cancel(future)
            if not future.set_running_or_notify_cancel():
                continue  # cancelled meanwhile
            try:
                ok, value = outcome(body)
            except BaseException as exc:
                future.set_exception(exc)
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        return len(ended)


class TaskFuture(Future):  # type: ignore[type-arg]
    """The future of one platform task (``task_id``): cancelling it cancels the task."""

    def __init__(self, task_id: str, executor: weakref.ReferenceType[FaaSExecutor]) -> None:
        super().__init__()
        self.task_id: str = task_id
        self._executor = executor

    def cancel(self) -> bool:
        """Cancels the task on the platform, then this future: True once the server confirmed it (or the
        future was cancelled already), False when the task had already ended."""
        executor = self._executor()
        if executor is None or self.done():
            return super().cancel()
        return executor._cancel([self])[0]


class ExecutorView:
    """:meth:`FaaSExecutor.options`: ``submit`` and ``map`` of an executor with per-task options."""

    def __init__(self, executor: FaaSExecutor, options: TaskOptions) -> None:
        self.executor: FaaSExecutor = executor
        self.task_options: TaskOptions = options

    def submit(self, fn: Union[Callable[..., _T], str], /, *args: Any, **kwargs: Any) -> Future[_T]:
        """:meth:`FaaSExecutor.submit` with these options."""
        return self.executor._submit(self.task_options, fn, args, kwargs)

    def map(self, fn: Union[Callable[..., _T], str], *iterables: Iterable[Any], timeout: Optional[float] = None,
            chunksize: int = 1) -> Iterator[_T]:
        """:meth:`FaaSExecutor.map` with these options (``timeout`` here is the wait for the results)."""
        return self.executor._map(self.task_options, fn, iterables, timeout)

    def options(self, *, timeout: Optional[float] = None, max_retries: Optional[int] = None,
                retry_delay: Optional[float] = None) -> ExecutorView:
        """This view with these options too."""
        return ExecutorView(self.executor, self.task_options.merged(
            TaskOptions.checked(timeout, max_retries, retry_delay)))


def _echo(body: Mapping[str, Any]) -> None:
    """Prints what an ended task printed, each line prefixed with the start of its id."""
    prefix = "[task %s] " % str(body.get("task_id"))[:8]
    if body.get("output_truncated"):
        sys.stderr.write(prefix + "[... earlier output truncated ...]\n")
    for text, stream in ((body.get("stdout"), sys.stdout), (body.get("stderr"), sys.stderr)):
        if text:
            lines = text.split("\n")
            if text.endswith("\n"):
                lines.pop()
            stream.write("".join(prefix + line + "\n" for line in lines))  # one write: lines stay together
            stream.flush()


def _result_or_cancel(future: Future[_T], timeout: Optional[float] = None) -> _T:
    try:
        try:
            return future.result(timeout)
        finally:
            future.cancel()
    finally:
        del future


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, MPCSFaaSError) and (exc.status_code is None or exc.status_code >= 500
                                               or exc.status_code == 429)


def _with_results(client: Client, bodies: List[JSONObject]) -> Tuple[List[JSONObject], Optional[Exception]]:
    """``bodies`` with each result left out fetched on its own, and the transient failure of a fetch, if any: a
    body whose fetch failed so is dropped (its task stays pending); one that cannot be fetched at all (a task
    expired since) gets the error in its place, as ``/results`` gives it for an unknown task."""
    out: List[JSONObject] = []
    failure: Optional[Exception] = None
    for body in bodies:
        if body.get("result_omitted"):
            try:
                body = client.with_result(body)
            except MPCSFaaSError as exc:
                if _transient(exc):
                    failure = exc
                    continue
                body = {"task_id": body.get("task_id"), "error": exc.error or str(exc)}
        out.append(body)
    return out, failure


def _poll(executor_ref: weakref.ReferenceType[FaaSExecutor]) -> None:
    """The background thread: resolves the futures of one executor until it shuts down (or is gone)."""
    executor = executor_ref()
    if executor is None:
        return
    client = executor._new_client()
    poll_wait = executor._poll_wait
    del executor
    backoff = 0.0
    # Ids asked for per request: halved after a failed one, since the results of many big arrays at once may
    # not fit the server's heap (it answers 503, or times out), and doubled back after each success.
    size = MAX_BATCH
    try:
        while True:
            executor = executor_ref()
            if executor is None:
                return
            task_ids = executor._next_round()
            del executor  # hold no reference while waiting on the server
            if task_ids is None:
                return
            start = 0
            while start < len(task_ids):
                chunk = task_ids[start:start + size]
                # Hold the oldest chunk (the queue is FIFO, so it ends first); only glance at the others.
                wait = poll_wait if start == 0 else 0
                try:
                    bodies, failure = _with_results(client, client.results(
                        chunk, wait, first_completed=True, max_result_bytes=BIG_RESULT))
                except Exception as exc:  # noqa: BLE001 - handled below
                    bodies, failure = [], exc
                executor = executor_ref()
                if executor is None:
                    return
                executor._deliver(bodies)
                if failure is None:
                    backoff = 0.0
                    size = min(MAX_BATCH, size * 2)
                elif _transient(failure):
                    backoff = min(5.0, backoff * 2 or 0.25)
                    size = max(1, len(chunk) // 2)
                    log.warning("mpcsfaas: polling results failed (%s); retrying in %.2f s", failure, backoff)
                    with executor._cond:
                        executor._cond.wait(backoff)
                    del executor
                    break
                else:
                    log.error("mpcsfaas: polling results failed: %s", failure)
                    executor._fail(chunk, failure)
                del executor
                start += len(chunk)
    finally:
        client.close()

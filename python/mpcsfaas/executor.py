"""``concurrent.futures.Executor`` on an MPCSFaaS platform."""

from __future__ import annotations

import logging
import threading
import time
import weakref
from concurrent.futures import Executor, Future
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, TypeVar, Union

from .client import MAX_BATCH, MAX_WAIT, TERMINAL_STATUSES, Client, _function_name, outcome
from .errors import MPCSFaaSError
from .serialization import serialize_by_value

__all__ = ["FaaSExecutor"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")


class FaaSExecutor(Executor):
    """Runs calls on an MPCSFaaS platform; a drop-in ``concurrent.futures.Executor``.

    ``submit(fn, *args, **kwargs)`` registers ``fn`` once (per executor) and returns a ``Future``.
    ``map`` sends its calls through the batch endpoint, ``max_batch`` per request. One background thread
    resolves every future: it asks ``POST /results`` about all pending tasks at once, each request held
    by the server until one of them ends or ``poll_wait`` seconds pass, so a future resolves as soon as
    its task ends, without one HTTP poll per task (a task submitted while a request is held joins the
    next one, at most ``poll_wait`` later). ``task_timeout``
    (seconds) bounds each task's run time on the worker (the server's default otherwise).

    Cancelling a pending future only stops tracking it: the remote task still runs.
    """

    def __init__(self, url: str, api_key: Optional[str] = None, max_batch: int = 1000, poll_wait: float = 1,
                 task_timeout: Optional[float] = None, http_timeout: Optional[float] = 30) -> None:
        if not 1 <= max_batch <= MAX_BATCH:
            raise ValueError("max_batch must be from 1 to %d" % MAX_BATCH)
        if not 0 < poll_wait <= MAX_WAIT:
            raise ValueError("poll_wait must be more than 0 and at most %d seconds" % MAX_WAIT)
        self._url = url
        self._api_key = api_key
        self._http_timeout = http_timeout
        self._max_batch = max_batch
        self._poll_wait = poll_wait
        self._task_timeout = task_timeout
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
        return Client(self._url, api_key=self._api_key, timeout=self._http_timeout)

    def _client(self) -> Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._new_client()
            with self._cond:
                self._clients.append(client)
        return client

    # -- registration -------------------------------------------------------------------------------

    def function_id(self, fn: Union[Callable[..., Any], str]) -> str:
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
        with self._cond:
            for task_id in task_ids:
                future: Future[Any] = Future()
                future.task_id = task_id  # type: ignore[attr-defined]
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
        self._begin()
        try:
            function_id = self.function_id(fn)
            task_id = self._client().submit_payload(function_id, serialize_by_value((args, kwargs)),
                                                    self._task_timeout)
            return self._add([task_id])[0]
        finally:
            self._finish()

    def map(self, fn: Union[Callable[..., _T], str], *iterables: Iterable[Any], timeout: Optional[float] = None,
            chunksize: int = 1) -> Iterator[_T]:
        """``map(fn, *iterables)`` on the platform, like ``Executor.map``: every call is sent at once
        (through the batch endpoint, ``max_batch`` calls per request), results are yielded in order, and
        ``TimeoutError`` is raised if ``timeout`` seconds (counted from this call) pass before a result
        is ready. ``chunksize`` is accepted for compatibility; batching is by ``max_batch``."""
        end_time = None if timeout is None else timeout + time.monotonic()
        calls = [(args, {}) for args in zip(*iterables)]
        futures: List[Future[Any]] = []
        if calls:
            self._begin()
            try:
                function_id = self.function_id(fn)
                client = self._client()
                for start in range(0, len(calls), self._max_batch):
                    payloads = [serialize_by_value(call) for call in calls[start:start + self._max_batch]]
                    futures.extend(self._add(client.submit_payloads(function_id, payloads, self._task_timeout)))
            except BaseException:
                for future in futures:
                    future.cancel()
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
                for future in futures:
                    future.cancel()

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

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stops accepting work; with ``cancel_futures``, cancels the pending futures (their tasks still
        run remotely); with ``wait``, returns when every future is done."""
        with self._cond:
            self._shutdown = True
            pending = list(self._pending.values())
            self._cond.notify_all()
        if cancel_futures:
            for future in pending:
                future.cancel()
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


def _poll(executor_ref: weakref.ReferenceType[FaaSExecutor]) -> None:
    """The background thread: resolves the futures of one executor until it shuts down (or is gone)."""
    executor = executor_ref()
    if executor is None:
        return
    client = executor._new_client()
    poll_wait = executor._poll_wait
    del executor
    backoff = 0.0
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
                chunk = task_ids[start:start + MAX_BATCH]
                # Hold the oldest chunk (the queue is FIFO, so it ends first); only glance at the others.
                wait = poll_wait if start == 0 else 0
                try:
                    bodies = client.results(chunk, wait, first_completed=True)
                    failure = None
                except Exception as exc:  # noqa: BLE001 - handled below
                    bodies, failure = None, exc
                executor = executor_ref()
                if executor is None:
                    return
                if failure is None:
                    backoff = 0.0
                    executor._deliver(bodies)
                elif _transient(failure):
                    backoff = min(5.0, backoff * 2 or 0.25)
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

"""Exceptions of the MPCSFaaS SDK."""

from __future__ import annotations

from typing import Optional, TypeVar

__all__ = ["MPCSFaaSError", "RemoteTraceback", "RemoteError", "attach_remote_traceback"]


class MPCSFaaSError(Exception):
    """A request to the platform failed.

    ``status_code`` is the HTTP status (None when the server could not be reached or answered something
    that is not the API), ``error`` the server's ``error`` text (or what went wrong), ``method`` and
    ``path`` the request, ``retry_after`` the seconds the server asked to wait before trying again (its
    ``Retry-After``, as with a 429 when the key's tenant has as many tasks in flight as it may), else None;
    ``retry_safe`` whether the server refused before storing anything, so that sending the same request
    again makes no second task.
    """

    def __init__(self, message: str, status_code: Optional[int] = None, error: Optional[str] = None,
                 method: Optional[str] = None, path: Optional[str] = None,
                 retry_after: Optional[float] = None, retry_safe: bool = False) -> None:
        super().__init__(message, status_code, error, method, path, retry_after, retry_safe)
        self.message: str = message
        self.status_code: Optional[int] = status_code
        self.error: str = error if error is not None else message
        self.method: Optional[str] = method
        self.path: Optional[str] = path
        self.retry_after: Optional[float] = retry_after
        self.retry_safe: bool = retry_safe

    @property
    def status(self) -> Optional[int]:
        """Alias of :attr:`status_code`."""
        return self.status_code

    def __str__(self) -> str:
        return self.message


class RemoteTraceback(Exception):
    """The traceback of an exception raised on a worker; set as the ``__cause__`` of the re-raised
    exception (as ``concurrent.futures.ProcessPoolExecutor`` does), so that it is printed with it."""

    def __init__(self, tb: str) -> None:
        super().__init__(tb)
        self.tb: str = tb

    def __str__(self) -> str:
        return self.tb


class RemoteError(Exception):
    """A task failed but its exception could not be rebuilt here; the message is the remote error."""


_E = TypeVar("_E", bound=BaseException)


def attach_remote_traceback(exc: _E, text: Optional[str]) -> _E:
    """Makes the remote traceback ``text`` the cause of ``exc``; returns ``exc``."""
    if text:
        cause = RemoteTraceback('\n"""\n%s"""' % (text if text.endswith("\n") else text + "\n"))
        exc.__cause__ = cause
    return exc

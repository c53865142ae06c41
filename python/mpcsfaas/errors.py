"""Exceptions of the MPCSFaaS SDK."""

__all__ = ["MPCSFaaSError", "RemoteTraceback", "RemoteError", "attach_remote_traceback"]


class MPCSFaaSError(Exception):
    """A request to the platform failed.

    ``status_code`` is the HTTP status (None when the server could not be reached or answered something
    that is not the API), ``error`` the server's ``error`` text (or what went wrong), ``method`` and
    ``path`` the request.
    """

    def __init__(self, message, status_code=None, error=None, method=None, path=None):
        super().__init__(message, status_code, error, method, path)
        self.message = message
        self.status_code = status_code
        self.error = error if error is not None else message
        self.method = method
        self.path = path

    @property
    def status(self):
        """Alias of :attr:`status_code`."""
        return self.status_code

    def __str__(self):
        return self.message


class RemoteTraceback(Exception):
    """The traceback of an exception raised on a worker; set as the ``__cause__`` of the re-raised
    exception (as ``concurrent.futures.ProcessPoolExecutor`` does), so that it is printed with it."""

    def __init__(self, tb):
        super().__init__(tb)
        self.tb = tb

    def __str__(self):
        return self.tb


class RemoteError(Exception):
    """A task failed but its exception could not be rebuilt here; the message is the remote error."""


def attach_remote_traceback(exc, text):
    """Makes the remote traceback ``text`` the cause of ``exc``; returns ``exc``."""
    if text:
        cause = RemoteTraceback('\n"""\n%s"""' % (text if text.endswith("\n") else text + "\n"))
        exc.__cause__ = cause
    return exc

"""mpcsfaas.errors."""

import pickle
import traceback

from mpcsfaas import MPCSFaaSError, RemoteError, RemoteTraceback
from mpcsfaas.errors import attach_remote_traceback


def test_mpcsfaas_error_fields():
    err = MPCSFaaSError("POST /x -> HTTP 404: nope", 404, "nope", "POST", "/x")
    assert str(err) == "POST /x -> HTTP 404: nope"
    assert (err.message, err.status_code, err.status, err.error, err.method, err.path) == (
        "POST /x -> HTTP 404: nope", 404, 404, "nope", "POST", "/x")
    assert isinstance(err, Exception)


def test_mpcsfaas_error_defaults_error_to_the_message():
    err = MPCSFaaSError("unreachable")
    assert err.error == "unreachable"
    assert err.status_code is None and err.status is None and err.method is None and err.path is None


def test_mpcsfaas_error_pickles():
    err = pickle.loads(pickle.dumps(MPCSFaaSError("m", 503, "down", "GET", "/result/1")))
    assert (str(err), err.status_code, err.error, err.method, err.path) == ("m", 503, "down", "GET", "/result/1")


def test_mpcsfaas_error_keeps_retry_after_through_pickle():
    err = pickle.loads(pickle.dumps(MPCSFaaSError("m", 429, "full", "POST", "/execute_function", 1.0)))
    assert (err.status_code, err.retry_after) == (429, 1.0)
    assert MPCSFaaSError("m", 404).retry_after is None


def test_remote_traceback_str_is_the_text():
    tb = RemoteTraceback("Traceback ...\nValueError: x\n")
    assert str(tb) == tb.tb == "Traceback ...\nValueError: x\n"


def test_remote_error_is_an_exception():
    assert issubclass(RemoteError, Exception) and not issubclass(RemoteError, MPCSFaaSError)


def test_attach_remote_traceback_sets_the_cause():
    exc = ValueError("boom")
    assert attach_remote_traceback(exc, "Traceback (most recent call last):\nValueError: boom\n") is exc
    assert isinstance(exc.__cause__, RemoteTraceback)
    assert str(exc.__cause__) == '\n"""\nTraceback (most recent call last):\nValueError: boom\n"""'


def test_attach_remote_traceback_ends_the_text_with_a_newline():
    exc = attach_remote_traceback(KeyError("k"), "remote text")
    assert str(exc.__cause__) == '\n"""\nremote text\n"""'


def test_attach_remote_traceback_without_text_leaves_no_cause():
    for text in ("", None):
        exc = RuntimeError("r")
        assert attach_remote_traceback(exc, text) is exc
        assert exc.__cause__ is None


def test_the_remote_traceback_is_printed_with_the_exception():
    exc = attach_remote_traceback(ValueError("boom"), "  File \"worker.py\", line 3, in f\nValueError: boom")
    printed = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    assert 'File "worker.py", line 3, in f' in printed
    assert "The above exception was the direct cause of the following exception" in printed
    assert printed.rstrip().endswith("ValueError: boom")

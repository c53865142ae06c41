"""mpcsfaas.serialization: the payload encoding and the by-value pickling of the caller's functions.

This module is not installed anywhere, so a worker could not import it: its functions must travel by value.
The strongest checks load the pickles in a separate Python that cannot import this module.
"""

import codecs
import json
import math
import os
import subprocess
import sys
import textwrap

import dill
import pytest

import mpcsfaas
from mpcsfaas import deserialize, dumps_by_value, serialize, serialize_by_value
from mpcsfaas.serialization import is_installed_module

FACTOR = 10
UNPICKLABLE = (i for i in range(3))  # a generator: dill cannot pickle it


def square(x):
    return x * x


def scaled(x):
    return x * FACTOR


def fact(n):
    return 1 if n <= 1 else n * fact(n - 1)


def is_even(n):
    return True if n == 0 else is_odd(n - 1)


def is_odd(n):
    return False if n == 0 else is_even(n - 1)


def apply_twice(x, f=square):
    return f(f(x))


def make_adder(n):
    def add(x):
        return x + n + FACTOR
    return add


def uses_unpicklable():
    return next(UNPICKLABLE)


def uses_math(x):
    return math.sqrt(x)


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def norm2(self):
        return square(self.x) + square(self.y)


class Tagged(Exception):
    pass


def load_elsewhere(data, tmp_path, expression="obj()"):
    """Loads ``data`` in a new Python that cannot import this module (other folder, no PYTHONPATH) and
    returns ``(returncode, stdout, stderr)``; on success stdout is the JSON of ``expression``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    script = textwrap.dedent("""
        import json, sys
        import dill
        obj = dill.loads(sys.stdin.buffer.read())
        print(json.dumps(%s))
    """ % expression)
    done = subprocess.run([sys.executable, "-c", script], input=data, cwd=str(tmp_path), env=env,
                          capture_output=True, timeout=60)
    return done.returncode, done.stdout.decode(), done.stderr.decode()


# -- the payload encoding ----------------------------------------------------------------------------

SAMPLES = [0, -7, 3.5, "text é", b"\x00\xff" * 100, None, [1, [2, (3,)]], {"a": {1, 2}, "b": (None, True)}]


@pytest.mark.parametrize("obj", SAMPLES)
def test_serialize_is_base64_of_dill_dumps(obj):
    assert serialize(obj) == codecs.encode(dill.dumps(obj), "base64").decode()


@pytest.mark.parametrize("obj", SAMPLES)
def test_deserialize_inverts_serialize(obj):
    assert deserialize(serialize(obj)) == obj


def test_serialize_uses_the_base64_codec_line_format():
    text = serialize(b"x" * 300)
    lines = text.split("\n")
    assert text.endswith("\n") and all(len(line) <= 76 for line in lines) and len(lines) > 2
    assert deserialize(text.replace("\n", "")) == b"x" * 300  # the server may send it on one line


@pytest.mark.parametrize("obj", SAMPLES + [(("args",), {"k": 1})])
def test_serialize_by_value_of_plain_data_is_serialize(obj):
    assert serialize_by_value(obj) == serialize(obj)
    assert serialize_by_value(obj) == codecs.encode(dumps_by_value(obj), "base64").decode()


def test_serialize_by_value_format_for_a_function():
    text = serialize_by_value(square)
    assert text == codecs.encode(dumps_by_value(square), "base64").decode()
    assert deserialize(text)(9) == 81


# -- by-value pickling, in this process --------------------------------------------------------------

def test_plain_dill_pickles_this_module_by_reference():
    """The problem the SDK solves: dill alone refers to this module by name."""
    assert dill.loads(dill.dumps(square)) is square


def test_a_function_of_this_module_is_pickled_by_value():
    clone = dill.loads(dumps_by_value(square))
    assert clone is not square
    assert clone.__module__ == "__main__"
    assert clone.__name__ == "square" and clone.__qualname__ == "square"
    assert clone(7) == 49


def test_the_clone_carries_only_the_globals_its_code_uses():
    clone = dill.loads(dumps_by_value(scaled))
    assert clone(3) == 30
    assert set(clone.__globals__) - {"__builtins__", "__name__"} == {"FACTOR"}  # dill adds __name__


def test_an_unpicklable_global_is_left_out_unless_used():
    dumps_by_value(square)  # UNPICKLABLE is in the same module, unused: fine
    with pytest.raises(TypeError):
        dumps_by_value(uses_unpicklable)


def test_recursion_and_mutual_recursion():
    fact_clone = dill.loads(dumps_by_value(fact))
    assert fact_clone(6) == 720
    assert fact_clone.__globals__["fact"] is fact_clone
    even_clone = dill.loads(dumps_by_value(is_even))
    assert even_clone(10) is True and even_clone(7) is False
    assert even_clone.__globals__["is_odd"].__globals__["is_even"] is even_clone


def test_closures_and_defaults_are_cloned():
    twice = dill.loads(dumps_by_value(apply_twice))
    assert twice(3) == 81
    assert twice.__defaults__[0] is not square and twice.__defaults__[0].__module__ == "__main__"
    add = dill.loads(dumps_by_value(make_adder(1)))
    assert add(2) == 13 and add.__module__ == "__main__"


def test_functions_inside_containers_and_arguments_are_cloned():
    args, kwargs = dill.loads(dumps_by_value(((square, [scaled]), {"f": fact})))
    assert args[0] is not square and args[0](4) == 16
    assert args[1][0] is not scaled and args[1][0](4) == 40
    assert kwargs["f"] is not fact and kwargs["f"](4) == 24


def test_installed_modules_stay_references():
    assert dill.loads(dumps_by_value(json.dumps)) is json.dumps
    assert dill.loads(dumps_by_value(mpcsfaas.serialize)) is mpcsfaas.serialize
    clone = dill.loads(dumps_by_value(uses_math))
    assert clone.__globals__["math"] is math and clone(16) == 4.0


def test_a_plain_class_of_this_module_is_pickled_by_value():
    point = dill.loads(dumps_by_value(Point(3, 4)))
    assert type(point) is not Point
    assert type(point).__module__ == "__main__" and type(point).__name__ == "Point"
    assert point.norm2() == 25


def test_dumps_by_value_takes_a_protocol():
    data = dumps_by_value([1, 2], protocol=2)
    assert data[:2] == b"\x80\x02"
    assert dill.loads(data) == [1, 2]


# -- by-value pickling, loaded where this module cannot be imported -----------------------------------

def test_plain_dill_fails_where_this_module_is_missing(tmp_path):
    """The control of the test below: a by-reference pickle of this module's function cannot load."""
    code, _, err = load_elsewhere(dill.dumps(square), tmp_path, "obj(3)")
    assert code != 0 and "ModuleNotFoundError" in err


def test_by_value_pickles_load_where_this_module_is_missing(tmp_path):
    def probe():
        return [square(3), scaled(2), fact(5), is_even(10), apply_twice(3), make_adder(1)(2),
                Point(3, 4).norm2(), uses_math(16), type(Tagged("t")).__name__, str(Tagged("t"))]

    code, out, err = load_elsewhere(dumps_by_value(probe), tmp_path)
    assert code == 0, err
    assert json.loads(out) == [9, 20, 120, True, 81, 13, 25, 4.0, "Tagged", "t"]


def test_a_local_helper_module_travels_with_the_function(tmp_path, monkeypatch):
    """``import helpers`` next to a script: the worker has no such module; the function gets a stand-in."""
    source = tmp_path / "src"
    source.mkdir()
    (source / "sdk_test_helpers_mod.py").write_text("OFFSET = 100\n\ndef double(x):\n    return 2 * x + OFFSET\n")
    (source / "sdk_test_user_mod.py").write_text(
        "import sdk_test_helpers_mod\n\ndef f(x):\n    return sdk_test_helpers_mod.double(x)\n")
    monkeypatch.syspath_prepend(str(source))
    for name in ("sdk_test_helpers_mod", "sdk_test_user_mod"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    import sdk_test_user_mod

    try:
        assert not is_installed_module("sdk_test_helpers_mod")
        data = dumps_by_value(sdk_test_user_mod.f)
    finally:
        for name in ("sdk_test_helpers_mod", "sdk_test_user_mod"):
            sys.modules.pop(name, None)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code, out, err = load_elsewhere(data, elsewhere, "obj(3)")
    assert code == 0, err
    assert json.loads(out) == 106


# -- which modules a worker can import ----------------------------------------------------------------

@pytest.mark.parametrize("name", ["os", "os.path", "json", "collections.abc", "math", "builtins", "sys",
                                  "dill", "requests", "mpcsfaas", "mpcsfaas.client"])
def test_installed_modules(name):
    __import__(name)
    assert is_installed_module(name)


@pytest.mark.parametrize("name", ["__main__", "", None, "sdk_test_module_that_is_not_loaded", __name__])
def test_modules_a_worker_cannot_import(name):
    assert not is_installed_module(name)

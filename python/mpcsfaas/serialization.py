"""Payload encoding of MPCSFaaS, and by-value pickling of the caller's own functions.

Every payload the platform stores is ``codecs.encode(dill.dumps(obj), "base64").decode()``:
:func:`serialize` and :func:`deserialize` are exactly that and its inverse.

Workers cannot import the caller's own modules (a test module, a script, a helper file next to it). dill
pickles functions of ``__main__`` by value, but a function of any other module by reference
(``module.name``), which fails on the worker with ``ModuleNotFoundError``. :func:`dumps_by_value` (used for
every function and argument the SDK sends) pickles such functions as *clones*: a new function with the
same code, whose globals hold only the names its code uses, with ``__module__ == "__main__"`` so that dill
pickles it by value. Functions and plain classes those globals, closures, defaults or arguments refer to
are cloned the same way, as they are met during pickling; modules, the standard library and installed
libraries stay references.
"""

from __future__ import annotations

import builtins
import codecs
import dis
import io
import os
import sys
import sysconfig
import types
from typing import IO, Any, Dict, FrozenSet, Iterator, List, Optional, Set, Tuple

import dill

__all__ = ["serialize", "deserialize", "dumps_by_value", "serialize_by_value", "is_installed_module"]


def serialize(obj: Any) -> str:
    """``codecs.encode(dill.dumps(obj), "base64").decode()``: the platform's payload encoding."""
    return codecs.encode(dill.dumps(obj), "base64").decode()


def deserialize(text: str) -> Any:
    """The inverse of :func:`serialize`."""
    return dill.loads(codecs.decode(text.encode(), "base64"))


# --------------------------------------------------------------------------------------------------
# Which modules a worker can import
# --------------------------------------------------------------------------------------------------

def _install_roots() -> Tuple[str, ...]:
    roots = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        try:
            path = sysconfig.get_paths().get(key)
        except Exception:  # pragma: no cover - broken sysconfig
            path = None
        if path:
            roots.add(os.path.realpath(path))
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}:
        roots.add(os.path.realpath(os.path.join(prefix, "lib", "python%d.%d" % sys.version_info[:2])))
    return tuple(sorted(roots))


_INSTALL_ROOTS = _install_roots()
_STDLIB_NAMES = frozenset(getattr(sys, "stdlib_module_names", ())) | frozenset(sys.builtin_module_names)
_SDK_PACKAGE = __name__.partition(".")[0]  # "mpcsfaas"
_installed_cache: Dict[str, bool] = {}


def _path_is_installed(path: str) -> bool:
    real = os.path.realpath(path)
    parts = real.split(os.sep)
    if "site-packages" in parts or "dist-packages" in parts:
        return True
    return any(real == root or real.startswith(root + os.sep) for root in _INSTALL_ROOTS)


def is_installed_module(name: Optional[str]) -> bool:
    """True if a worker can be expected to import module ``name``.

    That is: the standard library, a built-in or frozen module, anything under a ``site-packages`` or
    ``dist-packages`` folder, and this SDK. Not ``__main__``, not a module that is not loaded, not a
    module loaded from anywhere else (a test module, a script's helper file, the current folder).
    """
    if not name or name == "__main__":
        return False
    cached = _installed_cache.get(name)
    if cached is not None:
        return cached
    top = name.partition(".")[0]
    if top == _SDK_PACKAGE or top in _STDLIB_NAMES or top == "builtins":
        result = True
    else:
        module = sys.modules.get(name)
        if module is None:
            result = False
        else:
            path = getattr(module, "__file__", None)
            if path:
                result = _path_is_installed(path)
            else:
                spec = getattr(module, "__spec__", None)
                origin = getattr(spec, "origin", None)
                if origin in ("built-in", "frozen"):
                    result = True
                else:  # a namespace package: installed if all its folders are
                    locations = list(getattr(spec, "submodule_search_locations", None) or ())
                    result = bool(locations) and all(_path_is_installed(p) for p in locations)
    _installed_cache[name] = result
    return result


# --------------------------------------------------------------------------------------------------
# Cloning
# --------------------------------------------------------------------------------------------------

_NAME_OPS = frozenset({"LOAD_NAME", "STORE_NAME", "DELETE_NAME"})


def _code_objects(code: types.CodeType, seen: Optional[Set[int]] = None) -> Iterator[types.CodeType]:
    """``code`` and the code objects nested in it (lambdas, inner functions, comprehensions, class
    bodies), each once."""
    if seen is None:
        seen = set()
    if id(code) in seen:
        return
    seen.add(id(code))
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const, seen)


def _all_names(code: types.CodeType) -> Set[str]:
    """Every name (globals and attributes) used by ``code`` and the code objects nested in it."""
    return {name for each in _code_objects(code) for name in each.co_names}


def _global_names(code: types.CodeType) -> Set[str]:
    """Names that ``code`` and the code objects nested in it look up as globals."""
    names = set()
    for each in _code_objects(code):
        try:
            for ins in dis.get_instructions(each):
                if "GLOBAL" in ins.opname or ins.opname in _NAME_OPS:
                    if isinstance(ins.argval, str):
                        names.add(ins.argval)
        except Exception:  # pragma: no cover - an unexpected bytecode: fall back to every name
            names.update(each.co_names)
    return names


class _Cloner:
    """Clones of the functions and classes of non-installed modules; one per pickling, memoized so that
    recursive and mutually recursive functions and self-referencing classes work."""

    def __init__(self) -> None:
        self._memo: Dict[int, Any] = {}  # id(original) -> clone
        self._clone_ids: Set[int] = set()  # ids of the clones themselves (already "__main__": never cloned again)
        self._keep: List[Any] = []  # keeps originals alive so their ids stay unique while pickling
        # (id(module), names) -> namespace standing in for a non-installed module
        self._stubs: Dict[Tuple[int, FrozenSet[str]], types.SimpleNamespace] = {}

    def substitute(self, obj: Any) -> Any:
        """``obj``, or its by-value clone if it is a function or class of a non-installed module."""
        key = id(obj)
        if key in self._clone_ids:
            return obj
        clone = self._memo.get(key)
        if clone is not None:
            return clone
        if type(obj) is types.FunctionType:
            if is_installed_module(getattr(obj, "__module__", None)):
                return obj
            return self._clone_function(obj)
        if type(obj) is type:  # a plain class (not an Enum, an ABC or another metaclass: those stay references)
            module = getattr(obj, "__module__", None)
            if module == "__main__" or is_installed_module(module):
                return obj  # dill pickles the classes of __main__ by value itself (their methods are cloned)
            return self._clone_class(obj)
        return obj

    def _remember(self, original: Any, clone: Any) -> None:
        self._memo[id(original)] = clone
        self._clone_ids.add(id(clone))
        self._keep.append(original)

    def _clone_function(self, fn: types.FunctionType) -> types.FunctionType:
        globs: Dict[str, Any] = {"__builtins__": builtins}
        clone = types.FunctionType(fn.__code__, globs, fn.__name__, fn.__defaults__, fn.__closure__)
        self._remember(fn, clone)  # before filling the globals: recursion finds the clone
        clone.__kwdefaults__ = dict(fn.__kwdefaults__) if fn.__kwdefaults__ else fn.__kwdefaults__
        clone.__qualname__ = fn.__qualname__
        clone.__doc__ = fn.__doc__
        clone.__module__ = "__main__"
        annotations = getattr(fn, "__annotations__", None)
        if annotations:
            clone.__annotations__ = dict(annotations)
        if fn.__dict__:
            clone.__dict__.update(fn.__dict__)
        source = fn.__globals__
        attributes: Optional[Set[str]] = None
        for name in _global_names(fn.__code__):
            if name in source and name != "__builtins__":
                value = source[name]
                if isinstance(value, types.ModuleType) and not is_installed_module(value.__name__):
                    if attributes is None:
                        attributes = _all_names(fn.__code__)
                    globs[name] = self._module_stub(value, attributes)
                else:
                    globs[name] = self.substitute(value)
        return clone

    def _module_stub(self, module: types.ModuleType, attributes: Set[str]) -> types.SimpleNamespace:
        """A namespace standing in for a module the workers cannot import (``import helpers`` next to a
        script): the module's attributes among the names the code uses, cloned."""
        key = (id(module), frozenset(attributes))
        stub = self._stubs.get(key)
        if stub is not None:
            return stub
        stub = types.SimpleNamespace(__name__=module.__name__)
        self._stubs[key] = stub
        self._keep.append(module)
        namespace = vars(module)
        for name in attributes:
            if name in namespace and not name.startswith("__"):
                value = namespace[name]
                if isinstance(value, types.ModuleType) and not is_installed_module(value.__name__):
                    value = self._module_stub(value, attributes)
                else:
                    value = self.substitute(value)
                setattr(stub, name, value)
        return stub

    def _clone_class(self, cls: type) -> type:
        namespace = dict(cls.__dict__)
        slots = namespace.get("__slots__", ())
        if isinstance(slots, str):
            slots = (slots,)
        for name in tuple(slots) + ("__dict__", "__weakref__"):
            namespace.pop(name, None)
        namespace["__module__"] = "__main__"
        namespace["__qualname__"] = cls.__qualname__
        try:
            clone = type(cls.__name__, cls.__bases__, namespace)
        except Exception:  # e.g. an __init_subclass__ that refuses: keep the reference
            self._memo[id(cls)] = cls
            self._keep.append(cls)
            return cls
        self._remember(cls, clone)
        return clone


class _ByValuePickler(dill.Pickler):
    """A dill pickler that replaces the functions and classes of non-installed modules by clones."""

    def __init__(self, file: IO[bytes], protocol: Optional[int] = None) -> None:
        if protocol is None:
            protocol = dill.settings["protocol"]
        # recurse=False: each clone already carries only the globals it uses, and dill 0.3.6's
        # recurse=True analysis overflows the stack on mutually recursive functions.
        super().__init__(file, protocol, byref=False, recurse=False)
        self._cloner = _Cloner()

    def save(self, obj: Any, save_persistent_id: bool = True) -> None:
        t = type(obj)
        if t is types.FunctionType or t is type:
            obj = self._cloner.substitute(obj)
        super().save(obj, save_persistent_id)


def dumps_by_value(obj: Any, protocol: Optional[int] = None) -> bytes:
    """``dill.dumps(obj)``, except that functions and plain classes defined in modules a worker cannot
    import (``__main__``, a test module, a local helper file) are pickled by value, wherever they appear
    in ``obj`` (the object itself, globals, closures, defaults, containers, instances' classes)."""
    buffer = io.BytesIO()
    _ByValuePickler(buffer, protocol).dump(obj)
    return buffer.getvalue()


def serialize_by_value(obj: Any) -> str:
    """:func:`serialize` through :func:`dumps_by_value`: what the SDK sends for functions and arguments.
    For plain data it is identical to :func:`serialize`."""
    return codecs.encode(dumps_by_value(obj), "base64").decode()

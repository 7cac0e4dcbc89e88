"""What a value is made of, read without running the application's code where possible.

The secrets step and the values step both look into values through these functions,
so what one searches for secrets is what the other shows: a mapping's entries (``dict``
and its subclasses read with ``dict``'s own methods, so a subclass's ``__repr__`` or
``__getitem__`` never runs), a named tuple's or an object's fields (its ``__dict__``
and ``__slots__``, which is also what a dataclass holds), a sequence's items.
"""

from __future__ import annotations

import collections
import contextlib
import io
import os
import types
from collections.abc import Mapping
from itertools import islice
from typing import Any

SEQUENCES = (list, tuple, set, frozenset, collections.deque)
_OPAQUE = (
    type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType,
    types.CodeType, types.FrameType, types.TracebackType, types.GeneratorType,
    types.CoroutineType, types.AsyncGeneratorType, BaseException, io.IOBase,
)  # fmt: skip
"""Objects whose fields are not theirs to show: code, modules, classes, exceptions, files."""

_NOT_OBJECTS = (*_OPAQUE, *SEQUENCES, Mapping, str, bytes, bytearray, int, float)

OS_ENVIRON = type(os.environ)


def name_of(key: object) -> str | None:
    """The name a mapping key or a pair's first item gives its value, if it is a name."""
    if type(key) is str:
        return key
    if isinstance(key, str):
        return str.__str__(key)
    if isinstance(key, bytes | bytearray):
        return bytes(key).decode("utf-8", "replace")
    return None


def entries(value: object, limit: int) -> tuple[list[tuple[object, object]], int] | None:
    """A mapping's first ``limit`` entries and how many it has, or ``None``.

    ``dict`` and its subclasses (Flask's ``Config``, werkzeug's ``MultiDict``, Django's
    ``QueryDict``, ``OrderedDict``, ``defaultdict``) are read with ``dict``'s own methods;
    any other ``Mapping`` (``ChainMap``, ``MappingProxyType``, Jinja's ``Context``)
    through its ``items()``.
    """
    if isinstance(value, dict):
        return list(islice(dict.items(value), limit)), dict.__len__(value)
    if isinstance(value, Mapping) and not isinstance(value, OS_ENVIRON):
        items = list(islice(value.items(), limit))
        try:
            return items, len(value)
        except TypeError:  # registered as a Mapping without a length (Jinja's Context)
            return items, len(items)
    return None


def fields(value: object, limit: int) -> tuple[list[tuple[str, object]], int] | None:
    """An object's own fields (``__dict__``, ``__slots__``; a named tuple's), or ``None``
    for what has none or is not data (classes, modules, functions, exceptions)."""
    kind = type(value)
    if isinstance(value, tuple):
        names = getattr(kind, "_fields", None)
        if kind is tuple or not isinstance(names, tuple):
            return None
        pairs = [
            (str(name), item) for name, item in zip(names, tuple.__iter__(value), strict=False)
        ]
        return pairs[:limit], len(pairs)
    if isinstance(value, _NOT_OBJECTS):
        return None
    found: list[tuple[str, object]] = []
    for cls in kind.__mro__:
        slots = cls.__dict__.get("__slots__", ())
        for slot in (slots,) if isinstance(slots, str) else slots:
            member = cls.__dict__.get(_mangled(cls, slot))
            if isinstance(member, types.MemberDescriptorType):
                with contextlib.suppress(AttributeError):  # a slot never set
                    found.append((slot, member.__get__(value, kind)))
    own = instance_dict(value)
    if own is not None:
        found += [(name, item) for name, item in dict.items(own) if isinstance(name, str)]
    elif not found:
        return None
    return found[:limit], len(found)


def _mangled(cls: type, name: str) -> str:
    if name.startswith("__") and not name.endswith("__"):
        return f"_{cls.__name__.lstrip('_')}{name}"
    return name


def instance_dict(value: object) -> dict[str, Any] | None:
    """``value.__dict__`` where it is the interpreter's own (never a property's result)."""
    for cls in type(value).__mro__:
        descriptor = cls.__dict__.get("__dict__")
        if descriptor is not None:
            if not isinstance(descriptor, types.GetSetDescriptorType):
                return None  # a class that makes __dict__ up: not read
            own = descriptor.__get__(value, type(value))
            return own if type(own) is dict else None
    return None


def has_own_repr(value: object) -> bool:
    """Whether the type says how to show itself (anything but ``object``'s address)."""
    return type(value).__repr__ is not object.__repr__


def is_os_environment(value: object) -> bool:
    """``os.environ``, or a mapping copied from it (``os.environ.copy()``, ``dict(...)``)."""
    if isinstance(value, OS_ENVIRON):
        return True
    if not isinstance(value, dict) or dict.__len__(value) < 8:
        return False
    sample = list(islice(dict.items(value), 32))
    same = 0
    for key, item in sample:
        with contextlib.suppress(UnicodeError, ValueError):  # a key no OS variable can have
            same += isinstance(key, str) and os.environ.get(key) == item
    return same >= 6 and same * 4 >= len(sample) * 3

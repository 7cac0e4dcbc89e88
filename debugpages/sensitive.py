"""``sensitive_variables``: code that knows its own secrets says so.

In the spirit of Django's decorator of the same name, but without a wrapper: the
function's code object is recorded and the function is returned unchanged, so a
call costs nothing, and async functions, generators and methods work alike. The
traceback page masks the marked locals of every frame running that code, and masks
their values wherever else they appear on the page.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from types import CodeType
from typing import Any, TypeVar, overload

F = TypeVar("F", bound=Callable[..., Any])

ALL = frozenset({"*"})
"""Recorded for a function whose every local is sensitive."""

_marked: dict[int, tuple[weakref.ref[CodeType], frozenset[str]]] = {}
"""The marks, by the identity of the code they were made on: equal code compiled from
another file (a twin) compares equal, and is not marked by it."""


@overload
def sensitive_variables(function: F, /) -> F: ...
@overload
def sensitive_variables(*names: str) -> Callable[[F], F]: ...
def sensitive_variables(*names: Any) -> Any:
    """Mark locals of the decorated function as secrets: the ones named, or all of them.

    ``@sensitive_variables("password", "card")`` marks two locals;
    ``@sensitive_variables()`` (or without parentheses) marks every local.
    """
    if len(names) == 1 and callable(names[0]):
        return _mark(names[0], ALL)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"sensitive_variables() takes names of locals, not {name!r}")
    chosen = frozenset(names) if names else ALL

    def decorate(function: F) -> F:
        return _mark(function, chosen)

    return decorate


def _mark(function: F, names: frozenset[str]) -> F:
    """Record the code of ``function`` and of every function it wraps (``__wrapped__``)."""
    current: object = function
    for _ in range(100):  # a __wrapped__ chain that loops must not hang the import
        current = getattr(current, "__func__", current)  # classmethod, staticmethod
        code = getattr(current, "__code__", None)
        if isinstance(code, CodeType):
            _marked[id(code)] = (_forget_when_gone(code), marked_names(code) | names)
        current = getattr(current, "__wrapped__", None)
        if current is None:
            break
    return function


def _forget_when_gone(code: CodeType) -> weakref.ref[CodeType]:
    key = id(code)
    return weakref.ref(code, lambda _: _marked.pop(key, None))


def marked_names(code: CodeType) -> frozenset[str]:
    """The locals marked sensitive for frames running ``code``; ``ALL`` for every one."""
    known = _marked.get(id(code))
    return known[1] if known is not None and known[0]() is code else frozenset()

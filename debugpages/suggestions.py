"""Python 3.11's "Did you mean: ...?" for the text module ``traceback``, which lacks it.

From 3.12 on, ``traceback.TracebackException`` adds the suggestion to a ``NameError``'s or
``AttributeError``'s message itself. On 3.11 only the interpreter's own printer adds it
(``Python/suggestions.c``), so a page made with ``traceback`` would lose what the terminal
shows. This is that printer's rule, written for 3.11: the same candidates (the failing
code's variable names, then its globals, then the builtins; or ``dir()`` of the object),
the same distance (an edit costs 2, a change of case 1, counted on UTF-8 bytes), the same
bounds.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from types import TracebackType

_MAX_CANDIDATES = 750
_MAX_LENGTH = 40
_MOVE = 2
_CASE = 1


def suggestion(exc: BaseException) -> str | None:
    """The name Python 3.11 would suggest after ``exc``'s message, if any."""
    try:
        if type(exc) is AttributeError:
            name, obj = exc.name, exc.obj
            if name is None or obj is None:
                return None
            return closest(name, dir(obj))
        if type(exc) is NameError:
            name, tb = exc.name, exc.__traceback__
            if type(name) is not str or not isinstance(tb, TracebackType):
                return None
            while isinstance(tb.tb_next, TracebackType):
                tb = tb.tb_next
            frame = tb.tb_frame
            for names in (frame.f_code.co_varnames, frame.f_globals, frame.f_builtins):
                found = closest(name, list(names))
                if found is not None:
                    return found
    except Exception:  # a hostile __dir__, a name that is no str: no suggestion
        return None
    return None


def closest(name: str, candidates: Iterable[object]) -> str | None:
    """The candidate nearest ``name`` within a third of their characters, as CPython picks it."""
    candidates = list(candidates)
    if len(candidates) >= _MAX_CANDIDATES or not isinstance(name, str):
        return None
    wanted = name.encode("utf-8", "surrogatepass")
    best: str | None = None
    best_distance = sys.maxsize
    for candidate in candidates:
        if not isinstance(candidate, str):
            return None  # CPython gives up on a name that is no str
        if candidate == name:
            continue
        other = candidate.encode("utf-8", "surrogatepass")
        limit = min((len(wanted) + len(other) + 3) * _MOVE // 6, best_distance - 1)
        found = distance(wanted, other, limit)
        if found <= limit and (best is None or found < best_distance):
            best, best_distance = candidate, found
    return best


def distance(a: bytes, b: bytes, limit: int) -> int:
    """The edit distance of ``a`` and ``b`` (``limit + 1`` once it is over ``limit``)."""
    if a == b:
        return 0
    shorter = min(len(a), len(b))
    start = 0  # the common prefix and suffix cost nothing: measured, not copied
    while start < shorter and a[start] == b[start]:
        start += 1
    end = 0
    while end < shorter - start and a[-1 - end] == b[-1 - end]:
        end += 1
    left, right = len(a) - start - end, len(b) - start - end
    if not left or not right:
        return (left + right) * _MOVE
    if left > _MAX_LENGTH or right > _MAX_LENGTH:
        return limit + 1
    a, b = a[start : start + left], b[start : start + right]
    if len(b) < len(a):
        a, b = b, a
    if (len(b) - len(a)) * _MOVE > limit:
        return limit + 1
    row = [(index + 1) * _MOVE for index in range(len(a))]
    result = 0
    for b_index, code in enumerate(b):
        diagonal = result = b_index * _MOVE
        lowest = None
        for index, other in enumerate(a):
            substitute = diagonal + _cost(code, other)
            diagonal = row[index]
            result = min(min(result, diagonal) + _MOVE, substitute)
            row[index] = result
            lowest = result if lowest is None else min(lowest, result)
        if lowest is not None and lowest > limit:
            return limit + 1
    return result


def _cost(a: int, b: int) -> int:
    """What replacing byte ``a`` by ``b`` costs: nothing, a change of ASCII case, or a move."""
    if a == b:
        return 0
    if (a | 0x20) == (b | 0x20) and 0x61 <= (a | 0x20) <= 0x7A:
        return _CASE
    return _MOVE

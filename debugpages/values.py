"""The values step: the text of every value a page shows, masked, then cut.

Containers are shown from their structure (``debugpages.structure``): a mapping as
``Type({key: value, ...})``, an object without a ``__repr__`` of its own (a dataclass
too) and a named tuple as ``Type(field=value, ...)``, a sequence as Python shows it,
an entry, field or pair whose name is a secret as ``MASK``. Anything else (a
``datetime``, a model with a ``__repr__`` of its own) is asked for its ``repr``, guarded,
within the page's time budget. Every text is masked by value with all the secrets the
previous step found, and only then cut, so no part of a secret stays at a cut.
"""

from __future__ import annotations

import collections
import datetime
import os
import pathlib
import re
import time
import types
from collections.abc import Callable, Iterable, Mapping
from itertools import islice

from werkzeug.datastructures import Headers, MultiDict
from werkzeug.sansio.request import Request

from .mask import MASK, Masker
from .model import Variable
from .policy import Policy, safe_text
from .represent import MAX_ABANDONED, NO_WORKER, TIMED_OUT, Outcome, Representer, failure, represent
from .structure import entries, fields, has_own_repr, is_os_environment, name_of

_CGI_KEYS = frozenset({
    "REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE",
    "CONTENT_LENGTH", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "REMOTE_ADDR",
    "REMOTE_HOST", "REMOTE_PORT", "REQUEST_URI", "RAW_URI", "GATEWAY_INTERFACE",
    "SERVER_SOFTWARE", "HTTPS",
})  # fmt: skip
_SHAPES = (
    (list, "[", "]", "[]"),
    (tuple, "(", ")", "()"),
    (set, "{", "}", "set()"),
    (frozenset, "frozenset({", "})", "frozenset()"),
    (collections.deque, "deque([", "])", "deque([])"),
)
"""How Python writes each built-in sequence: its brackets, and when it is empty."""
_PLAIN = (type(None), bool, int, float, str, bytes)
_OWN_REPRS = frozenset({
    object.__repr__, type.__repr__, types.FunctionType.__repr__,
    types.BuiltinFunctionType.__repr__, types.MethodDescriptorType.__repr__,
    types.WrapperDescriptorType.__repr__, types.CodeType.__repr__, types.FrameType.__repr__,
    types.GeneratorType.__repr__, types.CoroutineType.__repr__,
    types.AsyncGeneratorType.__repr__, complex.__repr__, range.__repr__, memoryview.__repr__,
    re.Pattern.__repr__, datetime.date.__repr__, datetime.timedelta.__repr__,
    datetime.timezone.__repr__, type(Ellipsis).__repr__, type(NotImplemented).__repr__,
})  # fmt: skip
"""The interpreter's own reprs that run none of the application's code: called here, on
the request's thread. Any other repr runs on a worker, within the time budget."""
_TIMED_REPRS = {
    datetime.datetime.__repr__: datetime.datetime.tzinfo,
    datetime.time.__repr__: datetime.time.tzinfo,
}  # fmt: skip
"""Reprs that are the interpreter's own but for their ``tzinfo``'s repr."""
_REQUEST = (Request.__repr__, Request.__dict__["url"], Request.__dict__["host"])
"""werkzeug's ``<Request 'url' [GET]>`` (Flask's request too), with werkzeug's own ``url``
and ``host``: it reads the request's environ and nothing of the application's."""
_PATHS = frozenset({
    pathlib.PurePosixPath, pathlib.PureWindowsPath, pathlib.PosixPath, pathlib.WindowsPath,
})  # fmt: skip
"""The standard library's paths (not a subclass: its methods are the application's)."""
_ARGS = BaseException.__dict__["args"]
_METHOD_REPR = types.MethodType.__repr__


class Values:
    """Shows the values of one page: each object once, masked, within a time budget."""

    def __init__(
        self, policy: Policy, masker: Masker, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self.policy = policy
        self.masker = masker
        self._clock = clock
        self._deadline = clock() + policy.repr_budget
        self._reprs: Representer | None = None
        self._ready: dict[int, tuple[object, Outcome]] = {}
        """Outcomes of reprs made ahead (``prefetch``), by id; each value held."""
        self._shown: dict[int, tuple[object, str, bool]] = {}
        """Objects shown on this page, by id (each held, so ids stay unique): an object
        held by several locals or containers is represented once."""
        self.skipped = 0
        self._cut = False
        self._spent = 0

    def variable(self, name: str, value: object, *, secret: bool = False) -> Variable:
        """One local (or field) as the page shows it; ``secret``: masked whatever its name."""
        shown_name = safe_text(self.masker.text(name))
        if secret or self.policy.is_sensitive(name):
            return Variable(shown_name, MASK, masked=True)
        known = self._shown.get(id(value))
        if known is not None and known[0] is value:
            return Variable(shown_name, known[1], known[2])
        if self._clock() > self._deadline and id(value) not in self._ready and not _cheap(value):
            self.skipped += 1
            return Variable(shown_name, "<not shown: the time budget for values ran out>", True)
        self._cut, self._spent = False, 0
        try:
            text = self.show(value, self.policy.max_depth)
        except BaseException as exc:  # a container's own methods (items(), len()) raised
            text = self._failed(failure(exc))
        text, cut = self.policy.text(text, self.policy.max_value_chars * 2)
        self._shown[id(value)] = (value, text, cut or self._cut)
        return Variable(shown_name, text, cut or self._cut)

    def text(self, value: str, limit: int | None = None) -> tuple[str, bool]:
        """A message, a note, a field: masked, then escaped and bounded. Always a plain
        ``str``: a ``Markup`` or ``SafeString`` would reach the page unescaped."""
        limit = self.policy.max_value_chars if limit is None else limit
        if type(value) is not str:
            value = str.__str__(value)
        if len(value) <= limit:
            return self.policy.text(self.masker.text(value), limit)
        head = safe_text(self.masker.head(value, limit))[:limit]
        return f"{head} … ({len(value):,} characters in all)", True

    def release(self) -> None:
        """Drop every reference to the application's values; give back the worker."""
        self._shown.clear()
        self._ready.clear()
        if self._reprs is not None:
            self._reprs.close()
            self._reprs = None

    def show(self, value: object, level: int) -> str:
        """The text of ``value``, from its structure ``level`` levels deep."""
        text = self._show(value, level)
        self._spent += len(text)
        return text

    def _part(self, value: object, level: int) -> str:
        """An item, key or field of a container: one that cannot be shown (its ``len()``,
        iteration or ``__class__`` raised) says so in its place, and the container's other
        parts are still shown."""
        try:
            return self.show(value, level)
        except BaseException as exc:  # as for a whole value: nothing gets out of the page
            return self._failed(failure(exc))

    def _show(self, value: object, level: int) -> str:
        kind = type(value)
        if kind is str or kind is bytes or kind is bytearray:
            return self._string(value)  # type: ignore[arg-type]
        if kind is int:
            return self._int(value)  # type: ignore[arg-type]
        if value is None or kind is bool or kind is float:
            return repr(value)
        if isinstance(value, dict) and "wsgi.version" in value:
            return self._wsgi_environ(value, level)
        if is_os_environment(value):
            return self._environment(value)
        if isinstance(value, Headers | MultiDict):  # werkzeug's: shown as the pairs they hold
            pairs = Headers.items(value) if isinstance(value, Headers) else value.items(multi=True)
            return self._sequence_of_pairs(kind.__qualname__, list(pairs), level)
        found = entries(value, self.policy.max_items)
        if found is not None:
            label = "" if kind is dict else kind.__qualname__
            return self._mapping(label, found[0], found[1], level)
        if isinstance(value, tuple) and hasattr(kind, "_fields"):  # a named tuple
            named = fields(value, self.policy.max_items)
            if named is not None:
                return self._fields(kind.__qualname__, named[0], named[1], level)
        shape = _shape(value)
        if shape is not None:
            return self._sequence(value, shape, level)  # type: ignore[arg-type]
        if not has_own_repr(value) or hasattr(kind, "__dataclass_fields__"):
            named = fields(value, self.policy.max_items)
            if named is not None:
                return self._fields(kind.__qualname__, named[0], named[1], level)
        return self._other(value)

    def _string(self, value: str | bytes | bytearray) -> str:
        limit = self.policy.max_value_chars
        if isinstance(value, str):
            text = str.__str__(value)
            if len(text) <= limit:
                return repr(self.masker.text(text))
            self._cut = True
            return f"{self.masker.head(text, limit)!r} … ({len(text):,} characters in all)"
        if len(value) <= limit:
            shown = self.masker.text(repr(bytes(value)))
            return shown if isinstance(value, bytes) else f"bytearray({shown})"
        self._cut = True
        head = self.masker.head(repr(bytes(value[: limit + self.masker.reach])), limit)
        return f"{head} … ({len(value):,} bytes in all)"

    def _int(self, value: int) -> str:
        if value.bit_length() > 4 * self.policy.max_value_chars:
            self._cut = True
            return f"<int of {value.bit_length():,} bits>"
        return self.masker.text(int.__repr__(value))

    def _sequence(
        self, value: Iterable[object], shape: tuple[type, str, str, str], level: int
    ) -> str:
        base, left, right, empty = shape
        kind = type(value)
        if kind is not base and base not in (list, tuple):  # as Python names a subclass
            left, right = f"{kind.__qualname__}({left.partition('(')[2] or left}", f"{right})"
            empty = f"{kind.__qualname__}()"
        size = len(value)  # type: ignore[arg-type]
        if size == 0:
            return empty
        if level <= 0:
            self._cut = True
            return f"{left}… {size:,} items{right}"
        parts = self._take((self._item(item, level) for item in value), size)
        comma = "," if base is tuple and size == 1 else ""
        return f"{left}{', '.join(parts)}{comma}{right}"

    def _sequence_of_pairs(self, label: str, pairs: list[object], level: int) -> str:
        """``Label([(name, value), ...])``, a secret name's value masked."""
        return f"{label}({self._sequence(pairs, _SHAPES[0], level)})"

    def _item(self, item: object, level: int) -> str:
        """A sequence's item; a pair whose first item names a secret keeps only its name."""
        # type(item) first: isinstance alone would ask item.__class__, which may raise
        if issubclass(type(item), tuple) and isinstance(item, tuple) and tuple.__len__(item) == 2:
            name = name_of(tuple.__getitem__(item, 0))
            if name is not None and self.policy.is_sensitive(name):
                return f"({self._part(tuple.__getitem__(item, 0), level - 1)}, {MASK})"
        return self._part(item, level - 1)

    def _mapping(
        self, label: str, items: list[tuple[object, object]], size: int, level: int
    ) -> str:
        left, right = (f"{label}({{", "})") if label else ("{", "}")
        if size == 0:
            return left + right
        if level <= 0:
            self._cut = True
            return f"{left}… {size:,} items{right}"
        parts = (f"{self._part(k, level - 1)}: {self._entry(k, v, level)}" for k, v in items)
        return f"{left}{', '.join(self._take(parts, size))}{right}"

    def _fields(self, label: str, items: list[tuple[str, object]], size: int, level: int) -> str:
        if level <= 0:
            self._cut = True
            return f"{label}(…)"
        parts = (f"{safe_text(k)}={self._entry(k, v, level)}" for k, v in items)
        return f"{label}({', '.join(self._take(parts, size))})"

    def _entry(self, key: object, value: object, level: int) -> str:
        """An entry's or a field's value; ``MASK`` when its name is a secret."""
        name = name_of(key)
        if name is not None and self.policy.is_sensitive(name):
            return MASK
        return self._part(value, level - 1)

    def _wsgi_environ(self, environ: dict[str, object], level: int) -> str:
        """A WSGI environ's own keys (``werkzeug.request``, a middleware's), and a count of
        the rest: the request's keys (the page's Request section shows them) and the OS
        environment variables wsgiref copies in (never shown)."""
        shown: list[tuple[object, object]] = []
        request = from_os = 0
        for key, value in dict.items(environ):
            if isinstance(key, str) and (key.startswith(("HTTP_", "wsgi.")) or key in _CGI_KEYS):
                request += 1
            elif self._from_os(key, value):
                from_os += 1
            else:
                shown.append((key, value))
        text = self._mapping("", shown[: self.policy.max_items], len(shown), level)
        counts = [f"{request:,} request keys, shown under Request"] if request else []
        if from_os:
            counts.append(f"{from_os:,} OS environment variables not shown")
        return f"{text[:-1]}{', … ' if shown else '… '}{', '.join(counts)}}}" if counts else text

    def _from_os(self, key: object, value: object) -> bool:
        if not isinstance(key, str) or key in self.policy.environment or "." in key:
            return False  # "wsgi.input", "werkzeug.request": never OS variables
        try:
            return os.environ.get(key) == value
        except (UnicodeError, ValueError):  # a key no OS variable can have
            return False

    def _environment(self, value: object) -> str:
        """``os.environ`` or a copy of it: a count, never the variables (the page's
        Environment section shows the allow-listed ones)."""
        size = len(value) if isinstance(value, dict) else len(os.environ)
        return f"<the OS environment: {size:,} variables, not shown; see Environment>"

    def _other(self, value: object) -> str:
        """``repr(value)``, guarded, masked and cut: for what has no structure to show."""
        known = self._shown.get(id(value))
        if known is not None and known[0] is value:
            self._cut = self._cut or known[2]
            return known[1]
        cut = False
        ready = self._ready.pop(id(value), None)
        if ready is None and self._clock() > self._deadline and not _cheap(value):
            self.skipped += 1
            text = "<not shown: the time budget for values ran out>"
        else:
            outcome = ready[1] if ready is not None else self._represent(value)
            if outcome.failed is None:
                text = outcome.text
                limit = self.policy.max_value_chars
                if len(text) > limit:
                    cut = self._cut = True
                    head = self.masker.head(text, limit)
                    text = f"{head} … ({len(text):,} characters in all)"
                else:
                    text = self.masker.text(text)
            else:
                text = self._failed(outcome, value)
        self._shown[id(value)] = (value, text, cut)  # the object is held: its id stays its own
        return text

    def _represent(self, value: object) -> Outcome:
        """``repr(value)``: here when the interpreter's own repr makes it, else on a
        worker, abandoned at the page's deadline."""
        if _own_repr(value):
            return represent(value)
        return self._on_worker([value])[0]

    def _on_worker(self, values: list[object]) -> list[Outcome]:
        if self._reprs is None:
            self._reprs = Representer()
        return self._reprs.represent(values, self._deadline - self._clock())

    def prefetch(self, values: Iterable[object]) -> None:
        """Represent at once, in one hand-over to the worker, the values (and the items of
        built-in containers among them) whose repr the page will ask a worker for."""
        wanted: dict[int, object] = {}
        for value in values:
            kind = type(value)
            if kind is dict or kind is list or kind is tuple or kind is set:
                items = dict.values(value) if isinstance(value, dict) else value
                for item in islice(items, self.policy.max_items):  # type: ignore[call-overload]
                    if _asks_worker(item):
                        wanted.setdefault(id(item), item)
            elif _asks_worker(value):
                wanted.setdefault(id(value), value)
        if len(wanted) < 2 or self._clock() > self._deadline:
            return  # one value goes when it is shown: no gain in going now
        found = list(wanted.values())
        for value, outcome in zip(found, self._on_worker(found), strict=False):
            if outcome is not NO_WORKER:
                self._ready[id(value)] = (value, outcome)

    def _failed(self, outcome: Outcome, value: object = None) -> str:
        """What a value shows when its repr raised, timed out or could not run."""
        if outcome is TIMED_OUT:
            self.skipped += 1
            budget = self.policy.repr_budget
            return f"<repr timed out: still running when the {budget:g} s for values ran out>"
        if outcome is NO_WORKER:
            self.skipped += 1
            name = safe_text(self.masker.text(type(value).__qualname__))
            return f"<{name} object: not shown: {MAX_ABANDONED} timed-out reprs still run>"
        message = self.text(outcome.message, 200)[0]
        if not outcome.failed:
            return f"<repr failed: {message}>"
        return f"<repr failed: {outcome.failed}: {message}>"

    def _take(self, parts: Iterable[str], size: int) -> list[str]:
        """Up to ``max_items`` parts, fewer once the text is long enough; then a count."""
        taken: list[str] = []
        for part in islice(parts, self.policy.max_items):
            taken.append(part)
            if self._spent > self.policy.max_value_chars:
                break
        if len(taken) < size:
            self._cut = True
            taken.append(f"… {size - len(taken):,} more items")
        return taken


def _asks_worker(value: object) -> bool:
    """Whether showing ``value`` will ask a worker for its repr: a value ``Values._show``
    hands to ``_other``, whose repr is not the interpreter's own (may say no wrongly:
    such a value is then represented when it is shown)."""
    try:
        if type(value) in _PLAIN or type(value) is bytearray:
            return False
        if isinstance(value, dict | tuple | Mapping | Headers | MultiDict):
            return False
        if is_os_environment(value) or _shape(value) is not None or not has_own_repr(value):
            return False
        return not hasattr(type(value), "__dataclass_fields__") and not _own_repr(value)
    except BaseException:  # an object whose __class__ raises: shown the ordinary way
        return False


def _cheap(value: object) -> bool:
    """Shown at no cost in time, past the deadline too: a plain value, or one whose repr
    is the interpreter's own."""
    try:
        return type(value) in _PLAIN or _own_repr(value)
    except BaseException:
        return False


def _own_repr(value: object) -> bool:
    """Whether ``repr(value)`` is the interpreter's own, running no application code."""
    own = type(value).__repr__
    if own in _OWN_REPRS or type(value) in _PATHS:
        return True
    if own is _REQUEST[0]:
        kind = type(value)
        return (
            getattr(kind, "url", None) is _REQUEST[1] and getattr(kind, "host", None) is _REQUEST[2]
        )
    if own is _METHOD_REPR and isinstance(value, types.MethodType):
        return _own_repr(value.__self__)  # "<bound method T.f of {self!r}>"
    if own is BaseException.__repr__ and isinstance(value, BaseException):
        args = _ARGS.__get__(value)  # what the repr reads, whatever a subclass defines
        return all(type(arg) in _PLAIN for arg in args)
    zone = _TIMED_REPRS.get(own)
    return zone is not None and type(zone.__get__(value)) in (type(None), datetime.timezone)


def _shape(value: object) -> tuple[type, str, str, str] | None:
    """The built-in sequence ``value`` is, when it shows itself as that sequence does."""
    for shape in _SHAPES:
        base = shape[0]
        if isinstance(value, base):
            return shape if type(value).__repr__ is base.__repr__ else None
    return None

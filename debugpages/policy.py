"""What may be shown, and how much of it: the policy step.

Every string that reaches a page goes through here: it is escaped where it could
break a page or a terminal (lone surrogates, control and bidi characters), bounded
in length, and masked when its name says it is a secret. Values are represented
with a bounded ``reprlib.Repr``, once per object per page, within a time budget.

Masking works twice. By name: a local, field, header or dict entry whose name
matches a sensitive pattern shows ``MASK``. By value: every value found under such a
name (and every sensitive-named OS environment variable) is collected in ``Secrets``
and masked wherever else it appears, with credentials in URLs, by one pass of a
``Masker`` over the finished model, so no field of the model can escape it.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import collections
import dataclasses
import os
import re
import reprlib
import time
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus

from werkzeug.datastructures import Headers, MultiDict

from .config import limits
from .memo import Memo
from .model import SourceLine, Variable
from .names import is_secret_name
from .switch import ConfigurationError

MASK = "********"
"""What a masked value shows: fixed length, so the secret's length is not shown either."""

_FOLDER_VARIABLES = frozenset({"PWD", "OLDPWD"})
"""Shell variables whose names look like secrets ("pwd") but hold a folder: wsgiref copies
them into every environ, and masking the working folder would blank every path."""

SENSITIVE_VAR = "DEBUGPAGES_SENSITIVE"

ENVIRONMENT_ALLOWLIST = (
    "PATH", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "CONDA_PREFIX", "LANG", "LC_ALL", "TZ",
)  # fmt: skip
"""The OS environment variables the page shows; the environment is never shown whole."""

MIN_ENVIRON_SECRET = 6
"""Sensitive-named OS environment values shorter than this are not masked by value."""

_LONGEST_SECRET = 4096
_MAX_VERDICTS = 4096
_MAX_SECRET_CHARS = 64 * 1024
_URL_CREDENTIALS = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.\-]*://)[^\s/?#]*@")
_URL_REACH = 2048
"""How far past a cut a URL's ``user:password@`` is looked for."""

# C0 and C1 controls (but tab and newline), DEL, lone surrogates, bidi controls.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
# The same, and tab and newline too: for one-line fields such as a log record's path.
_UNSAFE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(text: str) -> str:
    """Escape what could crash an encoder or fool a reader; keep everything else."""
    if text.isprintable():  # no control, format (bidi) or surrogate character: as it is
        return text
    return _UNSAFE.sub(_escape, text)


def one_line(text: str) -> str:
    """``safe_text`` that also escapes newlines and tabs: nothing can forge a log line."""
    return _UNSAFE_LINE.sub(_escape, text)


def bound(text: str, limit: int) -> tuple[str, bool]:
    """Cut ``text`` to about ``limit`` characters, saying how long it was."""
    if len(text) <= limit:
        return text, False
    return f"{text[:limit]} … ({len(text):,} characters in all)", True


def cut_middle(text: str, limit: int, what: str) -> str:
    """``text`` in about ``limit`` characters: its first quarter and its end, with a line
    saying how much was cut between them (a traceback's end names the exception, its start
    where the request came in). Cuts fall between lines when a line ends near them."""
    if len(text) <= limit:
        return text
    head, tail = text[: limit // 4], text[len(text) - (limit - limit // 4) :]
    end = head.rfind("\n", len(head) - _NEAR)
    if end > 0:
        head = head[:end]
    start = tail.find("\n", 0, _NEAR)
    if start >= 0:
        tail = tail[start + 1 :]
    cut = len(text) - len(head) - len(tail)
    return f"{head}\n[... {cut:,} characters of {what} cut here to keep the page small ...]\n{tail}"


_NEAR = 2000
"""How far from a cut a line break may be and still be the place to cut."""


def collapse_repeats(
    keys: Sequence[Hashable], *, cutoff: int = 3, longest_run: int = 8
) -> list[tuple[int, int, int]]:
    """Find runs of frames repeated more than ``cutoff`` times in a row.

    Returns ``(index, run, repeated)`` for each frame to keep; ``run`` and
    ``repeated`` are non-zero on the last frame of a run that stands for
    ``repeated`` more copies of itself, as CPython's traceback collapses recursion.
    """
    n = len(keys)
    if len(set(keys)) == n:  # nothing repeats: the common case, decided in one pass
        return [(i, 0, 0) for i in range(n)]
    kept: list[tuple[int, int, int]] = []
    i = 0
    while i < n:
        best_run, best_times = 0, 1
        for run in range(1, min(longest_run, (n - i) // 2) + 1):
            block = keys[i : i + run]
            times = 1
            while keys[i + times * run : i + (times + 1) * run] == block:
                times += 1
            if times > cutoff and times * run > best_times * best_run:
                best_run, best_times = run, times
                if times * run == n - i:
                    break  # the rest is one run: no longer one can cover more
        if best_run:
            kept.extend((j, 0, 0) for j in range(i, i + best_run - 1))
            kept.append((i + best_run - 1, best_run, best_times - 1))
            i += best_run * best_times
        else:
            kept.append((i, 0, 0))
            i += 1
    return kept


@dataclass(frozen=True)
class Policy:
    """The limits and the masking rules of the traceback page. Replace it to change them."""

    context_lines: int = 5
    max_value_chars: int = 1024
    max_items: int = 20
    max_depth: int = 4
    max_message_chars: int = 8192
    max_frames_with_locals: int = 10
    max_frames_with_context: int = 30
    """Innermost frames shown with ``context_lines`` around their line; outer ones show
    their line alone (a 200-frame stack stays readable and small)."""
    max_variables: int = 100
    max_group_members: int = 15
    max_chain: int = 20
    max_frames: int = 200
    """Frames shown per exception after collapsing repeats: the outermost quarter, the
    innermost rest, and the count of those in between."""
    max_page_bytes: int = 1_000_000
    """The traceback page's size limit; what is cut to keep under it says so."""
    repr_budget: float = 0.25
    """Seconds of repr work per page; values still waiting when it runs out say so."""
    sensitive: tuple[str, ...] = ()
    """More secret names: regular expressions searched, ignoring case, in names (a plain
    word matches anywhere), on top of the word rules of ``debugpages.names``."""
    environment: tuple[str, ...] = ENVIRONMENT_ALLOWLIST
    """The OS environment variables the page shows, by exact name."""
    min_secret_chars: int = 4
    """Values found under sensitive names shorter than this are masked by name only."""
    max_secrets: int = 256
    """Texts (values and their escaped forms) masked by value per page; the rest by name only.

    Each one costs the masking regular expression time on every string of the page."""
    _sensitive_re: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _verdicts: dict[str, bool] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        limits(self)  # no negative or zero sizes, no string where a tuple belongs
        for pattern in self.sensitive:
            _check_pattern(pattern, "Policy.sensitive")
        joined = "|".join(f"(?:{pattern})" for pattern in self.sensitive)
        found = re.compile(joined, re.IGNORECASE) if joined else None
        object.__setattr__(self, "_sensitive_re", found)
        object.__setattr__(self, "_verdicts", {})

    def is_sensitive(self, name: str) -> bool:
        """Whether a variable, field or header of this name holds a secret."""
        verdict = self._verdicts.get(name)
        if verdict is None:
            # Names repeat from failure to failure (headers, environment, locals): remember.
            if len(self._verdicts) >= _MAX_VERDICTS:
                self._verdicts.clear()
            found = is_secret_name(name) or (
                self._sensitive_re is not None and self._sensitive_re.search(name) is not None
            )
            verdict = self._verdicts[name] = found and name not in _FOLDER_VARIABLES
        return verdict

    def sensitive_among(self, names: Iterable[object]) -> list[str]:
        """The names that hold secrets, in order (anything but a string is no name).

        One call for a whole list (an environ's keys, a code's locals): the verdicts
        already known are looked up without a call per name.
        """
        verdicts = self._verdicts
        found: list[str] = []
        for name in names:
            if isinstance(name, str):
                verdict = verdicts.get(name)
                if verdict is None:
                    verdict = self.is_sensitive(name)
                if verdict:
                    found.append(name)
        return found

    def with_sensitive(self, *patterns: str) -> Policy:
        """This policy, with more sensitive-name patterns."""
        if not patterns:
            return self
        return dataclasses.replace(self, sensitive=(*self.sensitive, *patterns))

    def text(self, value: str, limit: int | None = None) -> tuple[str, bool]:
        """Escape and bound a string for display (cut first, so a huge string costs little)."""
        limit = self.max_value_chars if limit is None else limit
        if len(value) <= limit:
            if value.isprintable():  # most texts: nothing to escape, nothing to cut
                return value, False
            return bound(safe_text(value), limit)
        return f"{safe_text(value[:limit])[:limit]} … ({len(value):,} characters in all)", True

    def field(self, name: str, value: str) -> Variable:
        """A request field (query, form, header): masked by name, else escaped and bounded."""
        shown_name = safe_text(name)
        if self.is_sensitive(name):
            return Variable(shown_name, MASK, False, True)
        text, cut = self.text(value)
        return Variable(shown_name, text, cut)


def _check_pattern(pattern: str, setting: str) -> None:
    if not isinstance(pattern, str) or not pattern:
        raise ConfigurationError(f"{setting}: {pattern!r} is not a pattern (a non-empty string)")
    try:
        re.compile(pattern)
    except re.error as error:
        raise ConfigurationError(
            f"{setting}: {pattern!r} is not a regular expression ({error})"
        ) from None


def sensitive_from_environment(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The extra patterns of ``DEBUGPAGES_SENSITIVE``: comma-separated, blanks ignored."""
    value = (os.environ if environ is None else environ).get(SENSITIVE_VAR, "")
    patterns = tuple(part.strip() for part in value.split(",") if part.strip())
    for pattern in patterns:
        _check_pattern(pattern, SENSITIVE_VAR)
    return patterns


M = TypeVar("M")


class Masker:
    """Masks, in any text, the secret values of one page and credentials in URLs.

    One regular expression of the escaped values, longest first, compiled once per page.
    """

    def __init__(self, values: Iterable[str] = ()) -> None:
        ordered = sorted(values, key=len, reverse=True)
        self._values = re.compile("|".join(map(re.escape, ordered))) if ordered else None
        self.reach = (len(ordered[0]) if ordered else 0) + _URL_REACH
        """How far past a cut a secret that starts before it can reach."""

    def head(self, text: str, limit: int) -> str:
        """The first ``limit`` characters of ``text``, masked as if the whole were.

        Only the part a secret starting before the cut can reach is scanned: a 5 MB
        string costs what its first kilobytes cost.
        """
        return self.text(text[: limit + self.reach])[:limit]

    def text(self, text: str) -> str:
        """``text`` with every secret value and every URL's ``user:password@`` masked."""
        if "://" in text:
            text = _URL_CREDENTIALS.sub(rf"\1{MASK}@", text)
        if self._values is not None:
            text = self._values.sub(MASK, text)
        return text

    def finds(self, text: str) -> bool:
        """Whether ``text`` holds anything ``text()`` would mask: one search, no copy."""
        if "://" in text and _URL_CREDENTIALS.search(text):
            return True
        return self._values is not None and self._values.search(text) is not None

    def model(self, value: M) -> M:
        """A copy of a model (frozen dataclasses, tuples, strings) with every string masked."""
        masked: M = self._walk(value)
        return masked

    def _walk(self, value: Any) -> Any:
        """``value`` itself when nothing in it changed (the common case, kept cheap)."""
        kind = type(value)
        if kind is str:
            return self.text(value)
        if kind is tuple:
            items = [self._walk(item) for item in value]
            if any(new is not old for new, old in zip(items, value, strict=True)):
                return tuple(items)
            return value
        names = _FIELDS.get(kind)
        if names is None:
            is_model = dataclasses.is_dataclass(kind)
            names = _FIELDS[kind] = (
                tuple(f.name for f in dataclasses.fields(kind)) if is_model else ()
            )
        changes: dict[str, Any] = {}
        for name in names:
            old = getattr(value, name)
            member = type(old)
            if member is str:
                new = self.text(old)
            elif member in _LEAVES:
                continue
            else:
                new = self._walk(old)
            if new is not old:
                changes[name] = new
        if not changes:
            return value
        if kind is SourceLine and "text" in changes:
            changes["mark"] = None  # the columns moved
        return dataclasses.replace(value, **changes)


_CGI_KEYS = frozenset({
    "REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE",
    "CONTENT_LENGTH", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "SERVER_SOFTWARE",
    "REMOTE_ADDR", "REMOTE_PORT", "REMOTE_HOST", "REMOTE_USER", "REQUEST_URI", "RAW_URI",
    "GATEWAY_INTERFACE", "AUTH_TYPE",
})  # fmt: skip
"""A WSGI environ's CGI keys: the request itself, which the page shows on its own."""

_LEAVES = frozenset({int, bool, float, type(None)})
_FIELDS: Memo[type, tuple[str, ...]] = Memo()
"""The field names of each model class the masker walks; ``()`` for anything else."""


NO_MASKER = Masker()
"""Masks credentials in URLs only."""


class Secrets:
    """The secret values of one page, collected by name, to be masked wherever they appear."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.left_out = 0
        self._values: set[str] = set()
        self._chars = 0
        self._masker: Masker | None = NO_MASKER

    def add(self, value: object, minimum: int | None = None, depth: int = 2) -> None:
        """Collect a value found under a sensitive name: a string, bytes, or their containers."""
        least = max(self.policy.min_secret_chars if minimum is None else minimum, 1)
        kind = type(value)
        if kind in (list, tuple, set, frozenset, dict):  # exact types: no user code runs
            if depth > 0:
                items = dict.values(value) if kind is dict else value  # type: ignore[arg-type]
                for item in islice(items, 100):  # type: ignore[call-overload]
                    self.add(item, minimum, depth - 1)
            return
        if self.left_out:
            self.left_out += 1  # full already: no more work for values that cannot be added
            return
        if isinstance(value, str):
            text = str.__str__(value)
            forms = [text, builtins.repr(text)[1:-1]]
        elif isinstance(value, int) and kind is int:  # a PIN, a one-time code; never a bool
            text = int.__repr__(value) if value.bit_length() < 128 else ""
            forms = [text]
        elif isinstance(value, bytes | bytearray):
            raw = bytes(value) if kind is bytearray else bytes.__bytes__(value)  # type: ignore[arg-type]
            text = raw.decode("utf-8", "replace")
            forms = [text, builtins.repr(raw)[2:-1]]
        else:
            return
        if len(text) < least:
            return
        if len(text) > _LONGEST_SECRET:  # a key file: its lines are what can show
            forms = [line.strip() for line in islice(text.splitlines(), 200)]
            least = max(least, 8)
        else:
            forms += [safe_text(text), quote(text, safe=""), quote_plus(text, safe="")]
        new = {form for form in forms if len(form) >= least and form not in MASK} - self._values
        if not new:
            return
        size = sum(map(len, new))
        if len(self._values) + len(new) > self.policy.max_secrets or (
            self._chars + size > _MAX_SECRET_CHARS  # the regular expression stays cheap
        ):
            self.left_out += 1
            return
        self._values |= new
        self._chars += size
        self._masker = None

    def add_credentials(self, header: str) -> None:
        """An ``Authorization`` value: the whole, the credentials, and Basic's password."""
        self.add(header)
        scheme, _, credentials = header.strip().partition(" ")
        credentials = credentials.strip()
        self.add(credentials)
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credentials, validate=True).decode("utf-8", "replace")
            except (binascii.Error, ValueError):
                return
            self.add(decoded)
            self.add(decoded.partition(":")[2])

    def masker(self) -> Masker:
        """The masker for the values collected so far (compiled once until more come)."""
        if self._masker is None:
            self._masker = Masker(self._values)
        return self._masker


class _BoundedRepr(reprlib.Repr):
    """``reprlib.Repr`` that counts what it leaves out, stops at a size and masks secrets.

    It dispatches on the type's ``__repr__`` rather than its name, so a subclass that
    keeps ``list.__repr__`` is bounded too, and a user's class named ``list`` is not
    mistaken for one. Mappings mask the values of sensitive keys, pairs such as
    ``("Set-Cookie", value)`` their second item; ``os.environ`` is never shown whole.
    """

    def __init__(self, policy: Policy, secrets: Secrets) -> None:
        super().__init__()
        self.policy = policy
        self.secrets = secrets
        self.masker = secrets.masker()
        self.maxlevel = policy.max_depth
        self.maxstring = self.maxother = policy.max_value_chars
        self.max_items = policy.max_items
        self.cut = False
        self._spent = 0
        self._others: dict[int, tuple[object, str, bool]] = {}
        """Objects shown by their own ``__repr__`` on this page, by id, each with its text
        and whether it was cut: an object held by several containers is asked once."""

    def shown(self, value: object) -> tuple[str, bool]:
        """The bounded representation of one value, and whether anything was cut."""
        self.cut, self._spent = False, 0
        return self.repr1(value, self.maxlevel), self.cut

    def repr1(self, x: object, level: int) -> str:
        handler = _DISPATCH.get(type(x).__repr__)
        text = self._other(x) if handler is None else handler(self, x, level)
        self._spent += len(text)
        return text

    def _other(self, x: object) -> str:
        known = self._others.get(id(x))
        if known is not None and known[0] is x:
            self.cut = self.cut or known[2]
            return known[1]
        cut = False
        try:
            text = builtins.repr(x)
        except Exception as exc:
            text = f"<repr failed: {type(exc).__qualname__}: {_message_of(exc, 200)}>"
        else:
            if not isinstance(text, str):
                text = f"<repr failed: it returned {type(text).__qualname__}, not str>"
            elif len(text) > self.maxother:
                cut = self.cut = True
                head = self.masker.head(text, self.maxother)  # no part of a secret stays
                text = f"{head} … ({len(text):,} characters in all)"
        self._others[id(x)] = (x, text, cut)  # the object is held: its id stays its own
        return text

    def release(self) -> None:
        """Drop the objects shown on this page."""
        self._others.clear()

    def _text(self, x: object, level: int) -> str:
        assert isinstance(x, str | bytes | bytearray)
        if len(x) <= self.maxstring:
            return builtins.repr(x)
        self.cut = True
        unit = "characters" if isinstance(x, str) else "bytes"
        start = self.masker.head(str.__str__(x), self.maxstring) if isinstance(x, str) else x
        return f"{start[: self.maxstring]!r} … ({len(x):,} {unit} in all)"

    def _int(self, x: object, level: int) -> str:
        assert isinstance(x, int)
        if x.bit_length() > 4 * self.maxstring:
            self.cut = True
            return f"<int of {x.bit_length():,} bits>"
        return int.__repr__(x)

    def _tuple(self, x: object, level: int) -> str:
        assert isinstance(x, tuple)
        if len(x) == 2 and isinstance(x[0], str) and self.policy.is_sensitive(x[0]):
            self.secrets.add(x[1])
            return f"({self.repr1(x[0], level - 1)}, {MASK})"
        return self._items(x, level, "(", ")", 1)

    def _items(
        self,
        x: object,
        level: int,
        left: str,
        right: str,
        trailing_comma: int = 0,
        empty: str | None = None,
    ) -> str:
        assert isinstance(x, Sequence | set | frozenset | collections.deque)
        size = len(x)
        if size == 0:
            return empty if empty is not None else left + right
        if level <= 0:
            self.cut = True
            return f"{left}… {size:,} items{right}"
        parts = self._take((self.repr1(item, level - 1) for item in x), size)
        comma = "," if size == trailing_comma else ""
        return f"{left}{', '.join(parts)}{comma}{right}"

    def _dict(self, x: object, level: int) -> str:
        assert isinstance(x, dict)
        size = len(x)
        if size == 0:
            return "{}"
        if level <= 0:
            self.cut = True
            return f"{{… {size:,} items}}"
        items: Collection[tuple[object, object]] = dict.items(x)
        summary: list[str] = []
        if dict.__contains__(x, "wsgi.version"):
            items, summary = self._environ_items(items)
        pairs = (f"{self.repr1(k, level - 1)}: {self._value(k, v, level)}" for k, v in items)
        parts = self._take(pairs, len(items)) if items else []
        return f"{{{', '.join([*parts, *summary])}}}"

    def _environ_items(
        self, items: Iterable[tuple[object, object]]
    ) -> tuple[list[tuple[object, object]], list[str]]:
        """A WSGI environ's own keys (``werkzeug.request``, a middleware's), and a count of
        the rest: the request's keys (the page's Request section shows them) and the OS
        environment variables wsgiref copies in (never shown)."""
        shown: list[tuple[object, object]] = []
        request = from_os = 0
        for key, value in items:
            if isinstance(key, str) and (key.startswith(("HTTP_", "wsgi.")) or key in _CGI_KEYS):
                request += 1
            elif self._from_os_environ(key, value):
                from_os += 1
            else:
                shown.append((key, value))
        summary = [f"… {request:,} request keys, shown under Request"] if request else []
        if from_os:
            summary.append(f"… {from_os:,} OS environment variables not shown")
        return shown, summary

    def _pairs(
        self, x: object, level: int, items: Callable[[Any], Iterable[tuple[object, object]]]
    ) -> str:
        """werkzeug's ``Headers`` and ``MultiDict``: ``Name([(key, value), ...])``, masked."""
        pairs = list(items(x))
        name = type(x).__name__
        if level <= 0:
            self.cut = True
            return f"{name}([…])"
        shown = (f"({self.repr1(k, level - 1)}, {self._value(k, v, level)})" for k, v in pairs)
        return f"{name}([{', '.join(self._take(shown, len(pairs)))}])"

    def _value(self, key: object, value: object, level: int) -> str:
        """A mapping's value, masked when its key names a secret (an environ, a settings dict)."""
        if isinstance(key, str) and self.policy.is_sensitive(key):
            self.secrets.add(value)
            return MASK
        return self.repr1(value, level - 1)

    def _from_os_environ(self, key: object, value: object) -> bool:
        if not isinstance(key, str) or key in self.policy.environment or "." in key:
            return False  # "wsgi.input", "werkzeug.request": never OS variables
        try:
            return os.environ.get(key) == value
        except (UnicodeError, ValueError):  # a key no OS variable can have
            return False

    def _os_environ_repr(self, x: object, level: int) -> str:
        return f"<os.environ: {len(os.environ):,} variables, not shown; see Environment>"

    def _take(self, parts: Iterable[str], size: int) -> list[str]:
        """Up to ``max_items`` parts, fewer once the text is long enough; then a count."""
        taken: list[str] = []
        for part in islice(parts, self.max_items):
            taken.append(part)
            if self._spent > self.maxother:
                break
        if len(taken) < size:
            self.cut = True
            taken.append(f"… {size - len(taken):,} more items")
        return taken


_DISPATCH: dict[object, Callable[[_BoundedRepr, object, int], str]] = {
    list.__repr__: lambda r, x, level: r._items(x, level, "[", "]"),
    tuple.__repr__: _BoundedRepr._tuple,
    set.__repr__: lambda r, x, level: r._items(x, level, "{", "}", empty="set()"),
    frozenset.__repr__: lambda r, x, level: r._items(
        x, level, "frozenset({", "})", empty="frozenset()"
    ),
    collections.deque.__repr__: lambda r, x, level: r._items(x, level, "deque([", "])"),
    dict.__repr__: _BoundedRepr._dict,
    str.__repr__: _BoundedRepr._text,
    bytes.__repr__: _BoundedRepr._text,
    bytearray.__repr__: _BoundedRepr._text,
    int.__repr__: _BoundedRepr._int,
    Headers.__repr__: lambda r, x, level: r._pairs(x, level, Headers.items),
    MultiDict.__repr__: lambda r, x, level: r._pairs(
        x, level, lambda d: MultiDict.items(d, multi=True)
    ),
    type(os.environ).__repr__: _BoundedRepr._os_environ_repr,
}
"""How ``_BoundedRepr`` shows each kind, by the type's ``__repr__``: one table for all (a
table of bound methods per instance would tie every page's values into a reference cycle)."""


def _message_of(exc: BaseException, limit: int) -> str:
    try:
        text = str(exc)
    except Exception:
        return "<str() failed>"
    return bound(text, limit)[0]


class ValueFormatter:
    """Shows values for one page: each object once, masked by name, within a time budget."""

    def __init__(
        self,
        policy: Policy,
        clock: Callable[[], float] = time.perf_counter,
        *,
        secrets: Secrets | None = None,
    ) -> None:
        self.policy = policy
        self.secrets = Secrets(policy) if secrets is None else secrets
        self._repr = _BoundedRepr(policy, self.secrets)
        self._clock = clock
        self._deadline = clock() + policy.repr_budget
        self._seen: dict[int, tuple[str, bool]] = {}
        self._alive: list[object] = []  # keeps ids unique while the page is captured
        self.skipped = 0

    def variable(self, name: str, value: object, *, sensitive: bool = False) -> Variable:
        """One local variable as the page shows it; ``sensitive``: known to be (its frame's
        code marks it with ``sensitive_variables``), else judged by its name."""
        shown_name = safe_text(name)
        if sensitive or self.policy.is_sensitive(name):
            self.secrets.add(value)
            return Variable(shown_name, MASK, masked=True)
        known = self._seen.get(id(value))
        if known is None:
            if self._clock() > self._deadline:
                self.skipped += 1
                return Variable(shown_name, "<not shown: the time budget for values ran out>", True)
            try:
                text, cut = self._repr.shown(value)
            except Exception as exc:
                text = f"<repr failed: {type(exc).__qualname__}: {_message_of(exc, 200)}>"
                cut = False
            text, cut_again = self.policy.text(text, self.policy.max_value_chars * 2)
            known = (text, cut or cut_again)
            self._seen[id(value)] = known
            self._alive.append(value)
        return Variable(shown_name, known[0], known[1])

    def text(self, value: str, limit: int | None = None) -> tuple[str, bool]:
        """A message or note: secrets masked before it is bounded, so no part of one stays."""
        return self.policy.text(self._repr.masker.text(value), limit)

    def release(self) -> None:
        """Drop every reference to the application's values."""
        self._seen.clear()
        self._alive.clear()
        self._repr.release()

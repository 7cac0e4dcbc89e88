"""What may be shown, and how much of it: the policy step.

Every string that reaches a page goes through here: it is escaped where it could
break a page or a terminal (lone surrogates, control and bidi characters), bounded
in length, and masked when its name says it is a secret. Values are represented
with a bounded ``reprlib.Repr``, once per object per page, within a time budget.
"""

from __future__ import annotations

import builtins
import collections
import re
import reprlib
import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import islice

from .model import Variable

MASK = "********"
"""What a masked value shows: fixed length, so the secret's length is not shown either."""

DEFAULT_SENSITIVE = (
    "api", "token", "key", "secret", "pass", "pwd", "signature", "auth",
    "cookie", "session", "csrf", "credential", "private", "dsn",
)  # fmt: skip

# C0 and C1 controls (but tab and newline), DEL, lone surrogates, bidi controls.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(text: str) -> str:
    """Escape what could crash an encoder or fool a reader; keep everything else."""
    return _UNSAFE.sub(_escape, text)


def bound(text: str, limit: int) -> tuple[str, bool]:
    """Cut ``text`` to about ``limit`` characters, saying how long it was."""
    if len(text) <= limit:
        return text, False
    return f"{text[:limit]} … ({len(text):,} characters in all)", True


def collapse_repeats(
    keys: Sequence[Hashable], *, cutoff: int = 3, longest_run: int = 8
) -> list[tuple[int, int, int]]:
    """Find runs of frames repeated more than ``cutoff`` times in a row.

    Returns ``(index, run, repeated)`` for each frame to keep; ``run`` and
    ``repeated`` are non-zero on the last frame of a run that stands for
    ``repeated`` more copies of itself, as CPython's traceback collapses recursion.
    """
    kept: list[tuple[int, int, int]] = []
    i, n = 0, len(keys)
    while i < n:
        best_run, best_times = 0, 1
        for run in range(1, min(longest_run, (n - i) // 2) + 1):
            block = keys[i : i + run]
            times = 1
            while keys[i + times * run : i + (times + 1) * run] == block:
                times += 1
            if times > cutoff and times * run > best_times * best_run:
                best_run, best_times = run, times
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
    sensitive: tuple[str, ...] = DEFAULT_SENSITIVE
    _sensitive_re: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pattern = "|".join(re.escape(word) for word in self.sensitive) or "(?!)"
        object.__setattr__(self, "_sensitive_re", re.compile(pattern, re.IGNORECASE))

    def is_sensitive(self, name: str) -> bool:
        """Whether a variable, field or header of this name holds a secret."""
        return self._sensitive_re.search(name) is not None

    def text(self, value: str, limit: int | None = None) -> tuple[str, bool]:
        """Escape and bound a string for display (cut first, so a huge string costs little)."""
        limit = self.max_value_chars if limit is None else limit
        if len(value) <= limit:
            return bound(safe_text(value), limit)
        return f"{safe_text(value[:limit])[:limit]} … ({len(value):,} characters in all)", True

    def field(self, name: str, value: str) -> Variable:
        """A request field (query, form, header): masked by name, else escaped and bounded."""
        shown_name = safe_text(name)
        if self.is_sensitive(name):
            return Variable(shown_name, MASK, masked=True)
        text, cut = self.text(value)
        return Variable(shown_name, text, cut=cut)


class _BoundedRepr(reprlib.Repr):
    """``reprlib.Repr`` that counts what it leaves out and stops at a size.

    It dispatches on the type's ``__repr__`` rather than its name, so a subclass that
    keeps ``list.__repr__`` is bounded too, and a user's class named ``list`` is not
    mistaken for one.
    """

    def __init__(
        self, max_chars: int, max_items: int, max_depth: int, is_sensitive: Callable[[str], bool]
    ) -> None:
        super().__init__()
        self.is_sensitive = is_sensitive
        self.maxlevel = max_depth
        self.maxstring = self.maxother = max_chars
        self.max_items = max_items
        self.cut = False
        self._spent = 0
        self._dispatch: dict[object, Callable[[object, int], str]] = {
            list.__repr__: lambda x, level: self._items(x, level, "[", "]"),
            tuple.__repr__: lambda x, level: self._items(x, level, "(", ")", 1),
            set.__repr__: lambda x, level: self._items(x, level, "{", "}", empty="set()"),
            frozenset.__repr__: lambda x, level: self._items(
                x, level, "frozenset({", "})", empty="frozenset()"
            ),
            collections.deque.__repr__: lambda x, level: self._items(x, level, "deque([", "])"),
            dict.__repr__: self._dict,
            str.__repr__: self._text,
            bytes.__repr__: self._text,
            bytearray.__repr__: self._text,
            int.__repr__: self._int,
        }

    def shown(self, value: object) -> tuple[str, bool]:
        """The bounded representation of one value, and whether anything was cut."""
        self.cut, self._spent = False, 0
        return self.repr1(value, self.maxlevel), self.cut

    def repr1(self, x: object, level: int) -> str:
        handler = self._dispatch.get(type(x).__repr__)
        text = self._other(x) if handler is None else handler(x, level)
        self._spent += len(text)
        return text

    def _other(self, x: object) -> str:
        try:
            text = builtins.repr(x)
        except Exception as exc:
            return f"<repr failed: {type(exc).__qualname__}: {_message_of(exc, 200)}>"
        if len(text) > self.maxother:
            self.cut = True
            return f"{text[: self.maxother]} … ({len(text):,} characters in all)"
        return text

    def _text(self, x: object, level: int) -> str:
        assert isinstance(x, str | bytes | bytearray)
        if len(x) <= self.maxstring:
            return builtins.repr(x)
        self.cut = True
        unit = "characters" if isinstance(x, str) else "bytes"
        return f"{x[: self.maxstring]!r} … ({len(x):,} {unit} in all)"

    def _int(self, x: object, level: int) -> str:
        assert isinstance(x, int)
        if x.bit_length() > 4 * self.maxstring:
            self.cut = True
            return f"<int of {x.bit_length():,} bits>"
        return int.__repr__(x)

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
        pairs = (f"{self.repr1(k, level - 1)}: {self._value(k, v, level)}" for k, v in x.items())
        return f"{{{', '.join(self._take(pairs, size))}}}"

    def _value(self, key: object, value: object, level: int) -> str:
        """A dict's value, masked when its key names a secret (an environ, a settings dict)."""
        if isinstance(key, str) and self.is_sensitive(key):
            return MASK
        return self.repr1(value, level - 1)

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


def _message_of(exc: BaseException, limit: int) -> str:
    try:
        text = str(exc)
    except Exception:
        return "<str() failed>"
    return bound(text, limit)[0]


class ValueFormatter:
    """Shows values for one page: each object once, masked by name, within a time budget."""

    def __init__(self, policy: Policy, clock: Callable[[], float] = time.perf_counter) -> None:
        self.policy = policy
        self._repr = _BoundedRepr(
            policy.max_value_chars, policy.max_items, policy.max_depth, policy.is_sensitive
        )
        self._clock = clock
        self._deadline = clock() + policy.repr_budget
        self._seen: dict[int, tuple[str, bool]] = {}
        self._alive: list[object] = []  # keeps ids unique while the page is captured
        self.skipped = 0

    def variable(self, name: str, value: object) -> Variable:
        """One local variable as the page shows it."""
        shown_name = safe_text(name)
        if self.policy.is_sensitive(name):
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

    def release(self) -> None:
        """Drop every reference to the application's values."""
        self._seen.clear()
        self._alive.clear()

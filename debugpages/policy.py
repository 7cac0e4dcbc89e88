"""What may be shown, and how much of it: the ``Policy``, and the text helpers every
step uses to escape what could break a page or a terminal (lone surrogates, control
and bidi characters) and to bound what is long.

Which names hold secrets is ``debugpages.names``' rule, to which a policy adds its own
patterns; the later steps (secrets, values, model) read their limits from here.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .config import limits
from .names import is_secret_name
from .switch import ConfigurationError

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

_MAX_VERDICTS = 4096
_MAX_KEY_SETS = 16
K = TypeVar("K")

# C0 and C1 controls (but tab and newline), DEL, lone surrogates, bidi controls.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
# The same, and tab and newline too: for one-line fields such as a log record's path.
_UNSAFE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(text: str) -> str:
    """Escape what could crash an encoder or fool a reader; keep everything else. Always a
    plain ``str``: a ``Markup``, a ``SafeString`` or any ``str`` with an ``__html__`` would
    reach an HTML page unescaped."""
    if type(text) is not str:
        text = str.__str__(text)
    if text.isprintable():  # no control, format (bidi) or surrogate character: as it is
        return text
    return _UNSAFE.sub(_escape, text)


def one_line(text: str) -> str:
    """``safe_text`` that also escapes newlines and tabs: nothing can forge a log line."""
    return _UNSAFE_LINE.sub(_escape, str.__str__(text))


def bound(text: str, limit: int) -> tuple[str, bool]:
    """Cut ``text`` to about ``limit`` characters, saying how long it was."""
    if len(text) <= limit:
        return text, False
    return f"{text[:limit]} … ({len(text):,} characters in all)", True


def cut_middle(text: str, limit: int, what: str, small: str = "the page") -> str:
    """``text`` in about ``limit`` characters: its first quarter and its end, with a line
    saying how much was cut between them to keep ``small`` small (a traceback's end names
    the exception, its start where the request came in). Cuts fall between lines when a
    line ends near them."""
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
    return f"{head}\n[... {cut:,} characters of {what} cut here to keep {small} small ...]\n{tail}"


_NEAR = 2000
"""How far from a cut a line break may be and still be the place to cut."""


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
    """Frames shown with ``context_lines`` around their line, the innermost application
    frames first, then library frames; others show their line alone (a 200-frame stack
    stays readable and small)."""
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
    """Secret values masked by value per failure (each in all its forms); the rest by name
    only. Each one is searched for in every string shown."""
    _sensitive_re: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _verdicts: dict[str, bool] = field(init=False, repr=False, compare=False)
    _among: dict[frozenset[Any], tuple[Any, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        limits(self)  # no negative or zero sizes, no string where a tuple belongs
        for pattern in self.sensitive:
            _check_pattern(pattern, "Policy.sensitive")
        joined = "|".join(f"(?:{pattern})" for pattern in self.sensitive)
        found = re.compile(joined, re.IGNORECASE) if joined else None
        object.__setattr__(self, "_sensitive_re", found)
        object.__setattr__(self, "_verdicts", {})
        object.__setattr__(self, "_among", {})

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

    def sensitive_among(self, keys: frozenset[K], name: Callable[[K], str]) -> tuple[K, ...]:
        """The keys whose ``name`` is sensitive, remembered for the set of keys: an OS
        environment's names change seldom (its values are read anew by the caller)."""
        found = self._among.get(keys)
        if found is None:
            if len(self._among) >= _MAX_KEY_SETS:
                self._among.clear()
            found = self._among[keys] = tuple(k for k in keys if self.is_sensitive(name(k)))
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
            if type(value) is str and value.isprintable():  # most: nothing to escape or cut
                return value, False
            return bound(safe_text(value), limit)
        return f"{safe_text(value[:limit])[:limit]} … ({len(value):,} characters in all)", True


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

"""What an HTTP error asks of the response, read so that no attribute value can break it.

An ``HTTPException`` (werkzeug's, Flask's ``abort``, a subclass of the application's own)
is plain Python: its ``code`` may be of any type or range, its ``description`` or ``name``
a lazy translation string whose ``str()`` raises, its headers any pair of strings, line
breaks included. werkzeug checks none of it (``Response`` takes ``"404.0"`` for a reason
phrase, ``True`` for status 1). Here each attribute is read once, guarded: what cannot be
sent is dropped, and said (``dropped``), so that the page keeps a valid status line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.http import is_hop_by_hop_header
from werkzeug.wrappers import Response

from .policy import one_line

_TOKEN = re.compile(r"[A-Za-z]([A-Za-z0-9_-]*[A-Za-z0-9])?")
"""A header name as PEP 3333's checker (``wsgiref.validate``) takes it: the RFC's
token characters that every server and proxy passes on."""
_FIELD_VALUE = re.compile(r"[\x20-\x7e\x80-\xff]*")
"""A header value that any server can send: latin-1 text without control characters."""
_OURS = {"content-type", "content-length", "status"}
"""Set by the page itself (``Status`` is the CGI name of the status line)."""


def shown(value: object, limit: int = 80) -> str:
    """``repr(value)`` on one line, bounded; its type's name when the repr fails."""
    try:
        text = repr(value)
        if not isinstance(text, str):
            raise TypeError("__repr__ returned a non-string")
    except Exception:
        return f"<{one_line(type(value).__qualname__)[:limit]} object>"
    text = one_line(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def error_text(error: BaseException) -> str:
    """``TypeName: message`` of an error met while reading, on one line and bounded."""
    try:
        message = str(error)
    except Exception:
        message = "<str() failed>"
    return f"{one_line(type(error).__qualname__)}: {shown(message)}"


def as_int(value: object) -> int | None:
    """``value`` as a plain int when it is one (``HTTPStatus`` is; ``True`` is not)."""
    if isinstance(value, bool) or not issubclass(type(value), int):
        return None
    return int.__int__(value)  # type: ignore[arg-type]  # the base's: no override runs


def status_code(exc: HTTPException) -> int | None:
    """The exception's ``code`` as a plain int; ``None`` when it is anything else."""
    try:
        return as_int(exc.code)
    except Exception:
        return None


def own_response(exc: HTTPException) -> Response | None:
    """The response an exception carries (``abort(response)``), when it is one."""
    try:
        response = exc.response
    except Exception:
        return None
    return response if isinstance(response, Response) else None


@dataclass(frozen=True, slots=True)
class HTTPError:
    """An HTTP error as it can be sent: a status, texts, and what had to be dropped."""

    status: int
    description: str | None = None
    title: str | None = None
    explanation: str | None = None
    """Why the status is not the one asked for: shown outside ``off``, and logged."""
    dropped: tuple[str, ...] = ()


def read_http_error(exc: HTTPException) -> HTTPError:
    """The status, description and title of ``exc``, each read once and guarded."""
    dropped = []
    try:
        response: object = exc.response
    except Exception as error:
        response = error
    if response is not None and not isinstance(response, Response):
        dropped.append(f"its response ({shown(response)}: not a werkzeug Response)")
    code = status_code(exc)
    if code is None or not 400 <= code <= 599:
        what = f"{one_line(type(exc).__qualname__)}.code is {_code_shown(exc)}"
        dropped.append(f"its code ({what})")
        explanation = (
            f"{what}: not the status code of an HTTP error (an int from 400 to 599), "
            "so it was sent as a 500."
        )
        return HTTPError(500, explanation=explanation, dropped=tuple(dropped))
    description = text_of(exc, "description", dropped)
    title = None
    if type(exc).name is not HTTPException.name:  # a name of its own; werkzeug's is its table's
        title = text_of(exc, "name", dropped)
    return HTTPError(code, description or None, title, dropped=tuple(dropped))


def _code_shown(exc: HTTPException) -> str:
    try:
        code = exc.code
    except Exception as error:
        return f"unreadable ({error_text(error)})"
    return f"{shown(code)} ({one_line(type(code).__qualname__)[:40]})"


def text_of(owner: object, name: str, dropped: list[str]) -> str | None:
    """An attribute as text (a lazy translation string is one); ``None`` when unset or
    when reading it fails (said in ``dropped``)."""
    try:
        value = getattr(owner, name, None)
        if value is None:
            return None
        text = str(value)
        if not isinstance(text, str):
            raise TypeError("__str__ returned a non-string")
        return str.__str__(text)  # a plain str: a subclass (Markup) is text like any other
    except Exception as error:
        dropped.append(f"its {name} ({error_text(error)})")
        return None


def sendable_headers(pairs: Iterable[object], dropped: list[str]) -> list[tuple[str, str]]:
    """The pairs that are headers a server can send, but for those the page sets itself
    and hop-by-hop ones (PEP 3333 forbids them); each other is said in ``dropped``."""
    kept = []
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            dropped.append(f"a header that is not a (name, value) pair: {shown(pair)}")
            continue
        name, value = pair
        if not (isinstance(name, str) and _TOKEN.fullmatch(name)):
            dropped.append(f"the header {shown(name)} (not a header name)")
        elif name.lower() in _OURS or is_hop_by_hop_header(name):
            if name.lower() not in ("content-type", "content-length"):
                dropped.append(f"the header {name} (the page's own, or hop-by-hop)")
        elif not (isinstance(value, str) and _FIELD_VALUE.fullmatch(value)):
            why = "a line break or a control character, or text beyond latin-1"
            dropped.append(f"the header {name} (its value {shown(value, 40)} holds {why})")
        else:
            kept.append((str.__str__(name), str.__str__(value)))
    return kept


def own_headers(
    exc: HTTPException, environ: Mapping[str, Any], dropped: list[str]
) -> list[tuple[str, str]]:
    """The headers an ``HTTPException`` adds (``Allow``, ``Retry-After``...) that can be sent."""
    try:
        pairs = list(exc.get_headers(dict(environ)))
    except Exception as error:
        dropped.append(f"its headers ({error_text(error)})")
        return []
    return sendable_headers(pairs, dropped)

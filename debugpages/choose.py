"""The choose step: which template and media type answer this request.

The Accept header is read with werkzeug's parser; nothing is parsed by hand.
Browsers get HTML, API clients problem+json (RFC 9457), and anything else,
``*/*`` and a missing header included, plain text a terminal can read.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from .switch import Mode


@dataclass(frozen=True, slots=True)
class Format:
    """One output format: the templates' file extension and the response's media type."""

    extension: str
    content_type: str


HTML = Format("html", "text/html; charset=utf-8")
TEXT = Format("txt", "text/plain; charset=utf-8")
JSON = Format("json", "application/problem+json")

# Offered in this order, so that a tie (``*/*``, ``text/*``) goes to plain text.
_OFFERS = {
    "text/plain": TEXT,
    "text/html": HTML,
    "application/problem+json": JSON,
    "application/json": JSON,
}


_OFFERED = tuple(_OFFERS)


def choose_format(accept: str | None) -> Format:
    """The format a client with this Accept header prefers; plain text when in doubt."""
    if not accept:
        return TEXT
    if len(accept) > _CACHED_ACCEPT:
        return _choose(accept)
    return _choose_cached(accept)


_CACHED_ACCEPT = 512
"""Accept headers up to this long are remembered: a browser sends the same one each time."""


def _choose(accept: str) -> Format:
    best = parse_accept_header(accept, MIMEAccept).best_match(_OFFERED)
    return _OFFERS[best] if best is not None else TEXT


_choose_cached = functools.lru_cache(maxsize=64)(_choose)


def template_names(
    mode: Mode, status: int, fmt: Format, *, http_error: bool = False
) -> tuple[str, ...]:
    """The templates to try, most specific first: ``404.html`` before ``error.html``.

    Only an unhandled exception outside ``off`` gets the traceback page; an HTTP error
    sent on purpose keeps the page for its status. The render step looks in the user's
    folders before the built-in ones, so a user's ``error.html`` beats a built-in
    ``500.html``.
    """
    ext = fmt.extension
    if mode is not Mode.OFF and status >= 500 and not http_error:
        return (f"traceback.{ext}",)
    return (f"{status}.{ext}", f"error.{ext}")

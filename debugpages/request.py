"""The request that failed, read as text: the part of the capture that is not a frame.

Read straight from the WSGI environ with werkzeug's helpers. The form is the one the
framework parsed, when it parsed one (werkzeug's and Flask's cached ``request.form``,
Django's ``request.POST``, handed in by the adapter): a view that read the form has
consumed the body, and reading it again would find nothing. A form nobody read yet is
parsed here, when it is small. A part that cannot be read is left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from werkzeug.http import parse_cookie, parse_options_header
from werkzeug.sansio.utils import get_current_url
from werkzeug.wrappers import Request
from werkzeug.wsgi import get_host

from .frameworks import FORM_KEY
from .structure import entries

T = TypeVar("T")
Pairs = tuple[tuple[str, str], ...]

_MAX_FORM_BYTES = 1024 * 1024
MAX_FIELDS = 10_000
"""Query arguments, and form fields, read at most (the page shows fewer): a request can
carry a million, and every one read is judged by name and searched for secrets."""
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
ENVIRON_KEYS = (
    "REMOTE_ADDR", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "SCRIPT_NAME",
    "wsgi.url_scheme", "wsgi.multithread", "wsgi.multiprocess",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class RequestFields:
    """The request's parts as text, unmasked and unbounded: for the secrets step to search
    and the model step to show."""

    method: str
    url: str
    path: str
    query: Pairs = ()
    form: Pairs = ()
    files: Pairs = ()
    headers: Pairs = ()
    cookies: Pairs = ()
    environ: Pairs = ()
    """The environ keys the page shows (``ENVIRON_KEYS``), and every key of a string value
    (for the secrets step only: a middleware may keep a token there)."""
    query_unread: int = 0
    """Query arguments past ``MAX_FIELDS``: neither shown nor searched for secrets."""
    form_unread: int = 0
    """Form fields past ``MAX_FIELDS``: neither shown nor searched for secrets."""


def read_request(
    environ: Mapping[str, Any], form: object = None, *, url: bool = True
) -> RequestFields:
    """Read what can be read of the request; ``form``: the form the framework parsed;
    ``url``: whether to rebuild the URL (only a page shows it)."""
    no_pairs: Pairs = ()
    form_pairs, file_pairs = _attempt(lambda: _form(environ, form), (no_pairs, no_pairs))
    query, query_unread = _attempt(lambda: _query(environ), (no_pairs, 0))
    form_unread = max(0, len(form_pairs) - MAX_FIELDS)
    return RequestFields(
        method=_attempt(lambda: str(environ.get("REQUEST_METHOD", "?")), "?"),
        url=_attempt(lambda: _url(environ), "?") if url else "",
        path=_attempt(lambda: _path(environ), "?"),
        query=query,
        form=form_pairs[:MAX_FIELDS],
        files=file_pairs,
        headers=_attempt(lambda: _headers(environ), no_pairs),
        cookies=_attempt(lambda: _cookies(environ), no_pairs),
        environ=_attempt(
            lambda: _pairs((k, v) for k, v in environ.items() if isinstance(v, str)), no_pairs
        ),
        query_unread=query_unread,
        form_unread=form_unread,
    )


def _headers(environ: Mapping[str, Any]) -> Pairs:
    """The request's headers, named as werkzeug's ``EnvironHeaders`` names them."""
    found = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            found.append((key[5:].replace("_", "-").title(), str(value)))
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            found.append((key.replace("_", "-").title(), str(value)))
    return tuple(found)


def _pairs(items: Iterable[tuple[object, object]]) -> Pairs:
    return tuple((str(k), str(v)) for k, v in items)


def _form(environ: Mapping[str, Any], parsed: object) -> tuple[Pairs, Pairs]:
    """The form's fields, and its files (names and types only)."""
    if parsed is None:
        kept = environ.get(FORM_KEY)  # what Flask's view read, kept by debugpages.flask
        if isinstance(kept, tuple) and len(kept) == 2:
            return _multi(kept[0]), _files(kept[1])
        request = environ.get("werkzeug.request")
        cached = getattr(request, "__dict__", {})
        if isinstance(request, Request) and "form" in cached:  # werkzeug, Flask: parsed
            return _multi(cached["form"]), _files(cached.get("files"))
        return _unread_form(environ)
    return _multi(parsed), ()


def _multi(form: object) -> Pairs:
    """A multi-valued form (werkzeug's ``MultiDict``, Django's ``QueryDict``): every value."""
    found = entries(form, MAX_FIELDS)
    if found is None:
        return ()
    pairs = []
    for key, values in found[0]:
        for value in values if isinstance(values, list) else [values]:
            pairs.append((str(key), str(value)))
    return tuple(pairs)


def _files(files: object) -> Pairs:
    found = entries(files, 1000) if files is not None else None
    if found is None:
        return ()
    pairs = []
    for key, values in found[0]:
        for upload in values if isinstance(values, list) else [values]:
            name = getattr(upload, "filename", None)
            kind = getattr(upload, "mimetype", None) or "unknown type"
            pairs.append((str(key), f"{name!r} ({kind})"))
    return tuple(pairs)


def _unread_form(environ: Mapping[str, Any]) -> tuple[Pairs, Pairs]:
    """A form the application never read, parsed here when it is at most 1 MB."""
    content_type = environ.get("CONTENT_TYPE")
    if not isinstance(content_type, str):
        return (), ()
    if parse_options_header(content_type)[0].lower() not in _FORMS:
        return (), ()
    request = Request(dict(environ))
    if (request.content_length or 0) > _MAX_FORM_BYTES:
        return (), ()
    form = tuple((k, v) for k, v in request.form.items(multi=True))
    files = tuple(
        (k, f"{f.filename!r} ({f.mimetype or 'unknown type'})")
        for k, f in request.files.items(multi=True)
    )
    return form, files


def _wsgi_text(value: object) -> str:
    """A WSGI string (bytes as latin-1) as the UTF-8 text it stands for."""
    return str(value).encode("latin-1", "replace").decode("utf-8", "replace")


def _path(environ: Mapping[str, Any]) -> str:
    return "/" + _wsgi_text(environ.get("PATH_INFO") or "").lstrip("/")


def _url(environ: Mapping[str, Any]) -> str:
    """The URL without its query, as werkzeug's ``Request.base_url`` reads it."""
    scheme = str(environ.get("wsgi.url_scheme", "http"))
    root = _wsgi_text(environ.get("SCRIPT_NAME") or "")
    return get_current_url(scheme, get_host(dict(environ)), root, _path(environ))


def _query(environ: Mapping[str, Any]) -> tuple[Pairs, int]:
    """The first ``MAX_FIELDS`` arguments, and how many more there are (the rest is never
    split: its ``&`` are counted)."""
    query = environ.get("QUERY_STRING")
    if not isinstance(query, str) or not query:
        return (), 0
    pieces = query.split("&", MAX_FIELDS)
    unread = pieces.pop().count("&") + 1 if len(pieces) > MAX_FIELDS else 0
    read = "&".join(pieces)
    return tuple(parse_qsl(_wsgi_text(read), keep_blank_values=True, errors="replace")), unread


def _cookies(environ: Mapping[str, Any]) -> Pairs:
    """Every cookie, a repeated name's every value too."""
    cookie = environ.get("HTTP_COOKIE")
    if not isinstance(cookie, str) or not cookie:
        return ()
    return tuple(parse_cookie(cookie).items(multi=True))


def _attempt(read: Callable[[], T], default: T) -> T:
    try:
        return read()
    except BaseException:  # a framework's form object that raises anything
        return default

"""mod_python's ``SERVER_RETURN``, for WSGI applications moving from mod_python.

A WSGI application wrapped by ``ErrorPages`` may raise ``SERVER_RETURN`` the way a
mod_python handler did, and gets what Apache sent: the page for the status. The
rules are those of mod_python's ``apache.py``: a single value is the handler's
result (``OK``/``DONE``: the response stands, 200 unless a status was set;
``DECLINED``: nobody handled the request, 404; an HTTP code: the page for it); a
pair ``(result, status)`` sets the status first. The status is always an int and
the reason phrase is always the canonical one: the message meant for the user goes
in ``description=``, never in the status. The 2007 mistake,
``SERVER_RETURN((400, "You must supply a foo"))``, gets a 500 that says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeGuard

__all__ = [
    "DECLINED",
    "DONE",
    "HTTP_ACCEPTED",
    "HTTP_BAD_GATEWAY",
    "HTTP_BAD_REQUEST",
    "HTTP_CONFLICT",
    "HTTP_CONTINUE",
    "HTTP_CREATED",
    "HTTP_EXPECTATION_FAILED",
    "HTTP_FAILED_DEPENDENCY",
    "HTTP_FORBIDDEN",
    "HTTP_GATEWAY_TIME_OUT",
    "HTTP_GONE",
    "HTTP_IM_A_TEAPOT",
    "HTTP_INSUFFICIENT_STORAGE",
    "HTTP_INTERNAL_SERVER_ERROR",
    "HTTP_LENGTH_REQUIRED",
    "HTTP_LOCKED",
    "HTTP_METHOD_NOT_ALLOWED",
    "HTTP_MOVED_PERMANENTLY",
    "HTTP_MOVED_TEMPORARILY",
    "HTTP_MULTIPLE_CHOICES",
    "HTTP_MULTI_STATUS",
    "HTTP_NON_AUTHORITATIVE",
    "HTTP_NOT_ACCEPTABLE",
    "HTTP_NOT_EXTENDED",
    "HTTP_NOT_FOUND",
    "HTTP_NOT_IMPLEMENTED",
    "HTTP_NOT_MODIFIED",
    "HTTP_NO_CONTENT",
    "HTTP_OK",
    "HTTP_PARTIAL_CONTENT",
    "HTTP_PAYMENT_REQUIRED",
    "HTTP_PRECONDITION_FAILED",
    "HTTP_PROCESSING",
    "HTTP_PROXY_AUTHENTICATION_REQUIRED",
    "HTTP_RANGE_NOT_SATISFIABLE",
    "HTTP_REQUEST_ENTITY_TOO_LARGE",
    "HTTP_REQUEST_TIME_OUT",
    "HTTP_REQUEST_URI_TOO_LARGE",
    "HTTP_RESET_CONTENT",
    "HTTP_SEE_OTHER",
    "HTTP_SERVICE_UNAVAILABLE",
    "HTTP_SWITCHING_PROTOCOLS",
    "HTTP_TEMPORARY_REDIRECT",
    "HTTP_UNAUTHORIZED",
    "HTTP_UNPROCESSABLE_ENTITY",
    "HTTP_UNSUPPORTED_MEDIA_TYPE",
    "HTTP_UPGRADE_REQUIRED",
    "HTTP_USE_PROXY",
    "HTTP_VARIANT_ALSO_VARIES",
    "HTTP_VERSION_NOT_SUPPORTED",
    "OK",
    "SERVER_RETURN",
]

# A handler's results, with mod_python's values.
OK = 0
DECLINED = -1
DONE = -2

# The HTTP_* names mod_python 3.3 exported, with their codes.
HTTP_CONTINUE = 100
HTTP_SWITCHING_PROTOCOLS = 101
HTTP_PROCESSING = 102
HTTP_OK = 200
HTTP_CREATED = 201
HTTP_ACCEPTED = 202
HTTP_NON_AUTHORITATIVE = 203
HTTP_NO_CONTENT = 204
HTTP_RESET_CONTENT = 205
HTTP_PARTIAL_CONTENT = 206
HTTP_MULTI_STATUS = 207
HTTP_MULTIPLE_CHOICES = 300
HTTP_MOVED_PERMANENTLY = 301
HTTP_MOVED_TEMPORARILY = 302
HTTP_SEE_OTHER = 303
HTTP_NOT_MODIFIED = 304
HTTP_USE_PROXY = 305
HTTP_TEMPORARY_REDIRECT = 307
HTTP_BAD_REQUEST = 400
HTTP_UNAUTHORIZED = 401
HTTP_PAYMENT_REQUIRED = 402
HTTP_FORBIDDEN = 403
HTTP_NOT_FOUND = 404
HTTP_METHOD_NOT_ALLOWED = 405
HTTP_NOT_ACCEPTABLE = 406
HTTP_PROXY_AUTHENTICATION_REQUIRED = 407
HTTP_REQUEST_TIME_OUT = 408
HTTP_CONFLICT = 409
HTTP_GONE = 410
HTTP_LENGTH_REQUIRED = 411
HTTP_PRECONDITION_FAILED = 412
HTTP_REQUEST_ENTITY_TOO_LARGE = 413
HTTP_REQUEST_URI_TOO_LARGE = 414
HTTP_UNSUPPORTED_MEDIA_TYPE = 415
HTTP_RANGE_NOT_SATISFIABLE = 416
HTTP_EXPECTATION_FAILED = 417
HTTP_IM_A_TEAPOT = 418
HTTP_UNPROCESSABLE_ENTITY = 422
HTTP_LOCKED = 423
HTTP_FAILED_DEPENDENCY = 424
HTTP_UPGRADE_REQUIRED = 426
HTTP_INTERNAL_SERVER_ERROR = 500
HTTP_NOT_IMPLEMENTED = 501
HTTP_BAD_GATEWAY = 502
HTTP_SERVICE_UNAVAILABLE = 503
HTTP_GATEWAY_TIME_OUT = 504
HTTP_VERSION_NOT_SUPPORTED = 505
HTTP_VARIANT_ALSO_VARIES = 506
HTTP_INSUFFICIENT_STORAGE = 507
HTTP_NOT_EXTENDED = 510

_RESULTS = {OK: "OK", DONE: "DONE", DECLINED: "DECLINED"}


class SERVER_RETURN(Exception):  # mod_python's own name, kept for moving code
    """End the request with a status, as a mod_python handler did.

    ``SERVER_RETURN(HTTP_NOT_FOUND)``, ``SERVER_RETURN((OK, 404))``, ``SERVER_RETURN(OK)``;
    ``description="..."`` puts a message for the user into the page's body.
    """

    def __init__(self, *args: object, description: str | None = None) -> None:
        super().__init__(*args)
        self.description = description


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a ``SERVER_RETURN`` asks for: a status, or a mistake explained in words."""

    status: int
    description: str | None = None
    mistake: str | None = None
    """Set when the value raised is not one mod_python accepts; the status is then 500."""


def outcome(exc: SERVER_RETURN) -> Outcome:
    """Apply mod_python's rules to the value raised with ``SERVER_RETURN``."""
    value = exc.args[0] if len(exc.args) == 1 else exc.args
    pair = value if isinstance(value, tuple) else (value, None)
    if len(pair) != 2:
        return _mistake(exc, _SHAPE)
    result, status = _as_int(pair[0]), pair[1]
    if result is None:
        return _mistake(exc, _SHAPE)
    if isinstance(status, str):
        code = result if 200 <= result <= 599 else "status"
        text = str.__str__(status)  # a plain str: its repr is str's own
        return _mistake(exc, _REASON_PHRASE.format(code=code, text=text))
    if status is None or _as_int(status) == 0:  # mod_python: ``if status: req.status = status``
        status = 200
    elif not _is_status(status):
        return _mistake(exc, _NOT_A_STATUS.format(value=_shown(status)))
    if result == DECLINED:
        return Outcome(404, exc.description)
    if result in (OK, DONE):
        return Outcome(int.__int__(status), exc.description)
    if not _is_status(result):
        return _mistake(exc, _NOT_A_STATUS.format(value=_shown(result)))
    return Outcome(result, exc.description)


def _as_int(value: object) -> int | None:
    """``value`` as a plain int when it is one (an int subclass's overrides never run)."""
    if isinstance(value, bool) or not issubclass(type(value), int):
        return None
    return int.__int__(value)  # type: ignore[arg-type]


def _is_status(value: object) -> TypeGuard[int]:
    """A status a response can end with: 1xx are interim, never final."""
    code = _as_int(value)
    return code is not None and 200 <= code <= 599


def _shown(value: object) -> str:
    code = _as_int(value)
    if code is not None:
        return _RESULTS.get(code, str(code) if abs(code) < 10**76 else "an int of over 76 digits")
    try:
        text = repr(value)
        if not isinstance(text, str):
            raise TypeError("__repr__ returned a non-string")
    except Exception:
        text = f"<{type(value).__qualname__} object>"
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    return text if len(text) <= 80 else text[:77] + "..."


def _mistake(exc: SERVER_RETURN, why: str) -> Outcome:
    raised = ", ".join(_shown(arg) for arg in exc.args)
    return Outcome(500, mistake=f"SERVER_RETURN({raised}) cannot be sent. {why}")


_SHAPE = (
    "SERVER_RETURN takes one int (OK, DONE, DECLINED or an HTTP status such as "
    "HTTP_NOT_FOUND) or a pair (OK or DONE, status), as mod_python's did."
)
_REASON_PHRASE = (
    "The second value of the pair must be a status code (an int), not text: mod_python "
    "read it as the status. A reason phrase cannot be chosen either: the status line always "
    "carries the canonical one. To send the message to the user, put it in the body: "
    "abort({code}, {text!r}) from werkzeug.exceptions, or "
    "SERVER_RETURN({code}, description={text!r})."
)
_NOT_A_STATUS = "{value} is not a status code a response can end with (200 to 599)."

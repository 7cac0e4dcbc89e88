"""The respond step: one engine under every adapter.

An adapter hands the engine an exception and the request's WSGI-style environ;
the engine logs the exception with a fresh reference, captures what the mode
allows, renders the page in the format the client prefers and returns the
status line, headers and body. Adapters only translate that to their protocol.

While it works on one failure, the engine keeps that failure's secrets in a
context variable, so that every record the ``debugpages`` logger emits meanwhile
(its own, the renderer's) carries a masked traceback in ``exc_text``.
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
import traceback
from collections.abc import Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from werkzeug.exceptions import HTTPException

from .access import ALLOW_VAR, client_allowed, resolve_allow
from .capture import capture, collect_secrets
from .choose import HTML, TEXT, Format, choose_format, template_names
from .model import ErrorReport, Page
from .policy import (
    NO_MASKER,
    Masker,
    Policy,
    Secrets,
    one_line,
    safe_text,
    sensitive_from_environment,
)
from .render import Renderer, minimal_page
from .switch import Mode

log = logging.getLogger("debugpages")


@dataclass(slots=True)
class _Failure:
    """The failure the engine is working on, for the logging filter."""

    reference: str
    secrets: Secrets | None
    handler_failed: bool = False


_current: ContextVar[_Failure | None] = ContextVar("debugpages_failure", default=None)


def masked_traceback(exc: BaseException, masker: Masker) -> str:
    """The traceback a standard formatter prints, with secrets masked and controls escaped."""
    try:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    except Exception:  # linecache cannot read a file name; say what can be said without it
        lines = ["Traceback (most recent call last):\n"]
        for frame, line in traceback.walk_tb(exc.__traceback__):
            code = frame.f_code
            lines.append(f'  File "{code.co_filename}", line {line}, in {code.co_name}\n')
        kind = type(exc)
        name = kind.__qualname__
        if kind.__module__ not in ("builtins", "__main__"):
            name = f"{kind.__module__}.{name}"
        try:
            message = str(exc)
        except Exception:
            message = "<exception str() failed>"
        text = "".join(lines) + (f"{name}: {message}" if message else name)
    return safe_text(masker.text(text.removesuffix("\n")))


class _MaskTracebacks(logging.Filter):
    """Sets ``exc_text``, which standard formatters print as it is, to the masked traceback.

    The record keeps ``exc_info`` for handlers that want the exception itself.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            exc = record.exc_info[1]
            failure = _current.get()
            try:
                if failure is None or failure.secrets is None:
                    masker = collect_secrets(exc, None, _DEFAULT_POLICY).masker()
                else:
                    masker = failure.secrets.masker()
            except Exception:  # an exception too odd to read: URLs are still masked
                masker = NO_MASKER
            record.exc_text = masked_traceback(exc, masker)
        return True


_DEFAULT_POLICY = Policy()


log.addFilter(_MaskTracebacks())


@dataclass(frozen=True, slots=True)
class Reply:
    """What an adapter sends: a status line, headers and a body."""

    status: int
    reference: str
    status_line: str
    headers: list[tuple[str, str]]
    body: bytes


def new_reference() -> str:
    """A reference a user can quote and an operator can find in the log: 16 URL-safe chars."""
    return secrets.token_urlsafe(12)


def status_line(code: int) -> str:
    """``CODE Reason`` with the canonical reason phrase."""
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"{code} Unknown Status"


def is_passthrough(exc: Exception) -> bool:
    """An ``HTTPException`` that carries its own response (redirects, ``abort(response)``)."""
    return isinstance(exc, HTTPException) and (
        exc.response is not None or exc.code is None or exc.code < 400
    )


class Engine:
    """Turns exceptions into replies for one mode, one set of templates and one policy."""

    def __init__(
        self,
        mode: Mode,
        template_dirs: Sequence[str | os.PathLike[str]] = (),
        policy: Policy | None = None,
        *,
        sensitive: Iterable[str] = (),
        allow: Iterable[str] | str | None = None,
    ) -> None:
        self.mode = mode
        extra = (*sensitive, *sensitive_from_environment())
        self.policy = (policy or Policy()).with_sensitive(*extra)
        self.allow = resolve_allow(allow)
        """Client networks that may see tracebacks (``DEBUGPAGES_ALLOW``); ``None``: all."""
        self.renderer = Renderer(template_dirs, auto_reload=mode is not Mode.OFF)

    def reply(self, exc: Exception, environ: Mapping[str, Any]) -> Reply:
        """The page for ``exc``, logged under the reference the page shows."""
        reference = new_reference()
        code = _status_of(exc)
        mode, note = self.mode, ""
        if mode is not Mode.OFF and not client_allowed(self.allow, environ):
            mode = Mode.OFF
            remote = environ.get("REMOTE_ADDR")
            client = one_line(remote)[:64] if isinstance(remote, str) else "(no address)"
            note = f"client {client} is outside {ALLOW_VAR}, so it got the off page"
        failure = _Failure(reference, self.secrets_of(exc, environ) if code >= 500 else None)
        token = _current.set(failure)
        try:
            return self._reply(exc, environ, reference, code, mode, note)
        finally:
            _current.reset(token)

    def secrets_of(self, exc: Exception, environ: Mapping[str, Any]) -> Secrets | None:
        """The values to mask by value on this page and in its log record."""
        try:
            return collect_secrets(exc, environ, self.policy)
        except Exception:
            _log_failure("debugpages: collecting the secrets to mask failed")
            return None

    def _reply(
        self,
        exc: Exception,
        environ: Mapping[str, Any],
        reference: str,
        code: int,
        mode: Mode,
        note: str,
    ) -> Reply:
        accept = environ.get("HTTP_ACCEPT")
        fmt = choose_format(accept if isinstance(accept, str) else None)
        page = self.page(exc, environ, reference, code, mode)
        # Logged once the page is captured: the form's secrets are known by then.
        report_log(exc, environ, reference, mode, code, note)
        nonce = secrets.token_urlsafe(16)
        body = self.render(page, fmt, nonce).encode("utf-8", "backslashreplace")
        sent = 200 if page.original_status else code
        headers = [
            ("Content-Type", fmt.content_type),
            ("Content-Length", str(len(body))),
            *_hardening(nonce),
        ]
        if isinstance(exc, HTTPException):
            headers.extend(_own_headers(exc, environ))
        if page.original_status:
            headers.append(("Debugpages-Mode", Mode.LEGACY_200.value))
            headers.append(("Debugpages-Original-Status", page.original_status))
        if environ.get("REQUEST_METHOD") == "HEAD":
            body = b""
        return Reply(sent, reference, status_line(sent), headers, body)

    def page(
        self,
        exc: Exception,
        environ: Mapping[str, Any],
        reference: str,
        code: int,
        mode: Mode | None = None,
    ) -> Page:
        """The page model: in ``off``, and for client errors, it holds no detail at all."""
        mode = self.mode if mode is None else mode
        error: ErrorReport | None = None
        if mode is not Mode.OFF and code >= 500:
            failure = _current.get()
            try:
                error = capture(exc, environ, self.policy, failure.secrets if failure else None)
            except Exception:
                _log_failure(f"debugpages: capturing failed (reference {reference})")
        description = None
        if isinstance(exc, HTTPException) and exc.description:
            description = self.policy.text(str(exc.description), self.policy.max_message_chars)[0]
        legacy = mode is Mode.LEGACY_200 and error is not None
        return Page(
            status=code,
            title=_title(exc, code),
            reference=reference,
            mode=mode.value,
            time=datetime.now(UTC).isoformat(timespec="seconds"),
            error=error,
            original_status=status_line(code) if legacy else None,
            description=description,
        )

    def render(self, page: Page, fmt: Format, nonce: str) -> str:
        """The body, in the given format."""
        mode = Mode(page.mode) if page.error is not None else Mode.OFF
        context: dict[str, Any] = {"page": page, "nonce": nonce}
        names = template_names(mode, page.status, fmt)
        try:
            if page.error is not None and fmt is HTML:
                context["traceback_text"] = self.renderer.render(
                    template_names(mode, page.status, TEXT), context
                )
            return self.renderer.render(names, context)
        except Exception as error:  # a logging handler raised while a failure was logged
            handler_failed(page.reference, error)
            return minimal_page(page, names[0])


def _status_of(exc: Exception) -> int:
    if isinstance(exc, HTTPException) and exc.code is not None:
        return exc.code
    return 500


def _title(exc: Exception, code: int) -> str:
    if isinstance(exc, HTTPException) and exc.name:
        return str(exc.name)
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Unknown Status"


def _own_headers(exc: HTTPException, environ: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The headers an ``HTTPException`` adds (``Allow``, ``Retry-After``...), but its type."""
    try:
        headers = exc.get_headers(dict(environ))
    except Exception:
        return []
    return [(k, v) for k, v in headers if k.lower() != "content-type"]


def _hardening(nonce: str) -> list[tuple[str, str]]:
    """Headers every page carries: never cached, never sniffed, nothing loaded from elsewhere."""
    return [
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
        ("Vary", "Accept"),
        (
            "Content-Security-Policy",
            f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ),
        ("Referrer-Policy", "no-referrer"),
        ("X-Robots-Tag", "noindex"),
    ]


def report_log(
    exc: Exception,
    environ: Mapping[str, Any],
    reference: str,
    mode: Mode,
    code: int,
    note: str = "",
    *,
    policy: Policy | None = None,
) -> None:
    """Log the exception once, under its reference; a failing handler never breaks the page.

    The traceback text of the record is masked (see ``_MaskTracebacks``); the method
    and path are escaped to one line, so a request cannot forge log lines.
    """
    failure = _current.get()
    token = None
    try:
        if failure is None:  # called by an adapter on its own (the response had started)
            secrets = collect_secrets(exc, environ, policy or Policy()) if code >= 500 else None
            failure = _Failure(reference, secrets)
            token = _current.set(failure)
        masker = failure.secrets.masker() if failure.secrets is not None else NO_MASKER
        method = one_line(str(environ.get("REQUEST_METHOD", "?")))[:64]
        raw_path = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
        path = masker.text(one_line(raw_path)[:2048])
        extra = {"reference": reference, "method": method, "path": path, "mode": mode.value}
        if code >= 500:
            log.error(
                "%s on %s %s (reference %s)%s",
                type(exc).__qualname__, method, path, reference, f": {note}" if note else "",
                exc_info=exc, extra=extra,
            )  # fmt: skip
        else:
            log.info("%d on %s %s (reference %s)", code, method, path, reference, extra=extra)
    except Exception as error:  # a handler raised instead of handling its own error
        handler_failed(reference, error)
    finally:
        if token is not None:
            _current.reset(token)


def _log_failure(message: str) -> None:
    """Log a failure of debugpages itself, with its traceback, whatever the handlers do."""
    try:
        log.exception(message)
    except Exception as error:
        failure = _current.get()
        handler_failed(failure.reference if failure else "(none)", error)


def handler_failed(reference: str, error: BaseException) -> None:
    """Say on stderr, once per failure handled, that logging itself failed."""
    failure = _current.get()
    if failure is not None:
        if failure.handler_failed:
            return
        failure.handler_failed = True
    print(
        f"debugpages: logging the exception with reference {reference} failed: {error!r}",
        file=sys.stderr,
    )

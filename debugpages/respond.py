"""The respond step: one engine under every adapter.

An adapter hands the engine an exception and the request's WSGI-style environ;
the engine logs the exception with a fresh reference, captures what the mode
allows, renders the page in the format the client prefers and returns the
status line, headers and body. Adapters only translate that to their protocol.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from werkzeug.exceptions import HTTPException

from .capture import capture, shrink
from .choose import HTML, TEXT, Format, choose_format, template_names
from .editor import Editor, editor_from_env
from .model import ErrorReport, Page
from .policy import Policy
from .render import Renderer, minimal_page
from .switch import Mode
from .tracing import current_trace_id, record

log = logging.getLogger("debugpages")


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
        editor: Editor | None = None,
    ) -> None:
        self.mode = mode
        self.policy = policy or Policy()
        self.editor = editor if editor is not None else editor_from_env()
        self.renderer = Renderer(template_dirs, auto_reload=mode is not Mode.OFF)

    def reply(self, exc: Exception, environ: Mapping[str, Any]) -> Reply:
        """The page for ``exc``, logged under the reference the page shows."""
        reference = new_reference()
        code = _status_of(exc)
        report_log(exc, environ, reference, self.mode, code)
        fmt = choose_format(environ.get("HTTP_ACCEPT"))
        page = self.page(exc, environ, reference, code)
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

    def page(self, exc: Exception, environ: Mapping[str, Any], reference: str, code: int) -> Page:
        """The page model: in ``off``, and for client errors, it holds no detail at all."""
        error: ErrorReport | None = None
        if self.mode is not Mode.OFF and code >= 500:
            try:
                error = capture(exc, environ, self.policy, self.editor)
            except Exception:
                log.exception("debugpages: capturing failed (reference %s)", reference)
        description = None
        if isinstance(exc, HTTPException) and exc.description:
            description = self.policy.text(str(exc.description), self.policy.max_message_chars)[0]
        legacy = self.mode is Mode.LEGACY_200 and error is not None
        return Page(
            status=code,
            title=_title(exc, code),
            reference=reference,
            mode=self.mode.value,
            time=datetime.now(UTC).isoformat(timespec="seconds"),
            error=error,
            original_status=status_line(code) if legacy else None,
            description=description,
            trace_id=current_trace_id() if error is not None else None,
        )

    def render(self, page: Page, fmt: Format, nonce: str) -> str:
        """The body, in the given format, under the policy's size limit."""
        body = self._render(page, fmt, nonce, with_text=True)
        if page.error is None or len(body.encode("utf-8", "replace")) <= self.policy.max_page_bytes:
            return body
        # Over the limit despite the capture's budget (escaping, wide characters): first
        # the plain-text copy goes, then the source and locals; each cut is said on the page.
        for attempt in (page, dataclasses.replace(page, error=shrink(page.error))):
            body = self._render(attempt, fmt, nonce, with_text=False)
            if len(body.encode("utf-8", "replace")) <= self.policy.max_page_bytes:
                return body
        return minimal_page(page, template_names(Mode(page.mode), page.status, fmt)[0])

    def _render(self, page: Page, fmt: Format, nonce: str, *, with_text: bool) -> str:
        mode = Mode(page.mode) if page.error is not None else Mode.OFF
        context: dict[str, Any] = {"page": page, "nonce": nonce, "traceback_text": None}
        if page.error is not None and fmt is HTML and with_text:
            context["traceback_text"] = self.renderer.render(
                template_names(mode, page.status, TEXT), context
            )
        return self.renderer.render(template_names(mode, page.status, fmt), context)


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
            "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
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
) -> None:
    """Log the exception once, under its reference; a failing handler never breaks the page."""
    method = str(environ.get("REQUEST_METHOD", "?"))
    path = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
    extra = {"reference": reference, "method": method, "path": path, "mode": mode.value}
    record(exc, reference, code)  # on the current OpenTelemetry span, where there is one
    try:
        if code >= 500:
            log.error(
                "%s on %s %s (reference %s)%s",
                type(exc).__qualname__, method, path, reference, f": {note}" if note else "",
                exc_info=exc, extra=extra,
            )  # fmt: skip
        else:
            log.info("%d on %s %s (reference %s)", code, method, path, reference, extra=extra)
    except Exception as error:  # a handler raised instead of handling its own error
        print(
            f"debugpages: logging the exception with reference {reference} failed: {error!r}",
            file=sys.stderr,
        )

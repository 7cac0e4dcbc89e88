"""The respond step: one engine under every adapter.

An adapter hands the engine an exception and the request's WSGI-style environ;
the engine captures what the mode (and the client's address) allows, logs the
exception with a fresh reference, renders the page in the format the client
prefers and returns the status line, headers and body. Adapters only translate
that to their protocol.
"""

from __future__ import annotations

import codecs
import dataclasses
import functools
import logging
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, TypeGuard

from werkzeug.exceptions import HTTPException, default_exceptions
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Response

from . import config, frameworks
from .access import ALLOW_VAR, client_allowed, resolve_allow
from .capture import Capture, capture
from .choose import HTML, TEXT, Format, choose_format, template_names
from .editor import Editor
from .frameworks import recorded_view
from .httperror import (
    as_int,
    error_text,
    own_headers,
    own_response,
    read_http_error,
    sendable_headers,
    shown,
    status_code,
    text_of,
)
from .logs import (
    handler_failed,
    handling,
    log_failure,
    log_text,
    masked_traceback,
    plain_traceback,
    report_log,
    request_line,
)
from .logsetup import follow_server_level
from .mask import NO_MASKER
from .mod_python import SERVER_RETURN, Outcome, outcome
from .model import ErrorReport, Page
from .policy import Policy, one_line, safe_text, sensitive_from_environment
from .render import Renderer, minimal_page
from .report import build_report, shrink, versions
from .request import RequestFields, read_request
from .secrets import NO_SECRETS, Secrets, find_secrets, frames_of
from .switch import DebugFlag, Mode, announcement, resolve_mode
from .tracing import current_trace_id

log = logging.getLogger("debugpages")


@dataclass(frozen=True, slots=True)
class Reply:
    """What an adapter sends: a status line, headers and a body."""

    status: int
    reference: str
    status_line: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(slots=True)
class Failure:
    """One failure read once: every output of it (page, text, log) is made from this."""

    capture: Capture | None
    request: RequestFields | None
    secrets: Secrets
    text: str
    """The traceback as Python prints it, masked and bounded (``logs.log_text``): the log
    record's ``exc_text``."""

    def release(self) -> None:
        """Drop the application's exception and frames."""
        if self.capture is not None:
            self.capture.release()


def read_failure(
    exc: BaseException,
    environ: Mapping[str, Any],
    policy: Policy,
    form: object = None,
    *,
    page: bool = True,
) -> Failure:
    """Capture ``exc`` once, read its request, and find every secret of both; ``page``:
    a traceback page will be made of it (else only the log record)."""
    try:
        captured: Capture | None = capture(exc, policy)
    except BaseException:  # nothing the application's objects raise stops the page
        log_failure("debugpages: capturing the exception failed")
        captured = None
    request = read_request(environ, form, url=page)
    try:
        frames = frames_of(captured.exceptions()) if captured is not None else ()
        read = environ if isinstance(environ, dict) else None
        secrets = find_secrets(frames, request, policy, read=read)
    except BaseException:
        log_failure("debugpages: looking for the secrets to mask failed")
        secrets = NO_SECRETS
    if captured is not None:
        text = log_text(safe_text(secrets.masker.text(captured.traceback())))
    else:
        text = plain_traceback(exc, secrets.masker)
    return Failure(captured, request, secrets, text)


def new_reference() -> str:
    """A reference a user can quote and an operator can find in the log: 16 URL-safe chars."""
    return secrets.token_urlsafe(12)


@functools.lru_cache(maxsize=128)
def reason(code: int) -> str | None:
    """The canonical reason phrase: ``http.HTTPStatus``'s, else werkzeug's; ``None`` if unknown."""
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return HTTP_STATUS_CODES.get(code)


def status_line(code: int) -> str:
    """``CODE Reason`` with the canonical reason phrase; ``Unknown Status`` for unknown codes."""
    return f"{code} {reason(code) or 'Unknown Status'}"


def is_passthrough(exc: Exception) -> TypeGuard[HTTPException]:
    """An ``HTTPException`` that carries its own response (``abort(response)``), or a
    redirect (a 3xx code)."""
    if not issubclass(type(exc), HTTPException) or not isinstance(exc, HTTPException):
        return False  # type(exc) first: isinstance alone would ask exc.__class__, which may raise
    code = status_code(exc)
    return own_response(exc) is not None or (code is not None and 300 <= code <= 399)


def passthrough_response(exc: HTTPException, environ: Mapping[str, Any]) -> Response | None:
    """The response a passthrough exception sends; ``None`` when it cannot be made (logged
    at WARNING): the adapter then sends the exception's page, a 500."""
    try:
        response = exc.get_response(dict(environ))
        if not isinstance(response, Response):
            raise TypeError(f"get_response() returned {shown(response)}")
        status = as_int(response.status_code)
        if status is None or not 100 <= status <= 599:
            raise ValueError(f"its status is {shown(response.status_code)}")
        dropped: list[str] = []
        sendable_headers(response.get_wsgi_headers(dict(environ)).to_wsgi_list(), dropped)
        if dropped:
            raise ValueError("; ".join(dropped))
    except Exception as error:
        log.warning(
            "debugpages: the response of %s could not be sent (%s): its page is sent instead",
            one_line(type(exc).__qualname__), error_text(error),
        )  # fmt: skip
        return None
    return response


@dataclass(frozen=True, slots=True)
class _Meaning:
    """What an exception asks of the response, before any mode is applied."""

    status: int
    http_error: bool = False
    """Sent on purpose: the page for the status, never the traceback page."""
    description: str | None = None
    """For the user, in every mode."""
    explanation: str | None = None
    """For the developer: shown outside ``off``, and logged."""
    title: str | None = None
    dropped: tuple[str, ...] = ()
    """What of the exception could not be sent (logged at WARNING)."""


def _meaning(exc: Exception) -> _Meaning:
    if isinstance(exc, SERVER_RETURN):
        try:
            wanted = outcome(exc)
        except Exception as error:
            wanted = Outcome(500, mistake=f"SERVER_RETURN could not be read ({shown(error)}).")
        if wanted.mistake is not None:
            return _Meaning(500, True, explanation=wanted.mistake)
        dropped: list[str] = []
        description = text_of(exc, "description", dropped)
        described = description or _canonical(wanted.status)
        return _Meaning(wanted.status, True, described, dropped=tuple(dropped))
    if isinstance(exc, HTTPException):
        read = read_http_error(exc)
        description = read.description
        if description is None and read.dropped:  # unreadable: the status's own sentence
            description = _canonical(read.status)
        return _Meaning(read.status, True, description, read.explanation, read.title, read.dropped)
    return _Meaning(500)


def _canonical(code: int) -> str | None:
    """The sentence werkzeug's page for ``code`` says, as Apache's canned pages did."""
    known = default_exceptions.get(code)
    return str(known.description) if known is not None and known.description else None


def prepare(mode: Mode) -> None:
    """Import now what a failure's page would otherwise import on first use.

    Nothing is imported on a failure's path: an import can fail where the failure
    happened (near the recursion limit, say), and its time belongs to start-up.
    """
    codecs.lookup("idna")  # werkzeug's reading of the request's host
    codecs.lookup("unicode_escape")  # Jinja's lexer, for a user's template read again
    if mode is not Mode.OFF:
        versions()  # the traceback page's header: package metadata, read once
        frameworks.prepare()  # and the frameworks' already imported


def announce(mode: Mode, source: str, flag: DebugFlag | None = None) -> None:
    """Log the chosen mode once, with where it came from: INFO for off, WARNING for the rest.

    ``off`` against a framework's debug flag that is on is a WARNING too.
    """
    follow_server_level(log)  # start-up: under gunicorn or uvicorn, log at the server's level
    warn, line = announcement(mode, source, flag)
    log.log(logging.WARNING if warn else logging.INFO, "%s", line)


class Engine:
    """Turns exceptions into replies for one mode, one set of templates and one policy."""

    def __init__(
        self,
        mode: Mode,
        template_dirs: config.Folder | Iterable[config.Folder] = (),
        policy: Policy | None = None,
        editor: Editor | str | None = None,
        *,
        sensitive: Iterable[str] = (),
        allow: Iterable[str] | str | None = None,
    ) -> None:
        self.mode = mode
        extra = (*config.patterns(sensitive), *sensitive_from_environment())
        policy = config.of_type(policy, Policy, "policy", "a debugpages.Policy")
        self.policy = (policy or Policy()).with_sensitive(*extra)
        self.editor = config.editor(editor)
        self.allow = resolve_allow(allow)
        """Client networks that may see tracebacks (``DEBUGPAGES_ALLOW``); ``None``: all."""
        folders = config.folders(template_dirs)
        self.renderer = Renderer(folders, auto_reload=mode is not Mode.OFF)
        prepare(mode)

    @classmethod
    def switched(
        cls,
        mode: Mode | str | None,
        *,
        default: Mode = Mode.OFF,
        template_dirs: config.Folder | Iterable[config.Folder] = (),
        policy: Policy | None = None,
        editor: Editor | str | None = None,
        sensitive: Iterable[str] = (),
        allow: Iterable[str] | str | None = None,
        flag: DebugFlag | None = None,
    ) -> Engine:
        """The engine for the mode the switch picks (argument, ``DEBUGPAGES``, flag, default).

        Every argument is checked before the mode is announced.
        """
        default = config.default_mode(default)
        chosen, source = resolve_mode(mode, default=default, flag=flag)
        engine = cls(chosen, template_dirs, policy, editor, sensitive=sensitive, allow=allow)
        announce(chosen, source, flag)
        return engine

    def reply(
        self,
        exc: Exception,
        environ: Mapping[str, Any],
        form: object = None,
        *,
        view: str | None = None,
    ) -> Reply:
        """The page for ``exc``, logged under the reference the page shows; ``form``: the
        request's form as the framework parsed it, when it did; ``view``: the view that
        handled the request, when the adapter knows it (else the one recorded in the environ).

        Nothing raised while the page is made gets out (a ``CancelledError`` from an
        attribute, say): then the minimal page goes, with the status and a reference.
        Only a ``KeyboardInterrupt`` or ``SystemExit`` (a signal: Ctrl-C, a worker told to
        stop) passes through.
        """
        try:
            return self._reply(exc, environ, form, view)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:
            return self._last_resort(exc, environ)

    def _last_resort(self, exc: Exception, environ: Mapping[str, Any]) -> Reply:
        """The minimal page, and both failures logged: debugpages' and the application's."""
        reference = new_reference()
        with handling(reference):
            log_failure(f"debugpages: making the page failed (reference {reference})")
            text = masked_traceback(exc, self.policy)
            report_log(exc, environ, reference, self.mode, 500, text=text)
        page = Page(
            status=500,
            title=reason(500) or "",
            reference=reference,
            mode=Mode.OFF.value,
            time=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        accept = environ.get("HTTP_ACCEPT")
        fmt = choose_format(accept if isinstance(accept, str) else None)
        body = minimal_page(page, template_names(Mode.OFF, 500, fmt)[0]).encode()
        headers = [("Content-Type", fmt.content_type), ("Content-Length", str(len(body)))]
        return Reply(500, reference, status_line(500), [*headers, *_hardening("")], body)

    def _reply(
        self, exc: Exception, environ: Mapping[str, Any], form: object, view: str | None
    ) -> Reply:
        meaning = _meaning(exc)
        code = meaning.status
        if code < 400:  # SERVER_RETURN(OK) and its kind: the response stands, with no body
            length = [] if code in (204, 304) else [("Content-Length", "0")]  # RFC 9110 8.6
            return Reply(code, "", status_line(code), length, b"")
        reference = new_reference()
        mode, notes = self.mode, [meaning.explanation or ""]
        if mode is not Mode.OFF and not client_allowed(self.allow, environ):
            mode = Mode.OFF
            remote = environ.get("REMOTE_ADDR")
            client = one_line(remote)[:64] if isinstance(remote, str) else "(no address)"
            notes.append(f"client {client} is outside {ALLOW_VAR}, so it got the off page")
        failure = self.read(exc, environ, form, page=mode is not Mode.OFF) if code >= 500 else None
        accept = environ.get("HTTP_ACCEPT")
        fmt = choose_format(accept if isinstance(accept, str) else None)
        try:
            with handling(reference):
                page = self.page(exc, environ, reference, code, mode, failure, view, fmt=fmt)
                note = "; ".join(filter(None, notes))
                masker = failure.secrets.masker if failure is not None else NO_MASKER
                text = failure.text if failure is not None else None
                report_log(exc, environ, reference, mode, code, note, text=text, masker=masker)
                own: list[tuple[str, str]] = []
                dropped = list(meaning.dropped)
                if meaning.http_error and isinstance(exc, HTTPException):
                    own = own_headers(exc, environ, dropped)
                if dropped:
                    log.warning(
                        "debugpages: %s was sent without what could not be used (reference %s): %s",
                        one_line(type(exc).__qualname__), reference, "; ".join(dropped),
                    )  # fmt: skip
                return self._send(page, environ, own)
        finally:
            if failure is not None:
                failure.release()

    def read(
        self, exc: Exception, environ: Mapping[str, Any], form: object = None, *, page: bool = True
    ) -> Failure:
        """The failure read once, with this engine's policy."""
        return read_failure(exc, environ, self.policy, form, page=page)

    def passthrough(self, exc: Exception, environ: Mapping[str, Any]) -> Response | None:
        """The response ``exc`` carries or makes (``abort(response)``, a redirect), to send
        as it is; ``None``: ``exc`` gets its page."""
        return passthrough_response(exc, environ) if is_passthrough(exc) else None

    def log_late(self, exc: Exception, environ: Mapping[str, Any], note: str) -> None:
        """Log a failure whose response had started: no page, the same masked record."""
        failure = self.read(exc, environ, page=False)
        try:
            report_log(
                exc, environ, new_reference(), self.mode, 500, note,
                text=failure.text, masker=failure.secrets.masker,
            )  # fmt: skip
        finally:
            failure.release()

    def status_reply(
        self, code: int, environ: Mapping[str, Any], headers: Sequence[tuple[str, str]] = ()
    ) -> Reply:
        """The canonical page for a status the application sent with an empty body.

        The application's headers are kept, but for those the page sets itself.
        """
        reference = new_reference()
        method, path = request_line(environ)
        log.info(
            "%d with an empty body on %s %s: sent its page (reference %s)",
            code, method, path, reference,
            extra={"reference": reference, "method": method, "path": path, "mode": self.mode.value},
        )  # fmt: skip
        page = Page(
            status=code,
            title=reason(code) or "Unknown Status",
            reference=reference,
            mode=self.mode.value,
            time=datetime.now(UTC).isoformat(timespec="seconds"),
            description=_canonical(code),
            http_error=True,
            unknown_status=reason(code) is None,
        )
        return self._send(page, environ, headers)

    def _send(
        self, page: Page, environ: Mapping[str, Any], extra: Sequence[tuple[str, str]]
    ) -> Reply:
        """Render ``page`` in the format the client prefers; the page's headers win."""
        accept = environ.get("HTTP_ACCEPT")
        fmt = choose_format(accept if isinstance(accept, str) else None)
        nonce = secrets.token_urlsafe(16)
        body = self.render(page, fmt, nonce).encode("utf-8", "backslashreplace")
        sent = 200 if page.original_status else page.status
        headers = [
            ("Content-Type", fmt.content_type),
            ("Content-Length", str(len(body))),
            *_hardening(nonce),
        ]
        taken = {name.lower() for name, _ in headers}
        headers.extend((k, v) for k, v in extra if k.lower() not in taken)
        if page.original_status:
            headers.append(("Debugpages-Mode", Mode.LEGACY_200.value))
            headers.append(("Debugpages-Original-Status", page.original_status))
        if environ.get("REQUEST_METHOD") == "HEAD":
            body = b""
        return Reply(sent, page.reference, status_line(sent), headers, body)

    def page(
        self,
        exc: Exception,
        environ: Mapping[str, Any],
        reference: str,
        code: int,
        mode: Mode | None = None,
        failure: Failure | None = None,
        view: str | None = None,
        *,
        fmt: Format = HTML,
    ) -> Page:
        """The page model: in ``off``, and for client errors, it holds no detail at all.

        A 5xx sent on purpose (``abort(503)``) keeps its own page outside ``off``, with
        where it was raised; only an unhandled exception gets the traceback page. Locals
        are represented only for a format that shows them (not plain text).
        """
        mode = self.mode if mode is None else mode
        meaning = _meaning(exc)
        error: ErrorReport | None = None
        if mode is not Mode.OFF and code >= 500:
            try:
                error = self._report(exc, environ, failure, view, with_locals=fmt is not TEXT)
            except BaseException:
                log_failure(f"debugpages: capturing failed (reference {reference})")
        text = meaning.description
        if mode is not Mode.OFF and meaning.explanation is not None:
            text = meaning.explanation
        description = self.policy.text(text, self.policy.max_message_chars)[0] if text else None
        title = reason(code)
        if meaning.title:
            title = self.policy.text(meaning.title, 200)[0]
        legacy = mode is Mode.LEGACY_200 and error is not None and not meaning.http_error
        return Page(
            status=code,
            title=title or "Unknown Status",
            reference=reference,
            mode=mode.value,
            time=datetime.now(UTC).isoformat(timespec="seconds"),
            error=error,
            original_status=status_line(code) if legacy else None,
            description=description,
            trace_id=current_trace_id() if error is not None else None,
            http_error=meaning.http_error,
            unknown_status=reason(code) is None,
        )

    def _report(
        self,
        exc: Exception,
        environ: Mapping[str, Any],
        failure: Failure | None,
        view: str | None = None,
        *,
        with_locals: bool = True,
    ) -> ErrorReport:
        """What the traceback page shows, from the failure read once."""
        if failure is None:  # a page made on its own (debugpages check, preview)
            failure = self.read(exc, environ)
            try:
                return self._report(exc, environ, failure, view, with_locals=with_locals)
            finally:
                failure.release()
        if failure.capture is None:
            raise RuntimeError("the exception could not be captured")
        return build_report(
            failure.capture, failure.request, failure.secrets, failure.text, self.policy,
            self.editor, view or recorded_view(environ), with_locals=with_locals,
        )  # fmt: skip

    def render(self, page: Page, fmt: Format, nonce: str) -> str:
        """The body, in the given format, under the policy's size limit."""
        body = self._render(page, fmt, nonce, with_text=True)
        if page.error is None or not _over(body, self.policy.max_page_bytes):
            return body
        # Over the limit despite the capture's budget (escaping, wide characters): first
        # the plain-text copy goes, then the source and locals; each cut is said on the page.
        for attempt in (page, dataclasses.replace(page, error=shrink(page.error))):
            body = self._render(attempt, fmt, nonce, with_text=False)
            if not _over(body, self.policy.max_page_bytes):
                return body
        return minimal_page(page, template_names(Mode(page.mode), page.status, fmt)[0])

    def _render(self, page: Page, fmt: Format, nonce: str, *, with_text: bool) -> str:
        mode = Mode(page.mode) if page.error is not None else Mode.OFF
        context: dict[str, Any] = {"page": page, "nonce": nonce, "traceback_text": None}
        names = template_names(mode, page.status, fmt, http_error=page.http_error)
        try:
            if page.error is not None and not page.http_error and fmt is HTML and with_text:
                context["traceback_text"] = self.renderer.render(
                    template_names(mode, page.status, TEXT), context
                )
            return self.renderer.render(names, context)
        except Exception as error:  # a logging handler raised while a failure was logged
            handler_failed(page.reference, error)
            return minimal_page(page, names[0])


def _over(body: str, limit: int) -> bool:
    """Whether ``body`` takes more than ``limit`` bytes in UTF-8 (encoded only if it may)."""
    return len(body) * 4 > limit and len(body.encode("utf-8", "replace")) > limit


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

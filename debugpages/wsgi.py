"""The WSGI adapter: ``ErrorPages`` wraps an application and translates for the engine.

It decides nothing about pages. Its one job of its own is PEP 3333's: know
whether the response has started. Before any body byte has gone out the page
replaces the response (``start_response`` is called with ``exc_info``); after,
the status can no longer change, so the exception is logged and re-raised for
the server to end the connection.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from .policy import Policy
from .respond import Engine, is_passthrough, new_reference, report_log
from .switch import Mode, resolve_mode

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("debugpages")
_TOO_LATE = "the response had already started, so the server ends the connection"


class _Progress:
    """How far the response got: ``start_response`` called, body bytes sent."""

    __slots__ = ("body", "headers")

    def __init__(self) -> None:
        self.headers = False
        self.body = False


class ErrorPages:
    """WSGI middleware that turns unhandled exceptions into the page of the chosen mode.

    ``mode`` beats the ``DEBUGPAGES`` environment variable, which beats ``default``
    (``off`` for the library; the development server passes ``on``). ``sensitive``
    adds name patterns to mask (as ``DEBUGPAGES_SENSITIVE`` does); ``allow`` lists the
    client networks that may see tracebacks (else ``DEBUGPAGES_ALLOW``; unset: all).
    """

    def __init__(
        self,
        app: WSGIApplication,
        mode: Mode | str | None = None,
        *,
        template_dirs: Sequence[str | os.PathLike[str]] = (),
        policy: Policy | None = None,
        default: Mode = Mode.OFF,
        sensitive: Iterable[str] = (),
        allow: Iterable[str] | str | None = None,
    ) -> None:
        chosen, source = resolve_mode(mode, default=default)
        self.app = app
        self.engine = Engine(chosen, template_dirs, policy, sensitive=sensitive, allow=allow)
        level = logging.INFO if chosen is Mode.OFF else logging.WARNING
        log.log(level, "debugpages: mode %s (from %s)", chosen.value, source)

    @property
    def mode(self) -> Mode:
        """The mode this middleware renders in."""
        return self.engine.mode

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        __traceback_hide__ = True
        progress = _Progress()

        def tracked(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> object:
            progress.headers = True
            return start_response(status, headers, exc_info)  # type: ignore[arg-type]

        try:
            body = self.app(environ, tracked)  # type: ignore[arg-type]
        except Exception as exc:
            return self._fail(exc, environ, start_response, progress)
        if type(body) is list or type(body) is tuple:
            return body  # nothing can fail while a list is sent: no wrapper, no cost
        return self._guard(body, environ, start_response, progress)

    def _guard(
        self,
        body: Iterable[bytes],
        environ: WSGIEnvironment,
        start_response: StartResponse,
        progress: _Progress,
    ) -> Iterator[bytes]:
        """Pass the body through, catch what its iteration raises, always close it."""
        __traceback_hide__ = True
        try:
            for chunk in body:
                if chunk:
                    progress.body = True
                yield chunk
        except Exception as exc:
            yield from self._fail(exc, environ, start_response, progress)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    def _fail(
        self,
        exc: Exception,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        progress: _Progress,
    ) -> Iterable[bytes]:
        """Send the page if the status can still change; else log and re-raise."""
        if is_passthrough(exc):
            return exc.get_response(environ)(environ, start_response)  # type: ignore[attr-defined, no-any-return]
        if progress.body:
            report_log(
                exc, environ, new_reference(), self.mode, 500, _TOO_LATE, policy=self.engine.policy
            )
            raise exc
        reply = self.engine.reply(exc, environ)
        try:
            if progress.headers:
                start_response(reply.status_line, reply.headers, sys.exc_info())
            else:
                start_response(reply.status_line, reply.headers)
        except Exception:
            log.error("debugpages: %s (reference %s)", _TOO_LATE, reply.reference)
            raise
        return [reply.body]

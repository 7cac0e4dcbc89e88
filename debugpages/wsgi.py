"""The WSGI adapter: ``ErrorPages`` wraps an application and translates for the engine.

It decides nothing about pages. Its one job of its own is PEP 3333's: know
whether the response has started. Before any body byte has gone out the page
replaces the response (``start_response`` is called with ``exc_info``); after,
the status can no longer change, so the exception is logged and re-raised for
the server to end the connection.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .config import Folder, application, flag
from .editor import Editor
from .policy import Policy
from .stack import HEADROOM
from .switch import DebugFlag, Mode

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from .respond import Engine

log = logging.getLogger("debugpages")
_TOO_LATE = "the response had already started, so the server ends the connection"


class _Progress:
    """How far the response got: ``start_response`` called, body bytes sent."""

    __slots__ = ("body", "headers")

    def __init__(self) -> None:
        self.headers = False
        self.body = False


class _Held:
    """``start_response`` for ``fill_empty_errors``: an error status waits for its body.

    PEP 3333 lets middleware delay the status until the first body byte; only the
    status is inspected, and any other status goes straight through.
    """

    __slots__ = ("forwarded", "headers", "progress", "start_response", "status", "written")
    written: Callable[[bytes], object]
    """The server's ``write()``, once the status has reached it."""

    def __init__(self, start_response: StartResponse, progress: _Progress) -> None:
        self.start_response = start_response
        self.progress = progress
        self.status: str | None = None
        self.forwarded = False

    def __call__(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> object:
        self.progress.headers = True
        if self.forwarded or status[:1] not in ("4", "5"):
            self.status = None
            self.forwarded = True
            self.written = self.start_response(status, headers, exc_info)
            return self.written
        self.status, self.headers = status, headers
        return self.write

    @property
    def waiting(self) -> bool:
        """An error status is held, and nothing has reached the server yet."""
        return self.status is not None and not self.forwarded

    def release(self) -> None:
        """The body is not empty: send the status as the application gave it."""
        if self.waiting:
            self.forwarded = True
            self.written = self.start_response(self.status, self.headers)  # type: ignore[arg-type]

    def write(self, data: bytes) -> None:
        """PEP 3333's ``write()``: data means the body is not empty."""
        if data:
            self.release()
            self.written(data)


class ErrorPages:
    """WSGI middleware that turns unhandled exceptions into the page of the chosen mode.

    ``mode`` beats the ``DEBUGPAGES`` environment variable, which beats ``default``
    (``off`` for the library; the development server passes ``on``). ``editor`` beats
    ``DEBUGPAGES_EDITOR`` and ``DEBUGPAGES_PATH_MAP``. ``sensitive`` adds name patterns
    to mask (as ``DEBUGPAGES_SENSITIVE`` does); ``allow`` lists the client networks that
    may see tracebacks (else ``DEBUGPAGES_ALLOW``; unset: all). With
    ``fill_empty_errors``, a response the application sends itself with a status of
    400 or more and an empty body gets the canonical page for its status, as Apache's
    ``ErrorDocument`` did; a response with a body is never touched. ``debug_flag`` is a
    framework's own debug flag, for its adapter (``debugpages.flask``): with no ``mode``
    and no ``DEBUGPAGES`` it picks the mode, and a mode against it is logged at WARNING.
    """

    def __init__(
        self,
        app: WSGIApplication,
        mode: Mode | str | None = None,
        *,
        template_dirs: Folder | Iterable[Folder] = (),
        policy: Policy | None = None,
        editor: Editor | str | None = None,
        default: Mode = Mode.OFF,
        fill_empty_errors: bool = False,
        sensitive: Iterable[str] = (),
        allow: Iterable[str] | str | None = None,
        debug_flag: DebugFlag | None = None,
    ) -> None:
        from .respond import Engine  # the pipeline loads with a middleware, not on import

        self.app = application(app)
        self.fill_empty_errors = flag(fill_empty_errors, "fill_empty_errors")
        self.engine: Engine = Engine.switched(
            mode,
            default=default,
            template_dirs=template_dirs,
            policy=policy,
            editor=editor,
            sensitive=sensitive,
            allow=allow,
            flag=debug_flag,
        )

    @property
    def mode(self) -> Mode:
        """The mode this middleware renders in."""
        return self.engine.mode

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        __traceback_hide__ = True
        progress = _Progress()
        held: _Held | None = None
        tracked: Callable[..., object]
        if self.fill_empty_errors:
            tracked = held = _Held(start_response, progress)
        else:

            def tracked(
                status: str, headers: list[tuple[str, str]], exc_info: Any = None
            ) -> object:
                progress.headers = True
                return start_response(status, headers, exc_info)

        try:
            body = self.app(environ, tracked)  # type: ignore[arg-type]
        except Exception as exc:
            with HEADROOM:  # the failure may be near the recursion limit: the page needs room
                return self._fail(exc, environ, start_response, progress)
        if held is not None and not held.forwarded:
            body = self._fill(body, environ, held)
        if type(body) is list or type(body) is tuple:
            return body  # nothing can fail while a list is sent: no wrapper, no cost
        return self._guard(body, environ, start_response, progress)

    def _fill(
        self, body: Iterable[bytes], environ: WSGIEnvironment, held: _Held
    ) -> Iterable[bytes]:
        """``fill_empty_errors``: the page for a held error status whose body is empty."""
        if type(body) is list or type(body) is tuple:
            if not held.waiting or any(body):
                held.release()
                return body
            return self._page_for(environ, held)
        return self._filling(body, environ, held)

    def _filling(
        self, body: Iterable[bytes], environ: WSGIEnvironment, held: _Held
    ) -> Iterator[bytes]:
        """A streamed body: hold the status until the first byte, or send the page if none."""
        try:
            for chunk in body:
                if held.waiting:
                    if not chunk:
                        continue
                    held.release()
                yield chunk
            if held.waiting:
                yield from self._page_for(environ, held)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    def _page_for(self, environ: WSGIEnvironment, held: _Held) -> list[bytes]:
        status = held.status or ""
        code = status.split(" ", 1)[0]
        if not (code.isdigit() and 400 <= int(code) <= 599):
            held.release()  # not a status a page can be made for: send it as it is
            return []
        kept = [
            (k, v) for k, v in held.headers if k.lower() not in ("content-type", "content-length")
        ]
        reply = self.engine.status_reply(int(code), environ, kept)
        held.forwarded = True
        held.start_response(reply.status_line, reply.headers)
        return [reply.body]

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
            with HEADROOM:
                page = self._fail(exc, environ, start_response, progress)
            yield from page
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
        if progress.body:  # first: not even a redirect can replace a response under way
            self.engine.log_late(exc, environ, _TOO_LATE)
            raise exc
        response = self.engine.passthrough(exc, environ)
        if response is not None:
            return response(environ, start_response)
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

"""The ASGI adapter: ``ASGIErrorPages`` wraps an ASGI application for the same engine.

It translates the ASGI scope into the WSGI-style environ the engine reads and
sends the engine's reply as ASGI messages; it decides nothing about pages. As in
the WSGI adapter, its one job of its own is knowing whether the response has
started. ``http.response.start`` is held until the first message after it (the
ASGI spec lets a server do the same, "to replace the response with an error
response", as PEP 3333 holds the status until the first body byte): a streamed
response that fails before its first chunk gets its page, not an empty 200. Once a
body message has gone, the status can no longer change, so the exception is logged
and re-raised.

With Starlette and FastAPI, add it with ``app.add_middleware(ASGIErrorPages)``:
user middleware sits inside Starlette's ``ServerErrorMiddleware`` and outside its
``ExceptionMiddleware``, so an unhandled exception reaches this adapter first,
the page is sent, and ``ServerErrorMiddleware`` never sees an exception.
"""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import TYPE_CHECKING, Any

from .config import Folder, application
from .editor import Editor
from .frameworks import dotted
from .policy import Policy
from .stack import HEADROOM
from .switch import ConfigurationError, Mode

if TYPE_CHECKING:
    from werkzeug.wrappers import Response

    from .respond import Engine

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("debugpages")
_TOO_LATE = "the response had already started, so the server ends the connection"
_SPECIAL_HEADERS = {"CONTENT_TYPE", "CONTENT_LENGTH"}


class ASGIErrorPages:
    """ASGI middleware that turns unhandled exceptions into the page of the chosen mode.

    ``mode`` beats the ``DEBUGPAGES`` environment variable, which beats ``default``.
    The other arguments are ``ErrorPages``' own. Only ``http`` scopes are watched;
    ``lifespan`` and ``websocket`` pass through. A mistake in the arguments is a
    ``ConfigurationError`` here, or, when Starlette or FastAPI build the middleware at
    their first lifespan event (``add_middleware``), a failed lifespan startup.
    """

    def __init__(
        self,
        app: ASGIApp,
        mode: Mode | str | None = None,
        *,
        template_dirs: Folder | Iterable[Folder] = (),
        policy: Policy | None = None,
        editor: Editor | str | None = None,
        default: Mode = Mode.OFF,
        sensitive: Iterable[str] = (),
        allow: Iterable[str] | str | None = None,
    ) -> None:
        from .respond import Engine  # the pipeline loads with a middleware, not on import

        self.app = app
        self.engine: Engine
        self.failed: ConfigurationError | None = None
        """A mistake found while a framework built its middleware stack lazily (below)."""
        try:
            application(app)
            self.engine = Engine.switched(
                mode,
                default=default,
                template_dirs=template_dirs,
                policy=policy,
                editor=editor,
                sensitive=sensitive,
                allow=allow,
            )
        except ConfigurationError as error:
            # Starlette and FastAPI build the stack of ``add_middleware`` classes at the first
            # lifespan event, and a server under its default ``--lifespan auto`` takes an
            # exception there for "lifespan unsupported" and serves on, a 500 for every
            # request. Keep the mistake instead: the lifespan startup then fails with it,
            # which stops uvicorn and hypercorn.
            if sys._getframe(1).f_code.co_name != "build_middleware_stack":
                raise
            self.failed = error

    @property
    def mode(self) -> Mode:
        """The mode this middleware renders in."""
        return self.engine.mode

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        __traceback_hide__ = True
        if self.failed is not None:
            await _refuse_to_start(self.failed, scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: Message | None = None  # the application's http.response.start, not sent yet
        started = False  # a message after it has gone: the status is the client's now

        async def tracked(message: Message) -> None:
            nonlocal held, started
            if message["type"] == "http.response.start" and held is None and not started:
                held = message
                return
            if held is not None:
                start, held = held, None
                started = True
                await send(start)
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            with HEADROOM:  # the failure may be near the recursion limit: the page needs room
                environ = scope_environ(scope)
                if started:
                    self.engine.log_late(exc, environ, _TOO_LATE)
                    raise
                response = self.engine.passthrough(exc, environ)
                # Rendering is CPU-bound and short: done here, on the loop, with no thread hop.
                view = dotted(scope.get("endpoint"))
                reply = self.engine.reply(exc, environ, view=view) if response is None else None
            if response is not None:
                await _send_response(response, environ, send)
                return
            assert reply is not None
            headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers]
            await send({"type": "http.response.start", "status": reply.status, "headers": headers})
            await send({"type": "http.response.body", "body": reply.body})
            return
        if held is not None:  # a start and nothing after it: the server's to judge
            await send(held)


async def _refuse_to_start(
    error: ConfigurationError, scope: Scope, receive: Receive, send: Send
) -> None:
    """Fail the lifespan startup with the mistake; without a lifespan, fail every request."""
    if scope["type"] != "lifespan":
        raise error
    message = await receive()
    if message["type"] == "lifespan.startup":  # the server logs the message, and stops
        await send({"type": "lifespan.startup.failed", "message": f"debugpages: {error}"})


def scope_environ(scope: Scope) -> dict[str, Any]:
    """The WSGI-style environ (PEP 3333) of an ASGI ``http`` scope, for the engine.

    Strings hold bytes as latin-1, as PEP 3333 says, so werkzeug's ``Request`` reads
    them exactly as it reads a WSGI request. The body is not available any more:
    ``wsgi.input`` is empty.
    """
    root = str(scope.get("root_path", ""))
    path = str(scope.get("path", ""))
    if root and path.startswith(root):
        path = path[len(root) :]
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": str(scope.get("method", "GET")),
        "SCRIPT_NAME": _wsgi_str(root),
        "PATH_INFO": _wsgi_str(path),
        "QUERY_STRING": bytes(scope.get("query_string", b"")).decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]) if server[1] is not None else "80",
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "wsgi.url_scheme": str(scope.get("scheme", "http")),
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    if client:
        environ["REMOTE_ADDR"] = str(client[0])
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        key = name if name in _SPECIAL_HEADERS else f"HTTP_{name}"
        value = raw_value.decode("latin-1")
        if key in environ:
            value = environ[key] + ("; " if key == "HTTP_COOKIE" else ",") + value
        environ[key] = value
    return environ


def _wsgi_str(text: str) -> str:
    """A decoded ASGI path as PEP 3333 carries it: its UTF-8 bytes, read as latin-1."""
    return text.encode("utf-8", "surrogateescape").decode("latin-1")


async def _send_response(response: Response, environ: dict[str, Any], send: Send) -> None:
    """The response a werkzeug ``HTTPException`` carries or makes (a redirect): send that."""
    headers = [
        (k.lower().encode("latin-1"), v.encode("latin-1"))
        for k, v in response.get_wsgi_headers(environ).to_wsgi_list()
    ]
    body = b"".join(response.iter_encoded()) if environ["REQUEST_METHOD"] != "HEAD" else b""
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})

"""The renderers under test, each driven in-process with the least harness possible.

Every renderer is turned, for one case, into a ``Cell``: a ``call`` (a coroutine
function) that sends one request through it and returns what a client would get, and
a ``reset`` run outside the timed region. Every call is awaited on the one event loop
that runs the whole measurement, as a server with one long-lived loop (uvicorn) runs
an application: WSGI apps are called straight from it, with a copy of one prepared
environ and a ``start_response`` that records the status; ASGI apps are driven by a
hand-written receive/send pair, because a test client (httpx) would cost more than
some of the pages it measures.

Logging is paid, not hidden, and every renderer pays for exactly one formatted record
of the traceback per failure, as a real deployment writes one: debugpages' own record,
Django's ``django.request``, the server's record of what Starlette re-raises (as
uvicorn logs it), Flask's ``app.logger`` record for werkzeug's production page, and
the traceback werkzeug's debugger writes to ``wsgi.errors``. The loggers get a
handler that formats each record (traceback included), counts it and drops the text;
``check_one_record`` verifies the count on the warm-up call. The baselines (the app
raising under a bare ``try/except``) log nothing.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from benchmarks.corpus import ASGIApp, Case, Environ, StartResponse, WSGIApp

T = TypeVar("T")

DEBUG = "debug"
PRODUCTION = "production"
BASELINE = "baseline"
WSGI = "wsgi"
ASGI = "asgi"

REQUEST_PATH = "/orders/42"
REQUEST_QUERY = "page=2&sort=date"
REQUEST_HEADERS = {
    "Host": "localhost",
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en-GB,en;q=0.5",
    "User-Agent": "debugpages-bench/1.0",
    # A signed session cookie, as a browser sends to a Flask app: a value to mask.
    "Cookie": "session=eyJ1c2VyX2lkIjo0Mn0.ZxQm3A.kq3v2bq1yJ8XJ3Y0n8V4o1b0hGk",
}


@dataclass(frozen=True)
class Outcome:
    """What the client got: status code (0 if none), body, and an escaped exception."""

    status: int
    body: bytes
    escaped: str | None = None
    content_type: str = ""

    @property
    def crashed(self) -> bool:
        """No usable error page: the renderer raised, or sent a non-5xx or empty body."""
        return self.escaped is not None or not 500 <= self.status <= 599 or not self.body


Call = Callable[[], Awaitable[Outcome]]


@dataclass
class Cell:
    """One case under one renderer: a timed ``call`` and an untimed ``reset``."""

    call: Call
    reset: Callable[[], None] = field(default=lambda: None)


@dataclass(frozen=True)
class Renderer:
    """A named way of turning a failing app into a response."""

    name: str
    kind: str  # DEBUG, PRODUCTION or BASELINE
    protocol: str  # WSGI or ASGI
    build: Callable[[Case], Cell]

    @property
    def family(self) -> str:
        """The project the renderer comes from: debugpages, werkzeug, django, ..."""
        return self.name.split("/", 1)[0]


# --- logging that costs what it costs ------------------------------------------------


class FormattingNullHandler(logging.Handler):
    """Format every record, traceback included, count those with a traceback, drop them.

    A plain ``NullHandler`` would skip the formatting, hiding the part of logging that
    costs most; this handler pays it and prints nothing.
    """

    tracebacks = 0

    def emit(self, record: logging.LogRecord) -> None:
        text = self.format(record)
        if "Traceback (most recent call last)" in text:
            FormattingNullHandler.tracebacks += 1


LOGGED_BY = ("debugpages", "django.request", "bench.server", "bench.app")


def silence_logging_but_pay_for_it() -> None:
    """Route the loggers of every renderer to a formatting null handler."""
    handler = FormattingNullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    for name in LOGGED_BY:
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False
        assert logger.isEnabledFor(logging.ERROR)


class NullWriter(io.TextIOBase):
    """``wsgi.errors`` that accepts text (werkzeug writes the traceback there) and drops it."""

    def write(self, text: str) -> int:
        if "Traceback (most recent call last)" in text:
            FormattingNullHandler.tracebacks += 1
        return len(text)


def tracebacks_logged() -> int:
    """How many tracebacks were formatted (records and ``wsgi.errors`` writes) so far."""
    return FormattingNullHandler.tracebacks


NULL_ERRORS = NullWriter()


# --- WSGI ---------------------------------------------------------------------------


def make_environ() -> Environ:
    """The request every WSGI renderer sees, built once with werkzeug's EnvironBuilder."""
    from werkzeug.test import EnvironBuilder

    headers = list(REQUEST_HEADERS.items())
    builder = EnvironBuilder(path=REQUEST_PATH, query_string=REQUEST_QUERY, headers=headers)
    try:
        environ: Environ = builder.get_environ()
    finally:
        builder.close()
    environ["wsgi.errors"] = NULL_ERRORS
    return environ


def _header(headers: Iterable[tuple[str, str]], name: str) -> str:
    """The first value of header ``name`` (case-insensitive), or an empty string."""
    for key, value in headers:
        if key.lower() == name:
            return value
    return ""


def _discard(data: bytes) -> None:
    """The ``write`` callable returned by start_response; no renderer here uses it."""


def wsgi_call(app: WSGIApp, base_environ: Environ) -> Call:
    """A coroutine function that sends one request through ``app`` and collects the response.

    The WSGI app is called straight from the event loop, without a thread: only the
    ratio to the baseline, called the same way, is read.
    """

    async def call() -> Outcome:
        environ = dict(base_environ)
        environ["wsgi.input"] = io.BytesIO()
        started: list[tuple[str, Any]] = []

        def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            started.append((status, headers))
            return _discard

        try:
            result = app(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception as exc:  # the renderer itself failed: that is a crash
            return Outcome(0, b"", type(exc).__name__)
        if not started:
            return Outcome(0, body)
        status, headers = started[-1]
        return Outcome(int(status[:3]), body, None, _header(headers, "content-type"))

    return call


# --- ASGI ---------------------------------------------------------------------------


def make_scope() -> dict[str, Any]:
    """The same request as ``make_environ``, as an ASGI HTTP scope."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": REQUEST_PATH,
        "raw_path": REQUEST_PATH.encode(),
        "query_string": REQUEST_QUERY.encode(),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in REQUEST_HEADERS.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("localhost", 80),
    }


_SERVER_LOG = logging.getLogger("bench.server")


class AsgiDriver:
    """One event loop that runs the whole measurement, as a server's long-lived loop does."""

    def __init__(self, server_log: bool) -> None:
        self.loop = asyncio.new_event_loop()
        self.server_log = server_log

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` (a whole phase of the measurement, not one request) on the loop."""
        return self.loop.run_until_complete(work)

    def close(self) -> None:
        """Close the loop (and the thread pool Starlette's production page runs in)."""
        self.loop.run_until_complete(self.loop.shutdown_default_executor())
        self.loop.close()

    def call(self, app: ASGIApp, scope: dict[str, Any], log: bool) -> Call:
        """A coroutine function that sends one request through ``app``, awaited on the loop."""

        async def call() -> Outcome:
            return await self._drive(app, scope, log)

        return call

    async def _drive(self, app: ASGIApp, scope: dict[str, Any], log: bool) -> Outcome:
        messages: list[MutableMapping[str, Any]] = []

        async def receive() -> MutableMapping[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            messages.append(message)

        escaped: BaseException | None = None
        try:
            await app(dict(scope), receive, send)
        except Exception as exc:
            escaped = exc
        outcome, complete = _parse_messages(messages)
        if escaped is not None and log and self.server_log:
            _SERVER_LOG.error("Exception in ASGI application\n", exc_info=escaped)
        if escaped is not None and not complete:
            return Outcome(outcome.status, outcome.body, type(escaped).__name__)
        return outcome


def _parse_messages(messages: Iterable[MutableMapping[str, Any]]) -> tuple[Outcome, bool]:
    """The response, and whether it was complete, from the messages the app sent."""
    status, content_type, chunks, complete = 0, "", [], False
    for message in messages:
        if message["type"] == "http.response.start":
            status = int(message["status"])
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message["headers"]]
            content_type = _header(headers, "content-type")
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            complete = not message.get("more_body", False)
    return Outcome(status, b"".join(chunks), None, content_type), complete


# --- the renderers ------------------------------------------------------------------


@dataclass
class Harness:
    """What every cell shares: the prepared request and the ASGI driver."""

    environ: Environ
    scope: dict[str, Any]
    driver: AsgiDriver


def _debugpages(harness: Harness, mode: str) -> Callable[[Case], Cell]:
    from debugpages import ErrorPages

    def build(case: Case) -> Cell:
        return Cell(wsgi_call(ErrorPages(case.wsgi, mode=mode), harness.environ))

    return build


def _werkzeug_debug(harness: Harness) -> Callable[[Case], Cell]:
    from werkzeug.debug import DebuggedApplication

    def build(case: Case) -> Cell:
        app = DebuggedApplication(case.wsgi, evalex=False)

        def reset() -> None:
            # The debugger keeps every frame for its console, even with evalex off;
            # left alone they would pile up and slow every later measurement.
            app.frames.clear()
            app.frame_contexts.clear()

        return Cell(wsgi_call(app, harness.environ), reset)

    return build


_APP_LOG = logging.getLogger("bench.app")


def _werkzeug_production(harness: Harness) -> Callable[[Case], Cell]:
    from werkzeug.exceptions import InternalServerError

    def build(case: Case) -> Cell:
        inner = case.wsgi

        def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
            """werkzeug's 500 page, logged as Flask's ``app.logger`` logs an exception."""
            try:
                return inner(environ, start_response)
            except Exception as exc:
                path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD")
                _APP_LOG.error(f"Exception on {path} [{method}]", exc_info=exc)
                return InternalServerError().get_response(environ)(environ, start_response)

        return Cell(wsgi_call(app, harness.environ))

    return build


def configure_django() -> None:
    """The least Django needs to render its pages; its own logging config is skipped."""
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DEBUG=True,
            ALLOWED_HOSTS=["*"],
            SECRET_KEY="bench-only-not-a-secret",
            ROOT_URLCONF=__name__,
            LOGGING_CONFIG=None,
            INSTALLED_APPS=[],
        )
        django.setup()


urlpatterns: list[Any] = []  # ROOT_URLCONF for Django: the bench routes nothing


def _django(harness: Harness, debug: bool) -> Callable[[Case], Cell]:
    configure_django()
    from django.core.handlers.wsgi import WSGIRequest
    from django.utils.log import log_response
    from django.views.debug import technical_500_response
    from django.views.defaults import server_error

    def build(case: Case) -> Cell:
        inner = case.wsgi

        def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
            """Catch as Django's handler does: render, then log as ``django.request``."""
            try:
                return inner(environ, start_response)
            except Exception as exc:
                request = WSGIRequest(environ)
                if debug:
                    response = technical_500_response(request, *sys.exc_info())
                else:
                    response = server_error(request)
                log_response(
                    "%s: %s",
                    response.reason_phrase,
                    request.path,
                    response=response,
                    request=request,
                    exception=exc,
                )
            status = f"{response.status_code} {response.reason_phrase}"
            start_response(status, list(response.items()))
            return [response.content]

        return Cell(wsgi_call(app, harness.environ))

    return build


def _starlette(harness: Harness, debug: bool) -> Callable[[Case], Cell]:
    from starlette.middleware.errors import ServerErrorMiddleware

    def build(case: Case) -> Cell:
        app = ServerErrorMiddleware(case.asgi, debug=debug)
        return Cell(harness.driver.call(app, harness.scope, log=True))

    return build


def _baseline_wsgi(harness: Harness) -> Callable[[Case], Cell]:
    return lambda case: Cell(wsgi_call(case.wsgi, harness.environ))


def _baseline_asgi(harness: Harness) -> Callable[[Case], Cell]:
    return lambda case: Cell(harness.driver.call(case.asgi, harness.scope, log=False))


def debugpages_available() -> bool:
    """Whether the library under test can be imported yet (it is written alongside)."""
    try:
        from debugpages import ErrorPages  # noqa: F401
    except ImportError:
        return False
    return True


Builder = Callable[[Harness], Callable[[Case], Cell]]

BUILDERS: dict[str, tuple[str, str, Builder]] = {
    "baseline/wsgi": (BASELINE, WSGI, _baseline_wsgi),
    "baseline/asgi": (BASELINE, ASGI, _baseline_asgi),
    "debugpages/on": (DEBUG, WSGI, lambda harness: _debugpages(harness, "on")),
    "debugpages/off": (PRODUCTION, WSGI, lambda harness: _debugpages(harness, "off")),
    "werkzeug/debug": (DEBUG, WSGI, _werkzeug_debug),
    "django/debug": (DEBUG, WSGI, lambda harness: _django(harness, debug=True)),
    "starlette/debug": (DEBUG, ASGI, lambda harness: _starlette(harness, debug=True)),
    "werkzeug/production": (PRODUCTION, WSGI, _werkzeug_production),
    "django/production": (PRODUCTION, WSGI, lambda harness: _django(harness, debug=False)),
    "starlette/production": (PRODUCTION, ASGI, lambda harness: _starlette(harness, debug=False)),
}
"""Each renderer's kind, protocol and builder, by name: a builder imports its library."""


def renderer(name: str, harness: Harness) -> Renderer:
    """One renderer, built alone: only its own library is imported."""
    kind, protocol, builder = BUILDERS[name]
    return Renderer(name, kind, protocol, builder(harness))


def all_renderers(harness: Harness) -> list[Renderer]:
    """Every renderer, the two baselines first, debugpages only if importable."""
    names = [n for n in BUILDERS if debugpages_available() or not n.startswith("debugpages")]
    return [renderer(name, harness) for name in names]


def make_harness(server_log: bool = True) -> Harness:
    """Prepare the request once, and the one event loop every ASGI call will reuse."""
    silence_logging_but_pay_for_it()
    return Harness(make_environ(), make_scope(), AsgiDriver(server_log))


# --- the happy path -----------------------------------------------------------------


def happy_calls(harness: Harness) -> dict[str, Call]:
    """A trivial app bare and wrapped, to price what each middleware adds to a success."""
    from starlette.middleware.errors import ServerErrorMiddleware
    from werkzeug.debug import DebuggedApplication

    from benchmarks.corpus import ok_app, ok_asgi

    calls = {"bare/wsgi": wsgi_call(ok_app, harness.environ)}
    if debugpages_available():
        from debugpages import ErrorPages

        for mode in ("off", "on"):
            calls[f"debugpages/{mode}"] = wsgi_call(ErrorPages(ok_app, mode=mode), harness.environ)
    calls["werkzeug/debug"] = wsgi_call(DebuggedApplication(ok_app, evalex=False), harness.environ)
    calls["bare/asgi"] = harness.driver.call(ok_asgi, harness.scope, log=False)
    calls["starlette/debug"] = harness.driver.call(
        ServerErrorMiddleware(ok_asgi, debug=True), harness.scope, log=True
    )
    return calls


async def check_one_record(cell: Cell, logs: bool, what: str) -> Outcome:
    """Call ``cell`` once and check that it formatted one traceback (``logs``) or none.

    A renderer that crashed may have logged nothing: the crash is counted as such.
    """
    before = tracebacks_logged()
    outcome = await cell.call()
    written = tracebacks_logged() - before
    if written != (1 if logs else 0) and not (outcome.crashed and written <= 1):
        raise RuntimeError(f"{what}: expected {1 if logs else 0} logged traceback, got {written}")
    return outcome

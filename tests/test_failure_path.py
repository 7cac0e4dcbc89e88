"""The failure path holds up where the failure left the process: deep in the stack, out of
memory, on a frame whose source is no file to read, under a user's template that fails.

Each test asserts what the client gets (the status, a page under 1 MB with the reference,
in well under a second: a bound on a hang, not a benchmark) and that the failure is
logged once.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
import textwrap
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from debugpages import ASGIErrorPages, ErrorPages

from .clients import ACCEPTS, MODES, Got, Lines, asgi_get, assert_page, wsgi_get
from .processes import run

Environ = dict[str, Any]

# A user's template that fails ------------------------------------------------------------

FAILING_TEMPLATES = {
    "raises": "{{ page.nothing.more() }}",
    "divides by zero": "{% set n = 0 %}{{ 1 // n }}",
}


class Payload:
    """A local of the failed request, to watch die."""


def failing_with_payload(refs: list[weakref.ref[Payload]]) -> Callable[..., Any]:
    def app(environ: Environ, start_response: Callable[..., Any]) -> list[bytes]:
        payload = Payload()
        blob = bytearray(2**20)  # the measured case: 1 MB of locals per request
        refs.append(weakref.ref(payload))
        raise RuntimeError(f"failed with {len(blob)} bytes")

    return app


def failing_asgi_with_payload(refs: list[weakref.ref[Payload]]) -> Callable[..., Any]:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        payload = Payload()
        blob = bytearray(2**20)
        refs.append(weakref.ref(payload))
        raise RuntimeError(f"failed with {len(blob)} bytes")

    return app


@pytest.mark.parametrize("adapter", ["wsgi", "asgi"])
@pytest.mark.parametrize("template", FAILING_TEMPLATES)
@pytest.mark.parametrize("mode", MODES)
def test_a_failing_user_template_leaves_nothing_of_the_request_alive(
    tmp_path: Path, lines: Callable[[], Lines], mode: str, template: str, adapter: str
) -> None:
    """Jinja's rewritten traceback of the template's error is a reference cycle that held
    the application's exception, and so every frame of the request, until the collector
    ran: the collector is off here, as it may as well be under load."""
    log = lines()
    for name in ("500.html", "traceback.html"):  # the page of off, of on and legacy-200
        (tmp_path / name).write_text(FAILING_TEMPLATES[template])
    refs: list[weakref.ref[Payload]] = []
    if adapter == "wsgi":
        pages: Any = ErrorPages(failing_with_payload(refs), mode=mode, template_dirs=tmp_path)
        get: Callable[..., Got] = wsgi_get
    else:
        pages = ASGIErrorPages(failing_asgi_with_payload(refs), mode=mode, template_dirs=tmp_path)
        get = asgi_get
    gc.collect()
    gc.disable()
    try:
        got = get(pages)
        assert refs[0]() is None
        assert gc.collect() == 0
    finally:
        gc.enable()
    body = assert_page(got, MODES[mode], log)
    assert any("failed to render" in message for _, message, _ in log.lines)
    assert "Internal Server Error" in body  # the built-in page took over


def test_a_user_template_broken_after_start_up_leaves_nothing_alive(
    tmp_path: Path, lines: Callable[[], Lines]
) -> None:
    """In ``on``, a user's template is read again when it changes: a syntax error then is
    met on the failure path, and Jinja rewrites its traceback the same way."""
    log = lines()
    template = tmp_path / "traceback.html"
    template.write_text("{% extends 'traceback.html' %}")
    refs: list[weakref.ref[Payload]] = []
    pages = ErrorPages(failing_with_payload(refs), mode="on", template_dirs=tmp_path)
    template.write_text("{% if %}broken")
    stat = template.stat()
    os.utime(template, (stat.st_atime, stat.st_mtime + 5))  # a later mtime: read again
    gc.collect()
    gc.disable()
    try:
        got = wsgi_get(pages)
        assert refs[0]() is None
        assert gc.collect() == 0
    finally:
        gc.enable()
    assert "Traceback" in assert_page(got, 500, log)


def test_a_template_failure_is_logged_without_the_applications_exception(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The application's exception is logged once, by itself, masked: the record of the
    template's failure does not carry it again as its context."""
    (tmp_path / "500.html").write_text(FAILING_TEMPLATES["raises"])

    def app(environ: Environ, start_response: Callable[..., Any]) -> list[bytes]:
        password = "hunter2-very-secret"
        raise RuntimeError(f"login failed for {password}")

    caplog.set_level(logging.INFO, logger="debugpages")
    got = wsgi_get(ErrorPages(app, mode="off", template_dirs=tmp_path))
    assert got.status == 500
    failures = [r for r in caplog.records if r.getMessage().startswith("RuntimeError on GET")]
    assert len(failures) == 1
    failed = [r for r in caplog.records if "failed to render" in r.getMessage()]
    assert len(failed) == 1
    assert failed[0].exc_info is not None
    assert failed[0].exc_info[1] is not None
    assert failed[0].exc_info[1].__context__ is None
    text = logging.Formatter().formatException(failed[0].exc_info)
    assert "UndefinedError" in text
    assert "hunter2" not in text
    assert sys.exc_info() == (None, None, None)


# Source that is no file to read ---------------------------------------------------------

VIEW_SOURCE = "def view(environ, start_response):\n    raise ValueError('the view failed')\n"


def view_in(filename: str) -> Callable[..., Any]:
    """A view whose code names ``filename`` as its source file, as generated code may."""
    module = compile(VIEW_SOURCE, "view.py", "exec")
    consts = tuple(
        c.replace(co_filename=filename) if hasattr(c, "co_filename") else c
        for c in module.co_consts
    )
    namespace: dict[str, Any] = {}
    exec(module.replace(co_filename=filename, co_consts=consts), namespace)
    view: Callable[..., Any] = namespace["view"]
    return view


def unreadable(kind: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """A file name of the given kind, and the reason the page gives for it."""
    if kind == "fifo":  # opening it blocks until a writer comes: none does
        os.mkfifo(folder / "view.py")
        return str(folder / "view.py"), "it is a FIFO"
    if kind == "fifo on sys.path":  # a relative name: linecache looks along sys.path
        os.mkfifo(folder / "generated_view.py")
        monkeypatch.syspath_prepend(str(folder))
        return "generated_view.py", "it is a FIFO"
    if kind == "/dev/zero":  # read without end
        return "/dev/zero", "it is a character device"
    if kind == "folder":
        return str(folder), "it is a folder"
    if kind == "huge":  # 100 MB (sparse: nothing is written)
        with open(folder / "huge.py", "wb") as huge:
            huge.truncate(100 * 2**20)
        return str(folder / "huge.py"), "too large to read (104,857,600 bytes"
    assert kind == "nul in the name"  # os.stat raises ValueError, which linecache let out
    return "view\0.py", "it holds a NUL character"


UNREADABLE = ["fifo", "fifo on sys.path", "/dev/zero", "folder", "huge", "nul in the name"]


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", UNREADABLE)
def test_source_is_read_only_from_regular_files_of_bounded_size(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lines: Callable[[], Lines],
    kind: str,
    mode: str,
    accept: str,
) -> None:
    """Every mode reads source (``off`` for the log record's traceback): a FIFO hung
    each of them, ``/dev/zero`` filled memory. The page says why there is no source."""
    filename, reason = unreadable(kind, tmp_path, monkeypatch)
    log = lines()
    pages = ErrorPages(view_in(filename), mode=mode)
    body = assert_page(wsgi_get(pages, accept), MODES[mode], log)
    if mode != "off":
        assert "ValueError: the view failed" in body
        if accept == "text/html":
            assert "No source code is available for this frame: the file " in body
            assert reason in body
        if accept == "application/json":
            frame = json.loads(body)["exception"]["frames"][-1]
            assert reason in frame["no_source"]
            assert frame["source"] == []


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero"])
def test_an_asgi_failure_on_unreadable_source_gets_its_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lines: Callable[[], Lines], kind: str
) -> None:
    filename, reason = unreadable(kind, tmp_path, monkeypatch)
    view = view_in(filename)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        view({}, None)

    log = lines()
    body = assert_page(asgi_get(ASGIErrorPages(app, mode="on")), 500, log)
    assert reason in body


def test_a_fifo_replaced_by_its_source_is_read_at_the_next_failure(
    tmp_path: Path, lines: Callable[[], Lines]
) -> None:
    fifo = tmp_path / "view.py"
    os.mkfifo(fifo)
    pages = ErrorPages(view_in(str(fifo)), mode="on")
    log = lines()
    assert "it is a FIFO" in assert_page(wsgi_get(pages), 500, log)
    fifo.unlink()
    fifo.write_text(VIEW_SOURCE)
    body = wsgi_get(pages, "text/plain").body.decode()
    assert "raise ValueError('the view failed')" in body


# Near the recursion limit ---------------------------------------------------------------


def frames_left() -> int:
    """How many more frames fit under the recursion limit from the caller's depth (found
    by going there: Python 3.11 counts some C calls too, so frames cannot be counted)."""

    def probe(n: int) -> int:
        try:
            return probe(n + 1)
        except RecursionError:
            return n

    return probe(0)


def dive(frames: int, then: Callable[[], Any]) -> Any:
    return dive(frames - 1, then) if frames > 0 else then()


def dispatching_deep(pages: Callable[..., Any], under: int) -> Callable[..., Any]:
    """A WSGI app that recursed through its own dispatch (a router of routers) and calls
    ``pages`` ``under`` frames under the recursion limit, as a real deep stack does."""

    def dispatch(environ: Environ, start_response: Callable[..., Any]) -> Any:
        return dive(frames_left() - under, lambda: pages(environ, start_response))

    return dispatch


def dispatching_deep_asgi(pages: Callable[..., Any], under: int) -> Callable[..., Any]:
    async def dive_async(frames: int, scope: Any, receive: Any, send: Any) -> None:
        if frames > 0:
            return await dive_async(frames - 1, scope, receive, send)
        await pages(scope, receive, send)

    async def dispatch(scope: Any, receive: Any, send: Any) -> None:
        await dive_async(frames_left() - under, scope, receive, send)

    return dispatch


def chained_failure() -> RuntimeError:
    """A chained exception, made where there is room: the view only raises it."""
    try:
        try:
            {}["missing"]
        except KeyError as exc:
            raise RuntimeError("the order could not be read") from exc
    except RuntimeError as exc:
        return exc
    raise AssertionError("unreachable")


def raising(exc: Exception) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """A WSGI view and an ASGI app that raise ``exc``: one frame, no call, near the limit."""

    def failing_view(environ: Environ, start_response: Callable[..., Any]) -> list[bytes]:
        raise exc

    async def failing_asgi_view(scope: Any, receive: Any, send: Any) -> None:
        raise exc

    return failing_view, failing_asgi_view


@pytest.fixture
def span() -> Iterator[None]:
    """A recording OpenTelemetry span, as an instrumented server has: the failure path
    records the exception on it (OpenTelemetry's import once raised RecursionError here)."""
    from opentelemetry.sdk.trace import TracerProvider

    tracer = TracerProvider().get_tracer("tests")
    with tracer.start_as_current_span("GET /orders/7"):
        yield


@pytest.mark.parametrize("under", [4, 10, 60])
@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("adapter", ["wsgi", "asgi"])
def test_a_failure_a_few_frames_under_the_recursion_limit_gets_its_page(
    lines: Callable[[], Lines], span: None, adapter: str, mode: str, accept: str, under: int
) -> None:
    """The failure path takes a few dozen frames: there, each raised RecursionError, and
    it escaped the middleware (the client got the server's bare 500). The limit is
    raised while the page is made, and put back after (at the very edge, where Python
    refuses to lower it, by the next failure)."""
    limit = sys.getrecursionlimit()
    view, asgi_view = raising(chained_failure())
    log = lines()
    if adapter == "wsgi":
        app = dispatching_deep(ErrorPages(view, mode=mode), under)
        got = wsgi_get(app, accept)
    else:
        asgi_app = dispatching_deep_asgi(ASGIErrorPages(asgi_view, mode=mode), under)
        got = asgi_get(asgi_app, accept)
    body = assert_page(got, MODES[mode], log)
    log.lines.clear()
    shallow = ErrorPages(raising(ValueError("shallow"))[0], mode=mode)
    assert_page(wsgi_get(shallow, accept), MODES[mode], log)  # the limit is back, at worst now
    assert sys.getrecursionlimit() == limit
    if mode != "off":
        assert "RuntimeError: the order could not be read" in body
        assert "KeyError" in body
        if accept != "text/plain":
            assert "failing_view" in body or "failing_asgi_view" in body


@pytest.mark.parametrize("mode", MODES)
def test_a_view_that_recursed_to_the_limit_and_failed_there_gets_its_page(
    lines: Callable[[], Lines], mode: str
) -> None:
    def fail() -> None:
        raise ValueError("the basket is too deep")

    def view(environ: Environ, start_response: Callable[..., Any]) -> list[bytes]:
        dive(frames_left() - 5, fail)
        return []

    log = lines()
    for accept in ACCEPTS:
        log.lines.clear()
        body = assert_page(wsgi_get(ErrorPages(view, mode=mode), accept), MODES[mode], log)
        assert ("ValueError: the basket is too deep" in body) is (mode != "off")


@pytest.mark.parametrize("mode", MODES)
def test_a_memory_error_gets_its_page(lines: Callable[[], Lines], mode: str) -> None:
    def view(environ: Environ, start_response: Callable[..., Any]) -> list[bytes]:
        blocks = [bytearray(2**20) for _ in range(8)]
        raise MemoryError(f"{len(blocks)} blocks taken, no more to be had")

    log = lines()
    for accept in ACCEPTS:
        log.lines.clear()
        body = assert_page(wsgi_get(ErrorPages(view, mode=mode), accept), MODES[mode], log)
        assert ("MemoryError" in body) is (mode != "off")


# Out of memory, for real: the application fills what the process may have, and keeps it
# (its frame holds the hoard) while debugpages makes the page.
OUT_OF_MEMORY = textwrap.dedent(
    """
    import json, logging, resource, sys
    from werkzeug.test import create_environ
    from debugpages import ErrorPages

    mode, accept = sys.argv[1], sys.argv[2]
    logger = logging.getLogger("debugpages")
    logger.propagate = False
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append([record.levelname, getattr(record, "reference", "-")])

    logger.addHandler(Keep())

    def view(environ, start_response):
        hoard = []
        try:
            while True:
                hoard.append(bytearray(2**20))
        except MemoryError:
            raise MemoryError(f"out of memory after {len(hoard)} MB") from None

    pages = ErrorPages(view, mode=mode)
    environ = create_environ("/orders/7", headers={"Accept": accept})
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    size = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (size + 200 * 2**20, hard))
    statuses = []
    body = b"".join(pages(environ, lambda status, headers, *exc: statuses.append(status)))
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    print(json.dumps({"statuses": statuses, "body": body.decode(), "records": records}))
    """
)


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("mode", MODES)
def test_a_process_out_of_memory_still_gets_its_page(mode: str, accept: str) -> None:
    """The process may take no more memory (``RLIMIT_AS``) and the failed request holds
    all it took: the page is still made, with the status and the reference logged."""
    got = json.loads(run([sys.executable, "-c", OUT_OF_MEMORY, mode, accept]).splitlines()[-1])
    assert [int(status.split()[0]) for status in got["statuses"]] == [MODES[mode]]
    failures = [ref for level, ref in got["records"] if level == "ERROR"]
    assert len(failures) == 1
    assert failures[0] in got["body"]
    assert len(got["body"]) < 1_000_000
    assert ("out of memory after" in got["body"]) is (mode != "off")

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
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from debugpages import ASGIErrorPages, ErrorPages

from .clients import ACCEPTS, MODES, Got, Lines, asgi_get, assert_page, wsgi_get

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

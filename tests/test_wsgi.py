"""PEP 3333 in practice: what passes through, when the page can still replace the response."""

from __future__ import annotations

import http.client
import logging
from collections.abc import Callable, Iterable

import pytest
from werkzeug.routing import RequestRedirect
from werkzeug.test import Client

from debugpages import ErrorPages

from . import apps
from .conftest import eventually, fetch


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), SystemExit(3), GeneratorExit()])
def test_base_exceptions_that_are_not_exceptions_pass_through(
    exc: BaseException, records: Callable[[], list[logging.LogRecord]]
) -> None:
    client = Client(ErrorPages(apps.raising(exc), mode="on"))
    with pytest.raises(type(exc)):
        client.get("/")
    assert [r for r in records() if r.levelno >= logging.ERROR] == []


def test_a_healthy_response_is_untouched() -> None:
    response = Client(ErrorPages(apps.ok_app, mode="on")).get("/")
    assert response.status == "200 OK"
    assert response.data == b"fine"
    assert "Cache-Control" not in response.headers


def test_a_list_body_is_returned_as_it_is() -> None:
    pages = ErrorPages(apps.ok_app, mode="on")
    body = pages({"REQUEST_METHOD": "GET"}, lambda status, headers, exc_info=None: None)
    assert body == [b"fine"]


def test_failure_after_start_response_before_any_byte_replaces_the_response(
    serve: Callable[..., str],
) -> None:
    fetched = fetch(serve(ErrorPages(apps.fails_after_start_response, mode="on")), "/")
    assert (fetched.status, fetched.reason) == (500, "Internal Server Error")
    assert "RuntimeError: failed after start_response" in fetched.text


def test_failure_while_iterating_before_any_byte_still_gets_the_page(
    serve: Callable[..., str],
) -> None:
    body = apps.Body([], RuntimeError("failed in the body"))
    fetched = fetch(serve(ErrorPages(apps.streaming(body), mode="on")), "/")
    assert fetched.status == 500
    assert "RuntimeError: failed in the body" in fetched.text
    assert eventually(lambda: body.closed)


@pytest.mark.parametrize(
    "error",
    [RuntimeError("failed mid-body"), RequestRedirect("http://localhost/failed-mid-body")],
    ids=["error", "redirect"],
)
def test_failure_after_body_bytes_lets_the_server_end_the_connection(
    serve: Callable[..., str], records: Callable[[], list[logging.LogRecord]], error: Exception
) -> None:
    body = apps.Body([b"partial "], error)
    base = serve(ErrorPages(apps.streaming(body), mode="on"))
    try:
        fetched = fetch(base, "/")
    except http.client.HTTPException:
        pass  # the connection was cut mid-body: the client cannot mistake it for a whole page
    else:
        assert fetched.status == 200  # the status could no longer change...
        assert "failed mid-body" not in fetched.text  # ...and no page was appended to the body
    assert eventually(lambda: body.closed)
    errors = [r for r in records() if r.levelno == logging.ERROR and r.exc_info]
    assert len(errors) == 1
    assert "already started" in errors[0].getMessage()


def test_close_is_called_on_success_and_on_failure() -> None:
    good = apps.Body([b"a", b"b"])
    assert Client(ErrorPages(apps.streaming(good))).get("/").data == b"ab"
    assert good.closed
    bad = apps.Body([], ValueError("boom"))
    with pytest.raises(ValueError, match="boom"):
        # werkzeug's test client re-raises whenever start_response gets exc_info;
        # a real server replaces the response (see the tests above).
        Client(ErrorPages(apps.streaming(bad))).get("/")
    assert bad.closed


def test_a_logging_handler_that_raises_never_costs_the_client_its_page(
    capsys: pytest.CaptureFixture[str],
) -> None:
    class Broken(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            raise OSError("disk full")

        def handle(self, record: logging.LogRecord) -> bool:  # skip logging's own safety net
            self.emit(record)
            return True

    logger = logging.getLogger("debugpages")
    handler = Broken()
    logger.addHandler(handler)
    try:
        pages = ErrorPages(apps.plain, mode="off")
    except OSError:
        logger.removeHandler(handler)
        raise
    try:
        response = Client(pages).get("/")
    finally:
        logger.removeHandler(handler)
    assert response.status_code == 500
    assert b"Internal Server Error" in response.data
    assert "disk full" in capsys.readouterr().err


@pytest.mark.parametrize("accept", ["text/html", "text/plain", "application/json"])
@pytest.mark.parametrize("mode", ["off", "on", "legacy-200"])
def test_a_page_leaves_nothing_for_the_cycle_collector(
    monkeypatch: pytest.MonkeyPatch, mode: str, accept: str
) -> None:
    """A page whose objects form a reference cycle (a template's own macros hold its
    context, a table of bound methods its owner) waits for the collector, and under load
    the collector runs more often: a failure must be freed by reference counting alone."""
    import gc

    monkeypatch.setattr(logging.getLogger("debugpages"), "propagate", False)
    pages = ErrorPages(apps.chained, mode=mode)
    environ = {"REQUEST_METHOD": "GET", "HTTP_ACCEPT": accept, "QUERY_STRING": "a=1"}
    assert b"".join(pages(dict(environ), lambda *args: None))  # templates load: not counted
    gc.collect()
    gc.disable()
    try:
        assert b"".join(pages(dict(environ), lambda *args: None))
        assert gc.collect() == 0
    finally:
        gc.enable()


@pytest.mark.parametrize("mode", ["off", "on", "legacy-200"])
def test_a_failed_requests_frames_die_with_the_response_without_the_cycle_collector(
    monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """Under load, anything only the cycle collector can free piles up (the soak saw
    +270 MB): the page must not tie the failed frames into a reference cycle."""
    import gc
    import weakref

    monkeypatch.setattr(logging.getLogger("debugpages"), "propagate", False)

    class Payload:
        pass

    refs: list[weakref.ref[Payload]] = []

    def app(environ: dict[str, object], start_response: object) -> Iterable[bytes]:
        payload = Payload()
        refs.append(weakref.ref(payload))
        raise RuntimeError("failed")

    pages = ErrorPages(app, mode=mode)
    gc.collect()
    gc.disable()
    try:
        statuses: list[str] = []
        body = pages({"REQUEST_METHOD": "GET"}, lambda status, *rest: statuses.append(status))
        assert b"".join(body)
        assert statuses == ["200 OK" if mode == "legacy-200" else "500 Internal Server Error"]
        assert refs[0]() is None
    finally:
        gc.enable()

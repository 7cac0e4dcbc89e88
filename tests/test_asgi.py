"""ASGI: the pages for Starlette, FastAPI and bare ASGI apps, in the test client and on uvicorn."""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket
from werkzeug.exceptions import NotFound
from werkzeug.utils import redirect

from debugpages import ASGIErrorPages
from debugpages.asgi import scope_environ

from .conftest import fetch

MODES = [("off", 500), ("on", 500), ("legacy-200", 200)]
HTML = {"Accept": "text/html"}


def parse_price(text: str) -> float:
    sauce = "tomato-1234"  # a local the page shows in on mode, never in off
    return float(text) * len(sauce)


async def boom(request: Request) -> Response:
    return PlainTextResponse(str(parse_price("two euros")))


async def fine(request: Request) -> Response:
    return PlainTextResponse("fine")


async def missing(request: Request) -> Response:
    raise StarletteHTTPException(status_code=404, detail="starlette's own 404")


async def handled(request: Request) -> Response:
    raise KeyError("handled by the app")


async def on_key_error(request: Request, exc: Exception) -> Response:
    return JSONResponse({"handled": True}, status_code=409)


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("hello over a websocket")
    await websocket.close()


def starlette_app(mode: str, **kwargs: Any) -> Starlette:
    app = Starlette(
        routes=[
            Route("/boom", boom),
            Route("/fine", fine),
            Route("/missing", missing),
            Route("/handled", handled),
            WebSocketRoute("/ws", echo),
        ],
        exception_handlers={KeyError: on_key_error},
        **kwargs,
    )
    app.add_middleware(ASGIErrorPages, mode=mode)
    return app


def fastapi_app(mode: str) -> FastAPI:
    app = FastAPI()

    @app.get("/boom")
    async def fastapi_boom() -> dict[str, float]:
        return {"price": parse_price("two euros")}

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    app.add_middleware(ASGIErrorPages, mode=mode)
    return app


@pytest.mark.parametrize(("mode", "status"), MODES)
def test_starlette_sends_the_page_of_the_mode_and_its_own_500_never_runs(
    mode: str, status: int
) -> None:
    # raise_server_exceptions (the default) would raise here had ServerErrorMiddleware
    # seen the exception: debugpages handled it before it got there.
    page = TestClient(starlette_app(mode)).get("/boom", headers=HTML)
    assert page.status_code == status
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["cache-control"] == "no-store"
    assert ("tomato-1234" in page.text) is (mode != "off")
    assert ("could not convert string to float" in page.text) is (mode != "off")
    if mode == "legacy-200":
        assert page.headers["debugpages-original-status"] == "500 Internal Server Error"


def test_starlette_debug_mode_does_not_take_over_the_page() -> None:
    page = TestClient(starlette_app("off", debug=True)).get("/boom", headers=HTML)
    assert page.status_code == 500
    assert "tomato-1234" not in page.text
    assert "Internal Server Error" in page.text


def test_starlettes_own_404_and_the_apps_handlers_keep_working() -> None:
    client = TestClient(starlette_app("on"))
    missing_page = client.get("/missing")
    assert (missing_page.status_code, missing_page.text) == (404, "starlette's own 404")
    handled_page = client.get("/handled")
    assert (handled_page.status_code, handled_page.json()) == (409, {"handled": True})
    assert client.get("/nowhere").status_code == 404


def test_a_handler_for_exception_is_replaced_by_the_page_as_documented() -> None:
    app = Starlette(routes=[Route("/boom", boom)], exception_handlers={Exception: on_key_error})
    app.add_middleware(ASGIErrorPages, mode="off")
    page = TestClient(app).get("/boom", headers=HTML)
    assert page.status_code == 500
    assert "Internal Server Error" in page.text


def test_a_healthy_response_is_untouched() -> None:
    page = TestClient(starlette_app("on")).get("/fine")
    assert (page.status_code, page.text) == (200, "fine")
    assert "cache-control" not in page.headers


def test_websockets_and_lifespan_pass_through() -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    with (
        TestClient(starlette_app("on", lifespan=lifespan)) as client,
        client.websocket_connect("/ws") as ws,
    ):
        assert ws.receive_text() == "hello over a websocket"
    assert events == ["startup", "shutdown"]


@pytest.mark.parametrize(("mode", "status"), MODES)
def test_fastapi_gets_problem_json_for_an_api_client(mode: str, status: int) -> None:
    client = TestClient(fastapi_app(mode))
    page = client.get("/boom", headers={"Accept": "application/json"})
    assert page.status_code == status
    assert page.headers["content-type"] == "application/problem+json"
    problem = page.json()
    assert problem["status"] == 500
    assert ("exception" in problem) is (mode != "off")
    assert client.get("/items/7").json() == {"item_id": 7}
    assert client.get("/items/seven").status_code == 422  # FastAPI's own validation error


def test_the_reference_on_the_page_is_the_one_logged(
    records: Callable[[], list[logging.LogRecord]],
) -> None:
    page = TestClient(fastapi_app("off")).get("/boom")
    (error,) = [r for r in records() if r.levelno == logging.ERROR]
    assert error.reference in page.text  # type: ignore[attr-defined]
    assert (error.method, error.path) == ("GET", "/boom")  # type: ignore[attr-defined]


async def raw_boom(scope: Any, receive: Any, send: Any) -> None:
    raise ValueError("raw failure")


def test_the_traceback_page_shows_the_asgi_request_translated() -> None:
    app = ASGIErrorPages(raw_boom, mode="on")
    client = TestClient(app, root_path="/shop")
    page = client.get(
        "/caf%C3%A9?q=tea&token=hunter2",
        headers={"Accept": "application/json", "Authorization": "Bearer hunter2"},
    )
    request = page.json()["request"]
    assert request["method"] == "GET"
    assert request["path"] == "/café"  # werkzeug's Request.path: below the root path
    assert request["url"] == "http://testserver/shop/café"
    query = {item["name"]: item for item in request["query"]}
    assert query["q"]["text"] == "tea"
    assert query["token"]["masked"] is True
    headers = {item["name"]: item for item in request["headers"]}
    assert headers["Authorization"]["masked"] is True


def test_scope_translation_follows_pep_3333() -> None:
    environ = scope_environ(
        {
            "type": "http",
            "method": "POST",
            "root_path": "/app",
            "path": "/app/é",
            "query_string": b"a=1",
            "scheme": "https",
            "http_version": "2",
            "server": ("example.org", 443),
            "client": ("10.0.0.1", 5555),
            "headers": [
                (b"content-type", b"text/plain"),
                (b"x-many", b"a"),
                (b"x-many", b"b"),
                (b"cookie", b"a=1"),
                (b"cookie", b"b=2"),
            ],
        }
    )
    assert environ["SCRIPT_NAME"] == "/app"
    assert environ["PATH_INFO"] == "/é".encode().decode("latin-1")
    assert (environ["QUERY_STRING"], environ["CONTENT_TYPE"]) == ("a=1", "text/plain")
    assert (environ["HTTP_X_MANY"], environ["HTTP_COOKIE"]) == ("a,b", "a=1; b=2")
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("example.org", "443")
    assert (environ["REMOTE_ADDR"], environ["wsgi.url_scheme"]) == ("10.0.0.1", "https")
    assert environ["SERVER_PROTOCOL"] == "HTTP/2"
    assert environ["wsgi.input"].read() == b""


def raising(exc: Exception) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise exc

    return app


def test_werkzeug_http_errors_and_redirects_work_in_asgi_too() -> None:
    not_found = TestClient(ASGIErrorPages(raising(NotFound()), mode="on")).get("/", headers=HTML)
    assert not_found.status_code == 404
    assert "Traceback" not in not_found.text
    moved = TestClient(ASGIErrorPages(raising(_redirect()), mode="on"), follow_redirects=False)
    response = moved.get("/")
    assert (response.status_code, response.headers["location"]) == (302, "/elsewhere")


def _redirect() -> Exception:
    from werkzeug.routing import RequestRedirect

    exc = RequestRedirect("/elsewhere")
    exc.code = 302
    exc.response = redirect("/elsewhere", 302)
    return exc


async def fails_after_start(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"partial", "more_body": True})
    raise RuntimeError("failed mid-body")


def test_after_the_response_started_the_exception_is_re_raised(
    records: Callable[[], list[logging.LogRecord]],
) -> None:
    with pytest.raises(RuntimeError, match="failed mid-body"):
        TestClient(ASGIErrorPages(fails_after_start, mode="on")).get("/")
    (error,) = [r for r in records() if r.levelno == logging.ERROR]
    assert "already started" in error.getMessage()


# --- over a real socket, with uvicorn ---------------------------------------------------


@pytest.fixture
def serve_asgi() -> Iterator[Callable[..., str]]:
    """Start an ASGI app on uvicorn, on 127.0.0.1; return its base URL."""
    running: list[tuple[uvicorn.Server, threading.Thread, socket.socket]] = []

    def start(app: Any, lifespan: str = "on") -> str:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        config = uvicorn.Config(app, log_config=None, lifespan=lifespan, ws="none")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        running.append((server, thread, sock))
        for _ in range(200):
            if server.started:
                break
            threading.Event().wait(0.05)
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    yield start
    for server, thread, sock in running:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.mark.parametrize(("mode", "status"), MODES)
def test_fastapi_on_uvicorn_sends_the_page_with_the_right_status_line(
    serve_asgi: Callable[..., str], mode: str, status: int
) -> None:
    base = serve_asgi(fastapi_app(mode))
    page = fetch(base, "/boom", HTML)
    assert page.status == status
    assert page.reason == ("OK" if status == 200 else "Internal Server Error")
    assert ("tomato-1234" in page.text) is (mode != "off")
    assert int(page.headers["Content-Length"]) == len(page.body)
    assert fetch(base, "/items/3").text == '{"item_id":3}'


def test_a_head_request_on_uvicorn_gets_headers_only(serve_asgi: Callable[..., str]) -> None:
    page = fetch(serve_asgi(ASGIErrorPages(raw_boom, mode="on"), "off"), "/", HTML, method="HEAD")
    assert page.status == 500
    assert page.body == b""


def test_uvicorn_ends_the_connection_when_the_response_had_started(
    serve_asgi: Callable[..., str],
) -> None:
    base = serve_asgi(ASGIErrorPages(fails_after_start, mode="on"), "off")
    with pytest.raises(http.client.IncompleteRead):
        fetch(base, "/")


def test_problem_json_over_uvicorn_is_valid_json(serve_asgi: Callable[..., str]) -> None:
    page = fetch(serve_asgi(starlette_app("off")), "/boom", {"Accept": "application/json"})
    assert page.status == 500
    problem = json.loads(page.body)
    assert problem["status"] == 500
    assert "detail" in problem
    assert "tomato" not in page.text


def test_a_minimal_scope_without_server_client_or_headers_still_gets_the_page() -> None:
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    app = ASGIErrorPages(raw_boom, mode="on")
    asyncio.run(app({"type": "http", "method": "GET", "path": "/"}, receive, send))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 500
    assert b"raw failure" in sent[1]["body"]


def test_secrets_in_the_scope_local_are_never_shown() -> None:
    page = TestClient(starlette_app("on")).get(
        "/boom?token=query-secret",
        headers={**HTML, "Authorization": "Bearer header-secret", "Cookie": "sid=cookie-secret"},
    )
    assert "tomato-1234" in page.text
    for secret in ("query-secret", "header-secret", "cookie-secret"):
        assert secret not in page.text


@pytest.mark.parametrize("mode", ["on", "legacy-200"])
def test_a_failed_requests_frames_die_with_the_response_without_the_cycle_collector(
    monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    import gc
    import weakref

    monkeypatch.setattr(logging.getLogger("debugpages"), "propagate", False)

    class Payload:
        pass

    refs: list[weakref.ref[Payload]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        payload = Payload()
        refs.append(weakref.ref(payload))
        raise RuntimeError("failed")

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    pages = ASGIErrorPages(app, mode=mode)
    gc.collect()
    gc.disable()
    try:
        asyncio.run(pages(scope, receive, send))
        assert sent[0]["status"] == (200 if mode == "legacy-200" else 500)
        assert refs[0]() is None
    finally:
        gc.enable()


# --- a streamed response: the page replaces it until its first chunk ------------------


async def chunks_then(fail_after: int) -> AsyncIterator[bytes]:
    for number in range(fail_after):
        yield f"chunk {number}\n".encode()
    raise RuntimeError(f"the stream failed after {fail_after} chunks")


def streaming_app(mode: str, fail_after: int | None) -> Starlette:
    async def stream(request: Request) -> Response:
        if fail_after is None:
            return StreamingResponse(iter([b"one\n", b"two\n", b"three\n"]), media_type="text/csv")
        return StreamingResponse(chunks_then(fail_after), media_type="text/csv")

    app = Starlette(routes=[Route("/stream", stream)])
    app.add_middleware(ASGIErrorPages, mode=mode)
    return app


@pytest.mark.parametrize(("mode", "status"), MODES)
def test_a_stream_that_fails_before_its_first_chunk_gets_the_page_not_an_empty_200(
    mode: str, status: int, records: Callable[[], list[logging.LogRecord]]
) -> None:
    with TestClient(streaming_app(mode, 0), raise_server_exceptions=False) as client:
        page = client.get("/stream", headers=HTML)
    assert page.status_code == status
    assert page.headers["content-type"].startswith("text/html")
    assert ("the stream failed after 0 chunks" in page.text) is (mode != "off")
    (error,) = [r for r in records() if r.levelno == logging.ERROR]
    assert error.reference in page.text  # type: ignore[attr-defined]


@pytest.mark.parametrize(("mode", "status"), MODES)
def test_on_uvicorn_a_stream_failing_before_its_first_chunk_gets_the_page(
    serve_asgi: Callable[..., str], mode: str, status: int
) -> None:
    base = serve_asgi(streaming_app(mode, 0))
    page = fetch(base, "/stream", HTML)
    assert page.status == status
    assert "text/html" in page.headers["Content-Type"]
    assert ("the stream failed after 0 chunks" in page.text) is (mode != "off")


def test_on_uvicorn_a_stream_failing_after_a_chunk_ends_the_connection(
    serve_asgi: Callable[..., str],
) -> None:
    base = serve_asgi(streaming_app("on", 1))
    with pytest.raises(http.client.IncompleteRead) as cut:
        fetch(base, "/stream")
    assert cut.value.partial == b"chunk 0\n"  # what was sent stays sent


def test_a_healthy_stream_and_its_headers_are_untouched(serve_asgi: Callable[..., str]) -> None:
    base = serve_asgi(streaming_app("on", None))
    page = fetch(base, "/stream")
    assert page.status == 200
    assert page.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert page.body == b"one\ntwo\nthree\n"

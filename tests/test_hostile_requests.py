"""Hostile requests: whatever a client sends, it gets its page with the right status, in
every mode and format, through WSGI and ASGI, and the failure is logged once.

Real servers cap a request line and its headers (gunicorn at 4 KB, uvicorn's h11 at
16 KB); a WSGI or ASGI callable called directly, or a server configured otherwise, does
not, so the tests call the adapters as a server would, with what no server would send.
"""

from __future__ import annotations

import html
import json
import logging
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from werkzeug.test import create_environ, run_wsgi_app

from debugpages import ASGIErrorPages, ErrorPages

from .clients import ACCEPTS, MODES, Lines, asgi_messages
from .flask_site import create_app

MANY = 100_000
"""Query arguments in one request: ten times what debugpages reads."""
QUERY = "&".join(f"k{i}=v" for i in range(MANY))
COOKIES = "; ".join(f"c{i}=v{i}" for i in range(10_000))


def request_section(page: str) -> str:
    start = page.index('<h2 id="request">')
    return html.unescape(re.sub(r"<[^>]+>", " ", page[start : page.index("</section>", start)]))


def failures(lines: Lines) -> list[str]:
    return [m for level, m, ref in lines.lines if level >= logging.ERROR and ref != "-"]


def starlette_app(mode: str) -> Starlette:
    async def orders(request: Request) -> Response:
        raise ValueError(f"no order among {len(request.query_params)} arguments")

    app = Starlette(routes=[Route("/orders", orders)])
    app.add_middleware(ASGIErrorPages, mode=mode)
    return app


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("adapter", ["flask", "starlette"])
def test_a_request_with_a_hundred_thousand_arguments_gets_its_page_and_says_what_it_left_out(
    debug_lines: Lines, mode: str, accept: str, adapter: str
) -> None:
    headers = {"Accept": accept, "Cookie": COOKIES}
    if adapter == "flask":  # without its cookie jar, which sets the header itself
        client = create_app(mode).test_client(use_cookies=False)
        response: Any = client.get(f"/fail?{QUERY}", headers=headers)
        body = response.get_data(as_text=True)
        status = response.status_code
    else:  # in bare messages: httpx refuses a URL this long
        asgi_headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        status, raw = asgi_call(starlette_app(mode), b"/orders", QUERY.encode(), asgi_headers)
        body = raw.decode()
    assert status == MODES[mode]
    assert len(failures(debug_lines)) == 1, debug_lines.lines
    assert len(body) < 1_000_000
    if accept == "application/json":
        data = json.loads(body)
    if mode == "off" or accept == "text/plain":
        return
    # The page keeps its request section (at 100,000 rows it was dropped whole for size).
    if accept == "text/html":
        shown = request_section(body)
        assert "k99 " in shown
        assert "k100 " not in shown
        assert f"{MANY - 100:,} more not shown" in shown
        assert "c99," in shown
        assert "c100," not in shown
        assert "9,900 more not shown" in shown
    else:
        query = data["request"]["query"]
        assert [field["name"] for field in query[:100]] == [f"k{i}" for i in range(100)]
        assert query[100]["text"] == f"{MANY - 100:,} more not shown"
        assert len(query) == 101
        assert data["request"]["cookies"][-1] == "… 9,900 more not shown"
    unread = f"{MANY - 10_000:,} more query arguments or form fields than debugpages reads"
    assert unread in body


def test_a_form_of_a_hundred_thousand_fields_nobody_read_gets_its_request_section(
    debug_lines: Lines,
) -> None:
    form = "&".join(f"f{i}=v" for i in range(MANY)).encode()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise ValueError("the order was never read")

    environ = create_environ(
        "/orders",
        method="POST",
        data=form,
        content_type="application/x-www-form-urlencoded",
        headers={"Accept": "text/html"},
    )
    chunks, status, _ = run_wsgi_app(ErrorPages(app, mode="on"), environ, buffered=True)
    page = b"".join(chunks).decode()
    assert status.startswith("500 ")
    assert len(failures(debug_lines)) == 1
    shown = request_section(page)
    assert "f99 " in shown
    assert f"{MANY - 100:,} more not shown" in shown
    assert f"{MANY - 10_000:,} more query arguments or form fields" in page


# Any bytes where a server would have put text: invalid UTF-8, NUL and other controls,
# in the path, the query, the cookies and any header.
BYTES = st.binary(max_size=200)
NAME = st.binary(min_size=1, max_size=20).filter(
    lambda b: b"\r" not in b and b"\n" not in b and b.lower() not in (b"accept", b"cookie", b"host")
)


def wsgi_text(raw: bytes) -> str:
    return raw.decode("latin-1")


@settings(max_examples=30)
@given(
    path=BYTES, query=BYTES, cookie=BYTES, name=NAME, value=BYTES, mode=st.sampled_from(list(MODES))
)
def test_any_bytes_in_the_path_query_cookies_and_headers_get_the_page(
    path: bytes, query: bytes, cookie: bytes, name: bytes, value: bytes, mode: str
) -> None:
    lines = Lines()
    logger = logging.getLogger("debugpages")
    logger.addHandler(lines)
    try:

        def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            raise ValueError("the request was odd")

        async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
            raise ValueError("the request was odd")

        wsgi_app, asgi_app = ErrorPages(app, mode=mode), ASGIErrorPages(asgi, mode=mode)
        for accept in ACCEPTS:
            environ = create_environ("/", headers={"Accept": accept})
            environ["PATH_INFO"] = "/" + wsgi_text(path)
            environ["QUERY_STRING"] = wsgi_text(query)
            environ["HTTP_COOKIE"] = wsgi_text(cookie)
            key = "HTTP_" + wsgi_text(name).upper().replace("-", "_")
            environ.setdefault(key, wsgi_text(value))
            chunks, status, _ = run_wsgi_app(wsgi_app, environ, buffered=True)
            check(int(status.split()[0]), b"".join(chunks), accept, mode)
            headers = [(b"accept", accept.encode()), (b"cookie", cookie), (name.lower(), value)]
            check(*asgi_call(asgi_app, b"/" + path, query, headers), accept, mode)
        assert len(failures(lines)) == 2 * len(ACCEPTS), lines.lines
    finally:
        logger.removeHandler(lines)


def check(status: int, body: bytes, accept: str, mode: str) -> None:
    assert status == MODES[mode]
    assert len(body) < 1_000_000
    if accept == "application/json" and body:
        json.loads(body)


def asgi_call(
    app: Any, raw_path: bytes, query: bytes, headers: list[tuple[bytes, bytes]]
) -> tuple[int, bytes]:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": raw_path.decode("utf-8", "replace"), "raw_path": raw_path,
        "query_string": query, "root_path": "", "headers": [(b"host", b"localhost"), *headers],
        "client": ("127.0.0.1", 50000), "server": ("localhost", 80),
    }  # fmt: skip
    sent = asgi_messages(app, scope)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent)


class Impostor(Exception):
    """An exception whose ``__class__`` raises: ``isinstance`` asks it, Python's own
    traceback printer fails on it."""

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # type: ignore[override]
        raise RuntimeError("no class to tell")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("accept", ACCEPTS)
def test_an_exception_whose_class_raises_still_gets_a_page_with_its_reference(
    debug_lines: Lines, mode: str, accept: str
) -> None:
    """It escaped the middleware (the server's bare 500, or a dropped connection)."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise Impostor("who am I")

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        raise Impostor("who am I")

    chunks, status, _ = run_wsgi_app(
        ErrorPages(app, mode=mode), create_environ("/", headers={"Accept": accept}), True
    )
    sent = [(int(status.split()[0]), b"".join(chunks))]
    sent.append(
        asgi_call(ASGIErrorPages(asgi, mode=mode), b"/", b"", [(b"accept", accept.encode())])
    )
    references = {
        ref for level, _, ref in debug_lines.lines if level >= logging.ERROR and ref != "-"
    }
    assert len(references) == 2
    for reference in references:
        assert len(debug_lines.failures(reference)) == 1, debug_lines.lines
    for code, body in sent:  # at least the last resort's page: status 500 and the reference
        assert code in (MODES[mode], 500)
        assert any(reference.encode() in body for reference in references)

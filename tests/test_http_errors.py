"""HTTP errors the application raises or sends: every status through the templates."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug import exceptions as wz
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.http import is_hop_by_hop_header
from werkzeug.test import Client

from debugpages import ASGIErrorPages, ErrorPages
from debugpages.httperror import as_int
from debugpages.mod_python import SERVER_RETURN

from . import apps
from .clients import ACCEPTS, MODES, Got, Lines, asgi_get, assert_page, wsgi_get
from .conftest import eventually, fetch

HTML = {"Accept": "text/html"}
JSON = {"Accept": "application/json"}
TEXT = {"Accept": "text/plain"}
FORMATS = {
    "html": (HTML, "text/html; charset=utf-8"),
    "json": (JSON, "application/problem+json"),
    "text": (TEXT, "text/plain; charset=utf-8"),
}
MESSAGE = 'You must supply a <b>foo</b> & "bar"'
ESCAPED = "You must supply a &lt;b&gt;foo&lt;/b&gt; &amp; &#34;bar&#34;"

# Each status a user meets: how the application raises it, and the headers it must keep.
RAISED: dict[int, tuple[Callable[[str], wz.HTTPException], dict[str, str]]] = {
    400: (lambda d: wz.BadRequest(d), {}),
    401: (
        lambda d: wz.Unauthorized(d, www_authenticate=WWWAuthenticate("basic", {"realm": "shop"})),
        {"WWW-Authenticate": "Basic realm=shop"},
    ),
    403: (lambda d: wz.Forbidden(d), {}),
    404: (lambda d: wz.NotFound(d), {}),
    405: (lambda d: wz.MethodNotAllowed(["GET", "POST"], d), {"Allow": "GET, POST"}),
    409: (lambda d: wz.Conflict(d), {}),
    410: (lambda d: wz.Gone(d), {}),
    413: (lambda d: wz.RequestEntityTooLarge(d), {}),
    415: (lambda d: wz.UnsupportedMediaType(d), {}),
    422: (lambda d: wz.UnprocessableEntity(d), {}),
    429: (lambda d: wz.TooManyRequests(d, retry_after=30), {"Retry-After": "30"}),
    500: (lambda d: wz.InternalServerError(d), {}),
    501: (lambda d: wz.NotImplemented(d), {}),
    502: (lambda d: wz.BadGateway(d), {}),
    503: (lambda d: wz.ServiceUnavailable(d, retry_after=30), {"Retry-After": "30"}),
    504: (lambda d: wz.GatewayTimeout(d), {}),
}


def raising_in_checkout(exc: Exception) -> apps.App:
    def checkout_handler(environ: apps.Environ, start_response: apps.StartResponse) -> list[bytes]:
        raise exc

    return checkout_handler


def canonical(code: int) -> str:
    return f"{code} {HTTPStatus(code).phrase}"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("code", RAISED)
def test_every_status_gets_its_page_in_every_mode_and_format(
    code: int, mode: str, fmt: str
) -> None:
    make, kept = RAISED[code]
    headers, content_type = FORMATS[fmt]
    app = ErrorPages(raising_in_checkout(make(MESSAGE)), mode=mode)
    response = Client(app).get("/cart/checkout", headers=headers)
    body = response.get_data(as_text=True)

    assert response.status == canonical(code)  # the real status, in legacy-200 too
    assert response.headers["Content-Type"] == content_type
    assert "Debugpages-Mode" not in response.headers
    for name, value in kept.items():
        assert response.headers[name] == value
    assert int(response.headers["Content-Length"]) == len(response.data)
    if fmt == "html":
        assert ESCAPED in body
        assert "<b>foo</b>" not in body
    elif fmt == "json":
        problem = json.loads(body)
        assert problem["status"] == code
        assert problem["title"] == HTTPStatus(code).phrase
        assert problem["detail"] == MESSAGE
        assert problem["reference"] in problem["instance"]
    else:
        assert body.startswith(f"{canonical(code)}\n\n{MESSAGE}\n")

    shows_frames = mode != "off" and code >= 500
    assert ("checkout_handler" in body) is shows_frames
    assert "Traceback" not in body or shows_frames
    if mode == "off":
        for detail in ("werkzeug", "exceptions.py", "test_http_errors", "/cart/checkout"):
            assert detail not in body


def raising_by_path(environ: apps.Environ, start_response: apps.StartResponse) -> list[bytes]:
    """``/404`` raises the 404 of ``RAISED``, and so on."""
    raise RAISED[int(environ["PATH_INFO"][1:])][0](MESSAGE)


@pytest.mark.parametrize("mode", MODES)
def test_over_a_real_socket_the_status_line_is_canonical(
    serve: Callable[..., str], mode: str
) -> None:
    base = serve(ErrorPages(raising_by_path, mode=mode))
    for code, (_, kept) in RAISED.items():
        fetched = fetch(base, f"/{code}", HTML)
        assert (fetched.status, fetched.reason) == (code, HTTPStatus(code).phrase)
        for name, value in kept.items():
            assert fetched.headers[name] == value
        assert ESCAPED in fetched.text


@pytest.mark.parametrize("mode", ["on", "legacy-200"])
def test_a_5xx_raised_on_purpose_shows_where_it_was_raised_collapsed(mode: str) -> None:
    app = ErrorPages(raising_in_checkout(wz.ServiceUnavailable(MESSAGE)), mode=mode)
    html = Client(app).get("/", headers=HTML).get_data(as_text=True)
    assert '<details class="raised">' in html  # closed: the message comes first
    assert html.index(ESCAPED) < html.index('<details class="raised">')
    assert html.index('<details class="raised">') < html.index("checkout_handler</code>")
    assert "Legacy mode" not in html  # an HTTP error keeps its status, even in legacy-200
    problem = json.loads(Client(app).get("/", headers=JSON).data)
    assert problem["exception"]["frames"][-1]["function"].endswith("checkout_handler")


def test_a_custom_name_goes_in_the_title_never_in_the_status_line(
    serve: Callable[..., str],
) -> None:
    class PaymentMissing(wz.HTTPException):
        code = 402
        name = "Payment <Missing>"
        description = "Top up your account."

    app = ErrorPages(raising_in_checkout(PaymentMissing()), mode="off")
    fetched = fetch(serve(app), "/", HTML)
    assert (fetched.status, fetched.reason) == (402, "Payment Required")
    assert "<title>402 Payment &lt;Missing&gt;</title>" in fetched.text
    assert "<h1>Payment &lt;Missing&gt;</h1>" in fetched.text
    assert fetch(serve(app), "/", TEXT).text.startswith("402 Payment <Missing>\n")
    assert json.loads(fetch(serve(app), "/", JSON).body)["title"] == "Payment <Missing>"


def test_werkzeugs_own_names_give_way_to_the_canonical_phrase() -> None:
    # werkzeug names 414 "Request URI Too Long"; http.HTTPStatus is canonical.
    response = Client(ErrorPages(raising_in_checkout(wz.RequestURITooLarge()))).get(
        "/", headers=JSON
    )
    assert response.status == canonical(414)
    assert json.loads(response.data)["title"] == HTTPStatus(414).phrase


def test_a_code_only_werkzeug_knows_gets_werkzeugs_phrase(serve: Callable[..., str]) -> None:
    class RetryWith(wz.HTTPException):
        code = 449

    assert 449 not in HTTPStatus._value2member_map_
    fetched = fetch(serve(ErrorPages(raising_in_checkout(RetryWith()))), "/", TEXT)
    assert (fetched.status, fetched.reason) == (449, "Retry With")
    assert fetched.text.startswith("449 Retry With\n")


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_unknown_code_gets_a_status_line_servers_accept_and_a_page_that_says_so(
    serve: Callable[..., str], fmt: str
) -> None:
    class Melted(wz.HTTPException):
        code = 599

    fetched = fetch(
        serve(ErrorPages(raising_in_checkout(Melted()), mode="on")), "/", FORMATS[fmt][0]
    )
    assert (fetched.status, fetched.reason) == (599, "Unknown Status")
    assert "599 is not a status code HTTP defines" in fetched.text
    assert "Traceback" not in fetched.text or fmt == "text"


def test_an_http_exception_with_a_code_http_cannot_carry_is_a_500() -> None:
    class Impossible(wz.HTTPException):
        code = 1234

    response = Client(ErrorPages(raising_in_checkout(Impossible()), mode="on")).get("/")
    assert response.status == "500 Internal Server Error"


def test_client_errors_are_logged_at_info_with_the_pages_reference(
    records: Callable[[], list[logging.LogRecord]],
) -> None:
    response = Client(ErrorPages(raising_in_checkout(wz.NotFound()))).get("/x", headers=JSON)
    reference = json.loads(response.data)["reference"]
    [record] = [r for r in records() if getattr(r, "reference", None) == reference]
    assert record.levelno == logging.INFO
    assert not [r for r in records() if r.levelno >= logging.ERROR]


# Template precedence: the user's folders first; within each set, the code before error.*.


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)
    return folder


def test_a_users_per_code_template_beats_their_error_template(tmp_path: Path) -> None:
    write(tmp_path, "error.txt", "user error {{ page.status }}\n")
    write(tmp_path, "404.txt", "user 404: {{ page.description }}\n")
    client = Client(ErrorPages(raising_in_checkout(wz.NotFound(MESSAGE)), template_dirs=[tmp_path]))
    assert client.get("/", headers=TEXT).get_data(as_text=True) == f"user 404: {MESSAGE}\n"
    gone = Client(ErrorPages(raising_in_checkout(wz.Gone()), template_dirs=[tmp_path]))
    assert gone.get("/", headers=TEXT).get_data(as_text=True) == "user error 410\n"
    html = client.get("/", headers=HTML).get_data(as_text=True)
    assert ESCAPED in html  # no 404.html of theirs: the built-in error.html


def test_a_per_code_template_in_a_later_folder_beats_error_in_an_earlier_one(
    tmp_path: Path,
) -> None:
    first = write(tmp_path / "first", "error.txt", "first error\n")
    second = write(tmp_path / "second", "404.txt", "second 404\n")
    app = ErrorPages(raising_in_checkout(wz.NotFound()), template_dirs=[first, second])
    assert Client(app).get("/", headers=TEXT).get_data(as_text=True) == "second 404\n"


def test_a_users_error_template_beats_a_built_in_per_code_one(tmp_path: Path) -> None:
    write(tmp_path, "error.txt", "user error {{ page.status }} {{ page.reference }}\n")
    for app in (apps.plain, raising_in_checkout(wz.InternalServerError())):
        text = Client(ErrorPages(app, template_dirs=[tmp_path])).get("/").get_data(as_text=True)
        assert text.startswith("user error 500 ")  # not the built-in 500.txt


def test_the_built_in_500_page_beats_the_built_in_error_page() -> None:
    text = Client(ErrorPages(apps.plain)).get("/").get_data(as_text=True)
    assert "please quote the reference" in text  # 500.txt's words, not error.txt's
    aborted = Client(ErrorPages(raising_in_checkout(wz.InternalServerError("Database down."))))
    text = aborted.get("/").get_data(as_text=True)
    assert text.startswith("500 Internal Server Error\n\nDatabase down.\n")
    assert "please quote the reference" in text


def test_a_traceback_page_is_never_replaced_by_a_users_error_template(tmp_path: Path) -> None:
    write(tmp_path, "error.txt", "user error\n")
    text = Client(ErrorPages(apps.plain, mode="on", template_dirs=[tmp_path])).get("/").text
    assert text.startswith("Traceback (most recent call last):")


# The empty-body opt-in, in the manner of Apache's ErrorDocument.


def sending(
    status: str, body: Iterable[bytes], headers: list[tuple[str, str]] | None = None
) -> apps.App:
    def app(environ: apps.Environ, start_response: apps.StartResponse) -> Iterable[bytes]:
        start_response(status, headers or [("Content-Type", "text/html")])
        return body

    return app


def generated(status: str, chunks: list[bytes]) -> apps.App:
    def app(environ: apps.Environ, start_response: apps.StartResponse) -> Iterator[bytes]:
        start_response(status, [("Content-Type", "text/html")])  # called lazily, inside the body
        yield from chunks

    return app


@pytest.mark.parametrize("code", RAISED)
def test_an_empty_error_response_is_untouched_by_default(code: int) -> None:
    response = Client(ErrorPages(sending(f"{code} Whatever", []))).get("/")
    assert response.status == f"{code} Whatever"
    assert response.data == b""


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("code", RAISED)
def test_an_empty_error_response_gets_the_canonical_page_when_asked(code: int, fmt: str) -> None:
    headers, content_type = FORMATS[fmt]
    app = ErrorPages(sending(f"{code} Whatever", [b""]), fill_empty_errors=True)
    response = Client(app).get("/", headers=headers)
    assert response.status == canonical(code)
    assert response.headers["Content-Type"] == content_type
    body = response.get_data(as_text=True)
    assert HTTPStatus(code).phrase in body
    assert str(wz.default_exceptions[code].description).split("'")[0][:30] in body


@pytest.mark.parametrize(
    "app",
    [
        sending("404 Gone Fishing", []),
        sending("404 Gone Fishing", (b"", b"")),
        generated("404 Gone Fishing", []),
        generated("404 Gone Fishing", [b"", b""]),
    ],
)
def test_every_kind_of_empty_body_is_filled(serve: Callable[..., str], app: apps.App) -> None:
    fetched = fetch(serve(ErrorPages(app, fill_empty_errors=True)), "/", TEXT)
    assert (fetched.status, fetched.reason) == (404, "Not Found")
    assert fetched.text.startswith("404 Not Found\n")
    assert fetched.headers["Content-Type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize(
    "app",
    [
        sending("404 Gone Fishing", [b"our own page"]),
        sending("404 Gone Fishing", [b"", b"our own page"]),
        generated("404 Gone Fishing", [b"", b"our own page"]),
    ],
)
def test_an_error_response_with_a_body_is_never_touched(
    serve: Callable[..., str], app: apps.App
) -> None:
    fetched = fetch(serve(ErrorPages(app, fill_empty_errors=True)), "/", TEXT)
    assert (fetched.status, fetched.reason) == (404, "Gone Fishing")
    assert fetched.body == b"our own page"
    assert fetched.headers["Content-Type"] == "text/html"


def test_a_body_sent_through_write_is_never_touched(serve: Callable[..., str]) -> None:
    def app(environ: apps.Environ, start_response: apps.StartResponse) -> list[bytes]:
        write = start_response("503 Busy", [("Content-Type", "text/plain")])
        write(b"")
        write(b"written")
        return []

    fetched = fetch(serve(ErrorPages(app, fill_empty_errors=True)), "/")
    assert (fetched.status, fetched.reason, fetched.body) == (503, "Busy", b"written")


def test_a_filled_page_keeps_the_applications_headers_but_its_own_win() -> None:
    headers = [("Content-Type", "text/html"), ("Content-Length", "0"), ("Retry-After", "120"),
               ("Set-Cookie", "seen=1"), ("Cache-Control", "public, max-age=60")]  # fmt: skip
    app = ErrorPages(sending("503 Service Unavailable", [], headers), fill_empty_errors=True)
    response = Client(app).get("/", headers=JSON)
    assert response.headers["Retry-After"] == "120"
    assert response.headers["Set-Cookie"] == "seen=1"
    assert response.headers.getlist("Cache-Control") == ["no-store"]
    assert response.headers.getlist("Content-Type") == ["application/problem+json"]
    assert response.headers["Content-Length"] == str(len(response.data))
    assert json.loads(response.data)["status"] == 503


@pytest.mark.parametrize("status", ["200 OK", "204 No Content", "304 Not Modified", "302 Found"])
def test_a_success_or_redirect_is_never_filled(status: str) -> None:
    response = Client(ErrorPages(sending(status, []), fill_empty_errors=True)).get("/")
    assert response.status == status
    assert response.data == b""


def test_a_healthy_response_passes_through_the_opt_in_untouched() -> None:
    response = Client(ErrorPages(apps.ok_app, fill_empty_errors=True)).get("/")
    assert (response.status, response.data) == ("200 OK", b"fine")
    assert "Cache-Control" not in response.headers


def test_an_exception_after_a_held_error_status_still_gets_its_page(
    serve: Callable[..., str],
) -> None:
    def app(environ: apps.Environ, start_response: apps.StartResponse) -> list[bytes]:
        start_response("404 Not Found", [("Content-Type", "text/html")])
        raise RuntimeError("failed after an error status")

    fetched = fetch(serve(ErrorPages(app, mode="on", fill_empty_errors=True)), "/", TEXT)
    assert (fetched.status, fetched.reason) == (500, "Internal Server Error")
    assert "RuntimeError: failed after an error status" in fetched.text


def test_the_held_body_is_closed(serve: Callable[..., str]) -> None:
    body = apps.Body([])

    def app(environ: apps.Environ, start_response: apps.StartResponse) -> Any:
        start_response("410 Gone", [])
        return body

    fetched = fetch(serve(ErrorPages(app, fill_empty_errors=True)), "/")
    assert fetched.status == 410
    assert eventually(lambda: body.closed)


# Hostile attribute values ---------------------------------------------------------------


class LazyText:
    """A lazy translation string whose catalogue is gone: ``str()`` raises."""

    def __str__(self) -> str:
        raise LookupError("no catalogue for this language")


class NoRepr:
    def __repr__(self) -> str:
        raise RuntimeError("repr is broken")


class TwistedInt(int):
    """An int whose comparisons and hash raise: only its value may be used."""

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("no comparing")

    def __hash__(self) -> int:
        raise RuntimeError("no hashing")

    def __int__(self) -> int:
        raise RuntimeError("no converting")


def odd_error(**attributes: Any) -> wz.HTTPException:
    kind = type("OddError", (wz.HTTPException,), attributes)
    return kind()  # type: ignore[no-any-return]


ODD_CODES: dict[str, object] = {
    "str": "404", "float": 404.0, "bool": True, "negative": -1, "huge": 10**100,
    "over 4300 digits": 10**5000, "None": None, "interim": 100, "success": 200,
    "beyond 599": 600, "unreadable": property(lambda self: 1 / 0),
}  # fmt: skip


def adapters(exc: Exception, mode: str) -> dict[str, Callable[[str], Got]]:
    """The same exception raised under the WSGI and the ASGI adapter."""

    def wsgi_app(environ: apps.Environ, start_response: apps.StartResponse) -> list[bytes]:
        raise exc

    async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
        raise exc

    wsgi, asgi = ErrorPages(wsgi_app, mode=mode), ASGIErrorPages(asgi_app, mode=mode)
    return {
        "wsgi": lambda accept: wsgi_get(wsgi, accept),
        "asgi": lambda accept: asgi_get(asgi, accept),
    }


@pytest.mark.parametrize("adapter", ["wsgi", "asgi"])
@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("code", ODD_CODES)
def test_a_code_that_is_no_error_status_is_sent_as_a_500_that_says_why(
    lines: Callable[[], Lines], code: str, mode: str, accept: str, adapter: str
) -> None:
    """``"404"`` raised TypeError out of the middleware, ``404.0`` sent ``404.0 Not Found``,
    ``True`` sent ``1 UNKNOWN``, ``None`` a 200: each is a 500 now, and the WARNING and the
    page (outside ``off``) say which code could not be sent."""
    log = lines()
    got = adapters(odd_error(code=ODD_CODES[code]), mode)[adapter](accept)
    body = assert_page(got, 500, log)  # an HTTP error keeps its status in legacy-200 too
    assert got.status_line in ("500 Internal Server Error", "500")
    (warning,) = log.warnings()
    assert "OddError.code is " in warning
    if mode != "off":
        assert "OddError.code is " in body
    else:
        assert "OddError" not in body


@pytest.mark.parametrize("attribute", ["description", "name"])
@pytest.mark.parametrize("mode", MODES)
def test_a_description_or_name_whose_str_raises_gives_the_canonical_text(
    lines: Callable[[], Lines], attribute: str, mode: str
) -> None:
    """A lazy translation string whose ``str()`` raises escaped the middleware; the page
    keeps the status and says the status's own sentence instead."""
    log = lines()
    exc = odd_error(code=404, **{attribute: LazyText()})
    for adapter, get in adapters(exc, mode).items():
        for accept in ACCEPTS:
            log.lines.clear()
            got = get(accept)
            body = assert_page(got, 404, log)
            assert "Not Found" in body, (adapter, accept)
            (warning,) = log.warnings()
            assert f"its {attribute} (LookupError" in warning


@pytest.mark.parametrize("adapter", ["wsgi", "asgi"])
def test_headers_a_server_cannot_send_are_dropped_and_said(
    lines: Callable[[], Lines], adapter: str
) -> None:
    """CR/LF in an ``HTTPException``'s own headers reached ``start_response`` (a forged
    header, or a server's own error); so did text beyond latin-1, names that are no
    header names, and hop-by-hop headers, which PEP 3333 forbids."""
    pairs = [
        ("X-Forged", "a\r\nSet-Cookie: session=stolen"),
        ("X-Wide", "caf\u00e9 \u20ac"),
        ("Bad Name", "value"),
        ("Connection", "close"),
        ("Transfer-Encoding", "chunked"),
        ("Content-Length", "0"),
        ("X-Nul", "a\x00b"),
        (b"X-Bytes", "value"),
        ("Retry-After", "30"),
        ("X-Latin-1", "caf\u00e9"),
    ]

    def headers(self: wz.HTTPException, *args: Any) -> list[Any]:
        return pairs

    log = lines()
    got = adapters(odd_error(code=503, get_headers=headers), "on")[adapter]("text/html")
    assert_page(got, 503, log)
    assert got.header("Retry-After") == "30"
    assert got.header("X-Latin-1") == "caf\u00e9"
    for name in ("X-Forged", "X-Wide", "Bad Name", "Connection", "Transfer-Encoding", "X-Nul"):
        assert got.header(name) is None
    assert got.header("Set-Cookie") is None
    assert got.header("Content-Length") == str(len(got.body))
    (warning,) = log.warnings()
    for said in ("X-Forged", "X-Wide", "'Bad Name'", "Connection", "X-Nul", "b'X-Bytes'"):
        assert said in warning
    assert "Content-Length" not in warning  # the page's own: replaced, not dropped


def test_headers_that_cannot_be_read_leave_the_page_and_its_status(
    lines: Callable[[], Lines],
) -> None:
    def headers(self: wz.HTTPException, *args: Any) -> list[Any]:
        raise RuntimeError("no headers today")

    log = lines()
    assert_page(
        wsgi_get(ErrorPages(raising_in_checkout(odd_error(code=429, get_headers=headers)))),
        429,
        log,
    )
    assert "its headers (RuntimeError" in log.warnings()[0]


SERVER_RETURNS: dict[str, SERVER_RETURN] = {
    "a value whose repr raises": SERVER_RETURN(NoRepr()),
    "a pair with one": SERVER_RETURN((0, NoRepr())),
    "an int whose methods raise": SERVER_RETURN(TwistedInt(404)),
    "a status whose methods raise": SERVER_RETURN((0, TwistedInt(404))),
    "an int of 5,000 digits": SERVER_RETURN(10**5000),
    "a str subclass": SERVER_RETURN(
        (400, type("Text", (str,), {"__repr__": NoRepr.__repr__})("x"))
    ),
    "nothing": SERVER_RETURN(),
    "three values": SERVER_RETURN(1, 2, 3),
    "a description whose str raises": SERVER_RETURN(404, description=LazyText()),  # type: ignore[arg-type]
}
SERVER_RETURN_STATUS = {"an int whose methods raise": 404, "a status whose methods raise": 404}
SERVER_RETURN_STATUS["a description whose str raises"] = 404


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("value", SERVER_RETURNS)
def test_server_return_with_any_argument_gets_a_valid_status_line_and_a_page(
    lines: Callable[[], Lines], value: str, mode: str, accept: str
) -> None:
    """``SERVER_RETURN(obj)`` whose ``repr()`` raises gave no page in any mode."""
    log = lines()
    exc = SERVER_RETURNS[value]
    for get in adapters(exc, mode).values():
        log.lines.clear()
        assert_page(get(accept), SERVER_RETURN_STATUS.get(value, 500), log)


class Raising:
    """An attribute value whose ``str()`` raises what it was given."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __str__(self) -> str:
        raise self.error

    def __repr__(self) -> str:
        raise self.error


CODES = st.one_of(
    st.integers(100, 999), st.integers(), st.floats(), st.text(max_size=6), st.booleans(),
    st.none(), st.sampled_from(list(HTTPStatus)), st.builds(TwistedInt, st.integers(400, 599)),
)  # fmt: skip
TEXTS = st.one_of(
    st.none(), st.text(), st.integers(), st.builds(Raising, st.sampled_from([
        LookupError("no catalogue"), RecursionError(), MemoryError(), UnicodeError("bad"),
    ])),
)  # fmt: skip
HEADER_TEXT = st.text(alphabet=st.characters(max_codepoint=0x2FF), max_size=12)
HEADERS = st.lists(
    st.one_of(st.tuples(HEADER_TEXT, HEADER_TEXT), st.tuples(st.binary(max_size=4), HEADER_TEXT)),
    max_size=5,
)
SENDABLE_NAME = re.compile(r"[A-Za-z]([A-Za-z0-9_-]*[A-Za-z0-9])?")  # wsgiref.validate's
SENDABLE_VALUE = re.compile(r"[\x20-\x7e\x80-\xff]*")
PAGE_HEADERS = (
    "cache-control", "x-content-type-options", "vary", "content-security-policy",
    "referrer-policy", "x-robots-tag",
)  # fmt: skip
"""Headers every page sets itself: an error's own header of the same name gives way."""


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(code=CODES, description=TEXTS, name=TEXTS, pairs=HEADERS, mode=st.sampled_from(list(MODES)))
def test_any_http_error_gets_a_valid_status_line_and_a_page(
    code: object, description: object, name: object, pairs: list[Any], mode: str
) -> None:
    """Whatever an HTTPException's attributes hold: a status line PEP 3333 accepts (the
    validator checks it, and every header), the error's own status when it is one from
    400 to 599, else a 500 (a redirect may pass through), a page, and every header that
    can be sent; what was dropped is said at WARNING."""

    def headers(self: wz.HTTPException, *args: Any) -> list[Any]:
        return pairs

    exc = odd_error(code=code, description=description, name=name, get_headers=headers)
    logger = logging.getLogger("debugpages")
    log, propagate, level = Lines(), logger.propagate, logger.level
    logger.addHandler(log)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    try:
        pages = ErrorPages(raising_in_checkout(exc), mode=mode)
        log.lines.clear()
        got = wsgi_get(pages, "text/html")
    finally:
        logger.removeHandler(log)
        logger.propagate = propagate
        logger.setLevel(level)
    wanted = as_int(code)
    if wanted is not None and 300 <= wanted <= 399:  # a redirect: its own response, or a 500
        assert got.status in (wanted, 500)
        return
    status = wanted if wanted is not None and 400 <= wanted <= 599 else 500
    assert_page(got, status, log)
    sendable = [
        (k, v) for k, v in pairs
        if isinstance(k, str) and SENDABLE_NAME.fullmatch(k) and SENDABLE_VALUE.fullmatch(v)
        and k.lower() not in ("content-type", "content-length", "status", *PAGE_HEADERS)
        and not is_hop_by_hop_header(k)
    ]  # fmt: skip
    for pair in sendable:
        assert pair in got.headers
    if len(sendable) < len(pairs) and any(
        k.lower() not in ("content-type", *PAGE_HEADERS) for k, _ in pairs
    ):
        assert log.warnings()

"""What each mode sends, in each format, through real WSGI calls and a real server."""

from __future__ import annotations

import json
import logging
import re
import traceback
from collections.abc import Callable

import pytest
from werkzeug.test import Client

from debugpages import ErrorPages

from . import apps
from .conftest import fetch

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
JSON = {"Accept": "application/json"}
PROBLEM = {"Accept": "application/problem+json"}
TEXT = {"Accept": "text/plain"}
ANY = {"Accept": "*/*"}
NONE: dict[str, str] = {}

FORMATS = {
    "html": (HTML, "text/html; charset=utf-8"),
    "json": (JSON, "application/problem+json"),
    "problem+json": (PROBLEM, "application/problem+json"),
    "text": (TEXT, "text/plain; charset=utf-8"),
    "any": (ANY, "text/plain; charset=utf-8"),
    "no accept": (NONE, "text/plain; charset=utf-8"),
}
MODES = ["off", "on", "legacy-200"]
REFERENCE = re.compile(r"[A-Za-z0-9_-]{12,}")


def get(mode: str, app: Callable[..., object], headers: dict[str, str]) -> object:
    return Client(ErrorPages(app, mode=mode)).get("/shop/cart?item=tea", headers=headers)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("mode", MODES)
def test_status_line_and_headers_in_every_mode_and_format(mode: str, fmt: str) -> None:
    headers, content_type = FORMATS[fmt]
    response = Client(ErrorPages(apps.plain, mode=mode)).get("/", headers=headers)
    expected = "200 OK" if mode == "legacy-200" else "500 Internal Server Error"
    assert response.status == expected
    assert response.headers["Content-Type"] == content_type
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Vary"] == "Accept"
    assert int(response.headers["Content-Length"]) == len(response.data) > 0
    response.data.decode("utf-8")  # UTF-8, always
    if mode == "legacy-200":
        assert response.headers["Debugpages-Mode"] == "legacy-200"
        assert response.headers["Debugpages-Original-Status"] == "500 Internal Server Error"
    else:
        assert "Debugpages-Mode" not in response.headers
        assert "Debugpages-Original-Status" not in response.headers


@pytest.mark.parametrize("fmt", FORMATS)
def test_production_page_shows_nothing_of_the_error(fmt: str) -> None:
    headers, _ = FORMATS[fmt]
    response = Client(ErrorPages(apps.plain, mode="off")).get(
        "/shop/cart?item=tea", headers={**headers, "X-Custom": "header-value-42"}
    )
    body = response.get_data(as_text=True)
    for leak in ("ValueError", "two euros", "tomato-1234", "parse_price", "apps.py", "Traceback",
                 "/shop/cart", "item=tea", "header-value-42", "sauce", "float"):  # fmt: skip
        assert leak not in body
    assert REFERENCE.search(body)


@pytest.mark.parametrize("mode", ["on", "legacy-200"])
def test_traceback_page_shows_type_message_frames_source_and_locals(mode: str) -> None:
    body = Client(ErrorPages(apps.plain, mode=mode)).get("/", headers=HTML).get_data(as_text=True)
    assert "ValueError" in body
    assert "could not convert string to float: &#39;two euros&#39;" in body
    for function in ("plain", "price_of", "parse_price"):
        assert f"in <code>{function}</code>" in body
    assert "return float(text) * len(sauce)" in body  # the failing source line
    assert "<mark>float(text)</mark>" in body  # the failing expression is marked
    assert "<code>sauce</code>" in body  # a local...
    assert "&#39;tomato-1234&#39;" in body  # ...and its value
    assert "catalogue" in body


def _innermost_frame_as_python_prints_it() -> str:
    """The failing frame of ``apps.plain`` in the running Python's own words: its carets
    (``^^^^`` in 3.11, ``~~~~^^^^`` in 3.13) are that version's."""
    try:
        apps.price_of("tea")
    except ValueError as exc:
        text = "".join(traceback.format_exception(exc))
    frame = text[text.rindex('  File "') : text.rindex("ValueError: ")]
    assert frame.count("\n") == 3  # where, the line and its carets
    assert "^" in frame
    return frame


def test_the_text_format_is_pythons_traceback_the_text_the_log_record_prints(
    records: Callable[[], list[logging.LogRecord]],
) -> None:
    text = Client(ErrorPages(apps.plain, mode="on")).get("/", headers=TEXT).get_data(as_text=True)
    assert text.startswith("Traceback (most recent call last):\n")
    assert re.search(r'  File ".*apps\.py", line \d+, in parse_price\n', text)
    assert _innermost_frame_as_python_prints_it() in text  # carets and all, as this Python
    assert "ValueError: could not convert string to float: 'two euros'\n" in text
    assert "tomato-1234" not in text  # locals are in the HTML and JSON pages
    (record,) = [r for r in records() if r.exc_text]
    assert text.startswith(record.exc_text + "\n\n")  # one text: the log's, the page's


def test_chained_exceptions_appear_in_pythons_order() -> None:
    text = Client(ErrorPages(apps.chained, mode="on")).get("/", headers=TEXT).get_data(as_text=True)
    key = text.index("KeyError: 'missing-key'")
    context = text.index("During handling of the above exception, another exception occurred:")
    value = text.index("ValueError: invalid literal for int()")
    cause = text.index("The above exception was the direct cause of the following exception:")
    outer = text.index("RuntimeError: outer failure")
    assert key < context < value < cause < outer
    assert "KeyError: 'missing-key'\n\nDuring handling of the above exception" in text  # as Python
    assert "\n\nThe above exception was the direct cause" in text
    html = Client(ErrorPages(apps.chained, mode="on")).get("/", headers=HTML).get_data(as_text=True)
    trace = html[html.index("<h2>Traceback") :]
    assert trace.index("missing-key") < trace.index("not-a-number") < trace.index("outer failure")


def test_suppressed_context_is_not_shown() -> None:
    text = Client(ErrorPages(apps.suppressed, mode="on")).get("/").get_data(as_text=True)
    assert "LookupError: context suppressed" in text
    assert "hidden-context" not in text
    assert "During handling" not in text


@pytest.mark.parametrize("headers", [HTML, TEXT, JSON])
def test_group_members_nested_groups_and_notes_are_shown(headers: dict[str, str]) -> None:
    client = Client(ErrorPages(apps.group, mode="on"))
    body = client.get("/", headers=headers).get_data(as_text=True)
    for expected in ("two things failed", "first member", "a note on the first member",
                     "nested group", "deep member", "TypeError"):  # fmt: skip
        assert expected in body


@pytest.mark.parametrize("mode", MODES)
def test_problem_json_is_rfc_9457_with_the_real_status(mode: str) -> None:
    response = Client(ErrorPages(apps.chained, mode=mode)).get("/", headers=PROBLEM)
    problem = json.loads(response.data)
    assert problem["status"] == 500  # the real status, in legacy-200 too
    assert problem["title"] == "Internal Server Error"
    assert problem["type"] == "about:blank"
    assert isinstance(problem["detail"], str)
    assert problem["reference"] in problem["instance"]
    if mode == "off":
        assert "exception" not in problem
        assert "outer failure" not in response.get_data(as_text=True)
    else:
        exception = problem["exception"]
        assert exception["type_name"] == "RuntimeError"
        assert exception["message"] == "outer failure"
        assert exception["cause"]["type_name"] == "ValueError"
        assert exception["cause"]["context"]["type_name"] == "KeyError"
        assert exception["frames"][-1]["function"] == "chained"


def test_legacy_page_carries_a_banner_in_html_and_text() -> None:
    client = Client(ErrorPages(apps.plain, mode="legacy-200"))
    html = client.get("/", headers=HTML).get_data(as_text=True)
    assert "Legacy mode (legacy-200)" in html
    assert "500 Internal Server Error" in html
    assert "PythonDebug On" in html
    text = client.get("/", headers=TEXT).get_data(as_text=True)
    assert text.startswith("[debugpages legacy-200:")


@pytest.mark.parametrize("mode", MODES)
def test_the_reference_on_the_page_is_the_one_in_the_log(mode: str, records: Callable) -> None:  # type: ignore[type-arg]
    response = Client(ErrorPages(apps.plain, mode=mode)).post("/cart/checkout", headers=PROBLEM)
    reference = json.loads(response.data)["reference"]
    assert REFERENCE.fullmatch(reference)
    errors = [r for r in records() if r.levelname == "ERROR"]
    assert len(errors) == 1
    record = errors[0]
    assert record.reference == reference  # type: ignore[attr-defined]
    assert reference in record.getMessage()
    assert record.method == "POST"  # type: ignore[attr-defined]
    assert record.path == "/cart/checkout"  # type: ignore[attr-defined]
    assert record.mode == mode  # type: ignore[attr-defined]
    assert record.exc_info is not None
    assert record.exc_info[0] is ValueError


def test_every_failure_gets_a_new_reference() -> None:
    client = Client(ErrorPages(apps.plain, mode="off"))
    references = {json.loads(client.get("/", headers=JSON).data)["reference"] for _ in range(20)}
    assert len(references) == 20


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fmt", ["html", "json", "text"])
def test_over_a_real_socket_the_status_line_is_exact(
    serve: Callable[..., str], mode: str, fmt: str
) -> None:
    base = serve(ErrorPages(apps.plain, mode=mode))
    fetched = fetch(base, "/anything", FORMATS[fmt][0])
    if mode == "legacy-200":
        assert (fetched.status, fetched.reason) == (200, "OK")
    else:
        assert (fetched.status, fetched.reason) == (500, "Internal Server Error")
    assert fetched.headers["Content-Length"] == str(len(fetched.body))
    assert fetched.headers["Cache-Control"] == "no-store"
    assert ("ValueError" in fetched.text) is (mode != "off")


def test_head_gets_the_headers_without_the_body(serve: Callable[..., str]) -> None:
    fetched = fetch(serve(ErrorPages(apps.plain, mode="on")), "/", HTML, method="HEAD")
    assert fetched.status == 500
    assert fetched.body == b""

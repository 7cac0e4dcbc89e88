"""mod_python's SERVER_RETURN, raised by a WSGI application wrapped by ErrorPages."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from http import HTTPStatus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.exceptions import BadRequest, NotFound
from werkzeug.test import Client

from debugpages import ErrorPages, mod_python
from debugpages.mod_python import (
    DECLINED,
    DONE,
    HTTP_BAD_REQUEST,
    HTTP_FORBIDDEN,
    HTTP_NO_CONTENT,
    HTTP_NOT_FOUND,
    HTTP_SERVICE_UNAVAILABLE,
    OK,
    SERVER_RETURN,
)
from debugpages.respond import status_line

from . import apps
from .conftest import fetch

HTML = {"Accept": "text/html"}
JSON = {"Accept": "application/json"}
TEXT = {"Accept": "text/plain"}
MODES = ["off", "on", "legacy-200"]
FOO = "You must supply a foo"


def handler(exc: SERVER_RETURN) -> apps.App:
    def mod_python_handler(
        environ: apps.Environ, start_response: apps.StartResponse
    ) -> list[bytes]:
        raise exc

    return mod_python_handler


def get(exc: SERVER_RETURN, mode: str = "off", headers: dict[str, str] = TEXT) -> object:
    return Client(ErrorPages(handler(exc), mode=mode)).get("/", headers=headers)


def test_the_constants_have_mod_pythons_values() -> None:
    assert (OK, DECLINED, DONE) == (0, -1, -2)
    codes = {name: value for name, value in vars(mod_python).items() if name.startswith("HTTP_")}
    assert len(codes) == 50
    assert set(codes) <= set(mod_python.__all__)
    assert codes["HTTP_MOVED_TEMPORARILY"] == 302
    assert codes["HTTP_GATEWAY_TIME_OUT"] == 504
    assert codes["HTTP_REQUEST_ENTITY_TOO_LARGE"] == 413
    for value in codes.values():
        HTTPStatus(value)  # every one is a status http.HTTPStatus knows


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("raised", "code"),
    [
        (SERVER_RETURN(HTTP_BAD_REQUEST), 400),
        (SERVER_RETURN(HTTP_FORBIDDEN), 403),
        (SERVER_RETURN(HTTP_SERVICE_UNAVAILABLE), 503),
        (SERVER_RETURN((OK, HTTP_NOT_FOUND)), 404),
        (SERVER_RETURN((DONE, HTTP_NOT_FOUND)), 404),
        (SERVER_RETURN(OK, HTTP_NOT_FOUND), 404),  # Python 2's ``raise E, (OK, 404)``
        (SERVER_RETURN(DECLINED), 404),
        (SERVER_RETURN((DECLINED, None)), 404),
        (SERVER_RETURN(HTTPStatus.NOT_FOUND), 404),
    ],
    ids=repr,
)
def test_each_form_sends_the_canonical_page_for_its_status(
    raised: SERVER_RETURN, code: int, mode: str
) -> None:
    response = get(raised, mode)
    phrase = HTTPStatus(code).phrase
    assert response.status == f"{code} {phrase}"  # type: ignore[attr-defined]
    text = response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert text.startswith(f"{code} {phrase}\n\n")
    assert "Traceback" not in text or (mode != "off" and code >= 500)


def test_the_canonical_page_says_what_apaches_would() -> None:
    text = get(SERVER_RETURN(HTTP_NOT_FOUND)).get_data(as_text=True)  # type: ignore[attr-defined]
    assert str(NotFound.description) in text
    problem = json.loads(get(SERVER_RETURN(HTTP_BAD_REQUEST), headers=JSON).data)  # type: ignore[attr-defined]
    assert problem["title"] == "Bad Request"
    assert problem["detail"] == BadRequest.description


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "raised", [SERVER_RETURN(OK), SERVER_RETURN(DONE), SERVER_RETURN((OK, None))], ids=repr
)
def test_ok_or_done_alone_is_a_200_with_an_empty_body(
    serve: Callable[..., str], raised: SERVER_RETURN, mode: str
) -> None:
    fetched = fetch(serve(ErrorPages(handler(raised), mode=mode)), "/", HTML)
    assert (fetched.status, fetched.reason) == (200, "OK")
    assert fetched.body == b""
    assert fetched.headers["Content-Length"] == "0"


def test_a_status_below_400_is_sent_with_an_empty_body() -> None:
    no_content = get(SERVER_RETURN(HTTP_NO_CONTENT))
    assert no_content.status == "204 No Content"  # type: ignore[attr-defined]
    assert "Content-Length" not in no_content.headers  # type: ignore[attr-defined]
    response = get(SERVER_RETURN((OK, 201)))
    assert (response.status, response.data) == ("201 Created", b"")  # type: ignore[attr-defined]


@pytest.mark.parametrize("mode", MODES)
def test_description_puts_the_message_in_the_body_never_in_the_status_line(
    serve: Callable[..., str], mode: str
) -> None:
    raised = SERVER_RETURN(HTTP_BAD_REQUEST, description=f"{FOO} <now>")
    base = serve(ErrorPages(handler(raised), mode=mode))
    fetched = fetch(base, "/", HTML)
    assert (fetched.status, fetched.reason) == (400, "Bad Request")
    assert f"{FOO} &lt;now&gt;" in fetched.text
    assert json.loads(fetch(base, "/", JSON).body)["detail"] == f"{FOO} <now>"
    assert fetch(base, "/", TEXT).text.startswith(f"400 Bad Request\n\n{FOO} <now>\n")


# The 2007 mistake: a message where mod_python expected a status.

MISTAKES = [SERVER_RETURN((400, FOO)), SERVER_RETURN(400, FOO)]


@pytest.mark.parametrize("raised", MISTAKES, ids=repr)
@pytest.mark.parametrize("mode", ["on", "legacy-200"])
def test_the_2007_mistake_gets_a_500_whose_first_lines_explain_it(
    serve: Callable[..., str], raised: SERVER_RETURN, mode: str
) -> None:
    base = serve(ErrorPages(handler(raised), mode=mode))
    fetched = fetch(base, "/", TEXT)
    assert (fetched.status, fetched.reason) == (500, "Internal Server Error")
    lines = fetched.text.splitlines()
    assert lines[0] == "500 Internal Server Error"
    explanation = lines[2]
    assert explanation.startswith("SERVER_RETURN(")
    assert "must be a status code (an int), not text" in explanation
    assert "A reason phrase cannot be chosen" in explanation
    assert f"abort(400, {FOO!r})" in explanation
    assert f"SERVER_RETURN(400, description={FOO!r})" in explanation
    assert "mod_python_handler" in fetched.text  # and where it was raised, further down

    html = fetch(base, "/", HTML).text
    main = html[html.index("<main>") :]
    assert main.index("A reason phrase cannot be chosen") < main.index("Where it was raised")
    problem = json.loads(fetch(base, "/", JSON).body)
    assert problem["status"] == 500
    assert "A reason phrase cannot be chosen" in problem["detail"]


@pytest.mark.parametrize("raised", MISTAKES, ids=repr)
def test_the_2007_mistake_in_production_is_the_canonical_500(
    serve: Callable[..., str], raised: SERVER_RETURN, records: Callable[[], list[logging.LogRecord]]
) -> None:
    base = serve(ErrorPages(handler(raised), mode="off"))
    for headers in (HTML, JSON, TEXT):
        fetched = fetch(base, "/", headers)
        assert (fetched.status, fetched.reason) == (500, "Internal Server Error")
        for leak in (FOO, "SERVER_RETURN", "reason phrase", "mod_python_handler"):
            assert leak not in fetched.text
        assert "The server encountered an internal error" in fetched.text
    errors = [r for r in records() if r.levelno == logging.ERROR]
    assert len(errors) == 3
    assert "A reason phrase cannot be chosen" in errors[0].getMessage()  # the operator learns why


@pytest.mark.parametrize(
    ("raised", "why"),
    [
        (SERVER_RETURN("oops"), "takes one int"),
        (SERVER_RETURN(), "takes one int"),
        (SERVER_RETURN((OK, 404, "x")), "takes one int"),
        (SERVER_RETURN(True), "takes one int"),
        (SERVER_RETURN(42), "42 is not a status code a response can end with"),
        (SERVER_RETURN(100), "100 is not a status code a response can end with"),
        (SERVER_RETURN((OK, 1000)), "1000 is not a status code a response can end with"),
        (SERVER_RETURN((OK, "Not Found")), "must be a status code (an int), not text"),
    ],
    ids=repr,
)
def test_other_values_mod_python_refused_are_explained_too(raised: SERVER_RETURN, why: str) -> None:
    response = get(raised, "on")
    assert response.status == "500 Internal Server Error"  # type: ignore[attr-defined]
    assert why in response.get_data(as_text=True).splitlines()[2]  # type: ignore[attr-defined]


SCALARS = st.none() | st.booleans() | st.integers(-5, 1200) | st.text(max_size=12)
VALUES = st.recursive(
    SCALARS, lambda inner: st.tuples(inner) | st.tuples(inner, inner), max_leaves=4
)


@settings(max_examples=150, deadline=None)
@given(args=st.lists(VALUES, max_size=3), description=st.none() | st.text(max_size=40))
def test_whatever_is_raised_the_client_gets_a_status_servers_accept(
    args: list[object], description: str | None
) -> None:
    raised = SERVER_RETURN(*args, description=description)
    response = Client(ErrorPages(handler(raised), mode="on")).get("/", headers=HTML)
    assert 200 <= response.status_code <= 599
    assert response.status == status_line(response.status_code)
    body = response.get_data(as_text=True)
    assert bool(body) is (response.status_code >= 400)
    if description and "<" in description and response.status_code != 500:
        assert description not in body  # escaped

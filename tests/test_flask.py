"""debugpages under a real Flask app: test client, werkzeug server, gunicorn, ``flask run``."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response, got_request_exception, stream_with_context

import debugpages.flask
from debugpages import ConfigurationError, ErrorPages, Mode

from . import apps
from .conftest import fetch
from .flask_site import create_app
from .frameworks import (
    MODES,
    TEXT,
    Records,
    assert_page_of_mode,
    errors,
    logged_references,
    running,
)
from .processes import run


def test_importing_debugpages_needs_neither_flask_nor_django() -> None:
    code = (
        "import sys; sys.modules['flask'] = sys.modules['django'] = None\n"
        "import debugpages, debugpages.wsgi\n"
        "assert debugpages.ErrorPages\n"
    )
    run([sys.executable, "-c", code], timeout=60)


@pytest.mark.parametrize("mode", MODES)
def test_unhandled_exception_gets_the_page_of_the_mode(mode: str, records: Records) -> None:
    response = create_app(mode).test_client().get("/fail", headers=TEXT)
    reason = response.status.split(" ", 1)[1]
    assert_page_of_mode(mode, response.status_code, reason, response.text)
    [record] = errors(records)
    assert record.reference in response.text  # type: ignore[attr-defined]
    if mode == "legacy-200":
        assert response.headers["Debugpages-Original-Status"] == "500 Internal Server Error"


@pytest.mark.parametrize("debug", [False, True])
def test_flask_debug_mode_does_not_take_the_exception_away(debug: bool) -> None:
    app = create_app("on", config={"DEBUG": debug, "PROPAGATE_EXCEPTIONS": False})
    assert app.debug is debug
    response = app.test_client().get("/fail", headers=TEXT)
    assert response.status == "500 Internal Server Error"
    assert "ValueError" in response.text


def test_exception_is_logged_once_by_debugpages_not_by_flask(
    caplog: pytest.LogCaptureFixture, records: Records
) -> None:
    caplog.set_level(logging.DEBUG)
    create_app("off").test_client().get("/fail")
    logged = [r for r in caplog.records if r.exc_info]
    assert [r.name for r in logged] == ["debugpages"]
    assert logged[0].exc_info is not None
    assert isinstance(logged[0].exc_info[1], ValueError)


def test_got_request_exception_still_reaches_error_trackers() -> None:
    app = create_app("off")
    heard: list[BaseException] = []

    def listener(sender: Flask, exception: BaseException, **extra: Any) -> None:
        heard.append(exception)

    with got_request_exception.connected_to(listener, app):
        app.test_client().get("/fail")
    assert [type(e) for e in heard] == [ValueError]


def test_the_apps_own_error_handlers_keep_their_exceptions(records: Records) -> None:
    client = create_app("on").test_client()
    handled = client.get("/out-of-stock")
    assert (handled.status_code, handled.text) == (409, "sorry: no more tea")
    gone = client.get("/gone")
    assert (gone.status_code, gone.json) == (410, {"handled_by": "the app"})
    assert errors(records) == []


def test_an_http_error_without_a_handler_gets_debugpages_page_for_its_status(
    records: Records,
) -> None:
    client = create_app("on").test_client()
    response = client.get("/abort/404", headers={"Accept": "application/json"})
    assert response.status == "404 Not Found"  # the canonical phrase, not Flask's "NOT FOUND"
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json is not None
    assert response.json["status"] == 404
    assert response.json["detail"] == "the shelf is <b>empty</b>"
    assert response.headers["X-Shop"] == "open"  # the app's after_request still runs
    unrouted = client.get("/no/such/page", headers=TEXT)
    assert unrouted.status == "404 Not Found"
    assert unrouted.headers["Cache-Control"] == "no-store"
    assert [r.levelno for r in records() if r.getMessage().startswith("404")] == [logging.INFO] * 2


def test_a_wrong_method_keeps_its_allow_header() -> None:
    response = create_app("off").test_client().post("/ok", headers=TEXT)
    assert response.status == "405 Method Not Allowed"
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert response.headers["X-Robots-Tag"] == "noindex"  # debugpages' page


def test_an_errorhandler_for_500_still_answers_abort_500_but_not_a_crash() -> None:
    app = create_app("on")

    @app.errorhandler(500)
    def ours(exc: Exception) -> tuple[str, int]:
        return "the app's 500 page", 500

    client = app.test_client()
    assert client.get("/abort/500").text == "the app's 500 page"
    crash = client.get("/fail", headers=TEXT)
    assert crash.status_code == 500
    assert "ValueError" in crash.text


def test_a_head_request_gets_headers_and_no_body() -> None:
    response = create_app("on").test_client().head("/abort/404", headers=TEXT)
    assert response.status == "404 Not Found"
    assert response.data == b""
    assert int(response.headers["Content-Length"]) > 0


def test_http_errors_false_leaves_http_errors_to_flask() -> None:
    response = create_app("on", http_errors=False).test_client().get("/no/such/page")
    assert response.status == "404 NOT FOUND"  # werkzeug's own page
    assert "Cache-Control" not in response.headers


def test_a_catch_all_handler_of_the_app_still_sees_http_errors() -> None:
    app = create_app("on")

    @app.errorhandler(Exception)
    def everything(exc: Exception) -> tuple[str, int]:
        return f"caught {type(exc).__name__}", 418

    response = app.test_client().get("/no/such/page")
    assert (response.status_code, response.text) == (418, "caught NotFound")


def test_an_http_exception_handler_registered_first_is_kept() -> None:
    app = Flask(__name__)

    @app.errorhandler(404)
    def mine(exc: Exception) -> tuple[str, int]:
        return "my 404", 404

    debugpages.flask.init_app(app, "on")
    assert app.test_client().get("/nowhere").text == "my 404"


def test_a_failure_inside_a_streamed_body_still_gets_the_page(serve: Callable[..., str]) -> None:
    app = create_app("on")

    @app.get("/stream")
    def stream() -> Response:
        def chunks() -> Iterator[str]:
            raise RuntimeError("the stream broke before its first byte")
            yield ""

        return Response(stream_with_context(chunks()))

    fetched = fetch(serve(app), "/stream", TEXT)
    assert fetched.status == 500
    assert "RuntimeError: the stream broke before its first byte" in fetched.text


def test_init_app_returns_the_middleware_and_refuses_a_second_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEBUGPAGES", "on")
    app = Flask(__name__)
    pages = debugpages.flask.init_app(app)
    assert isinstance(pages, ErrorPages)
    assert pages.mode is Mode.ON  # from DEBUGPAGES
    assert app.wsgi_app is pages
    with pytest.raises(ConfigurationError, match="already"):
        debugpages.flask.init_app(app)


@pytest.mark.parametrize(
    ("debug", "follow", "env", "expected"),
    [
        (True, True, None, Mode.ON),
        (False, True, None, Mode.OFF),
        (True, True, "off", Mode.OFF),
        (False, True, "on", Mode.ON),
        (True, False, None, Mode.OFF),
    ],
)
def test_flask_debug_mode_picks_the_mode_unless_follow_debug_is_false(
    debug: bool, follow: bool, env: str | None, expected: Mode, monkeypatch: pytest.MonkeyPatch
) -> None:
    if env is not None:
        monkeypatch.setenv("DEBUGPAGES", env)
    app = Flask(__name__)
    app.debug = debug
    assert debugpages.flask.init_app(app, follow_debug=follow).mode is expected


def test_debug_turned_on_after_init_app_counts_from_the_first_request(records: Records) -> None:
    app = Flask(__name__)

    @app.get("/fail")
    def fail() -> str:
        return str(apps.price_of("tea"))

    pages = debugpages.flask.init_app(app)
    assert pages.mode is Mode.OFF
    app.debug = True  # as app.run(debug=True) does, after init_app
    response = app.test_client().get("/fail", headers=TEXT)
    assert response.status_code == 500
    assert "could not convert string to float: 'two euros'" in response.text
    assert pages.mode is Mode.ON
    announced = [r.getMessage() for r in records() if r.levelno == logging.WARNING]
    assert announced == ["debugpages: mode on (from Flask's app.debug)"]
    app.debug = False  # read once: later changes change nothing
    assert "two euros" in app.test_client().get("/fail", headers=TEXT).text


def test_a_mode_against_flask_debug_is_a_warning_naming_the_winner(
    monkeypatch: pytest.MonkeyPatch, records: Records
) -> None:
    monkeypatch.setenv("DEBUGPAGES", "off")
    app = Flask(__name__)
    app.debug = True
    debugpages.flask.init_app(app)
    [record] = records()
    assert record.levelno == logging.WARNING
    assert record.getMessage() == (
        "debugpages: mode off (from DEBUGPAGES), although Flask's app.debug is True: "
        "DEBUGPAGES wins"
    )


@pytest.mark.parametrize("mode", MODES)
def test_werkzeug_server_sends_the_page_of_the_mode(
    mode: str, serve: Callable[..., str], records: Records
) -> None:
    fetched = fetch(serve(create_app(mode)), "/fail", TEXT)
    assert_page_of_mode(mode, fetched.status, fetched.reason, fetched.text)
    [record] = errors(records)
    assert record.reference in fetched.text  # type: ignore[attr-defined]


@pytest.mark.parametrize("mode", MODES)
def test_gunicorn_sends_the_page_of_the_mode(mode: str, tmp_path: Path) -> None:
    argv = ["gunicorn", "--no-control-socket", "-w", "1", "-b", "127.0.0.1:{port}"]
    argv.append("tests.flask_site:app")
    with running(argv, tmp_path / "gunicorn.log", {"DEBUGPAGES": mode}) as server:
        fetched = fetch(server.base, "/fail", TEXT)
        missing = fetch(server.base, "/no/such/page", TEXT)
        handled = fetch(server.base, "/out-of-stock")
    assert_page_of_mode(mode, fetched.status, fetched.reason, fetched.text)
    assert (missing.status, missing.reason) == (404, "Not Found")
    assert (handled.status, handled.text) == (409, "sorry: no more tea")
    [reference] = logged_references(server.output())  # logged once, by debugpages
    assert reference in fetched.text


@pytest.mark.parametrize(
    ("mode", "announced"),
    [
        (None, "debugpages: mode on (from Flask's app.debug)"),
        ("on", "debugpages: mode on (from DEBUGPAGES)"),
        ("off", "debugpages: mode off (from DEBUGPAGES), although Flask's app.debug is True: "
         "DEBUGPAGES wins"),
    ],
)  # fmt: skip
def test_flask_run_debug_shows_debugpages_not_the_werkzeug_debugger(
    mode: str | None, announced: str, tmp_path: Path
) -> None:
    argv = ["flask", "--app", "tests.flask_site:app", "run", "--debug", "--no-reload"]
    argv += ["-h", "127.0.0.1", "-p", "{port}"]
    env = {} if mode is None else {"DEBUGPAGES": mode}
    with running(argv, tmp_path / "flask.log", env) as server:
        fetched = fetch(server.base, "/fail", {"Accept": "text/html"})
        output = server.output()
    assert fetched.status == 500
    assert "Werkzeug Debugger" not in fetched.text
    assert "__debugger__" not in fetched.text
    assert ("two euros" in fetched.text) is (mode != "off")
    assert announced in output.splitlines(), output  # a WARNING: seen with no logging set up


def test_flask_run_without_debug_sends_the_production_page(tmp_path: Path) -> None:
    argv = ["flask", "--app", "tests.flask_site:app", "run", "-h", "127.0.0.1", "-p", "{port}"]
    with running(argv, tmp_path / "flask.log", {"FLASK_DEBUG": "0"}) as server:
        fetched = fetch(server.base, "/fail", TEXT)
    assert fetched.status == 500
    assert "two euros" not in fetched.text


APP_RUN_DEBUG = """
import sys

from flask import Flask

import debugpages.flask

app = Flask(__name__)


@app.get("/fail")
def fail():
    raise ValueError("could not convert 'two euros'")


debugpages.flask.init_app(app)

if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), debug=True, use_reloader=False)
"""


def test_app_run_debug_true_after_init_app_shows_tracebacks(tmp_path: Path) -> None:
    """The tutorials' ``app.run(debug=True)`` sets the flag after ``init_app``: it counts."""
    (tmp_path / "tutorial.py").write_text(APP_RUN_DEBUG)
    with running(["tutorial", "{port}"], tmp_path / "run.log", {}, cwd=tmp_path) as server:
        fetched = fetch(server.base, "/fail", TEXT)
        output = server.output()
    assert fetched.status == 500
    assert "ValueError: could not convert 'two euros'" in fetched.text
    assert "debugpages: mode on (from Flask's app.debug)" in output.splitlines(), output

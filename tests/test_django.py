"""debugpages under a real Django project: its test client, werkzeug's server and gunicorn."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import got_request_exception
from django.test import AsyncClient, Client, override_settings

from debugpages import ConfigurationError, Mode
from debugpages.django import ErrorPagesMiddleware

from . import django_site  # noqa: F401  (configures Django: settings, URLs)
from .conftest import fetch
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

DJANGOS_OWN = [
    ("/missing", 404, "the project's own 404 page"),
    ("/nowhere", 404, "the project's own 404 page"),
    ("/forbidden", 403, "403 Forbidden"),
    ("/bad", 400, "Bad Request (400)"),
    ("/suspicious", 400, "Bad Request (400)"),
]


def client(**config: Any) -> Client:
    """A test client whose middleware read ``settings.DEBUGPAGES = config`` when it started."""
    with override_settings(DEBUGPAGES=config):
        made = Client(raise_request_exception=False)
        made.get("/ok")  # the handler loads its middleware on the first request
    return made


def middleware(**settings: Any) -> ErrorPagesMiddleware:
    with override_settings(**settings):
        return ErrorPagesMiddleware(lambda request: None)


def test_importing_debugpages_does_not_import_django() -> None:
    code = "import sys, debugpages, debugpages.wsgi; sys.exit('django' in sys.modules)"
    run([sys.executable, "-c", code], timeout=60)


@pytest.mark.parametrize("mode", MODES)
def test_unhandled_exception_gets_the_page_of_the_mode(mode: str, records: Records) -> None:
    response = client(MODE=mode).get("/fail", headers=TEXT)
    text = response.content.decode()
    assert_page_of_mode(mode, response.status_code, response.reason_phrase, text)
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    [record] = errors(records)
    assert record.reference in text  # type: ignore[attr-defined]


def test_under_asgi_the_page_still_shows_the_request() -> None:
    async def get() -> Any:
        with override_settings(DEBUGPAGES={"MODE": "on"}):
            return await AsyncClient(raise_request_exception=False).get("/fail", headers=TEXT)

    response = asyncio.run(get())
    assert response.status_code == 500
    assert "two euros" in response.content.decode()
    assert "http://testserver/fail" in response.content.decode()


def test_exception_is_logged_once_by_debugpages_not_by_django(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client(MODE="on").get("/fail")
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.name for r in logged] == ["debugpages"]
    assert logged[0].exc_info is not None
    assert isinstance(logged[0].exc_info[1], ValueError)


def test_got_request_exception_still_reaches_error_trackers() -> None:
    heard: list[Any] = []

    def listener(sender: Any, request: Any, **extra: Any) -> None:
        heard.append(request.path)

    got_request_exception.connect(listener)
    try:
        client(MODE="off").get("/fail")
    finally:
        got_request_exception.disconnect(listener)
    assert heard == ["/fail"]


def test_djangos_test_client_reraises_as_it_does_for_djangos_own_500() -> None:
    with override_settings(DEBUGPAGES={"MODE": "on"}), pytest.raises(ValueError, match="euros"):
        Client().get("/fail")


@pytest.mark.parametrize(("path", "status", "text"), DJANGOS_OWN)
def test_exceptions_django_answers_itself_keep_djangos_pages(
    path: str, status: int, text: str, records: Records
) -> None:
    response = client(MODE="on").get(path)
    assert response.status_code == status
    assert text in response.content.decode()
    assert "Cache-Control" not in response
    assert [
        r for r in records() if getattr(r, "reference", "-") != "-"
    ] == []  # no page of debugpages


def test_a_middleware_of_the_project_still_answers_its_exceptions(records: Records) -> None:
    response = client(MODE="on").get("/out-of-stock")
    assert (response.status_code, response.content) == (409, b"sorry: no more tea")
    assert errors(records) == []


def test_mode_setting_beats_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEBUGPAGES", "on")
    assert middleware(DEBUGPAGES={"MODE": "legacy-200"}).engine.mode is Mode.LEGACY_200
    assert middleware(DEBUGPAGES={}).engine.mode is Mode.ON


@pytest.mark.parametrize(
    ("debug", "follow", "env", "expected"),
    [
        (True, None, None, Mode.ON),  # DEBUG is followed by default
        (False, None, None, Mode.OFF),
        (True, True, None, Mode.ON),
        (False, True, None, Mode.OFF),
        (True, False, None, Mode.OFF),  # "FOLLOW_DEBUG": False opts out
        (True, None, "off", Mode.OFF),  # the variable still wins over DEBUG
        (False, None, "on", Mode.ON),
    ],
)
def test_debug_picks_the_mode_unless_follow_debug_is_false(
    debug: bool,
    follow: bool | None,
    env: str | None,
    expected: Mode,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if env is not None:
        monkeypatch.setenv("DEBUGPAGES", env)
    config = {} if follow is None else {"FOLLOW_DEBUG": follow}
    pages = middleware(DEBUG=debug, DEBUGPAGES=config)
    assert pages.engine.mode is expected


@pytest.mark.parametrize(
    ("debug", "config", "env", "level", "line"),
    [
        (True, {}, None, logging.WARNING, "mode on (from settings.DEBUG)"),
        (False, {}, None, logging.INFO, "mode off (from settings.DEBUG)"),
        (
            True, {}, "off", logging.WARNING,
            "mode off (from DEBUGPAGES), although settings.DEBUG is True: DEBUGPAGES wins",
        ),
        (
            True, {"FOLLOW_DEBUG": False}, None, logging.WARNING,
            'mode off (from default), although settings.DEBUG is True: default ("FOLLOW_DEBUG": '
            "False) wins",
        ),
        (
            True, {"MODE": "off"}, None, logging.WARNING,
            "mode off (from settings.DEBUGPAGES['MODE']), although settings.DEBUG is True: "
            "settings.DEBUGPAGES['MODE'] wins",
        ),
        (
            False, {}, "on", logging.WARNING,
            "mode on (from DEBUGPAGES), although settings.DEBUG is False: DEBUGPAGES wins",
        ),
    ],
)  # fmt: skip
def test_the_mode_is_announced_with_its_source_and_any_contradiction_with_debug(
    debug: bool,
    config: dict[str, Any],
    env: str | None,
    level: int,
    line: str,
    monkeypatch: pytest.MonkeyPatch,
    records: Records,
) -> None:
    if env is not None:
        monkeypatch.setenv("DEBUGPAGES", env)
    middleware(DEBUG=debug, DEBUGPAGES=config)
    [record] = records()
    assert (record.levelno, record.getMessage()) == (level, f"debugpages: {line}")


def test_with_debug_true_and_mode_off_the_production_page_is_sent() -> None:
    with override_settings(DEBUG=True, DEBUGPAGES={"MODE": "off"}):
        response = Client(raise_request_exception=False).get("/fail", headers=TEXT)
    assert response.status_code == 500
    assert "two euros" not in response.content.decode()  # neither ours nor Django's traceback


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"MODE": "verbose"}, r"DEBUGPAGES\['MODE'\]='verbose'"),
        ({"mode": "on"}, "unknown keys"),
        ("on", "expected a dict"),
    ],
)
def test_a_wrong_setting_stops_the_start(config: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        middleware(DEBUGPAGES=config)


def test_template_dirs_setting_puts_the_projects_page_first(tmp_path: Path) -> None:
    (tmp_path / "500.txt").write_text("Our shop is closed. Quote {{ page.reference }}.\n")
    response = client(MODE="off", TEMPLATE_DIRS=[tmp_path]).get("/fail", headers=TEXT)
    assert response.status_code == 500
    assert response.content.decode().startswith("Our shop is closed. Quote ")


@pytest.mark.parametrize("mode", MODES)
def test_werkzeug_server_with_djangos_wsgi_handler_sends_the_page_of_the_mode(
    mode: str, serve: Callable[..., str], records: Records
) -> None:
    with override_settings(DEBUGPAGES={"MODE": mode}):
        base = serve(WSGIHandler())
        fetch(base, "/ok")
    fetched = fetch(base, "/fail", TEXT)
    assert_page_of_mode(mode, fetched.status, fetched.reason, fetched.text)
    [record] = errors(records)
    assert record.reference in fetched.text  # type: ignore[attr-defined]
    assert record.path == "/fail"  # type: ignore[attr-defined]


@pytest.mark.parametrize("mode", MODES)
def test_gunicorn_sends_the_page_of_the_mode(mode: str, tmp_path: Path) -> None:
    argv = ["gunicorn", "--no-control-socket", "-w", "1", "-b", "127.0.0.1:{port}"]
    argv.append("tests.django_site:application")
    with running(argv, tmp_path / "gunicorn.log", {"DEBUGPAGES": mode}) as server:
        fetched = fetch(server.base, "/fail", TEXT)
        missing = fetch(server.base, "/missing")
        handled = fetch(server.base, "/out-of-stock")
    assert_page_of_mode(mode, fetched.status, fetched.reason, fetched.text)
    assert (missing.status, missing.text) == (404, "the project's own 404 page")
    assert (handled.status, handled.text) == (409, "sorry: no more tea")
    [reference] = logged_references(server.output())  # logged once, by debugpages
    assert reference in fetched.text


RUNSERVER_SETTINGS = """
DEBUG = {debug}
SECRET_KEY = "only-for-the-tests"
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = "shop"
INSTALLED_APPS = []
DATABASES = {{}}
MIDDLEWARE = ["debugpages.django.ErrorPagesMiddleware"]
"""
RUNSERVER_SHOP = """
from django.urls import path


def fail(request):
    raise ValueError("could not convert 'two euros'")


urlpatterns = [path("fail", fail)]
"""


@pytest.mark.parametrize(("debug", "shown"), [(True, True), (False, False)])
def test_runserver_follows_debug_with_no_debugpages_set(
    debug: bool, shown: bool, tmp_path: Path
) -> None:
    (tmp_path / "settings.py").write_text(RUNSERVER_SETTINGS.format(debug=debug))
    (tmp_path / "shop.py").write_text(RUNSERVER_SHOP)
    argv = ["django", "runserver", "127.0.0.1:{port}", "--noreload", "--settings", "settings"]
    with running(
        argv, tmp_path / "runserver.log", {"PYTHONPATH": str(tmp_path)}, tmp_path
    ) as server:
        fetched = fetch(server.base, "/fail", TEXT)
        output = server.output()
    assert fetched.status == 500
    assert ("could not convert 'two euros'" in fetched.text) is shown
    assert "DEBUG = True" not in fetched.text  # debugpages' page, not Django's technical 500
    assert "Reference" in fetched.text or "reference" in fetched.text
    if debug:  # a WARNING: seen with no logging set up
        assert "debugpages: mode on (from settings.DEBUG)" in output, output

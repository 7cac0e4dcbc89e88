"""The pages in real headless Chromium (Debian's ``chromium``, driven by Playwright).

Where Chromium or Playwright is missing these tests skip with the reason; with
``DEBUGPAGES_REQUIRE_BROWSER=1`` (set by ``.ci/run``) they fail instead. Screenshots
go to the artefacts folder, ``browser/`` inside it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from debugpages import ErrorPages
from debugpages.demo import ROUTES, make_demo

from .conftest import ARTIFACTS

SHOTS = ARTIFACTS / "browser"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium() -> str | None:
    for candidate in (os.environ.get("DEBUGPAGES_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium, started once per module with a fresh profile; skipped (or failed) if absent."""
    executable = _chromium()
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "Playwright is not installed (pip install -e '.[test]')"
    if executable is None:
        reason = "Chromium is absent (apt-get install chromium)"
    if reason is not None:
        if os.environ.get("DEBUGPAGES_REQUIRE_BROWSER") == "1":
            pytest.fail(f"DEBUGPAGES_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        # Playwright starts Chromium with a fresh temporary profile (--user-data-dir) each time.
        chromium = playwright.chromium.launch(executable_path=executable, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """A new page in its own context; console messages and requests are recorded on it."""
    contexts = []

    def new(*, dark: bool = False, width: int = 1280, javascript: bool = True) -> Any:
        context = browser.new_context(
            color_scheme="dark" if dark else "light",
            viewport={"width": width, "height": 900},
            java_script_enabled=javascript,
        )
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []  # type: ignore[attr-defined]
        page.requested = []  # type: ignore[attr-defined]
        page.on("console", lambda m: page.console_errors.extend(_complaints(m.type, m.text)))
        page.on("pageerror", lambda e: page.console_errors.append(str(e)))
        page.on("request", lambda r: page.requested.append(r.url))
        return page

    yield new
    for context in contexts:
        context.close()


def _complaints(kind: str, text: str) -> list[str]:
    """Console errors and warnings, but Chromium's note of the status we meant to send."""
    expected = text.startswith("Failed to load resource: the server responded with a status")
    return [text] if kind in ("error", "warning") and not expected else []


def shot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def json_failure(environ: object, start_response: object) -> list[bytes]:
    """Fails inside the standard library, so the trace has library frames under the app's."""
    settings = '{"currency": "EUR", '
    return [json.loads(settings)]


FRAMES = "details.frame"


def visible(page: Any, selector: str) -> list[bool]:
    return [element.is_visible() for element in page.query_selector_all(selector)]


def opened(page: Any, selector: str) -> list[bool]:
    return [item.get_attribute("open") is not None for item in page.query_selector_all(selector)]


@pytest.mark.parametrize("javascript", [False, True], ids=["no-javascript", "javascript"])
def test_application_frames_are_open_and_the_full_trace_shows_library_frames(
    serve: Callable[..., str], open_page: Callable[..., Any], javascript: bool
) -> None:
    base = serve(ErrorPages(json_failure, mode="on"))
    page = open_page(javascript=javascript)
    response = page.goto(f"{base}/settings")
    assert response.status == 500
    app_frames = page.query_selector_all("details.frame.app")
    assert app_frames, "the application's own frame is on the page"
    assert all(frame.is_visible() for frame in app_frames)
    assert all(frame.get_attribute("open") is not None for frame in app_frames)
    folded = page.query_selector_all(".library-run details.frame")
    assert folded, "json's outer frames are library frames"
    assert not any(frame.is_visible() for frame in folded)  # the application trace folds them
    assert page.get_by_text("library frames folded away").first.is_visible()
    innermost = page.query_selector_all(FRAMES)[-1]
    assert innermost.is_visible()  # where it failed is always shown...
    assert innermost.get_attribute("open") is None  # ...closed, being library code

    page.click("label[for=trace-full]")
    assert all(frame.is_visible() for frame in folded)
    assert not any(opened(page, ".library-run details.frame"))  # collapsed, not opened
    assert not page.get_by_text("library frames folded away").first.is_visible()
    folded[0].query_selector("summary").click()
    assert folded[0].get_attribute("open") is not None
    assert folded[0].query_selector("ol.source").is_visible()

    page.click("label[for=trace-app]")
    assert not any(frame.is_visible() for frame in folded)
    assert page.console_errors == []


def test_the_copy_button_copies_the_plain_text_traceback(
    serve: Callable[..., str], open_page: Callable[..., Any]
) -> None:
    base = serve(ErrorPages(json_failure, mode="on"))
    page = open_page()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page.goto(f"{base}/")
    page.click("#copy")
    page.wait_for_function("document.getElementById('copy').textContent === 'Copied'")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("Traceback (most recent call last):\n")
    assert "json.decoder.JSONDecodeError: Expecting property name" in copied
    assert page.console_errors == []  # the nonce'd style and script pass the CSP


def test_without_javascript_the_copy_block_is_still_there_and_the_button_is_not(
    serve: Callable[..., str], open_page: Callable[..., Any]
) -> None:
    base = serve(ErrorPages(json_failure, mode="on"))
    page = open_page(javascript=False)
    page.goto(f"{base}/")
    assert page.is_visible("#traceback-text")
    assert not page.is_visible("#copy")


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("width", [1280, 375])
def test_the_pages_fit_the_screen_in_light_and_dark(
    serve: Callable[..., str], open_page: Callable[..., Any], dark: bool, width: int
) -> None:
    base = serve(make_demo())
    scheme = "dark" if dark else "light"
    backgrounds = set()
    for mode, route in (("on", "plain"), ("on", "group"), ("off", "plain")):
        page = open_page(dark=dark, width=width)
        page.goto(f"{base}/{mode}/{route}")
        name = "traceback" if mode == "on" else "production"
        shot(page, f"{name}-{route}-{scheme}-{width}")
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= width, f"{mode}/{route} is {overflow}px wide in a {width}px window"
        backgrounds.add(page.evaluate("getComputedStyle(document.body).backgroundColor"))
        assert page.console_errors == []
    expected = "rgb(21, 23, 27)" if dark else "rgb(255, 255, 255)"
    assert backgrounds == {expected}


def test_the_print_style_shows_every_frame(
    serve: Callable[..., str], open_page: Callable[..., Any]
) -> None:
    base = serve(ErrorPages(json_failure, mode="on"))
    page = open_page()
    page.goto(f"{base}/")
    page.emulate_media(media="print")
    assert all(visible(page, FRAMES))
    assert not page.is_visible(".views")
    page.emulate_media(media="screen")
    assert not all(visible(page, FRAMES))


EXPECTED_STATUS = {"off": 500, "on": 500, "legacy-200": 200}


@pytest.mark.parametrize("mode", EXPECTED_STATUS)
def test_the_demo_in_a_browser_sends_the_right_status_and_nothing_elsewhere(
    serve: Callable[..., str], open_page: Callable[..., Any], mode: str
) -> None:
    base = serve(make_demo())
    page = open_page()
    index = page.goto(f"{base}/")
    assert index.status == 200
    for route in ROUTES:
        response = page.goto(f"{base}/{mode}/{route}")
        expected = 404 if route in ("missing", "nowhere") else EXPECTED_STATUS[mode]
        assert response.status == expected, f"/{mode}/{route}"
        if expected == 500 and mode == "off":
            assert "Internal Server Error" in page.inner_text("h1")
        if mode != "off" and expected != 404:
            assert page.is_visible("#traceback")
        if mode == "legacy-200" and expected == 200:
            assert page.get_by_text("Legacy mode (legacy-200)").is_visible()
            assert response.headers["debugpages-original-status"] == "500 Internal Server Error"
    hosts = {urlsplit(url).netloc for url in page.requested}
    assert hosts == {urlsplit(base).netloc}, "no request leaves for another host"
    assert page.console_errors == [], "no CSP violation, no script error"
    for dark in (False, True):
        themed = open_page(dark=dark)
        themed.goto(f"{base}/{mode}/chained")
        shot(themed, f"demo-{mode}-chained-{'dark' if dark else 'light'}")


TEMPLATE_ERRORS = {
    "jinja": ("/account", "<p>We ship to {{ customer.adress.street }}</p>", "account.html"),
    "jinja-syntax": ("/broken-template", "<li>{{ order.number }</li>", "broken.html"),
    "django": ("/dashboard", "<p>Total due: {{ invoice.total }}</p>", "dashboard.html"),
    "django-syntax": ("/broken-tag", "{% endfo %}", "broken_tag.html"),
}


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("engine", TEMPLATE_ERRORS)
def test_a_template_error_shows_exception_template_and_line_on_the_first_screen(
    serve: Callable[..., str], browser: Any, engine: str, dark: bool
) -> None:
    """At 1280 x 800, what a developer looks for first needs no scrolling."""
    path, failing_line, name = TEMPLATE_ERRORS[engine]
    with contextlib.ExitStack() as stack:
        if engine.startswith("jinja"):
            from .flask_site import create_app

            app: Any = create_app("on")
        else:
            from django.core.handlers.wsgi import WSGIHandler
            from django.test import override_settings

            from . import django_site  # noqa: F401  (configures Django)

            stack.enter_context(override_settings(DEBUG=True, DEBUGPAGES={"MODE": "on"}))
            app = WSGIHandler()
        base = serve(app)
        context = browser.new_context(
            viewport={"width": 1280, "height": 800}, color_scheme="dark" if dark else "light"
        )
        stack.callback(context.close)
        page = context.new_page()
        response = page.goto(f"{base}{path}")
        assert response.status == 500
        SHOTS.mkdir(parents=True, exist_ok=True)
        scheme = "dark" if dark else "light"
        page.screenshot(path=str(SHOTS / f"template-error-{engine}-{scheme}-1280x800.png"))
        exception = page.locator("h1.type")
        where = page.locator("p.where .template-name").first
        line = page.locator("section.template li.current")
        assert line.inner_text().strip() == failing_line
        assert name in where.inner_text()
        for element in (exception, where, line):
            box = element.bounding_box()
            assert box is not None, element
            assert box["y"] >= 0, (element, box)
            assert box["y"] + box["height"] <= 800, (element, box)


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_a_task_groups_members_are_on_the_first_screen_under_uvicorn(
    browser: Any, dark: bool, tmp_path: Path
) -> None:
    """A TaskGroup's "unhandled errors" says nothing by itself: its members' types and
    messages need no scrolling at 1280 x 800."""
    from .frameworks import running

    argv = ["uvicorn", "--factory", "tests.test_first_screen:quote_app", "--port", "{port}"]
    with running(argv, tmp_path / "uvicorn.log") as server:
        context = browser.new_context(
            viewport={"width": 1280, "height": 800}, color_scheme="dark" if dark else "light"
        )
        try:
            page = context.new_page()
            response = page.goto(f"{server.base}/quote?sku=tea")
            assert response.status == 500
            SHOTS.mkdir(parents=True, exist_ok=True)
            scheme = "dark" if dark else "light"
            page.screenshot(path=str(SHOTS / f"task-group-{scheme}-1280x800.png"))
            members = page.locator("ul.members li")
            texts = [members.nth(i).inner_text() for i in range(members.count())]
            assert any("ConnectionError: the warehouse is down" in t for t in texts), texts
            assert any(t.startswith("LookupError: no price for tea") for t in texts), texts
            for i in range(members.count()):
                box = members.nth(i).bounding_box()
                assert box is not None
                assert box["y"] >= 0, (texts[i], box)
                assert box["y"] + box["height"] <= 800, (texts[i], box)
        finally:
            context.close()

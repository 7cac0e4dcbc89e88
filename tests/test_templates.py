"""Every body comes from a template a user can override, with a fallback chain behind it."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import jinja2
import markupsafe
import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.exceptions import MethodNotAllowed, NotFound, ServiceUnavailable
from werkzeug.test import Client

from debugpages import ConfigurationError, ErrorPages
from debugpages import render as render_module

from . import apps

HTML = {"Accept": "text/html"}


def test_a_user_template_overrides_one_page_and_keeps_the_rest(tmp_path: Path) -> None:
    (tmp_path / "500.html").write_text(
        '{% extends "base.html" %}{% block content %}<p>Our own words. '
        "Quote {{ page.reference }}.</p>{% endblock %}"
    )
    client = Client(ErrorPages(apps.plain, mode="off", template_dirs=[tmp_path]))
    body = client.get("/", headers=HTML).get_data(as_text=True)
    assert "Our own words." in body
    assert "<!doctype html>" in body  # base.html still comes from the built-in set
    text = client.get("/", headers={"Accept": "text/plain"}).get_data(as_text=True)
    assert "The server encountered an internal error" in text  # 500.txt is the built-in one


def test_user_folders_are_searched_in_order(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "500.txt").write_text("first {{ page.reference }}\n")
    (second / "500.txt").write_text("second\n")
    (second / "traceback.txt").write_text("second traceback: {{ page.error.exception.message }}\n")
    off = Client(ErrorPages(apps.plain, mode="off", template_dirs=[first, second]))
    assert off.get("/").get_data(as_text=True).startswith("first ")
    on = Client(ErrorPages(apps.plain, mode="on", template_dirs=[str(first), str(second)]))
    assert on.get("/").get_data(as_text=True).startswith("second traceback: could not convert")


def test_a_missing_template_folder_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no-such-folder"):
        ErrorPages(apps.plain, template_dirs=[tmp_path / "no-such-folder"])


@pytest.mark.parametrize(
    "broken",
    [
        "{% block content %}{{ page.nothing_here }}{% endblock %}",  # fails to render
        "{% if %}",  # fails to compile
        '{% extends "missing-layout.html" %}',  # fails to load what it needs
    ],
)
def test_a_broken_user_template_gives_way_to_the_built_in_one(
    tmp_path: Path, broken: str, records: Callable[[], list[logging.LogRecord]]
) -> None:
    (tmp_path / "500.html").write_text(broken)
    response = Client(ErrorPages(apps.plain, mode="off", template_dirs=[tmp_path])).get(
        "/", headers=HTML
    )
    assert response.status == "500 Internal Server Error"
    assert "The server encountered an internal error" in response.get_data(as_text=True)
    failures = [r for r in records() if "failed to render" in r.getMessage()]
    assert len(failures) == 1
    assert failures[0].exc_info is not None


def test_when_the_built_in_template_fails_too_a_minimal_page_is_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, records: Callable[[], list[logging.LogRecord]]
) -> None:
    builtin = tmp_path / "builtin"
    shutil.copytree(render_module.BUILTIN_TEMPLATES, builtin)
    for name in ("traceback.html", "traceback.txt", "traceback.json"):
        (builtin / name).write_text("{{ page.error.no_such_thing.at_all }}")
    monkeypatch.setattr(render_module, "BUILTIN_TEMPLATES", builtin)
    client = Client(ErrorPages(apps.plain, mode="legacy-200"))
    html = client.get("/", headers=HTML)
    assert html.status == "200 OK"
    assert html.headers["Debugpages-Original-Status"] == "500 Internal Server Error"
    assert "<h1>500 Internal Server Error</h1>" in html.get_data(as_text=True)
    problem = json.loads(client.get("/", headers={"Accept": "application/json"}).data)
    assert problem["status"] == 500
    text = client.get("/").get_data(as_text=True)
    assert text.startswith("500 Internal Server Error\nReference: ")
    assert len([r for r in records() if "failed to render" in r.getMessage()]) >= 3


def test_a_template_folder_deleted_after_start_up_still_gives_a_page(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "500.txt").write_text("custom {{ page.reference }}\n")
    client = Client(ErrorPages(apps.plain, mode="off", template_dirs=[folder]))
    assert client.get("/").get_data(as_text=True).startswith("custom ")
    shutil.rmtree(folder)
    response = client.get("/")
    assert response.status_code == 500
    assert response.data  # never an empty body


def test_html_is_autoescaped_in_user_templates(tmp_path: Path) -> None:
    (tmp_path / "traceback.html").write_text("<p>{{ page.error.exception.message }}</p>")

    def app(environ: object, start_response: object) -> list[bytes]:
        raise ValueError("<script>alert(1)</script>")

    body = Client(ErrorPages(app, mode="on", template_dirs=[tmp_path])).get("/", headers=HTML).data
    assert b"<script>alert(1)</script>" not in body
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in body


class _Shown:
    """A value a template outputs through its ``str``, with markup in it."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return f"<shown {self.text}>"


_OUTPUTS = "<p>{{ value }}|{{ value|safe }}|{{ shown }}|{{ number }}|{{ markup }}|{{ macro() }}</p>"
_OUTPUT_MACRO = "{% macro macro() %}<i>{{ value }}</i>{% endmacro %}"
_STOCK = jinja2.Environment(autoescape=True)


@given(st.text(), st.integers())
def test_every_output_is_escaped_exactly_as_markupsafe_escapes_it(text: str, number: int) -> None:
    # debugpages compiles ``{{ value }}`` to its own escape (no ``Markup`` per piece):
    # the page must be the one stock Jinja makes, for any text.
    source = _OUTPUT_MACRO + _OUTPUTS
    values = {
        "value": text, "shown": _Shown(text), "number": number,
        "markup": markupsafe.Markup("<b>{}</b>").format(text),
    }  # fmt: skip
    expected = _STOCK.from_string(source).render(values)
    assert _BUILT_IN.from_string(source).render(values) == expected
    assert render_module.escape_output(text) == str(markupsafe.escape(text))
    assert render_module._escape_text(text) == str(markupsafe.escape(text))  # without markupsafe 3


_BUILT_IN = render_module.Renderer().builtin


def test_user_and_built_in_templates_compile_to_the_fast_escape(tmp_path: Path) -> None:
    for env in render_module.Renderer([tmp_path]).environments:
        compiled = env.compile("<p>{{ value }}</p>", raw=True)
        assert "yield environment.escape_output(" in compiled
        off = env.from_string("{% autoescape false %}{{ value }}{% endautoescape %}|{{ value }}")
        assert off.render(value="<b>") == "<b>|&lt;b&gt;"


def test_in_on_mode_an_edited_user_template_is_read_again(tmp_path: Path) -> None:
    import os

    template = tmp_path / "traceback.txt"
    template.write_text("first version\n")
    client = Client(ErrorPages(apps.plain, mode="on", template_dirs=[tmp_path]))
    assert client.get("/").get_data(as_text=True) == "first version\n"
    template.write_text("second version\n")
    later = template.stat().st_mtime + 5
    os.utime(template, (later, later))  # a clearly newer file, whatever the clock's grain
    assert client.get("/").get_data(as_text=True) == "second version\n"


_LEAN_CASES = [
    ("off", apps.plain),
    ("off", apps.raising(NotFound())),
    ("off", apps.raising(MethodNotAllowed(valid_methods=["GET"]))),
    ("off", apps.raising(ServiceUnavailable(retry_after=30))),
    ("on", apps.raising(NotFound())),
]


@pytest.mark.parametrize(("mode", "app"), _LEAN_CASES)
def test_production_and_client_error_pages_are_lean(mode: str, app: apps.App) -> None:
    body = Client(ErrorPages(app, mode=mode)).get("/", headers=HTML).get_data()
    assert len(body) <= 2048
    page = body.decode()
    style = page[page.index("<style") : page.index("</style>")]
    traceback_css = (Path(render_module.BUILTIN_TEMPLATES) / "_style.css").read_text()
    rules = [rule for rule in traceback_css.splitlines() if not rule.startswith("{%")]
    assert [rule for rule in rules if rule in style] == []  # none of the traceback page's CSS
    assert all(rule in style for rule in _base_css_rules())  # the layout's, every rule
    for markup in ("<script", "<details", "<textarea", "<table", 'class="frame'):
        assert markup not in page


def _base_css_rules() -> list[str]:
    return (Path(render_module.BUILTIN_TEMPLATES) / "_base.css").read_text().splitlines()


def test_the_traceback_page_carries_the_whole_stylesheet() -> None:
    page = Client(ErrorPages(apps.plain, mode="on")).get("/", headers=HTML).get_data(True)
    traceback_css = (Path(render_module.BUILTIN_TEMPLATES) / "_style.css").read_text()
    rules = [*_base_css_rules(), *traceback_css.splitlines()[1:]]
    style = page[page.index("<style") : page.index("</style>")]
    assert [rule for rule in rules if rule not in style] == []
    on_purpose = Client(ErrorPages(apps.raising(ServiceUnavailable()), mode="on"))
    page = on_purpose.get("/", headers=HTML).get_data(True)  # where it was raised: frames
    assert 'class="frame' in page
    assert all(rule in page for rule in rules)


def test_a_users_base_html_lays_out_every_page(tmp_path: Path) -> None:
    (tmp_path / "base.html").write_text(
        '<!doctype html><html><body class="ours"><style nonce="{{ nonce }}">'
        '{% include "_style.css" %}</style>{% block header %}{% endblock %}'
        "{% block content %}{% endblock %}<p>Our footer</p></body></html>"
    )
    for mode, app in [("off", apps.plain), ("on", apps.plain), ("off", apps.raising(NotFound()))]:
        client = Client(ErrorPages(app, mode=mode, template_dirs=[tmp_path]))
        page = client.get("/", headers=HTML).get_data(as_text=True)
        assert '<body class="ours">' in page
        assert "<p>Our footer</p>" in page
        assert "--line:" in page  # _style.css holds the layout's stylesheet, _base.css
    page = Client(ErrorPages(apps.plain, mode="on", template_dirs=[tmp_path])).get("/").text
    assert "could not convert string to float" in page

"""Template errors as a developer meets them: real Flask + Jinja and real Django, through
their test clients and their own servers (``flask run``, ``runserver``).

Each test reads what the page shows: where the template failed (its name and line, in the
header and in the Template section above the traceback), the failing line of the
template, the template frames as CPython names them, and the locals.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import pytest
from django.test import Client, override_settings
from flask import Flask, render_template
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import Client as WerkzeugClient

import debugpages.flask
from debugpages import ASGIErrorPages, ErrorPages
from debugpages.mask import MASK

from . import django_site  # noqa: F401  (configures Django: settings, URLs, templates)
from .conftest import fetch
from .flask_site import create_app
from .frameworks import TEXT, running

HTML = {"Accept": "text/html"}
JSON = {"Accept": "application/json"}
FLASK_SECRET = "flask-Signing-Key-7781"


def strip(markup: str) -> str:
    """What a browser shows of ``markup``: its text, entities read."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def header(page: str) -> str:
    return strip(page[page.index('<h1 class="type">') : page.index("<nav")])


def template_section(page: str) -> str:
    start = page.index('<section class="template"')
    return page[start : page.index("</section>", start)]


def current_line(markup: str) -> str:
    """The marked line of a source listing, as markup."""
    return re.search(r'<li class="current"><code>(.*?)</code></li>', markup, re.S)[1]  # type: ignore[index]


@dataclass
class Frame:
    summary: str
    markup: str

    @property
    def locals(self) -> dict[str, str]:
        rows = re.findall(
            r'<th scope="row"><code>(.*?)</code></th><td><pre>(.*?)</pre>', self.markup, re.S
        )
        return {html.unescape(name): html.unescape(text) for name, text in rows}


def frames(page: str) -> list[Frame]:
    found = []
    for chunk in page.split('<details class="frame')[1:]:
        chunk = chunk[: chunk.index("</details>")]
        summary = re.search(r"<summary>(.*?)</summary>", chunk, re.S)[1]  # type: ignore[index]
        found.append(Frame(strip(summary), chunk))
    return found


def template_frames(page: str) -> list[Frame]:
    return [frame for frame in frames(page) if ".html, line" in frame.summary]


@pytest.fixture(scope="module")
def flask_client() -> Any:
    return create_app("on", config={"SECRET_KEY": FLASK_SECRET}).test_client()


# Jinja: a block of a template that extends a layout -------------------------------------


def test_a_jinja_block_error_says_where_in_the_header_and_shows_the_line(flask_client: Any) -> None:
    page = flask_client.get("/account", headers=HTML).text
    assert "UndefinedError" in header(page)
    assert "'dict object' has no attribute 'adress'" in header(page)
    assert "In template tests/templates/account.html, line 5" in header(page)
    section = template_section(page)
    assert "In template tests/templates/account.html, line 5" in strip(section)
    assert strip(current_line(section)) == "<p>We ship to {{ customer.adress.street }}</p>"
    assert "<mark>" not in current_line(section)  # Jinja gives no columns in the template
    assert page.index('<section class="template"') < page.index('id="traceback"')


def test_jinja_template_frames_are_named_as_cpython_names_them_without_column_marks(
    flask_client: Any,
) -> None:
    page = flask_client.get("/account", headers=HTML).text
    summaries = [frame.summary for frame in template_frames(page)]
    assert summaries == [
        "tests/templates/account.html, line 1, in top-level template code",
        "tests/templates/layout.html, line 4, in top-level template code",
        "tests/templates/account.html, line 5, in block 'body'",
    ]
    for frame in template_frames(page):
        assert "<mark>" not in frame.markup  # the columns are those of Jinja's own code
        assert "&lt;module&gt;" not in frame.summary
    text = flask_client.get("/account", headers=TEXT).text
    assert "account.html\", line 5, in block 'body'\n" in text  # CPython's own text
    assert "Template: tests/templates/account.html, line 5\n" in text
    assert "    <p>We ship to {{ customer.adress.street }}</p>\n" in text


def test_the_render_context_is_shown_once_as_structure_with_secrets_masked(
    flask_client: Any,
) -> None:
    page = flask_client.get("/account", headers=HTML).text
    outer, layout, block = template_frames(page)
    context = block.locals  # the render's innermost frame holds its context
    assert context["customer"] == "{'name': 'Ada', 'address': {'street': '1 Analytical Way'}}"
    assert context["basket_id"] == "'B-1001'"
    assert "range" not in context
    assert "lipsum" not in context
    assert "'SECRET_KEY': ********" in context["config"]  # Flask's config, masked
    assert outer.locals == {}
    assert layout.locals == {}
    assert "shown with the frame below" in strip(outer.markup)
    view = next(frame for frame in frames(page) if "account tests.flask_site" in frame.summary)
    assert view.locals["basket_id"] == "'B-1001'"  # the view keeps its own locals
    for headers in (HTML, TEXT, JSON):
        assert FLASK_SECRET not in flask_client.get("/account", headers=headers).text


def test_the_json_page_carries_the_template_location(flask_client: Any) -> None:
    body = json.loads(flask_client.get("/account", headers=JSON).text)
    template = body["template"]
    assert (template["engine"], template["name"], template["line"]) == (
        "Jinja",
        "tests/templates/account.html",
        5,
    )
    assert template["path"].endswith("/tests/templates/account.html")
    [current] = [line for line in template["source"] if line["current"]]
    assert current == {
        "number": 5,
        "text": "<p>We ship to {{ customer.adress.street }}</p>",
        "current": True,
        "mark": None,
    }
    names = [frame["function"] for frame in body["exception"]["frames"] if frame["template"]]
    assert names == ["top-level template code", "top-level template code", "block 'body'"]
    [render] = [f for f in body["exception"]["frames"] if f["function"] == "Template.render"]
    ctx = {variable["name"]: variable["text"] for variable in render["variables"]}["ctx"]
    assert ctx.startswith("Context({")  # Jinja's Context: a Mapping without a length
    assert "'SECRET_KEY': ********" in ctx  # Flask's config, in the context, masked


def test_a_jinja_macro_frame_is_named_for_its_macro(flask_client: Any) -> None:
    page = flask_client.get("/basket", headers=HTML).text
    assert "ZeroDivisionError" in header(page)
    assert "In template tests/templates/_macros.html, line 3" in header(page)
    assert template_frames(page)[-1].summary == (
        "tests/templates/_macros.html, line 3, in macro 'unit_price'"
    )
    assert strip(current_line(template_section(page))).strip() == (
        '{{ "%.2f"|format(item.cost / item.count) }} EUR'
    )


def test_a_jinja_syntax_error_says_which_template_and_line(flask_client: Any) -> None:
    page = flask_client.get("/broken-template", headers=HTML).text
    assert "TemplateSyntaxError" in header(page)
    assert "unexpected '}'" in header(page)
    assert "In template tests/templates/broken.html, line 3" in header(page)
    section = template_section(page)
    assert strip(current_line(section)) == "<li>{{ order.number }</li>"
    assert strip(section).count("\n") >= 3  # the lines around it too
    text = flask_client.get("/broken-template", headers=TEXT).text
    assert "Template: tests/templates/broken.html, line 3\n    <li>{{ order.number }</li>\n" in text
    body = json.loads(flask_client.get("/broken-template", headers=JSON).text)
    assert (body["template"]["name"], body["template"]["line"]) == (
        "tests/templates/broken.html",
        3,
    )


def test_a_missing_included_template_says_where_it_was_included(flask_client: Any) -> None:
    page = flask_client.get("/offers", headers=HTML).text
    assert "TemplateNotFound" in header(page)
    assert "offers_part.html" in header(page)
    assert "In template tests/templates/with_part.html, line 2" in header(page)
    assert strip(current_line(template_section(page))) == '{% include "offers_part.html" %}'


def test_an_ordinary_failure_has_no_template_section(flask_client: Any) -> None:
    page = flask_client.get("/fail", headers=HTML).text
    assert 'class="template"' not in page
    assert "In template" not in page
    assert json.loads(flask_client.get("/fail", headers=JSON).text)["template"] is None
    assert "Template:" not in flask_client.get("/fail", headers=TEXT).text


def test_the_production_page_says_nothing_of_the_template() -> None:
    client = create_app("off").test_client()
    for headers in (HTML, TEXT, JSON):
        body = client.get("/account", headers=headers).text
        assert "account.html" not in body
        assert "adress" not in body


def test_starlette_jinja2_templates_show_the_template_error() -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.routing import Route
    from starlette.templating import Jinja2Templates
    from starlette.testclient import TestClient

    templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

    async def account(request: Request) -> Any:
        basket_id = "B-2002"
        customer = {"name": "Ada", "address": {}}
        context = {"customer": customer, "basket_id": basket_id}
        return templates.TemplateResponse(request, "account.html", context)

    app = Starlette(routes=[Route("/account", account)])
    app.add_middleware(ASGIErrorPages, mode="on")
    client = TestClient(app)
    page = client.get("/account", headers=HTML).text
    assert "In template tests/templates/account.html, line 5" in header(page)
    assert strip(current_line(template_section(page))) == (
        "<p>We ship to {{ customer.adress.street }}</p>"
    )
    assert template_frames(page)[-1].locals["basket_id"] == "'B-2002'"
    body = json.loads(client.get("/account", headers=JSON).text)
    assert (body["template"]["name"], body["template"]["line"]) == (
        "tests/templates/account.html",
        5,
    )


def test_flask_run_shows_the_template_error(tmp_path: Path) -> None:
    argv = ["flask", "--app", "tests.flask_site:app", "run", "--no-reload"]
    argv += ["-h", "127.0.0.1", "-p", "{port}"]
    with running(argv, tmp_path / "flask.log", {"DEBUGPAGES": "on"}) as server:
        page = fetch(server.base, "/account", HTML).text
        text = fetch(server.base, "/broken-template", TEXT).text
    assert "In template tests/templates/account.html, line 5" in header(page)
    assert strip(current_line(template_section(page))) == (
        "<p>We ship to {{ customer.adress.street }}</p>"
    )
    assert template_frames(page)[-1].locals["basket_id"] == "'B-1001'"
    assert "Template: tests/templates/broken.html, line 3\n    <li>{{ order.number }</li>\n" in text


# Django: DEBUG on (template_debug) and off (Django's own frames) --------------------------


DJANGO_SECRET = "dj-Token-556677"
DASHBOARD = "In template tests/django_templates/dashboard.html, line 5"
TOTAL_DUE = "&lt;p&gt;Total due: <mark>{{ invoice.total }}</mark>&lt;/p&gt;"


@contextlib.contextmanager
def django_client(debug: bool) -> Iterator[Client]:
    """Django's test client, with ``DEBUG`` (and so the template engine's debug) as given."""
    with override_settings(DEBUG=debug, DEBUGPAGES={"MODE": "on"}):
        yield Client(raise_request_exception=False)


@pytest.mark.parametrize("debug", [True, False], ids=["DEBUG", "no-DEBUG"])
def test_a_django_template_error_shows_the_template_its_line_and_the_failing_token(
    debug: bool,
) -> None:
    with django_client(debug) as client:
        page = client.get("/dashboard", headers=HTML).content.decode()
        text = client.get("/dashboard", headers=TEXT).content.decode()
        body = json.loads(client.get("/dashboard", headers=JSON).content)
    assert "ZeroDivisionError" in header(page)
    assert "float division by zero" in header(page)
    assert DASHBOARD in header(page)
    section = template_section(page)
    assert "Template error (Django)" in strip(section)
    assert current_line(section) == TOTAL_DUE
    assert '{% extends "base.html" %}' in strip(section)  # the lines around it
    assert page.index('<section class="template"') < page.index('id="traceback"')
    innermost = next(f for f in frames(page) if "in Invoice.total tests.django_site" in f.summary)
    assert innermost.locals["paid"] == "0.0"
    view = next(f for f in frames(page) if "in dashboard tests.django_site" in f.summary)
    assert view.locals["customer"] == "'Ada'"  # the view keeps its locals under the engine
    assert view.locals["api_token"] == MASK
    assert "Template: tests/django_templates/dashboard.html, line 5\n" in text
    assert "    <p>Total due: {{ invoice.total }}</p>\n" in text
    template = body["template"]
    assert (template["engine"], template["name"], template["line"]) == (
        "Django",
        "tests/django_templates/dashboard.html",
        5,
    )
    [current] = [line for line in template["source"] if line["current"]]
    assert current["mark"] == [14, 33]
    assert current["text"][14:33] == "{{ invoice.total }}"


@pytest.mark.parametrize("debug", [True, False], ids=["DEBUG", "no-DEBUG"])
def test_a_django_template_syntax_error_marks_the_invalid_tag(debug: bool) -> None:
    with django_client(debug) as client:
        page = client.get("/broken-tag", headers=HTML).content.decode()
    assert "TemplateSyntaxError" in header(page)
    assert "Invalid block tag on line 4: &#39;endfo&#39;" in page
    assert "In template tests/django_templates/broken_tag.html, line 4" in header(page)
    assert current_line(template_section(page)) == "<mark>{% endfo %}</mark>"
    assert MASK not in template_section(page)  # Django's ``token`` is source, not a secret


@pytest.mark.parametrize("debug", [True, False], ids=["DEBUG", "no-DEBUG"])
def test_a_syntax_error_in_a_django_layout_names_the_layout(debug: bool) -> None:
    with django_client(debug) as client:
        page = client.get("/report", headers=HTML).content.decode()
    assert "TemplateSyntaxError" in header(page)
    assert "In template tests/django_templates/broken_base.html, line 3" in header(page)
    assert current_line(template_section(page)) == "<mark>{% if %}</mark>"


def test_a_django_template_context_secret_stays_masked() -> None:
    with django_client(True) as client:
        for headers in (HTML, TEXT, JSON):
            body = client.get("/dashboard", headers=headers).content.decode()
            assert DJANGO_SECRET not in body


RUNSERVER_SETTINGS = """
from pathlib import Path

DEBUG = {debug}
SECRET_KEY = "only-for-the-tests"
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = "shop"
INSTALLED_APPS = []
DATABASES = {{}}
MIDDLEWARE = ["debugpages.django.ErrorPagesMiddleware"]
TEMPLATES = [
    {{
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [Path(__file__).parent / "templates"],
    }}
]
"""
RUNSERVER_SHOP = """
from django.shortcuts import render
from django.urls import path


class Order:
    def __init__(self, number):
        self.number = number

    @property
    def total(self):
        rate = 0
        return 10 / rate


def orders(request):
    pending = [Order("A-17"), Order("A-18")]
    return render(request, "orders.html", {"pending": pending})


urlpatterns = [path("orders", orders)]
"""
ORDERS = """<h1>Orders</h1>
<ul>
{% for order in pending %}
  <li>{{ order.number }}: {{ order.total }}</li>
{% endfor %}
</ul>
"""


@pytest.mark.parametrize("debug", [True, False], ids=["DEBUG", "no-DEBUG"])
def test_runserver_shows_the_template_error(debug: bool, tmp_path: Path) -> None:
    (tmp_path / "settings.py").write_text(RUNSERVER_SETTINGS.format(debug=debug))
    (tmp_path / "shop.py").write_text(RUNSERVER_SHOP)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "orders.html").write_text(ORDERS)
    argv = ["django", "runserver", "127.0.0.1:{port}", "--noreload", "--settings", "settings"]
    env = {"PYTHONPATH": str(tmp_path), "DEBUGPAGES": "on"}
    with running(argv, tmp_path / "runserver.log", env, tmp_path) as server:
        page = fetch(server.base, "/orders", HTML).text
        text = fetch(server.base, "/orders", TEXT).text
    assert "ZeroDivisionError" in header(page)
    assert "In template templates/orders.html, line 4" in header(page)
    assert current_line(template_section(page)) == (
        "  &lt;li&gt;{{ order.number }}: <mark>{{ order.total }}</mark>&lt;/li&gt;"
    )
    assert (
        "Template: templates/orders.html, line 4\n"
        "    <li>{{ order.number }}: {{ order.total }}</li>\n" in text
    )
    view = next(frame for frame in frames(page) if frame.summary.startswith("shop.py, line 18"))
    assert view.summary == "shop.py, line 18, in orders shop"
    assert view.locals["pending"] == "[Order(number='A-17'), Order(number='A-18')]"
    innermost = frames(page)[-1]
    assert innermost.summary == "shop.py, line 13, in Order.total shop"
    assert innermost.locals == {"rate": "0", "self": innermost.locals["self"]}


# Edges: templates without files, secrets in a template's source, hostile template_debug --


def test_a_template_without_a_file_is_named_as_jinja_names_it() -> None:
    loader = jinja2.DictLoader({"bad.html": "<ul>\n{% for %}\n</ul>", "page.html": "{{ 1 / 0 }}"})
    environment = jinja2.Environment(loader=loader)

    def app(environ: Any, start_response: Any) -> list[bytes]:
        name = environ["PATH_INFO"].lstrip("/")
        body = environment.get_template(name).render().encode()
        start_response("200 OK", [])
        return [body]

    client = WerkzeugClient(ErrorPages(app, mode="on"))
    text = client.get("/bad.html", headers=TEXT).get_data(as_text=True)
    assert "Template: bad.html, line 2\n    {% for %}\n" in text  # the source the error holds
    page = client.get("/page.html", headers=HTML).get_data(as_text=True)
    assert "In template <template>, line 1" in header(page)  # Jinja's own name for it
    assert "The template's source is not available." in strip(template_section(page))


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_a_template_error_naming_a_file_that_is_not_safe_to_read_gets_its_page(
    tmp_path: Path, kind: str
) -> None:
    """An extension or filter may raise Jinja's ``TemplateSyntaxError`` itself, naming any
    file and carrying no source: reading a FIFO for the Template section hung the page."""
    named = tmp_path / "snippet.html"
    if kind == "fifo":
        os.mkfifo(named)
    else:
        named.mkdir()

    def app(environ: Any, start_response: Any) -> list[bytes]:
        raise jinja2.TemplateSyntaxError("unexpected end of snippet", 2, "snippet", str(named))

    client = WerkzeugClient(ErrorPages(app, mode="on"))
    page = client.get("/", headers=HTML).get_data(as_text=True)
    assert f"In template {named}, line 2" in header(page)
    assert "The template's source is not available." in strip(template_section(page))
    data = json.loads(client.get("/", headers=JSON).get_data(as_text=True))
    assert data["template"]["source"] == []


def test_a_secret_in_a_template_source_is_masked_there_too(tmp_path: Path) -> None:
    secret = "sk-live-4242abcd"
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "keys.html").write_text(
        f'<meta name="key" content="{secret}">\n<p>{{{{ account.plan.name }}}}</p>\n', "utf-8"
    )
    app = Flask(__name__, root_path=str(tmp_path))

    @app.get("/keys")
    def keys() -> str:
        api_key = secret
        return render_template("keys.html", account={}, shown=api_key[:0])

    debugpages.flask.init_app(app, "on")
    client = app.test_client()
    for headers in (HTML, TEXT, JSON):
        body = client.get("/keys", headers=headers).text
        assert secret not in body
        assert "keys.html" in body
    section = template_section(client.get("/keys", headers=HTML).text)
    assert f'content="{MASK}"' in strip(section)
    assert strip(current_line(section)) == "<p>{{ account.plan.name }}</p>"


DEBUG_KEYS = ["name", "line", "source_lines", "before", "during", "after", "message"]
ANYTHING = st.recursive(
    st.none() | st.integers(-3, 12) | st.text(max_size=30) | st.booleans(),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner),
    max_leaves=12,
)


NUMBERS = st.integers(-1, 9) | st.integers(10**12 - 2, 10**12)  # a huge one is not a list
LIKE_DJANGOS = st.fixed_dictionaries(
    {
        "name": st.text(max_size=20),
        "line": NUMBERS,
        "source_lines": st.lists(st.tuples(NUMBERS, st.text(max_size=20)), max_size=9),
    },
    optional={"before": st.text(max_size=10), "during": st.text(max_size=10) | st.none()},
)


@given(debug=LIKE_DJANGOS | st.dictionaries(st.sampled_from(DEBUG_KEYS), ANYTHING) | ANYTHING)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_template_debug_gives_a_page_and_a_shown_line_is_the_one_it_names(debug: Any) -> None:
    """Django's attribute is only read: whatever an exception carries under its name, the
    page is sent, and a Template section shows the line the attribute names."""

    def app(environ: Any, start_response: Any) -> list[bytes]:
        error = ValueError("rendering failed")
        error.template_debug = debug  # type: ignore[attr-defined]
        raise error

    client = WerkzeugClient(ErrorPages(app, mode="on"))
    response = client.get("/", headers=JSON)
    assert response.status_code == 500
    template = json.loads(response.get_data(as_text=True))["template"]
    if template is not None:
        assert template["line"] == debug["line"]
        current = [line for line in template["source"] if line["current"]]
        assert [line["number"] for line in current] in ([debug["line"]], [])
        for line in current:
            if line["mark"] is not None:
                start, end = line["mark"]
                assert 0 <= start < end <= len(line["text"])

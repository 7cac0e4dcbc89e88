"""What the first screen of a real failure shows a developer: the view's own source around
its line, however deep the library frames under it run, and the members of an exception
group (a ``TaskGroup``'s), not only the group's own message.
"""

from __future__ import annotations

import asyncio
import html
import io
import json
import re
from collections.abc import Iterator

import pytest
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.test import Client, override_settings
from django.urls import path
from flask import Flask, request
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from werkzeug.test import Client as WerkzeugClient

import debugpages.flask
from debugpages import ASGIErrorPages, ErrorPages

from . import django_site  # noqa: F401  (configures Django: settings, templates)
from .test_template_errors import HTML, JSON, Frame, frames, strip

TEXT = {"Accept": "text/plain"}


class Amount:
    """An amount that cannot be shown: it fails deep in a Django template."""

    def __str__(self) -> str:
        raise ArithmeticError("an amount without a currency")


def orders_view(request: HttpRequest) -> HttpResponse:
    customer = "Ada"
    orders = [{"lines": [{"amount": Amount()}]}]
    return render(request, "deep/page.html", {"orders": orders, "customer": customer})


urlpatterns = [path("orders", orders_view)]


@pytest.fixture
def django_client() -> Iterator[Client]:
    with override_settings(ROOT_URLCONF=__name__, DEBUGPAGES={"MODE": "on"}):
        yield Client(raise_request_exception=False)


def test_a_view_under_thirty_template_engine_frames_shows_its_source_around_its_line(
    django_client: Client,
) -> None:
    page = django_client.get("/orders", headers=HTML).content.decode()
    shown = frames(page)
    view = next(f for f in shown if ", in orders_view " in f.summary)
    inner = shown[shown.index(view) + 1 :]
    assert sum("library" in frame.summary for frame in inner) > 30  # Django's, under the view
    listing = strip(re.search(r'<ol class="source".*?</ol>', view.markup, re.S)[0])  # type: ignore[index]
    assert 'customer = "Ada"' in listing  # the lines above the view's
    assert "urlpatterns" in listing  # and below


# A TaskGroup's failure: the members on the first screen.


async def price_of(sku: str) -> float:
    await asyncio.sleep(0)
    raise LookupError(f"no price for {sku}")


async def stock_of(sku: str) -> int:
    await asyncio.sleep(0)
    raise ConnectionError("the warehouse is down")


async def quote(request: Request) -> Response:
    skus = request.query_params.getlist("sku") or ["tea"]
    async with asyncio.TaskGroup() as group:
        group.create_task(stock_of(skus[0]))
        async with asyncio.TaskGroup() as prices:  # a nested group, as a helper makes one
            for sku in skus:
                prices.create_task(price_of(sku))
    return PlainTextResponse("never")


def quote_client(mode: str) -> TestClient:
    app = Starlette(routes=[Route("/quote", quote)])
    app.add_middleware(ASGIErrorPages, mode=mode)
    return TestClient(app, raise_server_exceptions=False)


def header_text(page: str) -> str:
    return strip(page[page.index('<h1 class="type">') : page.index("<nav")])


def test_a_task_groups_members_are_in_the_header_each_with_its_type_and_message() -> None:
    client = quote_client("on")
    page = client.get("/quote?sku=tea", headers=HTML).text
    header = header_text(page)
    assert "unhandled errors in a TaskGroup (2 sub-exceptions)" in header
    assert "ConnectionError: the warehouse is down" in header
    assert "ExceptionGroup: unhandled errors in a TaskGroup (1 sub-exception)" in header
    assert "LookupError: no price for tea" in header  # the nested group's member
    assert header.index("warehouse") < header.index("Raised during")
    # The text and the JSON say the same.
    text = client.get("/quote?sku=tea", headers=TEXT).text
    assert "ConnectionError: the warehouse is down" in text
    assert "LookupError: no price for tea" in text
    data = json.loads(client.get("/quote?sku=tea", headers=JSON).text)
    members = data["exception"]["members"]
    assert [m["type_name"] for m in members] == ["ConnectionError", "ExceptionGroup"]
    assert members[1]["members"][0]["message"] == "no price for tea"


def test_a_group_of_many_members_lists_five_in_the_header_and_counts_the_rest() -> None:
    skus = "&".join(f"sku=s{i}" for i in range(8))
    page = quote_client("on").get(f"/quote?{skus}", headers=HTML).text
    header = header_text(page)
    nested = header[header.index("(8 sub-exceptions)") :]
    assert [f"no price for s{i}" in nested for i in range(8)] == [True] * 5 + [False] * 3
    assert "… and 3 more" in nested
    assert html.escape("no price for s7") in page  # shown below, with its frames


@pytest.mark.parametrize("accept", [HTML, TEXT, JSON])
def test_the_production_page_names_no_member(accept: dict[str, str]) -> None:
    response = quote_client("off").get("/quote?sku=tea", headers=accept)
    assert response.status_code == 500
    for word in ("warehouse", "no price", "TaskGroup", "LookupError", "ConnectionError"):
        assert word not in response.text


def quote_app() -> Starlette:
    """The quote app in ``on``, for uvicorn (``--factory``) under the browser tests."""
    return quote_client("on").app  # type: ignore[no-any-return]


# The form a Flask view read, in the Request section.


def signup_app() -> Flask:
    app = Flask(__name__)

    @app.post("/signup")
    def signup() -> str:
        email = request.form["email"]
        avatar = request.files["avatar"]
        raise ValueError(f"no account for {email} ({avatar.filename})")

    debugpages.flask.init_app(app, mode="on")
    return app


def test_the_form_a_flask_view_read_is_in_the_request_section() -> None:
    """Flask drops its request (and the form it parsed) before debugpages sees the
    exception; the body is read by then, so the page showed no form at all."""
    client = signup_app().test_client()
    form = {
        "email": "ada@example.org",
        "password": "correct-Horse-7",
        "avatar": (io.BytesIO(b"GIF89a"), "ada.gif"),
    }
    page = client.post("/signup", data=form, headers=HTML).get_data(as_text=True)
    section = page[
        page.index('<h2 id="request">') : page.index("</section>", page.index('<h2 id="request">'))
    ]
    rows = Frame("request", section).locals  # each table's rows, by name
    assert rows["email"] == "ada@example.org"
    assert rows["password"] == "********"
    assert rows["avatar"] == "'ada.gif' (image/gif)"
    assert "correct-Horse-7" not in page
    form["avatar"] = (io.BytesIO(b"GIF89a"), "ada.gif")
    data = json.loads(client.post("/signup", data=form, headers=JSON).get_data(as_text=True))
    fields = {field["name"]: field["text"] for field in data["request"]["form"]}
    assert fields == {"email": "ada@example.org", "password": "********"}


# Any group: the header names what the page holds, five of each group, two levels deep.

LEAF = st.builds(
    lambda kind, text: kind(text),
    st.sampled_from([ValueError, KeyError, ConnectionError, LookupError]),
    st.text(
        st.characters(codec="utf-8", exclude_categories=["Cs", "Cc", "Cf", "Zl", "Zp"]), max_size=12
    ),
)
GROUPS = st.recursive(
    LEAF,
    lambda members: st.lists(members, min_size=1, max_size=8).map(
        lambda found: ExceptionGroup("a group", found)
    ),
    max_leaves=30,
).filter(lambda exc: isinstance(exc, ExceptionGroup))


@settings(max_examples=40)
@given(group=GROUPS)
def test_any_groups_header_lists_five_members_of_each_group_two_levels_deep(
    group: ExceptionGroup[Exception],
) -> None:
    def app(environ: object, start_response: object) -> list[bytes]:
        raise group

    client = WerkzeugClient(ErrorPages(app, mode="on"))
    page = client.get("/", headers=HTML).get_data(as_text=True)
    top = page[page.index('<ul class="members"') : page.index('<ul class="meta">')]
    top = top[: top.rindex("</ul>") + 5]  # the header's list, nested lists inside

    def expected(exc: ExceptionGroup[Exception], depth: int) -> str:
        shown = []
        for member in exc.exceptions[:5]:
            name = type(member).__qualname__
            text = str(member)
            line = f"{name}: {text}" if text else name
            if isinstance(member, ExceptionGroup) and depth < 2:
                line += expected(member, depth + 1)
            shown.append(line)
        left = len(exc.exceptions) - 5
        return "".join(shown) + (f"… and {left} more" if left > 0 else "")

    assert strip(re.sub(r"\s*\n\s*", "", top)) == expected(group, 1)

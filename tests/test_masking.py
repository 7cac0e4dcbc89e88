"""Masking cuts both ways: every secret is masked, and no ordinary value is.

Failures raised through real Flask (with Jinja templates), Django and Starlette apps,
where the containers (``app.config``, ``request.POST``, a parsed form) come from them.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, render_template, request

import debugpages.flask
from debugpages.policy import MASK

HTML = {"Accept": "text/html"}
JSON = {"Accept": "application/json"}
TEXT = {"Accept": "text/plain"}
FORMATS = [HTML, JSON, TEXT]


class Lines(logging.Handler):
    """The debugpages records, formatted as a log file shows them."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def log() -> Iterator[Lines]:
    handler = Lines()
    logger = logging.getLogger("debugpages")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def readable(body: str) -> str:
    """What a reader sees of a page: HTML entities undone; of JSON, every string and every
    variable as ``name = text``, a line each."""
    try:
        page = json.loads(body)
    except ValueError:
        return html.unescape(body)
    lines: list[str] = []
    pending: list[Any] = [page]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            if isinstance(item.get("name"), str) and isinstance(item.get("text"), str):
                lines.append(f"{item['name']} = {item['text']}")
            pending += item.values()
        elif isinstance(item, list):
            pending += item
        elif isinstance(item, str):
            lines.append(item)
    return "\n".join(lines)


def flask_shop(tmp_path: Path, mode: str) -> Flask:
    """A Flask shop whose template and form handling fail as real ones do."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "profile.html").write_text(
        "<h1>{{ user.name }}</h1>\n<p>{{ user.address.street }}</p>\n", "utf-8"
    )
    app = Flask(__name__, root_path=str(tmp_path))
    app.config["SECRET_KEY"] = "flask-Signing-Key-0001"

    @app.get("/profile")
    def profile() -> str:
        return render_template("profile.html", user={"name": "Ada"})

    @app.post("/signup")
    def signup() -> str:
        form = dict(request.form)
        for key in ("email", "name"):
            form[key]  # the second is missing: KeyError: 'name'
        return "ok"

    @app.get("/book")
    def book() -> str:
        author = "Terry Pratchett"
        compass, monkey, session_length = "north-north-west", "capuchin-12", 3600
        raise LookupError(f"no book by {author} ({compass}, {monkey}, {session_length})")

    debugpages.flask.init_app(app, mode)
    return app


@pytest.mark.parametrize("headers", FORMATS)
def test_a_keyerror_on_an_ordinary_key_shows_the_key(tmp_path: Path, headers: Any) -> None:
    client = flask_shop(tmp_path, "on").test_client()
    body = readable(client.post("/signup", data={"email": "ada@example.org"}, headers=headers).text)
    assert "KeyError: 'name'" in body
    if headers is JSON:  # the locals: the key that was missing, and the form
        assert "key = 'name'" in body
        assert "form = {'email': 'ada@example.org'}" in body
    assert MASK not in body


@pytest.mark.parametrize("headers", FORMATS)
def test_a_template_name_is_never_masked(tmp_path: Path, headers: Any, log: Lines) -> None:
    body = readable(flask_shop(tmp_path, "on").test_client().get("/profile", headers=headers).text)
    assert 'render_template("profile.html"' in body
    assert 'templates/profile.html", line 2' in body or headers is not TEXT
    assert "profile.html" in body.replace('render_template("profile.html"', "")
    assert 'render_template("profile.html"' in log.text


def test_the_production_log_keeps_the_template_name(tmp_path: Path, log: Lines) -> None:
    body = flask_shop(tmp_path, "off").test_client().get("/profile").text
    assert "profile.html" not in body
    assert 'templates/profile.html", line 2' in log.text
    assert MASK not in log.text


@pytest.mark.parametrize("headers", FORMATS)
def test_ordinary_names_keep_their_values(tmp_path: Path, headers: Any) -> None:
    body = readable(flask_shop(tmp_path, "on").test_client().get("/book", headers=headers).text)
    for value in ("Terry Pratchett", "north-north-west", "capuchin-12", "3600"):
        assert value in body
    assert MASK not in body

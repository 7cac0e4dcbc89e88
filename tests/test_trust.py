"""Trust, tried as an attacker would: real apps nobody wrote the masking for, every mode,
every format and the log, every form a secret can take there; and the other direction,
ordinary values that must show.

The apps hold their secrets the way real ones do: Flask's ``app.config`` and session, a
login form, a rendered template, an exception kept in a local (Flask's own frames keep
one), a bearer JWT a view splits, an API key in the query, ``DATABASE_URL`` in the OS
environment, an outgoing URL's ``api_key``, an exception's own attributes. The list of
forms here is written independently of ``debugpages.mask``.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import json
import logging
import os
import random
import re
import urllib.parse
from typing import Annotated, Any

import markupsafe
import pytest
from django.urls import path
from fastapi import Depends, FastAPI, Security
from fastapi.security import APIKeyHeader
from flask import Flask, render_template_string, request, session
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, SecretStr

import debugpages.flask
from debugpages.mask import MASK

from .clients import LogText as Lines

MODES = ["off", "on", "legacy-200"]
ACCEPTS = ["text/html", "text/plain", "application/json"]


def _quoted(text: str) -> list[str]:
    found = []
    for quoted in (urllib.parse.quote(text, safe=""), urllib.parse.quote_plus(text, safe="")):
        found += [quoted, re.sub("%[0-9A-F]{2}", lambda m: m.group().lower(), quoted)]
    return found


def betrayals(secret: str) -> dict[str, str]:
    """Each way ``secret`` could show in a page or a log, by name."""
    raw = secret.encode()
    in_repr = repr(secret + "'\"")[1:-4]  # inside single quotes, both quotes in the text
    in_json, in_json_utf8 = json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]
    found = {
        "raw": secret,
        "html.escape": html.escape(secret),
        "markupsafe (Jinja)": str(markupsafe.escape(secret)),
        "json": in_json,
        "json, utf-8": in_json_utf8,
        "repr": repr(secret)[1:-1],
        "repr, single quotes": in_repr,
        "repr of a repr": repr(in_repr + "'\"")[1:-4],
        "bytes": repr(raw + b"'\"")[2:-4],
        "JSON in bytes (a raw request body)": repr(in_json.encode() + b"'\"")[2:-4],
        "JSON, utf-8, in bytes": repr(in_json_utf8.encode() + b"'\"")[2:-4],
        "base64": base64.b64encode(raw).decode(),
        "base64, unpadded": base64.b64encode(raw).decode().rstrip("="),
        "base64url": base64.urlsafe_b64encode(raw).decode().rstrip("="),
    }
    for index, quoted in enumerate(_quoted(secret)):
        found[f"url-encoded {index}"] = quoted
    # werkzeug's request.url, and so Flask's <Request '...'> repr, re-quotes the query:
    # a query value shows with only & = + % blanks and controls encoded.
    iri = re.sub(
        r"[\x00-\x20%&=+#\x7f]",
        lambda m: "".join(f"%{b:02X}" for b in m.group().encode()),
        secret,
    )
    found["request.url"] = iri
    found["request.url, in a repr"] = repr(iri + "'\"")[1:-4]
    return {name: form for name, form in found.items() if len(form) >= 6}


def parts(secret: str) -> set[str]:
    """Runs of 12 characters of ``secret`` (a part left at a cut), when distinct enough."""
    return {
        secret[i : i + 12]
        for i in range(len(secret) - 11)
        if len(set(secret[i : i + 12])) >= 6 and MASK[:4] not in secret[i : i + 12]
    }


def leaks(secret: str, text: str) -> list[str]:
    found = [name for name, form in betrayals(secret).items() if form in text]
    found += [f"part {part!r}" for part in parts(secret) if part in text][:1]
    return found


def views(body: str) -> list[str]:
    """A body as sent, and as read: HTML entities undone, JSON's strings decoded."""
    shown = [body, html.unescape(body)]
    try:
        pending: list[Any] = [json.loads(body)]
    except ValueError:
        return shown
    strings = []
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending += item.values()
        elif isinstance(item, list):
            pending += item
        elif isinstance(item, str):
            strings.append(item)
    return [*shown, "\n".join(strings)]


def made(tag: str, hostile: bool = False) -> str:
    """A secret made at run time (so no source line holds it), unique to ``tag``."""
    rng = random.Random(tag)
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
    one, two = ("".join(rng.choice(letters) for _ in range(12)) for _ in "12")
    return f"{one}'\"\\<&>ä~*+ %={two}" if hostile else f"{one}_-{two}"


# --- a Flask login app ----------------------------------------------------------------

CONFIG: dict[str, str] = {}
"""Secrets the app holds outside any frame (a module's settings)."""


@dataclasses.dataclass
class User:
    name: str
    token: str


class ApiClient:
    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return f"ApiClient(token={self._token!r})"


class Login(BaseModel):
    username: str
    password: SecretStr
    remember: SecretStr


class LoginFailed(Exception):
    pass


class UpstreamRefused(Exception):
    def __init__(self, user: str, password: str) -> None:
        super().__init__(f"upstream refused {user} with {password}")
        self.user, self.password = user, password


def _jwt(subject: str, signature: str) -> str:
    def segment(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    header = segment({"alg": "HS256", "typ": "JWT"})
    return f"{header}.{segment({'sub': subject})}.{segment(signature)}"


def flask_login_app(mode: str) -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = CONFIG["flask"]
    app.config["SQLALCHEMY_DATABASE_URI"] = f"postgresql://app:{CONFIG['db']}@db/app"

    @app.post("/login")
    def login() -> str:
        password = request.form["password"]
        session["auth_token"] = CONFIG["session"]
        user = User(request.form["username"], CONFIG["user"])
        client = ApiClient(CONFIG["client"])
        rendered = render_template_string("<p title='{{ p }}'>{{ p }}</p>", p=password)
        error = LoginFailed(f"login failed with {password!r} via {client!r}")
        kept(user, rendered)
        raise error

    @app.get("/search")
    def search() -> str:
        scheme, _, bearer = request.headers["Authorization"].partition(" ")
        segments = bearer.split(".")  # as a JWT library does
        where = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
        callback = f"https://app.example.org/cb#access_token={CONFIG['oauth']}&expires_in=60"
        kept(scheme, segments, where, callback[:20])
        raise RuntimeError(f"no results for {request.args['q']}")

    @app.get("/charge")
    def charge() -> str:
        call(f"https://api.example.com/v1/charges?limit=3&api_key={CONFIG['stripe']}")
        return "charged"

    @app.get("/upstream")
    def upstream() -> str:
        raise UpstreamRefused("ada", CONFIG["upstream"])

    debugpages.flask.init_app(app, mode)
    return app


def kept(*values: object) -> None:
    """Locals a view holds for the page to show (and the linter to see used)."""


def call(url: str) -> None:
    raise ConnectionError(f"401 Client Error: Unauthorized for url: {url}")


@pytest.mark.parametrize("hostile", [False, True], ids=["token", "hostile"])
def test_a_flask_login_app_shows_no_secret_in_any_form_anywhere(
    hostile: bool, log: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    tags = ["flask", "db", "session", "user", "client", "stripe", "upstream", "env", "sig"]
    CONFIG.update({tag: made(tag, hostile) for tag in tags})
    CONFIG.update(stripe=made("stripe"), sig=made("sig"), oauth=made("oauth"))  # in URLs
    password, api_key = made("password", hostile), made("api-key", hostile)
    monkeypatch.setenv("DATABASE_URL", f"postgres://u:{CONFIG['env']}@h/db")
    jwt = _jwt("ada", CONFIG["sig"])
    secrets = {**CONFIG, "password": password, "api_key": api_key}
    secrets |= {"jwt signature": jwt.rsplit(".", 1)[1], "jwt payload": jwt.split(".")[1]}
    found, checks, shown = [], 0, 0
    for mode in MODES:
        client = flask_login_app(mode).test_client()
        for accept in ACCEPTS:
            log.lines.clear()
            bodies = [
                client.post(
                    "/login",
                    data={"username": "ada", "password": password},
                    headers={"Accept": accept},
                ),
                client.get(
                    "/search",
                    query_string={"q": "shoes", "api_key": api_key},
                    headers={"Accept": accept, "Authorization": f"Bearer {jwt}"},
                ),
                client.get("/charge", headers={"Accept": accept}),
                client.get("/upstream", headers={"Accept": accept}),
            ]
            texts = [view for r in bodies for view in views(r.get_data(as_text=True))]
            texts.append("\n".join(log.lines))
            shown += sum(MASK in text for text in texts)
            for name, secret in secrets.items():
                for text in texts:
                    checks += len(betrayals(secret)) + 1
                    found += [f"{mode} {accept} {name}: {how}" for how in leaks(secret, text)]
    assert not found, f"{len(found)} leaks in {checks} checks:\n" + "\n".join(found[:30])
    assert shown  # the pages show that they masked


_HOSTILE = st.text(
    alphabet=st.one_of(
        st.sampled_from("'\"\\<>&%+=/?#;: ~*äß€😀"),
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs")),
    ),
    min_size=8,
    max_size=32,
).filter(lambda text: text.strip() == text and MASK not in text and "*" * 4 not in text)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(secret=_HOSTILE, mode=st.sampled_from(MODES))
@example(secret='it\'s "a" <b>&\\c', mode="on")
@example(secret="p@ss/w:rd?#x", mode="legacy-200")
def test_a_password_of_any_text_never_comes_out_of_a_flask_app(secret: str, mode: str) -> None:
    app = Flask(__name__)

    @app.post("/login")
    def login() -> str:
        password = request.form["password"]
        rendered = render_template_string('<i data-p="{{ p }}">{{ p }}</i>', p=password)
        padding = "." * 1015 + password + "."  # shown cut at 1,024 characters, inside it
        error = LoginFailed(f"no user with {password!r} ({len(rendered)}, {len(padding)})")
        note = f"https://example.org/retry?password={urllib.parse.quote(password)}"
        error.add_note(note)
        raise error

    @app.post("/api/login")
    def api_login() -> str:
        body = request.get_data()  # the raw JSON: the password JSON-escaped, in bytes
        data = json.loads(body)
        raise LoginFailed(f"no user {data['username']}")

    debugpages.flask.init_app(app, mode)
    client = app.test_client()
    handler = Lines()
    logging.getLogger("debugpages").addHandler(handler)
    try:
        texts = []
        for accept in ACCEPTS:
            body = client.post(
                "/login",
                data={"username": "ada", "password": secret},
                headers={"Accept": accept},
                query_string={"password": secret},
            ).get_data(as_text=True)
            texts += views(body)
            body = client.post(
                "/api/login",
                json={"username": "ada", "password": secret},
                headers={"Accept": accept},
            ).get_data(as_text=True)
            texts += views(body)
    finally:
        logging.getLogger("debugpages").removeHandler(handler)
    texts.append("\n".join(handler.lines))
    found = [how for text in texts for how in leaks(secret, text)]
    assert not found, found


# --- Django and FastAPI ---------------------------------------------------------------


def test_a_django_login_and_its_settings_show_no_secret(log: Lines) -> None:
    from django.test import Client as DjangoClient
    from django.test import override_settings

    from . import django_site  # noqa: F401 - the project's settings

    key, password, token = made("django-key", True), made("django-pw", True), made("tok")
    texts = []
    for mode in MODES:
        with override_settings(SECRET_KEY=key, ROOT_URLCONF=__name__, DEBUGPAGES={"MODE": mode}):
            client = DjangoClient(raise_request_exception=False)
            for accept in ACCEPTS:
                response = client.post(
                    "/django-login",
                    {"username": "ada", "password": password},
                    HTTP_ACCEPT=accept,
                    HTTP_AUTHORIZATION=f"Token {token}",
                )
                texts += views(response.content.decode())
    texts.append("\n".join(log.lines))
    found = [f"{s}: {how}" for s in (key, password, token) for t in texts for how in leaks(s, t)]
    assert not found, found
    assert any("no user 'ada'" in text for text in texts)


def django_login(request: Any) -> Any:
    from django.conf import settings as project

    username, wrapped = request.POST["username"], project._wrapped
    raise ValueError(f"no user {username!r} ({type(wrapped).__name__})")


urlpatterns = [path("django-login", django_login)]


API_KEY_HEADER = APIKeyHeader(name="X-API-Key")


def caller(key: Annotated[str, Security(API_KEY_HEADER)]) -> dict[str, str]:
    """A dependency that holds the API key, as FastAPI's security examples do."""
    return {"who": "svc", "key": key}


def fastapi_app() -> FastAPI:
    app = FastAPI()

    @app.post("/login")
    async def do_login(body: Login, who: Annotated[dict[str, str], Depends(caller)]) -> None:
        remembered = body.remember.get_secret_value()
        raise RuntimeError(f"refused {body.username}: {remembered!r} {body!r} {who['who']}")

    return app


def test_a_fastapi_app_with_secret_str_and_an_api_key_shows_no_secret(log: Lines) -> None:
    from starlette.testclient import TestClient

    from debugpages import ASGIErrorPages

    app = fastapi_app()
    password, remember, key = made("fa-pw", True), made("fa-remember", True), made("fa-key")
    texts = []
    for mode in MODES:
        with TestClient(ASGIErrorPages(app, mode=mode), raise_server_exceptions=False) as client:
            for accept in ACCEPTS:
                response = client.post(
                    "/login",
                    json={"username": "ada", "password": password, "remember": remember},
                    headers={"Accept": accept, "X-API-Key": key},
                )
                texts += views(response.text)
    texts.append("\n".join(log.lines))
    secrets = (password, remember, key)
    found = [f"{s}: {how}" for s in secrets for t in texts for how in leaks(s, t)]
    assert not found, found
    assert any("refused ada" in text for text in texts)


# --- the other direction: ordinary values show ----------------------------------------


def test_ordinary_values_beside_secrets_are_never_masked(log: Lines) -> None:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = made("ordinary-key")

    @app.post("/account/settings")
    def account() -> str:
        form = dict(request.form)
        token = {"access_token": made("access"), "expires_in": 3600}
        next_url = "http://localhost:8000/reset?email=ada@example.org"
        author, token_type = "Terry Pratchett", "Bearer-ish"
        kept(token, next_url, author, token_type)
        return form["password"]  # KeyError: 'password', a key's name

    debugpages.flask.init_app(app, "on")
    client = app.test_client()
    pages = {}
    for accept in ACCEPTS:
        response = client.post(
            "/account/settings",
            data={"username": "a", "pin": "ab", "password2": "abc"},  # short: never by value
            headers={"Accept": accept},
        )
        pages[accept] = "\n".join(views(response.get_data(as_text=True)))
    wanted = [
        "KeyError: 'password'",
        "/account/settings",
        "3600",
        "http://localhost:8000/reset?email=ada@example.org",
        "Terry Pratchett",
        "Bearer-ish",
    ]
    masked = [(accept, value) for value in wanted for accept in ("text/html", "application/json")]
    masked = [(accept, value) for accept, value in masked if value not in pages[accept]]
    assert not masked, masked
    assert "KeyError: 'password'" in pages["text/plain"]
    assert "KeyError: 'password'" in "\n".join(log.lines)
    for page in pages.values():  # a 1-3 character secret masks no letter of the page
        assert page.count("a") > 50


def test_a_secret_at_the_cut_of_a_long_path_leaves_no_part_in_the_log(log: Lines) -> None:
    from werkzeug.test import Client

    from debugpages import ErrorPages

    token = made("path-token")

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        reset_token = environ["PATH_INFO"][-len(token) :]
        raise RuntimeError(f"expired after {len(reset_token)} characters")

    for mode in MODES:
        Client(ErrorPages(app, mode=mode)).get("/" + "p" * 2030 + token)  # cut inside it
    assert f"expired after {len(token)} characters" in "\n".join(log.lines)
    assert not [part for part in parts(token) if part in "\n".join(log.lines)]


def test_secrets_written_in_the_source_of_the_app_never_show(tmp_path: Any, log: Lines) -> None:
    from werkzeug.test import Client

    from debugpages import ErrorPages

    source = tmp_path / "shop.py"
    source.write_text(
        'STRIPE_API_KEY = "sk_live_51HxQzWrittenInTheSource42"\n'
        'SETTINGS = {"db_password": "Written-In-The-Source-Pw"}\n'
        "\n"
        "def charge(environ, start_response):\n"
        "    key = STRIPE_API_KEY[-4:]\n"
        "    raise RuntimeError(f\"declined, key ending {key}{SETTINGS['db_password'][:0]}\")\n",
        "utf-8",
    )  # both lines are among the five around the failing one
    scope: dict[str, Any] = {}
    exec(compile(source.read_text("utf-8"), str(source), "exec"), scope)
    texts = []
    for accept in ACCEPTS:
        body = Client(ErrorPages(scope["charge"], mode="on")).get("/", headers={"Accept": accept})
        texts += views(body.get_data(as_text=True))
    texts.append("\n".join(log.lines))
    assert any("STRIPE_API_KEY = " in text for text in texts)  # the line shows, masked
    for secret in ("sk_live_51HxQzWrittenInTheSource42", "Written-In-The-Source-Pw"):
        assert not [how for text in texts for how in leaks(secret, text)]
    assert not any("search for secrets stopped" in text for text in texts)

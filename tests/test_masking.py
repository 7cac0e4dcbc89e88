"""Masking cuts both ways: every secret is masked, and no ordinary value is.

Failures raised through real Flask (with Jinja templates), Django and Starlette apps,
where the containers (``app.config``, ``request.POST``, a parsed form) come from them.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import dataclasses
import html
import json
import logging
import os
import re
import types
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import markupsafe
import pytest
from flask import Flask, render_template, request
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from werkzeug.test import Client
from werkzeug.urls import uri_to_iri

import debugpages.flask
import debugpages.policy
from debugpages import ErrorPages
from debugpages.mask import MASK, Masker, forms, percent_encoded

from . import apps
from .clients import LogText as Lines

HTML = {"Accept": "text/html"}
JSON = {"Accept": "application/json"}
TEXT = {"Accept": "text/plain"}
FORMATS = [HTML, JSON, TEXT]


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
    assert "flask-Signing-Key-0001" not in body + log.text  # app.config, in every frame


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


# --- every secret, in every form, through every container -------------------------------


def appearances(secret: str) -> set[str]:
    """The texts that would betray ``secret`` on a page or in a log, written out here
    independently of the library's own list."""
    raw = secret.encode()
    found = {
        secret,
        secret.replace("\\", "\\\\").replace("'", "\\'"),  # inside a single-quoted repr
        json.dumps(secret)[1:-1],  # JSON text, non-ASCII escaped
        urllib.parse.quote(secret, safe=""),
        re.sub("%[0-9A-F]{2}", lambda m: m.group().lower(), urllib.parse.quote(secret, safe="")),
        base64.b64encode(raw).decode(),
    }
    found |= {line.strip() for line in secret.splitlines() if len(line.strip()) >= 8}
    if "\n" in secret:
        found.add("".join(line.strip() for line in secret.splitlines()))
    return {text for text in found if len(text) >= 6}


def outputs(app: Any, log: Lines, headers: Any = (), **request: Any) -> str:
    """Everything ``on`` sends for a failure of ``app`` (HTML, JSON, text) and every log line."""
    client = Client(ErrorPages(app, mode="on"), use_cookies=False)
    bodies = [
        client.get("/", headers={**dict(headers), **accept}, **request).get_data(as_text=True)
        for accept in FORMATS
    ]
    return "\n".join([*bodies, *map(readable, bodies), log.text])


def made(kind: str, number: int) -> str:
    """A secret made at run time, so that no source line the page shows holds it."""
    return f"{kind}-{'Secret'}-{number:04d}"


def assert_never_shown(secret: str, text: str) -> None:
    for form in appearances(secret):
        assert form not in text, f"{secret!r} shows as {form!r}"


@dataclasses.dataclass
class Settings:
    database_password: str
    region: str = "eu-west-1"


class Account:
    def __init__(self) -> None:
        self.owner = "ada"
        self.api_key = "obj-Attr-Key-0001"


class Slotted:
    __slots__ = ("label", "private_key")

    def __init__(self) -> None:
        self.label = "slots"
        self.private_key = "slot-Priv-Key-0002"


def test_real_containers_are_seen_through_and_their_secrets_masked(log: Lines) -> None:
    secrets = {
        "ordered": "od-Secret-0003",
        "default": "dd-Secret-0004",
        "chain": "cm-Secret-0005",
        "proxy": "mp-Secret-0006",
        "bytes": "bk-Secret-0007",
        "dataclass": "dc-Secret-0008",
        "pairs": "Bearer pairs-Secret-0009",
    }

    def app(environ: object, start_response: object) -> list[bytes]:
        ordered = collections.OrderedDict(token=secrets["ordered"], name="first")
        default = collections.defaultdict(list, {"client_secret": secrets["default"]})
        chain = collections.ChainMap({"region": "north"}, {"password": secrets["chain"]})
        proxy = types.MappingProxyType({"auth": secrets["proxy"]})
        raw = {b"password": secrets["bytes"].encode()}
        settings = Settings(secrets["dataclass"])
        account, slotted = Account(), Slotted()
        headers = [("Authorization", secrets["pairs"]), ("Accept", "text/html")]
        everything = (ordered, default, chain, proxy, raw, settings, account, slotted, headers)
        raise RuntimeError(f"{len(everything)} things: {everything!r}")  # the worst message

    text = outputs(app, log)
    for secret in [*secrets.values(), "obj-Attr-Key-0001", "slot-Priv-Key-0002"]:
        assert_never_shown(secret, text)
    # and what they hold besides is shown, from their structure
    for ordinary in ("'first'", "'north'", "region='eu-west-1'", "owner='ada'", "label='slots'"):
        assert ordinary in text
    assert "('Accept', 'text/html')" in text


def test_a_copy_of_the_os_environment_is_never_shown(
    log: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = made("plain", 10)
    monkeypatch.setenv("PAYMENT_GATEWAY_URL", f"https://pay.example/{plain}")

    def app(environ: object, start_response: object) -> list[bytes]:
        env = os.environ.copy()
        listed = dict(os.environ)
        raise RuntimeError(f"{len(env) + len(listed)} variables")

    text = outputs(app, log)
    assert plain not in text
    assert "<the OS environment:" in text


def test_an_os_variable_set_or_changed_while_the_app_runs_is_masked(
    log: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = {"key": made("before", 17)}

    def app(environ: object, start_response: object) -> list[bytes]:
        raise RuntimeError(f"cannot sign with {shown['key']}")

    client = Client(ErrorPages(app, mode="off"), use_cookies=False)
    client.get("/")  # the environment's names as they are now, judged once
    assert f"RuntimeError: cannot sign with {shown['key']}" in log.text
    for number in (18, 19):  # a new variable, then a new value under the same name
        shown["key"] = made("signing", number)
        monkeypatch.setenv("SHOP_SIGNING_KEY", shown["key"])
        client.get("/")
        assert f"RuntimeError: cannot sign with {MASK}" in log.text
        assert shown["key"] not in log.text
    shown["key"] = made("region", 20)
    monkeypatch.setenv("SHOP_REGION", shown["key"])  # an ordinary name: shown
    client.get("/")
    assert f"RuntimeError: cannot sign with {shown['key']}" in log.text


PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n"
    "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n"
    "-----END PRIVATE KEY-----\n"
)


def test_a_key_file_in_the_environment_is_masked_line_by_line_and_joined(
    log: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGNING_PRIVATE_KEY", PEM)
    body = "".join(line.strip() for line in PEM.splitlines()[1:-1])

    def app(environ: object, start_response: object) -> list[bytes]:
        lines = PEM.splitlines()
        raise RuntimeError(f"bad key line {lines[1]} in {body}")

    text = outputs(app, log)
    assert_never_shown(PEM, text)
    assert body not in text


@pytest.mark.parametrize("password", ["p/ss#w?rd", "ab@cd/ef", "Zm9v/YmFy+cXV4="])
def test_url_credentials_are_masked_whatever_the_password_holds(password: str, log: Lines) -> None:
    def app(environ: object, start_response: object) -> list[bytes]:
        database = f"postgresql://shop:{password}@db.internal:5432/orders"
        raise ConnectionError(f"cannot reach {database}")

    text = outputs(app, log)
    assert password not in text
    assert "db.internal:5432/orders" in text


def test_a_urls_credentials_are_secrets_in_every_form_basic_auth_gives_them(log: Lines) -> None:
    password = made("upstream", 21)
    basic = base64.b64encode(f"shop:{password}".encode()).decode()

    def app(environ: object, start_response: object) -> list[bytes]:
        upstream = f"https://shop:{password}@api.example/v1"  # an ordinary name holds it
        settings = {"mirrors": [upstream.replace("api", "mirror")]}
        raise PermissionError(f"401 for Basic {basic} ({len(settings)} mirrors; {password[::1]})")

    text = outputs(app, log)
    assert basic not in text
    assert basic.rstrip("=") not in text
    assert password not in text
    assert "api.example/v1" in text
    assert f"PermissionError: 401 for Basic {MASK}" in text


def test_a_number_beside_a_secret_is_not_one_but_a_secret_lists_numbers_are(log: Lines) -> None:
    user, code = made("owner", 22), 48213377

    def app(environ: object, start_response: object) -> list[bytes]:
        token = {"owner": user, "expires_in": 3600, "password": 4821}
        backup_codes_secret = [code]
        raise TimeoutError(f"{token['owner']} waited 3600 s for {backup_codes_secret[0]}, 4821")

    text = outputs(app, log)
    assert f"TimeoutError: {MASK} waited 3600 s for {MASK}, {MASK}" in log.text
    assert user not in text
    assert str(code) not in text


def test_a_urls_user_alone_is_masked_only_where_the_url_shows(log: Lines) -> None:
    def app(environ: object, start_response: object) -> list[bytes]:
        remote = "ssh://deploy@git.example/shop.git"
        raise RuntimeError(f"push as deploy to {remote.partition('@')[2]} failed")

    text = outputs(app, log)
    assert "RuntimeError: push as deploy to git.example/shop.git failed" in text


def test_masking_comes_before_every_cut(log: Lines) -> None:
    secret = made("cut", 11)

    def app(environ: object, start_response: object) -> list[bytes]:
        blob = b"x" * 1020 + secret.encode() + b"y" * 2000  # a bytes local over 1 KB
        long_text = "a" * 1015 + secret + "b" * 3000  # cut where the secret stands
        settings = {"api_token": secret}  # found in another local, after the others
        near_the_end = "z" * 290 + secret  # noqa: F841 - a local whose secret is near its end
        raise RuntimeError(f"{len(blob) + len(long_text) + len(settings)}")

    text = outputs(app, log)
    assert_never_shown(secret, text)
    assert secret[:8] not in text  # no part of it stays at a cut
    assert secret[-8:] not in text


def test_escaped_forms_of_a_secret_are_masked(log: Lines) -> None:
    quoted = "it's-Quoted-0012"
    accented = "pässwörd-Ümlaut-0013"
    slashed = "tok/en+0014"

    def app(environ: object, start_response: object) -> list[bytes]:
        password, secret = quoted, accented
        shown = {"note": f'said "{password}"', "as_json": json.dumps({"p": secret})}
        raise RuntimeError(f"{shown!r} {password!r}")

    text = outputs(app, log, query_string=f"token={urllib.parse.quote(slashed).lower()}")
    for secret in (quoted, accented, slashed):
        assert_never_shown(secret, text)


def test_every_value_of_a_repeated_cookie_is_masked(log: Lines) -> None:
    first, second = made("first", 15), made("second", 16)
    text = outputs(apps.plain, log, headers={"Cookie": f"sid={first}; sid={second}"})
    assert first not in text
    assert second not in text


@pytest.mark.parametrize("value", [made("session", 17), "abc"])
def test_a_cookie_header_echoed_in_a_message_shows_no_cookie_value(value: str, log: Lines) -> None:
    def app(environ: dict[str, Any], start_response: object) -> list[bytes]:
        raise RuntimeError(f"cannot read {environ['HTTP_COOKIE']}")

    text = outputs(app, log, headers={"Cookie": f"sid={value}; theme=dark"})
    assert f"sid={value}" not in text
    assert "theme=dark" not in text
    # A value too short to mask by value leaves the whole header masked instead.
    shown = f"sid={MASK}; theme={MASK}" if len(value) >= 4 else MASK
    assert f"RuntimeError: cannot read {shown}\n" in log.text


def test_the_oldest_exceptions_of_a_long_chain_hold_no_secret(log: Lines) -> None:
    def app(environ: object, start_response: object) -> list[bytes]:
        def oldest() -> None:
            password = made("chain", 17)
            raise KeyError(password)

        try:
            oldest()
        except KeyError as exc:
            error: BaseException = exc
        for level in range(100):
            try:
                raise ValueError(f"level {level}") from error
            except ValueError as exc:
                error = exc
        raise error

    text = outputs(app, log)
    assert made("chain", 17) not in text
    assert "older chained exceptions not shown" in text


# --- the framework's own containers -----------------------------------------------------


def test_django_request_post_read_by_the_view_is_masked_and_shown(log: Lines) -> None:
    from django.test import Client as DjangoClient
    from django.test import override_settings

    from . import django_site  # noqa: F401 - the project's settings and URLs

    password = made("django", 18)
    with override_settings(DEBUGPAGES={"MODE": "on"}):
        client = DjangoClient(raise_request_exception=False)
        client.get("/ok")
        bodies = [
            client.post(
                "/signup",
                {"email": "ada@example.org", "password": password},
                **{"HTTP_ACCEPT": accept["Accept"]},
            ).content.decode()
            for accept in FORMATS
        ]
    text = "\n".join([*bodies, *map(readable, bodies), log.text])
    assert_never_shown(password, text)
    assert "ada@example.org" in text  # the view's message, and the form field
    assert "email = ada@example.org" in readable(bodies[1])  # the form, as Django parsed it


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "Application/X-WWW-Form-URLencoded; charset=UTF-8"],
)
def test_a_form_is_masked_whether_or_not_the_app_read_it(content_type: str, log: Lines) -> None:
    password = made("form", 19)
    body = urllib.parse.urlencode({"password": password, "user": "ada"})

    def reads(environ: dict[str, Any], start_response: object) -> list[bytes]:
        from werkzeug.wrappers import Request

        form = Request(environ).form  # the framework reads the body, and keeps the form
        raise RuntimeError(f"no user {form['user']}")

    for app in (apps.plain, reads):
        client = Client(ErrorPages(app, mode="on"))
        for accept in FORMATS:
            response = client.post("/", data=body, content_type=content_type, headers=accept)
            text = response.get_data(as_text=True)
            assert_never_shown(password, text + readable(text) + log.text)
            if accept is JSON:
                assert "user = ada" in readable(text)


def test_starlette_form_read_by_the_endpoint_is_masked(log: Lines) -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request as StarletteRequest
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from debugpages import ASGIErrorPages

    password = made("starlette", 20)

    async def login(request: StarletteRequest) -> Any:
        form = await request.form()
        raise RuntimeError(f"no user {form['user']}")

    app = Starlette(routes=[Route("/login", login, methods=["POST"])])
    app.add_middleware(ASGIErrorPages, mode="on")
    with TestClient(app, raise_server_exceptions=False) as client:
        bodies = [
            client.post("/login", data={"password": password, "user": "ada"}, headers=accept).text
            for accept in FORMATS
        ]
    text = "\n".join([*bodies, *map(readable, bodies), log.text])
    assert_never_shown(password, text)
    assert "no user ada" in text


def test_a_failure_after_the_response_started_is_logged_with_the_users_patterns(
    log: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    from starlette.testclient import TestClient

    from debugpages import ASGIErrorPages

    iban, pin = made("iban", 21), made("pin", 22)
    monkeypatch.setenv("DEBUGPAGES_SENSITIVE", "^pin$")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        customer_iban, pin = made("iban", 21), made("pin", 22)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise RuntimeError(f"failed for {customer_iban} {pin}")

    wrapped = ASGIErrorPages(app, mode="on", sensitive=["iban"])
    TestClient(wrapped, raise_server_exceptions=False).get("/")  # no lifespan: http only
    assert "RuntimeError" in log.text
    assert iban not in log.text
    assert pin not in log.text


# --- formatters that format the exception themselves ------------------------------------


class JsonLines(logging.Handler):
    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__()
        self.setFormatter(formatter)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def _json_formatters() -> list[logging.Formatter]:
    import structlog
    from pythonjsonlogger.json import JsonFormatter

    from debugpages.logs import MaskedTracebacks, format_exception

    class Json(MaskedTracebacks, JsonFormatter):
        """python-json-logger, printing debugpages' masked traceback."""

    structured = structlog.stdlib.ProcessorFormatter(
        processor=structlog.processors.JSONRenderer(),
        foreign_pre_chain=[structlog.processors.ExceptionRenderer(format_exception)],
    )
    return [Json("%(levelname)s %(reference)s %(message)s"), structured]


@pytest.mark.parametrize("formatter", _json_formatters(), ids=["python-json-logger", "structlog"])
def test_json_formatters_print_the_masked_traceback(formatter: logging.Formatter) -> None:
    handler = JsonLines(formatter)
    logger = logging.getLogger("debugpages")
    logger.addHandler(handler)
    password = made("json", 23)

    def app(environ: object, start_response: object) -> list[bytes]:
        password = made("json", 23)
        raise RuntimeError(f"login failed with {password}")

    try:
        Client(ErrorPages(app, mode="off")).get("/")
    finally:
        logger.removeHandler(handler)
    [line] = [line for line in handler.lines if "RuntimeError" in line]
    record = json.loads(line)
    assert "Traceback (most recent call last)" in json.dumps(record)
    assert password not in line
    assert MASK in json.dumps(record)


# --- values nobody thought of -----------------------------------------------------------

_SECRET_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs")),
    min_size=8,
    max_size=40,
).filter(lambda text: text.strip() == text and MASK not in text)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    secret=_SECRET_TEXT,
    name=st.sampled_from(["password", "apiKey", "X-Auth-Token", "client_secret", "dsn"]),
    where=st.sampled_from(["message", "list", "dict", "object", "note"]),
)
@example(secret="INSTANCE", name="password", where="message")  # a word the JSON page holds
def test_a_secret_never_comes_out_in_any_form(secret: str, name: str, where: str) -> None:
    def app(environ: object, start_response: object) -> list[bytes]:
        hidden = {name: secret}
        holder = types.SimpleNamespace(value=[secret])
        shown: object = {
            "message": secret,
            "list": [secret],
            "dict": {"label": secret},
            "object": holder,
            "note": "",
        }[where]
        error = RuntimeError(f"failed: {shown!r} {len(hidden)}")
        if where == "note":
            error.add_note(f"with {secret}")
        raise error

    with _log() as log:
        text = outputs(app, log)
    assert_never_shown(secret, text)


_WORD = st.sampled_from(["order", "total", "item", "label", "city", "title", "count", "note"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    parts=st.lists(_WORD, min_size=1, max_size=3),
    value=st.text(alphabet="abcdefghijklmnopqrstuvwxyz -", min_size=6, max_size=30).filter(
        lambda text: text.strip() == text
    ),
)
def test_an_ordinary_value_under_an_ordinary_name_is_never_masked(
    parts: list[str], value: str
) -> None:
    name = "_".join(parts)

    def app(environ: object, start_response: object) -> list[bytes]:
        scope = {name: value}
        raise LookupError(f"nothing for {scope[name]}")

    client = Client(ErrorPages(app, mode="on"))
    page = readable(client.get("/", headers=JSON).get_data(as_text=True))
    assert f"LookupError: nothing for {value}" in page or f"nothing for {value}" in page
    assert f"scope = {{{name!r}: {value!r}}}" in page
    assert MASK not in page


@contextlib.contextmanager
def _log() -> Iterator[Lines]:
    handler = Lines()
    logger = logging.getLogger("debugpages")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def test_text_that_claims_to_be_safe_html_is_escaped_like_any_other() -> None:
    from markupsafe import Markup

    class Claims:
        def __repr__(self) -> str:
            return Markup("<i>repr-payload</i>")

    def app(environ: object, start_response: object) -> list[bytes]:
        claims = Claims()  # noqa: F841 - shown among the locals
        error = ValueError(Markup("<b>message-payload</b>"))
        error.add_note(Markup("<u>note-payload</u>"))
        raise error

    page = Client(ErrorPages(app, mode="on")).get("/", headers=HTML).get_data(as_text=True)
    for tag in ("<i>repr-payload", "<b>message-payload", "<u>note-payload"):
        assert tag not in page
        assert html.escape(tag, quote=False).replace(">", "&gt;") in page


def test_a_search_that_reaches_its_bound_says_so() -> None:
    def tree() -> dict[str, Any]:
        return {f"k{i}": {f"k{j}": {f"k{n}": {} for n in range(20)} for j in range(20)}
                for i in range(20)}  # fmt: skip

    def app(environ: object, start_response: object) -> list[bytes]:
        first, second, third = tree(), tree(), tree()  # 25,000 containers to look into
        raise RuntimeError(f"{len(first) + len(second) + len(third)}")

    page = Client(ErrorPages(app, mode="on")).get("/", headers=TEXT).get_data(as_text=True)
    assert "The search for secrets stopped at its bound" in page
    small = Client(ErrorPages(apps.plain, mode="on")).get("/", headers=TEXT)
    assert "stopped at its bound" not in small.get_data(as_text=True)


def test_a_secret_at_the_cut_of_a_long_source_line_leaves_no_part(
    tmp_path: Path, log: Lines
) -> None:
    secret = made("line", 24)
    source = tmp_path / "long_line.py"
    source.write_text(
        "def app(environ, start_response):\n"
        f"    api_token = {secret!r}; padding = {'z' * 232!r}; again = {secret!r}\n"
        "    raise RuntimeError(padding[:3])\n",
        "utf-8",
    )  # the line is over 300 characters: the page cuts it, where the second secret stands
    scope: dict[str, Any] = {}
    exec(compile(source.read_text("utf-8"), str(source), "exec"), scope)
    text = outputs(scope["app"], log)
    assert_never_shown(secret, text)
    assert secret[:8] not in text


# --- the masker itself --------------------------------------------------------------------

_PLAIN_TEXT = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-", min_size=1
)


def every_form(secret: str) -> set[str]:
    """What ``forms`` promises: the secret through every escaping a page may apply, and
    through werkzeug's ``request.url`` (an IRI) too."""
    quoted = [
        urllib.parse.quote(secret, safe="", errors="surrogatepass"),
        urllib.parse.quote_plus(secret, "", errors="surrogatepass"),
    ]
    found = set()
    for prefix in ("http://h/?", "http://h/"):  # as werkzeug shows a query, a path
        for iri in (uri_to_iri(prefix + text)[len(prefix) :] for text in quoted):
            found |= {iri, repr(iri)[1:-1], repr(iri + "'\"")[1:-4]}  # in <Request '...'>

    def in_reprs(text: str) -> set[str]:  # of a str, of its bytes; alone, among quotes
        raw = text.encode("utf-8", "surrogatepass")
        quoted = [repr(text), repr(text + "'\""), repr(raw), repr(raw + b"'\"")]
        return {quoted[0][1:-1], quoted[1][1:-4], quoted[2][2:-1], quoted[3][2:-4]}

    for text in [secret]:
        in_json = {json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1]}
        str_reprs = {repr(text)[1:-1], repr(text + "'\"")[1:-4]}
        found |= {
            text,
            debugpages.policy.safe_text(text),
            *in_json,
            *(form for base in (text, *in_json) for form in in_reprs(base)),
            *(repr(r)[1:-1] for r in str_reprs),  # a repr inside a repr
            *(repr(r + "'\"")[1:-4] for r in str_reprs),
            html.escape(text),
            str(markupsafe.escape(text)),  # Jinja's
        }
    for text in quoted:
        found |= {text, re.sub("%[0-9A-F]{2}", lambda m: m.group().lower(), text)}
    raw = secret.encode("utf-8", "surrogatepass")
    for coded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        found |= {coded.decode(), coded.decode().rstrip("=")}
    lines = [line.strip() for line in secret.splitlines() if line.strip()]
    if len(lines) > 1:
        found |= {line for line in lines if len(line) >= 8} | {"".join(lines)}
    return found


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(secret=st.one_of(_PLAIN_TEXT, st.text(alphabet=st.characters(max_codepoint=127)), st.text()))
def test_the_forms_of_a_secret_are_those_every_escaping_gives(secret: str) -> None:
    assert forms(secret) == every_form(secret)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    secrets=st.lists(_SECRET_TEXT, min_size=1, max_size=6),
    around=st.lists(st.text(alphabet="abc xyz=&'\"\\%+/", max_size=12), min_size=7, max_size=7),
)
def test_the_masker_leaves_no_form_of_any_secret_and_nothing_else_changed(
    secrets: list[str], around: list[str]
) -> None:
    every = [form for secret in secrets for form in forms(secret) if len(form) >= 4]
    shown = [json.dumps(s)[1:-1] if i % 2 else urllib.parse.quote(s) for i, s in enumerate(secrets)]
    text = "".join(part + (shown[i] if i < len(shown) else "") for i, part in enumerate(around))
    masked = Masker(every).text(text)
    for secret in secrets:
        assert all(
            form not in masked for form in forms(secret) if len(form) >= 4 and MASK not in form
        )
    plain = "".join(around)
    assert Masker(f for f in every if f not in plain).text(plain) == plain


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(secret=st.text())
def test_a_secret_is_url_encoded_as_urllib_encodes_it(secret: str) -> None:
    assert percent_encoded(secret) == (
        urllib.parse.quote(secret, safe="", errors="surrogatepass"),
        urllib.parse.quote_plus(secret, "", errors="surrogatepass"),
    )

"""What an attacker would try: get a secret, a script or a crash out of each output.

Secrets go in through every channel (locals, the OS environment, headers, cookies,
query, form, URLs, messages) and must come out masked in every output: HTML, text,
JSON, the copy-as-text block and the log record as standard formatters print it.
"""

from __future__ import annotations

import functools
import gc
import io
import json
import logging
import os
import sys
import threading
import types
import weakref
import wsgiref.simple_server
from collections.abc import Callable, Iterable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from werkzeug.exceptions import NotFound
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.test import Client, EnvironBuilder

from debugpages import ConfigurationError, ErrorPages, Policy, sensitive_variables
from debugpages.mask import MASK

from . import apps
from .conftest import fetch
from .pages import comparable

HTML = {"Accept": "text/html"}
JSON = {"Accept": "application/json"}
TEXT = {"Accept": "text/plain"}
FORMATS = {"html": HTML, "json": JSON, "text": TEXT}

# One secret per channel; each long enough to be masked by value too.
SECRETS = {
    "local password": "pw-Local-0001",
    "local api_key": "ak-Local-0002",
    "local token": "tk-Local-0003",
    "os environ": "AWS-env-secret-0004",
    "authorization": "bearer-cred-0005",
    "cookie": "cookie-sess-0006",
    "query token": "query-tok-0007",
    "form password": "form-pw-0008",
    "url password": "url-pw-0009",
    "settings dict": "settings-val-0010",
}


def leaky(environ: dict[str, Any], start_response: object) -> Iterable[bytes]:
    """Puts every secret where a careless application would: in reprs and in the message."""
    password = SECRETS["local password"]
    api_key = SECRETS["local api_key"]
    token = SECRETS["local token"]
    settings = {"SECRET_KEY": SECRETS["settings dict"], "DEBUG": True}
    database = f"postgres://app:{SECRETS['url password']}@db.internal:5432/shop"
    everything = [password, api_key, token, os.environ["AWS_SECRET_ACCESS_KEY"], database]
    raise RuntimeError(
        f"login failed for {everything} with {environ.get('HTTP_AUTHORIZATION')} "
        f"and {environ.get('HTTP_COOKIE')} at {environ.get('QUERY_STRING')}; "
        f"form {environ['wsgi.input'].getvalue()!r}; settings {settings['SECRET_KEY']}"
    )


def leaky_request(client: Client, headers: dict[str, str]) -> Any:
    return client.post(
        f"/login?token={SECRETS['query token']}&next=/home",
        data={"password": SECRETS["form password"], "user": "alice"},
        headers={
            **headers,
            "Authorization": f"Bearer {SECRETS['authorization']}",
            "Cookie": f"sessionid={SECRETS['cookie']}; theme=dark",
        },
    )


class Collect(logging.Handler):
    """Formats every record with a standard formatter, as a log file would show it."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        self.lines: list[str] = []
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(self.format(record))


@pytest.fixture
def logged(monkeypatch: pytest.MonkeyPatch) -> Iterator[Collect]:
    handler = Collect()
    logger = logging.getLogger("debugpages")
    logger.addHandler(handler)
    monkeypatch.setattr(logger, "level", logging.DEBUG)
    yield handler
    logger.removeHandler(handler)


def call(app: Any, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """Call a WSGI app directly: status line, headers and the whole body."""
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started[:] = [status, headers]
        return lambda data: None

    body = b"".join(app(environ, start_response))
    return started[0], started[1], body


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    parser.close()
    return parser


def on_text(app: Any, **options: Any) -> str:
    """What the ``on`` pages show of ``app``'s failure, as text: the plain-text page (the
    traceback as Python prints it), then what the JSON page adds, a line each: every
    exception as ``Type: message``, every local and request field as ``name = text``."""
    client = Client(ErrorPages(app, mode="on", **options))
    text = client.get("/", headers=TEXT).get_data(as_text=True)
    return text + "\n" + shown(json.loads(client.get("/", headers=JSON).data))


def shown(page: dict[str, Any]) -> str:
    """The exceptions, locals and request fields of a JSON traceback page, a line each."""
    lines = []
    pending = [page["exception"]]
    while pending:
        exc = pending.pop()
        if exc is None:
            continue
        lines.append(f"{exc['type_name']}: {exc['message']}")
        lines += exc["notes"]
        for frame in exc["frames"]:
            lines += [f"{v['name']} = {v['text']}" for v in frame["variables"] or ()]
        pending += [exc["cause"], exc["context"], *exc["members"]]
    request = page["request"] or {}
    for part in ("query", "form", "files", "headers", "environ"):
        lines += [f"{field['name']} = {field['text']}" for field in request.get(part, ())]
    return "\n".join(lines)


# --- secrets are masked in every output of on and legacy-200 ------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("mode", ["on", "legacy-200"])
def test_no_secret_reaches_any_output_through_any_channel(
    mode: str, fmt: str, monkeypatch: pytest.MonkeyPatch, logged: Collect
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRETS["os environ"])
    client = Client(ErrorPages(leaky, mode=mode), use_cookies=False)
    response = leaky_request(client, FORMATS[fmt])
    body = response.get_data(as_text=True)
    log_text = "\n".join(logged.lines)
    assert "RuntimeError" in body
    assert "login failed for" in log_text  # the log has the whole traceback...
    for channel, secret in SECRETS.items():
        assert secret not in body, channel
        assert secret not in log_text, channel  # ...and no secret in it
    assert body.count(MASK) >= 8
    assert "postgres://********@db.internal:5432/shop" in body
    assert "theme" in body or fmt == "text"  # the cookie's name is shown, never its value


STRUCTURAL = "Sekr3tStructural0042"
"""A secret (the value of a local called ``password``) that also names things."""


def structural_app(folder: Path) -> Any:
    """An app whose file, module, function, exception type, local name, note and source
    line all hold the secret: every string the page makes of a frame."""
    source = (
        f"class Error_{STRUCTURAL}(Exception):\n"
        "    pass\n"
        f"def fail_{STRUCTURAL}():\n"
        f"    password = '{STRUCTURAL}'\n"
        f"    copy_{STRUCTURAL} = 1\n"
        f"    error = Error_{STRUCTURAL}('boom')\n"
        f"    error.add_note('see {STRUCTURAL}')\n"
        "    raise error\n"
    )
    path = folder / f"app_{STRUCTURAL}.py"
    path.write_text(source)
    namespace: dict[str, Any] = {"__name__": f"module_{STRUCTURAL}"}
    exec(compile(source, str(path), "exec"), namespace)
    fail = namespace[f"fail_{STRUCTURAL}"]

    def app(environ: object, start_response: object) -> list[bytes]:
        fail()
        return []

    return app


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_secret_that_names_files_functions_types_and_headers_is_masked_there_too(
    fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", f"Europe/{STRUCTURAL}")  # an allow-listed OS variable
    editor = "https://code.example.org/open?file={path}&line={line}"
    monkeypatch.setenv("DEBUGPAGES_EDITOR", editor)
    client = Client(ErrorPages(structural_app(tmp_path), mode="on"), use_cookies=False)
    headers = {f"X-{STRUCTURAL}": "1", "Cookie": f"{STRUCTURAL}=1", **FORMATS[fmt]}
    body = client.get(f"/{STRUCTURAL}?{STRUCTURAL}=1", headers=headers).get_data(as_text=True)
    assert "boom" in body
    assert STRUCTURAL not in body
    if fmt == "json":  # the whole model: every field was there to leak from
        exception = json.loads(body)["exception"]
        assert exception["notes"] == ["see ********"]
        assert exception["frames"][-1]["editor_url"].startswith("https://code.example.org/")


def test_the_copy_as_text_block_is_masked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRETS["os environ"])
    client = Client(ErrorPages(leaky, mode="on"), use_cookies=False)
    html = leaky_request(client, HTML).get_data(as_text=True)
    block = html[html.index("<textarea") : html.index("</textarea>")]
    assert "login failed for" in block
    assert MASK in block
    assert not [s for s in SECRETS.values() if s in block]


@pytest.mark.parametrize("mode", ["on", "off"])
def test_the_log_record_keeps_exc_info_while_formatters_print_the_masked_text(
    mode: str, monkeypatch: pytest.MonkeyPatch, logged: Collect
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRETS["os environ"])
    leaky_request(Client(ErrorPages(leaky, mode=mode), use_cookies=False), TEXT)
    (record,) = [r for r in logged.records if r.levelno == logging.ERROR]
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)
    assert record.exc_text is not None
    assert record.exc_text.startswith("Traceback (most recent call last):")
    assert MASK in record.exc_text
    formatted = logging.Formatter().format(record)  # a fresh formatter prints exc_text as it is
    shown = [channel for channel, secret in SECRETS.items() if secret in formatted]
    # off finds the same secrets (the form, a settings dict's entries) before it logs
    assert shown == []


def test_a_path_cannot_forge_a_log_line(logged: Collect) -> None:
    Client(ErrorPages(apps.plain, mode="off")).get("/x%0aCRITICAL%20forged%0d%0aline")
    (record,) = [r for r in logged.records if r.levelno == logging.ERROR]
    first_line = record.getMessage()
    assert "\n" not in first_line
    assert "\r" not in first_line
    assert "\\x0aCRITICAL" in first_line


def test_a_value_under_a_sensitive_name_is_masked_wherever_else_it_appears() -> None:
    def app(environ: object, start_response: object) -> list[bytes]:
        session_id = "a3f9c2e7b1d4"
        cache = {"user": "alice", "last": session_id}
        copied = session_id
        raise KeyError(f"no session {copied} in {cache!r}")

    body = on_text(app)
    assert "a3f9c2e7b1d4" not in body
    assert "session_id = ********" in body
    assert "copied = '********'" in body  # another local holding the same value
    assert "'last': '********'" in body  # inside another variable's repr
    assert "no session ******** in" in body  # in the message


def test_a_numeric_code_under_a_sensitive_name_is_masked_by_value_too() -> None:
    def app(environ: object, start_response: object) -> list[bytes]:
        otp_token = 482913
        raise PermissionError(f"code {otp_token} rejected; retries: {True}, {1}")

    body = on_text(app)
    assert "482913" not in body
    assert "code ******** rejected; retries: True, 1" in body


def test_short_environment_values_are_masked_by_name_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHORT_TOKEN", "ab12")  # under 6 characters: masking it everywhere
    monkeypatch.setenv("LONG_TOKEN", "cd34ef56")  # would blank out unrelated text

    def app(environ: object, start_response: object) -> list[bytes]:
        raise ValueError("codes ab12 and cd34ef56")

    body = on_text(app)
    assert "codes ab12 and ********" in body


def test_an_os_variable_that_replaces_another_meanwhile_is_masked_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def app(environ: object, start_response: object) -> list[bytes]:
        raise ValueError(f"codes {os.environ.get('FIRST_TOKEN')} {os.environ.get('NEXT_TOKEN')}")

    pages = Client(ErrorPages(app, mode="on"))
    monkeypatch.setenv("FIRST_TOKEN", "first-secret-value")
    assert "first-secret-value" not in pages.get("/", headers=TEXT).get_data(as_text=True)
    monkeypatch.delenv("FIRST_TOKEN")  # as many variables as before, one name changed
    monkeypatch.setenv("NEXT_TOKEN", "next-secret-value")
    body = pages.get("/", headers=TEXT).get_data(as_text=True)
    assert "codes None ********" in body


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("postgres://app:s3cretpass@db:5432/x", "s3cretpass"),
        ("https://ghp_tokenvalue@github.com/org/repo.git", "ghp_tokenvalue"),
        ("redis://:p@ss:w0rd@cache:6379/0", "p@ss:w0rd"),
        ("AMQP+SSL://guest:guestpw@mq/", "guestpw"),
    ],
)
def test_credentials_in_urls_are_masked_in_any_string(url: str, secret: str) -> None:
    def app(environ: object, start_response: object) -> list[bytes]:
        config = {"broker": url}  # noqa: F841
        raise ConnectionError(f"cannot reach {url}")

    body = Client(ErrorPages(app, mode="on")).get("/", headers=JSON).get_data(as_text=True)
    assert secret not in body
    assert "://********@" in json.loads(body)["detail"]


def test_a_url_without_credentials_keeps_its_at_signs() -> None:
    def app(environ: object, start_response: object) -> list[bytes]:
        raise ValueError("see https://example.com/users/@alice?mail=a@b.c")

    body = Client(ErrorPages(app, mode="on")).get("/", headers=JSON).get_data(as_text=True)
    assert json.loads(body)["detail"].endswith("https://example.com/users/@alice?mail=a@b.c")


@pytest.mark.parametrize(
    "header", ["Authorization", "Proxy-Authorization", "Cookie", "X-Api-Key", "X-CSRFToken"]
)
def test_sensitive_headers_are_masked(header: str) -> None:
    client = Client(ErrorPages(apps.plain, mode="on"), use_cookies=False)
    body = client.get("/", headers={**JSON, header: "header-secret-123"}).get_data(as_text=True)
    assert "header-secret-123" not in body
    shown = {h["name"].lower(): h for h in json.loads(body)["request"]["headers"]}
    assert shown[header.lower()]["text"] == MASK
    assert shown[header.lower()]["masked"] is True


def test_authorization_and_cookie_are_masked_whatever_patterns_a_user_chooses() -> None:
    pages = ErrorPages(apps.plain, mode="on", policy=Policy(sensitive=("iban",)))
    client = Client(pages, use_cookies=False)
    headers = {"Authorization": "Basic dXNlcjpodW50ZXIyMg==", "Cookie": "sid=abcdef1234"}
    body = client.get("/", headers={**TEXT, **headers}).get_data(as_text=True)
    for secret in ("dXNlcjpodW50ZXIyMg==", "abcdef1234"):
        assert secret not in body


def test_basic_credentials_are_masked_decoded_too() -> None:
    def app(environ: object, start_response: object) -> list[bytes]:
        raise PermissionError("user:hunter22 may not do this; nor may hunter22")

    client = Client(ErrorPages(app, mode="on"))
    headers = {**TEXT, "Authorization": "Basic dXNlcjpodW50ZXIyMg=="}  # user:hunter22
    body = client.get("/", headers=headers).get_data(as_text=True)
    assert "hunter22" not in body


def test_extra_patterns_come_from_the_environment_and_from_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEBUGPAGES_SENSITIVE", " iban , ^pin$ ")

    def app(environ: object, start_response: object) -> list[bytes]:
        iban = "DE89370400440532013000"  # noqa: F841
        pin = "902211"  # noqa: F841
        spinner = "visible-spinner"  # noqa: F841
        card_number = "4111111111111111"  # noqa: F841
        raise ValueError("payment failed")

    body = on_text(app, sensitive=["card"])
    for secret in ("DE89370400440532013000", "902211", "4111111111111111"):
        assert secret not in body
    assert "spinner = 'visible-spinner'" in body  # ^pin$ is a regular expression


def test_a_bad_pattern_is_a_configuration_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEBUGPAGES_SENSITIVE", "iban,(unclosed")
    with pytest.raises(ConfigurationError, match=r"DEBUGPAGES_SENSITIVE.*\(unclosed"):
        ErrorPages(apps.plain)


# --- the sensitive_variables decorator ------------------------------------------------


@sensitive_variables("card", "cvv")
def pay(card: str, cvv: str, amount: int) -> None:
    reference = f"order for {card}"
    raise ValueError(f"declined: {reference} ({amount} EUR)")


@sensitive_variables()
def sign(message: str) -> None:
    material = "k-material-77"  # noqa: F841
    raise ValueError("signing failed")


@sensitive_variables
def bare(value: str) -> None:
    raise ValueError("bare failed")


def logged_calls(function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any) -> Any:
        return function(*args)

    return wrapper


@sensitive_variables("otp")
@logged_calls
def check(otp: str) -> None:
    raise ValueError("wrong code")


@pytest.mark.parametrize(
    ("call_it", "hidden", "shown"),
    [
        (lambda: pay("4111111111111111", "737", 30), ["4111111111111111", "737"], ["amount = 30"]),
        (lambda: sign("hello-world"), ["hello-world", "k-material-77"], ["signing failed"]),
        (lambda: bare("bare-value-1"), ["bare-value-1"], ["bare failed"]),
        (lambda: check("otp-123456"), ["otp-123456"], ["wrong code"]),
    ],
)
def test_the_decorator_masks_the_named_locals_or_all_of_them(
    call_it: Callable[[], None], hidden: list[str], shown: list[str]
) -> None:
    def app(environ: object, start_response: object) -> list[bytes]:
        call_it()
        return []

    body = on_text(app)
    for secret in hidden:
        assert f"'{secret}'" not in body
        assert f"for {secret}" not in body  # masked by value in the message too
    for text in shown:
        assert text in body


def test_a_function_marked_after_it_failed_has_its_locals_masked_from_then_on() -> None:
    # What is remembered per code object must not outlive a mark added later.
    def pay() -> None:
        card = "5500-0000-0000-0004"  # noqa: F841 - no default pattern matches "card"
        raise RuntimeError("declined")

    def app(environ: object, start_response: object) -> list[bytes]:
        pay()
        return []

    assert "5500-0000-0000-0004" in on_text(app)
    sensitive_variables("card")(pay)
    assert "5500-0000-0000-0004" not in on_text(app)


def test_marking_a_function_leaves_its_twin_from_another_file_alone(tmp_path: Path) -> None:
    source = "def pay():\n    card = 'card-' + '4242'\n    raise RuntimeError('declined')\n"
    twins = []
    for name in ("shop_a.py", "shop_b.py"):  # equal code, compiled from two files
        scope: dict[str, Any] = {}
        exec(compile(source, str(tmp_path / name), "exec"), scope)
        twins.append(scope["pay"])
    assert twins[0].__code__ == twins[1].__code__  # what a code-keyed registry would merge
    sensitive_variables("card")(twins[0])

    def app_of(pay: Any) -> Any:
        def app(environ: object, start_response: object) -> list[bytes]:
            pay()
            return []

        return app

    assert "card-4242" not in on_text(app_of(twins[0]))
    assert "card = 'card-4242'" in on_text(app_of(twins[1]))


def test_the_decorator_returns_the_function_itself() -> None:
    def plain(x: int) -> int:
        return x

    assert sensitive_variables("x")(plain) is plain
    with pytest.raises(TypeError, match="names of locals"):
        sensitive_variables(3)  # type: ignore[call-overload]


# --- the OS environment ---------------------------------------------------------------


def test_the_environment_panel_shows_the_allow_list_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIRTUAL_ENV", "/srv/app/.venv")
    monkeypatch.setenv("UNLISTED_SETTING", "not-on-the-allow-list")
    body = Client(ErrorPages(apps.plain, mode="on")).get("/", headers=JSON).get_data(as_text=True)
    names = {v["name"]: v["text"] for v in json.loads(body)["environment"]}
    assert names["VIRTUAL_ENV"] == "/srv/app/.venv"
    assert set(names) <= set(Policy().environment)
    assert "not-on-the-allow-list" not in body
    html = Client(ErrorPages(apps.plain, mode="on")).get("/", headers=HTML).get_data(as_text=True)
    assert "/srv/app/.venv" in html


def test_os_environ_in_a_local_is_never_shown_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNLISTED_SETTING", "not-on-the-allow-list")

    def app(environ: object, start_response: object) -> list[bytes]:
        env = os.environ  # noqa: F841
        raise RuntimeError("boom")

    body = on_text(app)
    assert "not-on-the-allow-list" not in body
    assert "env = <the OS environment:" in body


def test_wsgiref_copies_the_environment_into_environ_and_the_page_leaves_it_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("UNLISTED_SETTING", "not-on-the-allow-list")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRETS["os environ"])

    class Quiet(wsgiref.simple_server.WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server = wsgiref.simple_server.make_server(
        "127.0.0.1", 0, ErrorPages(apps.plain, mode="on"), handler_class=Quiet
    )
    server.base_environ["UNLISTED_SETTING"] = "not-on-the-allow-list"  # set before start-up
    server.base_environ["AWS_SECRET_ACCESS_KEY"] = SECRETS["os environ"]
    server.base_environ["PWD"] = str(Path(apps.__file__).parent)  # a folder, not a secret
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    try:
        fetched = fetch(f"http://127.0.0.1:{server.server_port}", "/", JSON)
    finally:
        thread.join(10)
        server.server_close()
    assert fetched.status == 500
    body = shown(json.loads(fetched.text))
    assert "environ = {" in body
    assert "OS environment variables not shown" in body
    assert "not-on-the-allow-list" not in fetched.text
    assert SECRETS["os environ"] not in fetched.text
    assert Path(apps.__file__).as_posix() in json.loads(fetched.text)["traceback"]  # unmasked


# --- who may see a traceback ---------------------------------------------------------


def test_a_client_outside_the_allow_list_gets_the_off_page_and_the_log_says_so(
    logged: Collect,
) -> None:
    pages = ErrorPages(apps.plain, mode="on", allow=["10.0.0.0/8", "::1"])
    client = Client(pages)
    outside = client.get(
        "/", headers={**TEXT, "X-Forwarded-For": "10.0.0.1"},  # headers are the client's to invent
        environ_overrides={"REMOTE_ADDR": "203.0.113.9"},
    )  # fmt: skip
    assert outside.status == "500 Internal Server Error"
    assert "Traceback" not in outside.get_data(as_text=True)
    assert "two euros" not in outside.get_data(as_text=True)
    (record,) = [r for r in logged.records if r.levelno == logging.ERROR]
    assert "203.0.113.9 is outside DEBUGPAGES_ALLOW" in record.getMessage()
    assert record.mode == "off"  # type: ignore[attr-defined]
    assert record.exc_text
    assert "two euros" in record.exc_text  # the log keeps it all
    inside = client.get("/", headers=TEXT, environ_overrides={"REMOTE_ADDR": "10.1.2.3"})
    assert "Traceback" in inside.get_data(as_text=True)
    mapped = client.get("/", headers=TEXT, environ_overrides={"REMOTE_ADDR": "::ffff:10.9.9.9"})
    assert "Traceback" in mapped.get_data(as_text=True)


@pytest.mark.parametrize("remote", [None, "", "not-an-address", "10.0.0.1, 10.0.0.2", "::1%lo"])
def test_a_missing_or_odd_remote_addr_never_opens_the_traceback(remote: str | None) -> None:
    environ = EnvironBuilder("/", headers=TEXT).get_environ()
    environ.pop("REMOTE_ADDR", None)
    if remote is not None:
        environ["REMOTE_ADDR"] = remote
    status, _, body = call(ErrorPages(apps.plain, mode="on", allow="10.0.0.0/8"), environ)
    assert status == "500 Internal Server Error"
    assert b"Traceback" not in body


def test_allow_comes_from_the_environment_unless_code_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEBUGPAGES_ALLOW", "192.0.2.0/24 198.51.100.7")
    from_env = Client(ErrorPages(apps.plain, mode="on"))
    local = from_env.get("/", headers=TEXT, environ_overrides={"REMOTE_ADDR": "127.0.0.1"})
    assert "Traceback" not in local.get_data(as_text=True)
    listed = from_env.get("/", headers=TEXT, environ_overrides={"REMOTE_ADDR": "198.51.100.7"})
    assert "Traceback" in listed.get_data(as_text=True)
    from_code = Client(ErrorPages(apps.plain, mode="on", allow=["127.0.0.0/8"]))
    local = from_code.get("/", headers=TEXT, environ_overrides={"REMOTE_ADDR": "127.0.0.1"})
    assert "Traceback" in local.get_data(as_text=True)


@pytest.mark.parametrize("value", ["10.0.0.0/33", "localhost", "10.0.0.0/8;rm"])
def test_a_bad_network_is_a_configuration_error(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEBUGPAGES_ALLOW", value)
    with pytest.raises(ConfigurationError, match="DEBUGPAGES_ALLOW"):
        ErrorPages(apps.plain, mode="on")


def test_over_a_real_socket_only_remote_addr_counts(serve: Callable[..., str]) -> None:
    base = serve(ErrorPages(apps.plain, mode="on", allow=["10.0.0.0/8"]))
    fetched = fetch(base, "/", {**TEXT, "X-Forwarded-For": "10.0.0.1", "X-Real-IP": "10.0.0.1"})
    assert (fetched.status, fetched.reason) == (500, "Internal Server Error")
    assert "Traceback" not in fetched.text


def test_behind_a_proxy_proxyfix_in_front_lets_the_team_in(serve: Callable[..., str]) -> None:
    app = ProxyFix(ErrorPages(apps.plain, mode="on", allow=["192.0.2.0/24"]), x_for=1)
    base = serve(app)
    team = fetch(base, "/", {**TEXT, "X-Forwarded-For": "192.0.2.10"})
    assert "Traceback" in team.text
    stranger = fetch(base, "/", {**TEXT, "X-Forwarded-For": "203.0.113.5"})
    assert "Traceback" not in stranger.text


# --- hardened responses --------------------------------------------------------------


def csp(headers: Any) -> dict[str, str]:
    value = headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in value.split(";"))


@pytest.mark.parametrize("mode", ["off", "on", "legacy-200"])
@pytest.mark.parametrize("app", [apps.plain, apps.raising(NotFound())])
def test_every_page_is_hardened(mode: str, app: Any) -> None:
    for headers in FORMATS.values():
        response = Client(ErrorPages(app, mode=mode)).get("/", headers=headers)
        policy = csp(response.headers)
        for directive in ("default-src", "base-uri", "form-action", "frame-ancestors"):
            assert policy.pop(directive) == "'none'"
        assert set(policy) == {"style-src", "script-src"}
        assert policy["style-src"] == policy["script-src"]
        assert policy["style-src"].startswith("'nonce-")
        assert response.headers["X-Robots-Tag"] == "noindex"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_only_the_pages_own_style_and_script_carry_the_nonce() -> None:
    response = Client(ErrorPages(apps.plain, mode="on")).get("/", headers=HTML)
    nonce = csp(response.headers)["script-src"].removeprefix("'nonce-").removesuffix("'")
    tags = parse(response.get_data(as_text=True)).tags
    loaded = [(tag, attrs) for tag, attrs in tags if tag in ("script", "style", "link", "img")]
    assert [tag for tag, _ in loaded] == ["style", "script"]
    assert all(attrs.get("nonce") == nonce for _, attrs in loaded)
    assert not [a for _, attrs in tags for a in attrs if a.startswith("on")]


def test_a_users_production_template_cannot_reach_the_error(tmp_path: Path) -> None:
    (tmp_path / "500.txt").write_text("{{ page.error.exception.message }}\n")
    (tmp_path / "500.json").write_text("{{ page | plain | tojson }} {{ page }} {{ nonce }}\n")
    client = Client(ErrorPages(apps.plain, mode="off", template_dirs=[tmp_path]))
    body = client.get("/").data
    assert b"two euros" not in body
    assert b"Internal Server Error" in body  # the built-in page took over
    dumped = client.get("/?token=query-value", headers=JSON).get_data(as_text=True)
    assert "error=None" in dumped  # the whole context, dumped: nothing of the failure in it
    for leak in ("two euros", "ValueError", "tomato", "query-value", "parse_price"):
        assert leak not in dumped


# --- nothing is kept ----------------------------------------------------------------


class Payload:
    """An object only the failing frame refers to."""


def failing_app(refs: list[weakref.ref[Payload]]) -> Callable[..., Iterable[bytes]]:
    def app(environ: dict[str, object], start_response: object) -> Iterable[bytes]:
        payload = Payload()
        refs.append(weakref.ref(payload))
        big = [payload] * 3
        raise RuntimeError(f"failed with {len(big)} of {payload!r}")

    return app


def frames_of(code: types.CodeType) -> list[object]:
    # type(), not isinstance(): isinstance() asks a lazy proxy (Django's settings) its
    # __class__, which sets the proxy up, and that can fail.
    return [
        o
        for o in gc.get_objects()
        if (type(o) is types.FrameType and o.f_code is code)
        or (type(o) is types.TracebackType and o.tb_frame.f_code is code)
    ]


@pytest.mark.parametrize("mode", ["off", "on", "legacy-200"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_no_local_frame_or_traceback_outlives_the_response(
    mode: str, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pytest's own log capture keeps every record, and a record keeps its exc_info.
    monkeypatch.setattr(logging.getLogger("debugpages"), "propagate", False)
    refs: list[weakref.ref[Payload]] = []
    app = failing_app(refs)
    client = Client(ErrorPages(app, mode=mode))  # alive to the end: it may keep nothing either
    assert client.get("/", headers=FORMATS[fmt]).status_code in (200, 500)
    gc.collect()
    assert refs[0]() is None
    assert frames_of(app.__code__) == []
    assert client.application is not None


def test_over_a_real_server_nothing_of_the_request_is_kept(
    serve: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logging.getLogger("debugpages"), "propagate", False)
    refs: list[weakref.ref[Payload]] = []
    app = failing_app(refs)
    base = serve(ErrorPages(app, mode="on"))
    for headers in FORMATS.values():
        assert fetch(base, "/", headers).status == 500
    gc.collect()
    assert len(refs) == 3
    assert [r for r in refs if r() is not None] == []
    assert frames_of(app.__code__) == []


# --- bad input and faults -----------------------------------------------------------


def environ_of(**changes: Any) -> dict[str, Any]:
    environ = EnvironBuilder("/").get_environ()
    for key, value in changes.items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    return environ


MALFORMED = {
    "nothing at all": {},
    "method only": {"REQUEST_METHOD": "GET"},
    "bad percent-encoding": environ_of(PATH_INFO="/%zz%", QUERY_STRING="a=%zz&token=%ff%fe&%%"),
    "not utf-8": environ_of(PATH_INFO="/\xff\xfe\xc3", QUERY_STRING="\xff=\xfe"),
    "header beyond latin-1": environ_of(HTTP_X_NAME="é€😀\ud800\x00\u202e"),
    "64 KB header": environ_of(HTTP_X_BIG="x" * 65536, HTTP_COOKIE="sid=" + "y" * 65536),
    "no wsgi.errors, no wsgi.input": environ_of(**{"wsgi.errors": None, "wsgi.input": None}),
    "bad content length": environ_of(
        REQUEST_METHOD="POST", CONTENT_LENGTH="banana", CONTENT_TYPE="multipart/form-data"
    ),
    "truncated multipart": environ_of(
        REQUEST_METHOD="POST",
        CONTENT_LENGTH="40",
        CONTENT_TYPE="multipart/form-data; boundary=x",
        **{"wsgi.input": io.BytesIO(b"--x\r\nContent-Disposition: form-data")},
    ),
    "odd accept": environ_of(HTTP_ACCEPT="text/html;q=banana, */*;q=nan, ;;;"),
    "odd cookie and auth": environ_of(
        HTTP_COOKIE='a="unterminated; b=\x00', HTTP_AUTHORIZATION="Basic !!!not-base64"
    ),
    "newline in method": environ_of(REQUEST_METHOD="G\r\nET"),
    "values that are not strings": environ_of(
        REMOTE_ADDR=3, SERVER_PORT=8080, HTTP_X_NUMBER=3, QUERY_STRING=None, HTTP_COOKIE=b"a=b"
    ),
    "accept that is not a string": environ_of(HTTP_ACCEPT=b"text/html"),
}


@pytest.mark.parametrize("accept", ["text/html", "application/json", "text/plain"])
@pytest.mark.parametrize("mode", ["off", "on", "legacy-200"])
@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_environ_still_gets_a_well_formed_page(
    case: str, mode: str, accept: str
) -> None:
    environ = dict(MALFORMED[case])
    if "wsgi.input" in environ and hasattr(environ["wsgi.input"], "seek"):
        environ["wsgi.input"].seek(0)
    environ.setdefault("HTTP_ACCEPT", accept)
    status, headers, body = call(ErrorPages(apps.plain, mode=mode), environ)
    assert status == ("200 OK" if mode == "legacy-200" else "500 Internal Server Error")
    assert dict(headers)["Content-Length"] == str(len(body))
    text = body.decode("utf-8")
    content_type = dict(headers)["Content-Type"]
    if content_type.startswith("text/html"):
        tags = parse(text).tags
        assert tags[0][0] == "html"
        assert [t for t, _ in tags].count("script") <= 1
    elif content_type == "application/problem+json":
        assert json.loads(text)["status"] == 500
    else:
        assert "Reference" in text or "reference" in text
    if mode != "off":
        assert "two euros" in text  # the traceback survived the bad request


def test_a_logging_handler_that_raises_is_reported_once_even_when_templates_fail(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    class Broken(logging.Handler):
        def handle(self, record: logging.LogRecord) -> bool:  # skip logging's safety net
            raise OSError("disk full")

    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "traceback.txt").write_text("{{ page.error.exception.message }}\n")
    pages = ErrorPages(apps.plain, mode="on", template_dirs=[folder])
    logger = logging.getLogger("debugpages")
    logger.addHandler(handler := Broken())
    try:
        folder.joinpath("traceback.txt").write_text("{{ broken")  # every render logs a failure
        response = Client(pages).get("/", headers=TEXT)
    finally:
        logger.removeHandler(handler)
    assert response.status == "500 Internal Server Error"
    assert response.get_data(as_text=True).startswith("500 Internal Server Error")
    assert capsys.readouterr().err.count("disk full") == 1


class RaisingRepr:
    def __repr__(self) -> str:
        raise RuntimeError("repr is broken")


class EndlessRepr:
    def __repr__(self) -> str:
        return f"<{self!r}>"


class NotAString:
    def __repr__(self) -> Any:
        return 42


class RaisingStr(Exception):
    def __str__(self) -> str:
        raise RuntimeError("str is broken")


def test_evil_reprs_and_strs_are_reported_once_on_the_page() -> None:
    def app(environ: object, start_response: object) -> list[bytes]:
        raising, endless, odd = RaisingRepr(), EndlessRepr(), NotAString()  # noqa: F841
        again = [raising, raising]  # noqa: F841
        raise RaisingStr()

    client = Client(ErrorPages(app, mode="on"))
    response = client.get("/", headers=TEXT)
    assert response.status == "500 Internal Server Error"
    assert "RaisingStr: <exception str() failed>" in response.get_data(as_text=True)  # Python's
    body = on_text(app)
    assert body.count("<repr failed: RuntimeError: repr is broken>") == 3  # raising, again[0:2]
    assert "endless = <repr failed: RecursionError" in body
    assert "odd = <repr failed" in body
    assert "RaisingStr: <exception str() failed>" in body
    assert json.loads(client.get("/", headers=JSON).data)["status"] == 500


def test_a_failure_deep_in_a_recursion_still_gets_its_page() -> None:
    def dive(n: int) -> None:
        dive(n + 1)

    def app(environ: object, start_response: object) -> list[bytes]:
        dive(0)
        return []

    response = Client(ErrorPages(app, mode="on")).get("/", headers=TEXT)
    assert response.status == "500 Internal Server Error"
    assert "RecursionError" in response.get_data(as_text=True)
    assert sys.getrecursionlimit() >= 1000


def test_a_flood_of_secrets_is_masked_by_name_and_the_page_says_so() -> None:
    fields = {f"password{i}": f"{i:04d}-" + "v" * 1000 for i in range(200)}
    client = Client(ErrorPages(apps.plain, mode="on"))
    response = client.post("/", data=fields, headers=TEXT)
    body = response.get_data(as_text=True)
    assert response.status == "500 Internal Server Error"
    assert "masked by name only" in body
    assert "v" * 1000 not in body


def test_an_empty_allow_list_in_code_lets_nobody_see_a_traceback() -> None:
    client = Client(ErrorPages(apps.plain, mode="on", allow=[]))
    local = client.get("/", headers=TEXT, environ_overrides={"REMOTE_ADDR": "127.0.0.1"})
    assert "Traceback" not in local.get_data(as_text=True)


def test_pairs_headers_and_multidicts_mask_their_sensitive_entries() -> None:
    from werkzeug.datastructures import Headers, MultiDict

    def app(environ: object, start_response: object) -> list[bytes]:
        pending = [("Content-Type", "text/plain"), ("Set-Cookie", "sid=fresh-session-1")]
        headers = Headers([("Set-Cookie", "sid=fresh-session-2"), ("X-Trace", "visible-3")])
        form = MultiDict([("password", "md-secret-4"), ("user", "alice")])
        raise RuntimeError(f"{len(pending) + len(headers) + len(form)} things")

    body = on_text(app)
    for secret in ("fresh-session-1", "fresh-session-2", "md-secret-4"):
        assert secret not in body
    assert "('Set-Cookie', ********)" in body
    assert "Headers([('Set-Cookie', ********), ('X-Trace', 'visible-3')])" in body
    assert "MultiDict([('password', ********), ('user', 'alice')])" in body


@pytest.mark.parametrize("mode", ["off", "on"])
def test_built_in_templates_deleted_after_start_up_still_give_the_page(
    mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, logged: Collect
) -> None:
    import shutil

    from debugpages import render as render_module

    builtin = tmp_path / "builtin"
    shutil.copytree(render_module.BUILTIN_TEMPLATES, builtin)
    monkeypatch.setattr(render_module, "BUILTIN_TEMPLATES", builtin)
    expected = Client(ErrorPages(apps.plain, mode=mode)).get("/", headers=HTML)
    client = Client(ErrorPages(apps.plain, mode=mode))
    shutil.rmtree(builtin)  # a package upgraded under a running process
    response = client.get("/", headers=HTML)
    assert response.status == "500 Internal Server Error"
    references = [r.reference for r in logged.records if getattr(r, "reference", "-") != "-"]
    assert len(references) == 2
    page, first = response.get_data(as_text=True), expected.get_data(as_text=True)
    assert comparable(page, *references) == comparable(first, *references)
    assert [r for r in logged.records if "failed to render" in r.getMessage()] == []


@pytest.mark.parametrize("mode", ["off", "on"])
def test_built_in_templates_missing_at_start_up_give_a_minimal_page_reported_once(
    mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, logged: Collect
) -> None:
    from debugpages import render as render_module

    builtin = tmp_path / "builtin"
    builtin.mkdir()
    (builtin / "base.html").write_text("{% block content %}{% endblock %}")  # all but one gone
    monkeypatch.setattr(render_module, "BUILTIN_TEMPLATES", builtin)
    client = Client(ErrorPages(apps.plain, mode=mode))
    response = client.get("/", headers=HTML)
    assert response.status == "500 Internal Server Error"
    assert "<h1>500 Internal Server Error</h1>" in response.get_data(as_text=True)
    failures = [r for r in logged.records if "failed to render" in r.getMessage()]
    assert len(failures) == 1 + (mode == "on")  # on: the copy-as-text block, then the page


@pytest.mark.parametrize("offset", [-8, -1, 0, 1])
def test_a_secret_cut_in_half_by_a_long_values_limit_leaves_no_part_on_the_page(
    offset: int,
) -> None:
    secret = "Xq7-long-secret-Zp9"
    cut = Policy().max_value_chars

    def app(environ: dict[str, Any], start_response: object) -> Iterable[bytes]:
        api_key = secret  # noqa: F841 - a sensitive name: its value is masked everywhere
        blob = "a" * (cut + offset) + secret + "b" * 5_000_000
        url = "https://" + "c" * (cut + offset) + ":" + secret + "@db.example/x"  # noqa: F841
        raise RuntimeError(f"failed on {len(blob)} characters")

    text = on_text(app)
    assert "characters in all" in text  # the long values were cut...
    for part in (secret[:6], secret[-6:]):
        assert part not in text  # ...and no half of the secret survived the cut

"""Every configuration mistake fails when the middleware is built, with its exact message.

One table: the mistake, where it is raised (``construction`` of the object, or ``start-up``:
the ASGI lifespan startup of a Starlette app whose middleware is built lazily), and the
message, which names the argument or setting, the value and what is expected. Never the
first request.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from fastapi import FastAPI
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

import debugpages.flask
from debugpages import ASGIErrorPages, ConfigurationError, Editor, ErrorPages, Mode, Policy
from debugpages.django import ErrorPagesMiddleware

from . import apps, django_site  # noqa: F401  (django_site configures Django)
from .frameworks import ROOT, free_port

ONN = (
    "DEBUGPAGES='onn' is not a mode debugpages knows. Accepted (any case, blanks ignored): "
    "off, 0, false, no, on, 1, true, yes, legacy-200; unset or empty means off."
)
SCHEMES = "emacs, http, https, idea, mvim, pycharm, subl, txmt, vscode, vscode-insiders"


async def ok(scope: Any, receive: Any, send: Any) -> None:
    """A bare ASGI app."""


def starlette_with(**options: Any) -> Starlette:
    app = Starlette(routes=[Route("/", lambda request: PlainTextResponse("ok"))])
    app.add_middleware(ASGIErrorPages, **options)
    return app


def fastapi_with(**options: Any) -> FastAPI:
    app = FastAPI()
    app.add_middleware(ASGIErrorPages, **options)
    return app


def lifespan_startup(app: Any) -> dict[str, Any]:
    """Run an ASGI lifespan startup; the message the app answered with."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "lifespan.startup"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def run() -> None:
        await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)

    asyncio.run(asyncio.wait_for(run(), 5))
    [answer] = sent
    return answer


def django(**setting: Any) -> Callable[[], object]:
    def build() -> object:
        with override_settings(**setting):
            return ErrorPagesMiddleware(lambda request: None)

    return build


@dataclass
class Mistake:
    build: Callable[[], object]
    message: str
    where: str = "construction"
    env: dict[str, str] | None = None


MISTAKES: dict[str, Mistake] = {
    # The switch, in every adapter.
    "DEBUGPAGES typo, ErrorPages": Mistake(
        lambda: ErrorPages(apps.ok_app), ONN, env={"DEBUGPAGES": "onn"}
    ),
    "DEBUGPAGES typo, ASGIErrorPages": Mistake(
        lambda: ASGIErrorPages(ok), ONN, env={"DEBUGPAGES": "onn"}
    ),
    "DEBUGPAGES typo, add_middleware": Mistake(
        lambda: starlette_with(), f"debugpages: {ONN}", "start-up", {"DEBUGPAGES": "onn"}
    ),
    "DEBUGPAGES typo, FastAPI add_middleware": Mistake(
        lambda: fastapi_with(), f"debugpages: {ONN}", "start-up", {"DEBUGPAGES": "onn"}
    ),
    "DEBUGPAGES typo, Flask": Mistake(
        lambda: debugpages.flask.init_app(Flask(__name__)), ONN, env={"DEBUGPAGES": "onn"}
    ),
    "DEBUGPAGES typo, Django": Mistake(django(DEBUGPAGES={}), ONN, env={"DEBUGPAGES": "onn"}),
    "mode typo": Mistake(
        lambda: ErrorPages(apps.ok_app, mode="debug"),
        "mode='debug' is not a mode debugpages knows. Accepted (any case, blanks ignored): "
        "off, 0, false, no, on, 1, true, yes, legacy-200; unset or empty means off.",
    ),
    "mode of the wrong type": Mistake(
        lambda: ErrorPages(apps.ok_app, mode=True),  # type: ignore[arg-type]
        "mode=True must be a Mode or one of: off, 0, false, no, on, 1, true, yes, legacy-200",
    ),
    "mode typo, add_middleware": Mistake(
        lambda: starlette_with(mode="onn"),
        "debugpages: mode='onn' is not a mode debugpages knows. Accepted (any case, blanks "
        "ignored): off, 0, false, no, on, 1, true, yes, legacy-200; unset or empty means off.",
        "start-up",
    ),
    "default not a Mode": Mistake(
        lambda: ErrorPages(apps.ok_app, default="on"),  # type: ignore[arg-type]
        "default='on': expected a debugpages.Mode",
    ),
    # Template folders.
    "template_dirs: a missing relative folder": Mistake(
        lambda: ErrorPages(apps.ok_app, template_dirs="error_templates"),
        "template_dirs: 'error_templates' is not a folder (looked for {cwd}/error_templates, "
        "from the current folder {cwd})",
    ),
    "template_dirs: a missing absolute folder": Mistake(
        lambda: ErrorPages(apps.ok_app, template_dirs=["/no/such/folder"]),
        "template_dirs: '/no/such/folder' is not a folder (looked for /no/such/folder)",
    ),
    "template_dirs: a file": Mistake(
        lambda: ErrorPages(apps.ok_app, template_dirs=[Path("500.html")]),
        "template_dirs: '500.html' is a file, not a folder (looked for {cwd}/500.html, from "
        "the current folder {cwd})",
    ),
    "template_dirs: a number": Mistake(
        lambda: ASGIErrorPages(ok, template_dirs=7),  # type: ignore[arg-type]
        "template_dirs=7: expected a folder (a str or a Path) or a list of folders, not a int",
    ),
    "template_dirs: bytes in the list": Mistake(
        lambda: debugpages.flask.init_app(Flask(__name__), template_dirs=[b"x"]),  # type: ignore[list-item]
        "template_dirs: b'x' is a bytes; expected a folder as a str or a Path",
    ),
    "TEMPLATE_DIRS, Django": Mistake(
        django(DEBUGPAGES={"TEMPLATE_DIRS": ["errors"]}),
        "settings.DEBUGPAGES['TEMPLATE_DIRS']: 'errors' is not a folder (looked for "
        "{cwd}/errors, from the current folder {cwd})",
    ),
    "template_dirs missing, add_middleware": Mistake(
        lambda: starlette_with(template_dirs="error_templates"),
        "debugpages: template_dirs: 'error_templates' is not a folder (looked for "
        "{cwd}/error_templates, from the current folder {cwd})",
        "start-up",
    ),
    # Editor links.
    "editor: a number": Mistake(
        lambda: ErrorPages(apps.ok_app, editor=1),  # type: ignore[arg-type]
        "editor=1: expected an Editor, a preset name or a URL pattern (as DEBUGPAGES_EDITOR "
        "takes), not a int",
    ),
    "editor: an unknown name": Mistake(
        lambda: ErrorPages(apps.ok_app, editor="vscodium"),
        "editor='vscodium': give a preset (vscode, vscode-insiders, pycharm, idea, sublime, "
        "textmate, emacs, macvim) or a URL pattern holding {path} (and {line})",
    ),
    "editor: a javascript: link": Mistake(
        lambda: ErrorPages(apps.ok_app, editor="javascript:alert({path})"),
        f"editor='javascript:alert({{path}})': the link must start with one of the schemes "
        f"{SCHEMES} (and hold no blanks)",
    ),
    "DEBUGPAGES_EDITOR: a javascript: link": Mistake(
        lambda: ErrorPages(apps.ok_app),
        f"DEBUGPAGES_EDITOR='javascript:{{path}}': the link must start with one of the schemes "
        f"{SCHEMES} (and hold no blanks)",
        env={"DEBUGPAGES_EDITOR": "javascript:{path}"},
    ),
    "Editor: a path map that is not pairs": Mistake(
        lambda: Editor("vscode", path_map=("/app", "/home")),  # type: ignore[arg-type]
        "Editor(path_map=('/app', '/home')): expected (server prefix, local prefix) pairs of "
        'strings, a dict of them, or the text "/app=/home/me/project"',
    ),
    # Limits.
    "Policy: negative context_lines": Mistake(
        lambda: Policy(context_lines=-1),
        "Policy(context_lines=-1): expected a whole number of 0 or more",
    ),
    "Policy: zero max_page_bytes": Mistake(
        lambda: Policy(max_page_bytes=0),
        "Policy(max_page_bytes=0): expected a whole number of 1 or more",
    ),
    "Policy: zero max_value_chars": Mistake(
        lambda: Policy(max_value_chars=0),
        "Policy(max_value_chars=0): expected a whole number of 1 or more",
    ),
    "Policy: zero repr_budget": Mistake(
        lambda: Policy(repr_budget=0),
        "Policy(repr_budget=0): expected a number of seconds above 0",
    ),
    "Policy: a size as a string": Mistake(
        lambda: Policy(max_frames="200"),  # type: ignore[arg-type]
        "Policy(max_frames='200'): expected a number, not a str",
    ),
    "Policy: a size as a bool": Mistake(
        lambda: Policy(max_variables=True),
        "Policy(max_variables=True): expected a number, not a bool",
    ),
    "Policy: sensitive as one string": Mistake(
        lambda: Policy(sensitive="iban"),  # type: ignore[arg-type]
        "Policy(sensitive='iban'): expected a tuple of strings",
    ),
    "policy: not a Policy": Mistake(
        lambda: ErrorPages(apps.ok_app, policy={"context_lines": 3}),  # type: ignore[arg-type]
        "policy={'context_lines': 3}: expected a debugpages.Policy, not a dict",
    ),
    # Masking and access.
    "sensitive: not a regular expression": Mistake(
        lambda: ErrorPages(apps.ok_app, sensitive=["(iban"]),
        "sensitive: '(iban' is not a regular expression "
        "(missing ), unterminated subpattern at position 0)",
    ),
    "sensitive: a number in the list": Mistake(
        lambda: ErrorPages(apps.ok_app, sensitive=["iban", 4]),  # type: ignore[list-item]
        "sensitive: 4 is not a regular expression (a non-empty str)",
    ),
    "allow: a number": Mistake(
        lambda: ErrorPages(apps.ok_app, allow=10),  # type: ignore[arg-type]
        "allow=10: expected networks in CIDR form, as a list or as comma-separated text, "
        "not a int",
    ),
    "allow: not a network": Mistake(
        lambda: ErrorPages(apps.ok_app, allow=["garbage"]),
        "allow: 'garbage' is not a network in CIDR form (for example 127.0.0.1/32, "
        "10.0.0.0/8, ::1/128)",
    ),
    "DEBUGPAGES_ALLOW: not a network": Mistake(
        lambda: ErrorPages(apps.ok_app),
        "DEBUGPAGES_ALLOW: 'garbage' is not a network in CIDR form (for example "
        "127.0.0.1/32, 10.0.0.0/8, ::1/128)",
        env={"DEBUGPAGES_ALLOW": "garbage"},
    ),
    # Yes-or-no options and the application itself.
    "fill_empty_errors: a string": Mistake(
        lambda: ErrorPages(apps.ok_app, fill_empty_errors="yes"),  # type: ignore[arg-type]
        "fill_empty_errors='yes': expected True or False",
    ),
    "app: not callable": Mistake(
        lambda: ErrorPages("myapp:app"),  # type: ignore[arg-type]
        "app='myapp:app': expected the application (a callable), not a str",
    ),
    "ASGI app: not callable": Mistake(
        lambda: ASGIErrorPages(None),  # type: ignore[arg-type]
        "app=None: expected the application (a callable), not a NoneType",
    ),
    "Flask: not a Flask app": Mistake(
        lambda: debugpages.flask.init_app(apps.ok_app),  # type: ignore[arg-type]
        f"app={apps.ok_app!r}: expected a Flask application, not a function",
    ),
    "Flask: follow_debug as a string": Mistake(
        lambda: debugpages.flask.init_app(Flask(__name__), follow_debug="no"),  # type: ignore[arg-type]
        "follow_debug='no': expected True or False",
    ),
    "Flask: http_errors as a number": Mistake(
        lambda: debugpages.flask.init_app(Flask(__name__), http_errors=0),  # type: ignore[arg-type]
        "http_errors=0: expected True or False",
    ),
    # Django's setting.
    "DEBUGPAGES setting: not a dict": Mistake(
        django(DEBUGPAGES="on"),
        "settings.DEBUGPAGES='on': expected a dict with the keys MODE, TEMPLATE_DIRS, FOLLOW_DEBUG",
    ),
    "DEBUGPAGES setting: an unknown key": Mistake(
        django(DEBUGPAGES={"mode": "on"}),
        "settings.DEBUGPAGES has unknown keys ['mode']; the known ones are MODE, TEMPLATE_DIRS, "
        "FOLLOW_DEBUG",
    ),
    "DEBUGPAGES setting: a MODE typo": Mistake(
        django(DEBUGPAGES={"MODE": "verbose"}),
        "settings.DEBUGPAGES['MODE']='verbose' is not a mode debugpages knows. Accepted (any "
        "case, blanks ignored): off, 0, false, no, on, 1, true, yes, legacy-200; unset or empty "
        "means off.",
    ),
    "DEBUGPAGES setting: MODE of the wrong type": Mistake(
        django(DEBUGPAGES={"MODE": 1}),
        "settings.DEBUGPAGES['MODE']=1: expected a debugpages.Mode or one of: off, 0, false, no, "
        "on, 1, true, yes, legacy-200",
    ),
    "DEBUGPAGES setting: FOLLOW_DEBUG as a string": Mistake(
        django(DEBUGPAGES={"FOLLOW_DEBUG": "false"}),
        "settings.DEBUGPAGES['FOLLOW_DEBUG']='false': expected True or False",
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", MISTAKES)
def test_every_mistake_fails_at_construction_or_start_up_with_its_message(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mistake = MISTAKES[name]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "500.html").write_text("a file")
    for variable, value in (mistake.env or {}).items():
        monkeypatch.setenv(variable, value)
    expected = mistake.message.replace("{cwd}", str(tmp_path))
    if mistake.where == "construction":
        with pytest.raises(ConfigurationError) as raised:
            mistake.build()
        assert str(raised.value) == expected
        return
    app = mistake.build()  # Starlette builds its middleware at the first lifespan event
    answer = lifespan_startup(app)
    assert answer == {"type": "lifespan.startup.failed", "message": expected}
    with pytest.raises(ConfigurationError):  # no lifespan (--lifespan off): every request fails
        TestClient(app).get("/")  # type: ignore[arg-type]


HTML, TEXT = "text/html", "text/plain"


def on(**options: Any) -> ErrorPages:
    return ErrorPages(apps.plain, "on", **options)


@pytest.mark.parametrize(
    ("build", "accept", "shown", "not_shown"),
    [
        (lambda d: on(editor="vscode"), HTML, 'href="vscode://file', None),
        (lambda d: on(editor="PyCharm "), HTML, "pycharm://open?file=", None),
        (
            lambda d: on(editor="https://code.example/o?f={path}&l={line}"),
            HTML, "https://code.example/o?f=", None,
        ),
        (lambda d: on(template_dirs="mine"), TEXT, "from my folder", None),
        (lambda d: on(template_dirs=Path("mine")), TEXT, "from my folder", None),
        (lambda d: on(template_dirs=[d / "mine"]), TEXT, "from my folder", None),
        (lambda d: on(sensitive="sauce"), HTML, "parse_price", "tomato-1234"),
        (lambda d: on(allow="127.0.0.1, ::1"), HTML, "parse_price", None),
    ],
)  # fmt: skip
def test_what_users_naturally_pass_is_accepted(
    build: Callable[[Path], ErrorPages],
    accept: str,
    shown: str,
    not_shown: str | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "traceback.txt").write_text("from my folder\n")
    pages = build(tmp_path)
    monkeypatch.chdir("/")  # a relative folder was resolved when the middleware was built
    body = page_body(pages, accept)
    assert shown in body
    if not_shown is not None:
        assert not_shown not in body


def page_body(app: ErrorPages, accept: str) -> str:
    from werkzeug.test import Client

    environ = {"REMOTE_ADDR": "127.0.0.1"}
    return Client(app).get("/", headers={"Accept": accept}, environ_base=environ).text


def test_a_preset_name_as_editor_uses_the_path_map_variable_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEBUGPAGES_PATH_MAP", "/=/home/me/")
    pages = ErrorPages(apps.plain, "on", editor="vscode")
    assert pages.engine.editor == Editor("vscode", (("/", "/home/me/"),))


@pytest.mark.parametrize(
    "limit",
    ["context_lines", "max_frames_with_locals", "max_frames_with_context", "max_secrets",
     "max_value_chars", "max_items", "max_depth", "max_message_chars", "max_variables",
     "max_group_members", "max_chain", "max_frames", "min_secret_chars"],
)  # fmt: skip
def test_each_limit_at_its_least_value_still_gives_a_page(limit: str) -> None:
    least = 0 if limit.startswith(("context", "max_frames_with", "max_secrets")) else 1
    pages = ErrorPages(apps.chained, "on", policy=Policy(**{limit: least}))
    body = page_body(pages, "text/html")
    assert "ValueError" in body
    with pytest.raises(ConfigurationError, match=rf"^Policy\({limit}={least - 1}\)"):
        Policy(**{limit: least - 1})


def test_the_smallest_page_limit_still_sends_a_page_with_the_reference() -> None:
    pages = ErrorPages(apps.plain, "on", policy=Policy(max_page_bytes=1))
    body = page_body(pages, "text/plain")
    assert body.startswith("500 Internal Server Error\nReference: ")


def test_the_configuration_is_checked_before_the_mode_is_announced(records: Any) -> None:
    with pytest.raises(ConfigurationError):
        ErrorPages(apps.ok_app, "on", template_dirs="nowhere")
    assert records() == []  # no "mode on" line for a middleware that never existed


# --- real servers, under their default lifespan settings ------------------------------------

MAIN = """
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from debugpages import ASGIErrorPages

app = Starlette(routes=[Route("/", lambda request: PlainTextResponse("ok"))])
app.add_middleware(ASGIErrorPages)
"""


def run_server(
    argv: list[str], cwd: Path, env: dict[str, str], seconds: float = 10
) -> tuple[int | None, str, float]:
    """Start a server in its own process group; its exit status (None: still running after
    ``seconds``), output and time taken. The group is killed whatever happens."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **env}
    started = time.monotonic()
    process = subprocess.Popen(
        argv, cwd=cwd, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        output, _ = process.communicate(timeout=seconds)
        return process.returncode, output.decode("utf-8", "replace"), time.monotonic() - started
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate(timeout=10)
        return None, output.decode("utf-8", "replace"), time.monotonic() - started
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def server_argv(server: str, port: int) -> list[str]:
    if server == "uvicorn":
        return [sys.executable, "-m", "uvicorn", "main:app", "--port", str(port)]
    workers = server.removeprefix("hypercorn")
    argv = [sys.executable, "-m", "hypercorn", "main:app", "-b", f"127.0.0.1:{port}"]
    return argv + (["-w", workers.strip(" -w")] if workers else [])


@pytest.mark.parametrize("server", ["uvicorn", "hypercorn", "hypercorn -w 0"])
def test_a_bad_debugpages_stops_a_real_server_with_the_message(server: str, tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(MAIN)
    code, output, seconds = run_server(
        server_argv(server, free_port()), tmp_path, {"DEBUGPAGES": "onn"}
    )
    assert code is not None, f"{server} kept serving with DEBUGPAGES=onn:\n{output}"
    assert seconds < 10
    assert f"debugpages: {ONN}" in output
    if server == "hypercorn":
        # hypercorn 0.18 exits 0 when its worker dies at start-up, whatever the cause (its
        # run.py reads the exit codes of workers it has already removed): it stops, though.
        assert code == 0
    else:
        assert code != 0


def test_a_good_configuration_serves_on_uvicorn(tmp_path: Path) -> None:
    """The control: the same app with a good DEBUGPAGES keeps running."""
    (tmp_path / "main.py").write_text(MAIN)
    argv = server_argv("uvicorn", free_port())
    code, output, _ = run_server(argv, tmp_path, {"DEBUGPAGES": "on"}, seconds=4)
    assert code is None, output
    assert "Application startup complete" in output


# --- whatever is passed: the middleware, or a ConfigurationError ---------------------------

ANY_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
    st.binary(max_size=8), st.lists(st.one_of(st.text(max_size=8), st.integers()), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
    st.tuples(st.text(max_size=8), st.text(max_size=8)), st.sampled_from(list(Mode)),
    st.builds(Path, st.text(max_size=10)),
)  # fmt: skip
ARGUMENTS = [
    "mode", "template_dirs", "policy", "editor", "default", "fill_empty_errors", "sensitive",
    "allow",
]  # fmt: skip


def built(build: Callable[[], object]) -> tuple[object, str | None]:
    """What ``build`` made, or the message of its ``ConfigurationError`` (anything else raises)."""
    try:
        return build(), None
    except ConfigurationError as error:
        return None, str(error)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ARGUMENTS), ANY_VALUE)
def test_any_value_of_any_argument_builds_or_is_a_configuration_error(
    argument: str, value: object
) -> None:
    pages, error = built(lambda: ErrorPages(apps.plain, **{argument: value}))
    if error is not None:
        assert repr(value)[:20] in error or argument in error
        return
    assert isinstance(pages, ErrorPages)
    body = page_body(pages, "text/html")  # what was accepted also gives a page
    assert body.startswith("<!doctype html>")
    assert "javascript:" not in body.lower()


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([f.name for f in dataclasses.fields(Policy) if f.init]), ANY_VALUE)
def test_any_value_of_any_limit_makes_a_policy_or_is_a_configuration_error(
    limit: str, value: object
) -> None:
    policy, error = built(lambda: Policy(**{limit: value}))
    if error is not None:
        assert error.startswith((f"Policy({limit}=", "Policy.sensitive"))
        return
    assert isinstance(policy, Policy)
    assert page_body(ErrorPages(apps.plain, "on", policy=policy), "text/plain")


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["MODE", "TEMPLATE_DIRS", "FOLLOW_DEBUG"]), ANY_VALUE)
def test_any_value_of_any_django_key_builds_or_is_a_configuration_error(
    key: str, value: object
) -> None:
    _, error = built(django(DEBUGPAGES={key: value}))
    assert error is None or f"settings.DEBUGPAGES['{key}']" in error

"""The ``debugpages`` command: serve, check, preview, --help and --version."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from debugpages import __version__, cli

from .conftest import Fetched, fetch
from .processes import Child, run

SHOP = """
def parse_price(text):
    sauce = "tomato-1234"
    return float(text) * len(sauce)


def app(environ, start_response):
    parse_price("{message}")
    return []


def create_app():
    return app


not_an_app = 42
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding ``shop.py``, a WSGI app that fails; the current folder."""
    (tmp_path / "shop.py").write_text(SHOP.format(message="two euros"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    return tmp_path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``debugpages serve`` in a process group of its own, on a free port of 127.0.0.1."""

    def __init__(self, folder: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        environ = {k: v for k, v in os.environ.items() if k != "DEBUGPAGES"}
        self.child = Child(
            [sys.executable, "-m", "debugpages", "serve", *args, "--port", str(self.port)],
            cwd=folder,
            env={**environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        self.process = self.child.process
        self.banner = self.child.readline()

    def get(self, path: str = "/", accept: str = "text/plain") -> Fetched:
        """The page at ``path``, retried while the server (re)starts and cuts connections."""
        for _ in range(100):
            try:
                return fetch(self.base, path, {"Accept": accept})
            except (OSError, http.client.HTTPException):  # refused, reset, cut mid-response
                time.sleep(0.1)
        raise AssertionError(f"nothing answers on {self.base}")

    def stop(self) -> str:
        """Ctrl-C, as a terminal sends it: to the whole group."""
        return self.child.stop(signal.SIGINT)


@pytest.fixture
def server(project: Path) -> Iterator[Any]:
    started: list[Server] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Server:
        started.append(Server(project, *args, env=env))
        return started[-1]

    yield start
    for one in started:
        one.child.kill()


def test_serve_shows_tracebacks_by_default_and_stops_cleanly_on_ctrl_c(server: Any) -> None:
    running = server("shop:app")
    assert running.banner.strip() == (
        f"debugpages: serving shop:app on http://127.0.0.1:{running.port}/ in mode on "
        "(from default); Ctrl-C stops it"
    )
    page = running.get()
    assert page.status == 500
    assert "in parse_price\n    return float(text) * len(sauce)\n" in page.text
    output = running.stop()
    assert running.process.returncode == 0
    assert "Traceback" not in output.split("ValueError: could not convert")[-1]
    assert output.rstrip().endswith("debugpages: stopped")
    assert "WARNING debugpages: mode on (from default)\n" in output  # named once, not twice


FLASK_SHOP = """
from flask import Flask

import debugpages.flask

app = Flask(__name__)


@app.get("/")
def fail():
    raise ValueError("two euros")


debugpages.flask.init_app(app{options})
"""


@pytest.mark.parametrize(
    ("options", "warned"), [("", True), (", mode='on'", False), (", mode='legacy-200'", True)]
)
def test_serve_warns_when_the_app_already_wraps_itself_in_another_mode(
    options: str, warned: bool, server: Any, project: Path
) -> None:
    (project / "flaskshop.py").write_text(FLASK_SHOP.format(options=options))
    running = server("flaskshop:app")
    page = running.get()
    output = running.stop()
    inner = "legacy-200" if "legacy" in options else "off" if not options else "on"
    warning = (
        f"debugpages serve: warning: flaskshop:app already wraps itself in debugpages, in "
        f"mode {inner}: its pages answer first, so failures get mode {inner}'s page, not on's; "
        "choose the mode where the app sets up debugpages (mode=, DEBUGPAGES)"
    )
    assert (warning in output) is warned, output
    assert ("two euros" in page.text) is (inner != "off")  # the inner mode answered


@pytest.mark.parametrize(
    ("args", "env", "status", "shown"),
    [
        (["shop:create_app()"], {}, 500, True),
        (["shop:app"], {"DEBUGPAGES": "off"}, 500, False),
        (["shop:app", "--mode", "legacy-200"], {"DEBUGPAGES": "off"}, 200, True),
        (["shop:app", "--mode", "off"], {}, 500, False),
    ],
)
def test_serve_takes_the_mode_from_the_option_then_debugpages_then_on(
    server: Any, args: list[str], env: dict[str, str], status: int, shown: bool
) -> None:
    running = server(*args, env=env)
    page = running.get()
    assert page.status == status
    assert ("return float(text) * len(sauce)" in page.text) is shown


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("nosuchshop:app", "no module named 'nosuchshop' (from 'nosuchshop:app')"),
        ("shop:nothing", "module 'shop' has no attribute 'nothing' (from 'shop:nothing')"),
        ("shop:not_an_app", "'shop:not_an_app' is a int, not a WSGI application"),
        ("shop app", "'shop app' is not MODULE:APP (e.g. myapp:app or myapp:create_app())"),
    ],
)
def test_a_bad_target_is_one_line_naming_what_was_not_found(
    project: Path, capsys: pytest.CaptureFixture[str], target: str, message: str
) -> None:
    assert cli.main(["serve", target]) == 2
    err = capsys.readouterr().err
    assert err == f"debugpages serve: error: {message}\n"


@pytest.mark.parametrize(
    ("command", "how"),
    [(["serve", "shop:app"], "--port"), (["demo"], "--port (make demo PORT=8000)")],
)
def test_a_busy_port_is_one_line_naming_it_and_how_to_pick_another(
    project: Path, command: list[str], how: str
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = Child([sys.executable, "-m", "debugpages", *command, "--port", str(port)])
        try:
            output, _ = busy.process.communicate(timeout=30)
        finally:
            busy.kill()
    assert busy.process.returncode == 2
    assert output == (
        f"debugpages {command[0]}: error: port {port} is in use on 127.0.0.1: "
        f"pick another with {how}\n"
    )


def test_a_typo_in_debugpages_is_one_line_too(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEBUGPAGES", "onn")
    assert cli.main(["serve", "shop:app"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "DEBUGPAGES='onn'" in err


def test_an_app_whose_own_import_fails_shows_its_traceback(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "broken.py").write_text("import nosuchdependency\napp = None\n")
    assert cli.main(["serve", "broken:app"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert "No module named 'nosuchdependency'" in err
    assert err.endswith("debugpages serve: error: importing 'broken:app' failed\n")


@pytest.mark.parametrize(
    ("host", "mode", "warned"),
    [("0.0.0.0", "on", True), ("::", "legacy-200", True), ("0.0.0.0", "off", False),
     ("127.0.0.1", "on", False), ("localhost", "on", False), ("::1", "on", False)],
)  # fmt: skip
def test_binding_beyond_loopback_with_tracebacks_warns_in_one_line(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    host: str,
    mode: str,
    warned: bool,
) -> None:
    # Binding a public address is not something a test may do here: the server, and the
    # look at whether its port is free, are left out.
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(cli, "_check_port", lambda *args: None)
    monkeypatch.setattr(cli, "_run", lambda *args, **kwargs: calls.append(args))
    assert cli.main(["serve", "shop:app", "--host", host, "--mode", mode]) == 0
    assert calls[0][:2] == (host, 5000)
    err = capsys.readouterr().err
    assert (f"debugpages: warning: mode {mode} shows tracebacks" in err) is warned
    assert err.count("\n") == int(warned)


def test_reload_restarts_the_app_when_its_source_changes(project: Path, server: Any) -> None:
    running = server("shop:app", "--reload")
    assert "two euros" in running.get().text
    (project / "shop.py").write_text(SHOP.format(message="three euros"))
    deadline = time.monotonic() + 20
    while "three euros" not in running.get().text:
        assert time.monotonic() < deadline, "the reloader did not pick up the change"
        time.sleep(0.1)
    running.stop()
    assert running.process.returncode == 0


BROKEN_SHOP = """
def parse_price(text):
    return float(text

def app(environ, start_response):
    return []
"""


def _edit(path: Path, text: str, tick: int) -> None:
    """Write ``text``, its time moved on by ``tick`` seconds: a change the reloader sees."""
    path.write_text(text)
    later = time.time() + tick
    os.utime(path, (later, later))


def _until(check: Any, what: str, seconds: float = 30) -> Any:
    """Poll ``check`` until it returns something true; fail naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, f"{what} within {seconds} s"
        time.sleep(0.2)
    return found


def test_reload_serves_a_broken_edits_traceback_and_the_app_again_once_fixed(
    project: Path, server: Any
) -> None:
    running = server("shop:app", "--reload")
    assert "two euros" in running.get().text
    _edit(project / "shop.py", BROKEN_SHOP, 2)
    page = _until(
        lambda: (got := running.get()).status == 500 and "SyntaxError" in got.text and got,
        "the broken edit's page",
    )
    assert "SyntaxError: '(' was never closed" in page.text
    assert 'shop.py", line 3\n    return float(text\n                ^\n' in page.text
    html = running.get(accept="text/html")
    assert html.status == 500
    assert 'File <code class="path"' in html.text
    assert ">shop.py</code>, line 3</p>" in html.text
    problem = running.get(accept="application/json")
    assert problem.status == 500
    assert json.loads(problem.text)["exception"]["syntax"]["line"] == 3
    assert running.process.poll() is None  # the reloader still runs, and watches
    _edit(project / "shop.py", SHOP.format(message="three euros"), 4)
    _until(lambda: "three euros" in running.get().text, "the fixed app")
    output = running.stop()
    assert running.process.returncode == 0
    assert "importing 'shop:app' failed; every request gets that failure's page" in output


GOOD_SHOP = """
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"fine"]
"""


def test_reload_in_off_sends_the_canonical_page_while_an_edit_breaks_the_app(
    project: Path, server: Any
) -> None:
    (project / "shop.py").write_text(GOOD_SHOP)
    running = server("shop:app", "--reload", "--mode", "off")
    assert running.get().text == "fine"
    _edit(project / "shop.py", BROKEN_SHOP, 2)
    _until(lambda: running.get().status == 500, "the broken edit's page")
    for accept in ("text/plain", "text/html", "application/json"):
        page = running.get(accept=accept)
        assert page.status == 500
        assert "SyntaxError" not in page.text
        assert "shop.py" not in page.text
    _edit(project / "shop.py", GOOD_SHOP, 4)
    _until(lambda: running.get().text == "fine", "the fixed app")
    running.stop()


def test_a_reloader_whose_parent_was_killed_is_stopped_with_its_whole_group(
    server: Any,
) -> None:
    # The reloader's parent dies the hard way; its child, the server, keeps the output pipe
    # open. Stopping must still end within its bound and leave no process of the group.
    running = server("shop:app", "--reload")
    assert "two euros" in running.get().text
    os.kill(running.process.pid, signal.SIGKILL)
    assert running.get().status == 500  # the orphaned child still serves
    started = time.monotonic()
    running.child.kill(wait=5)
    assert time.monotonic() - started < 10
    assert not running.child.alive()


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        cli.main(["--version"])
    assert exit.value.code == 0
    assert capsys.readouterr().out == f"debugpages {__version__}\n"


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ([], ["serve", "check", "preview", "demo", "--version"]),
        (["serve"], ["--host", "--port", "--reload", "--mode", "MODULE:APP"]),
        (["check"], ["--template-dir"]),
        (["preview"], ["STATUS", "--mode", "--format", "--template-dir"]),
        (["demo"], ["--host", "--port"]),
    ],
)
def test_help_on_each_command(
    capsys: pytest.CaptureFixture[str], command: list[str], options: list[str]
) -> None:
    with pytest.raises(SystemExit) as exit:
        cli.main([*command, "--help"])
    assert exit.value.code == 0
    out = capsys.readouterr().out
    for option in options:
        assert option in out


# --- check ------------------------------------------------------------------------------


def test_check_passes_on_the_built_in_templates(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check"]) == 0
    assert capsys.readouterr().out.startswith("debugpages check: no problems in ")


def _json_error(text: str) -> str:
    """What this Python's json module says of ``text``."""
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        return str(error)
    raise AssertionError(f"{text!r} is valid JSON")


BAD_TEMPLATES = {
    "reaches_for_the_error": (
        "500.txt",
        "Sorry: {{ page.error.exception.message }}\n",
        "500.txt:1 (off, text): the user's template 500.txt failed to render: UndefinedError",
    ),
    "fails_on_its_third_line": (
        "500.html",
        '{% extends "error.html" %}\n{% block message %}\n<p>{{ page.nope }}</p>\n{% endblock %}\n',
        "500.html:3 (off, html): the user's template 500.html failed to render: UndefinedError: "
        "'debugpages.model.Page object' has no attribute 'nope'",
    ),
    "shows_the_time": (
        "500.html",
        "<p>{{ page.reference }} at {{ page.time }}</p>\n",
        "500.html (off, html): shows more than status, title and reference (line 1:",
    ),
    "does_not_escape": (
        "404.html",
        "<p>{{ page.description | safe }}</p>\n",
        "404.html (off, html): shows unescaped HTML from the request or the error",
    ),
    "does_not_parse": (
        "traceback.json",
        '{"status": 500,\n "title": {{ page.title }\n',
        "traceback.json:2 (on, json): the user's template traceback.json failed to render: "
        "TemplateSyntaxError",
    ),
    "renders_invalid_json": (
        "500.json",
        '{\n  "status": {{ page.status }},\n}\n',
        # In the running Python's words: 3.13 names the trailing comma, 3.11 what it expected.
        "500.json (off, json): renders invalid JSON ("
        + _json_error('{\n  "status": 500,\n}\n')
        + ", in the output)",
    ),
    "escapes_plain_text": (
        "error.txt",
        "{{ page.title }}: {{ page.description | e }}\n",
        "error.txt (off, text): renders HTML-escaped text "
        "(&lt;script&gt;debugpagesUnescaped()&lt;/script&gt;): a text page shows text as it is "
        "(no |e, no |escape)",
    ),
    "shows_secrets": (
        "traceback.txt",
        "{{ page.error.request.url }} {{ page.error.request.query }}\n",
        "",  # masked by the policy: a template cannot unmask what it never receives
    ),
    "static_text_is_fine": (
        "500.json",
        '{"title": {{ page.title | tojson }}, "status": {{ page.status }}, '
        '"instance": {{ page.instance | tojson }}, "help": "mail ops@example.org"}\n',
        "",
    ),
    "plain_text_as_it_is_is_fine": ("error.txt", "{{ page.title }}: {{ page.description }}\n", ""),
}


@pytest.mark.parametrize("case", BAD_TEMPLATES)
def test_check_reports_what_is_wrong_with_a_users_template(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    name, text, problem = BAD_TEMPLATES[case]
    (tmp_path / name).write_text(text)
    status = cli.main(["check", "--template-dir", str(tmp_path)])
    out = capsys.readouterr().out
    if not problem:
        assert (status, out.count("FAIL")) == (0, 0), out
        return
    assert status == 1
    assert f"FAIL {tmp_path}/{problem}" in out, out


def test_check_names_a_template_by_its_path_from_the_current_folder(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "mine").mkdir()
    (project / "mine" / "500.txt").write_text("Sorry.\n{{ page.nope }}\n")
    assert cli.main(["check", "--template-dir", "mine"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("FAIL mine/500.txt:2 (off, text): the user's template 500.txt failed")


def test_check_finds_templates_for_other_statuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "418.txt").write_text("{{ page.mystery }}\n")
    assert cli.main(["check", "--template-dir", str(tmp_path)]) == 1
    assert f"FAIL {tmp_path / '418.txt'}:1 (off, text)" in capsys.readouterr().out


def test_check_of_a_folder_that_does_not_exist_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["check", "--template-dir", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err == (
        f"debugpages check: error: --template-dir: '{tmp_path}/nowhere' is not a folder "
        f"(looked for {tmp_path}/nowhere)\n"
    )
    assert cli.main(["preview", "500", "--template-dir", "nowhere"]) == 2
    assert capsys.readouterr().err == (
        "debugpages preview: error: --template-dir: 'nowhere' is not a folder (looked for "
        f"{Path.cwd()}/nowhere, from the current folder {Path.cwd()})\n"
    )


# --- preview ----------------------------------------------------------------------------


def test_preview_prints_the_production_page_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["preview", "500"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("<!doctype html>")
    assert "Internal Server Error" in out
    assert "Traceback" not in out


def test_preview_in_on_shows_a_sample_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["preview", "500", "--mode", "on", "--format", "text"]) == 0
    out = capsys.readouterr().out
    assert "Traceback (most recent call last)" in out
    assert "RuntimeError: could not ship order 7" in out
    assert "hunter2" not in out  # the sample's password is masked like any other


def test_preview_of_a_404_as_problem_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["preview", "404", "--format", "json"]) == 0
    problem = json.loads(capsys.readouterr().out)
    assert (problem["status"], problem["title"]) == (404, "Not Found")


def test_preview_uses_the_users_templates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "500.txt").write_text("Our own words. {{ page.reference }}\n")
    assert cli.main(["preview", "500", "--format", "text", "--template-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("Our own words. ")


def test_preview_of_a_template_that_fails_exits_1_and_says_the_fallback_was_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "500.html").write_text("<p>\n{{ page.nope }}</p>\n")
    assert cli.main(["preview", "500", "--template-dir", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("<!doctype html>")  # the built-in page, which a client would get
    assert err == (
        f"debugpages preview: error: {tmp_path}/500.html:2: the user's template 500.html "
        "failed to render: UndefinedError: 'debugpages.model.Page object' has no attribute "
        "'nope'\ndebugpages preview: the page above is the fallback, not yours\n"
    )


def test_preview_of_a_success_status_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["preview", "200"]) == 2
    assert "400 to 599" in capsys.readouterr().err


def test_the_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("debugpages")
    assert run([str(script), "--version"]) == f"debugpages {__version__}\n"

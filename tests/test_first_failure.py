"""The first failure of a fresh process: nothing imported or compiled on its path, the
same page as a warm process's, and what ``import debugpages`` leaves out.

Each check runs in fresh Python processes (``processes.run``), because only a fresh
process shows what is loaded, compiled and imported the first time. Nothing is timed
here: the times are ``make bench``'s.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT
from .pages import comparable
from .processes import run

# A fresh process that builds ErrorPages for every mode, then fails once per mode and
# format (WSGI and ASGI, an unhandled exception and an HTTP error), and reports for each
# page: its body, its reference, and the modules imported while it was made.
SCRIPT = textwrap.dedent(
    """
    import asyncio, json, logging, sys
    from werkzeug.exceptions import NotFound
    from werkzeug.test import Client
    import debugpages.render
    if sys.argv[1]:
        from pathlib import Path
        debugpages.render.BUILTIN_TEMPLATES = Path(sys.argv[1])
    from debugpages import ASGIErrorPages, ErrorPages
    import jinja2

    compiled = []
    compile_template = jinja2.Environment.compile

    def counting(self, source, name=None, filename=None, *args, **kwargs):
        compiled.append(name)
        return compile_template(self, source, name, filename, *args, **kwargs)

    jinja2.Environment.compile = counting
    references = []

    class Keep(logging.Handler):
        def emit(self, record):
            if getattr(record, "reference", "-") != "-":
                references.append(record.reference)

    logger = logging.getLogger("debugpages")
    logger.addHandler(Keep())
    logger.setLevel(logging.INFO)
    logger.propagate = False

    def parse_order(raw):
        quantity = int(raw)
        return {"quantity": quantity}

    def failing(environ, start_response):
        parse_order("twelve")

    def missing(environ, start_response):
        raise NotFound()

    async def failing_asgi(scope, receive, send):
        parse_order("twelve")

    FORMATS = {"html": "text/html", "text": "text/plain", "json": "application/json"}
    MODES = ("off", "on", "legacy-200")
    wsgi = {(m, app.__name__): ErrorPages(app, mode=m) for m in MODES for app in (failing, missing)}
    asgi = {m: ASGIErrorPages(failing_asgi, mode=m) for m in MODES}
    at_start = list(compiled)

    async def asgi_page(app, accept):
        sent = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "GET", "scheme": "http", "path": "/orders/7", "raw_path": b"/orders/7",
            "query_string": b"", "root_path": "", "client": ("127.0.0.1", 5000),
            "server": ("localhost", 80),
            "headers": [(b"host", b"localhost"), (b"accept", accept.encode())],
        }
        await app(scope, receive, send)
        return b"".join(m.get("body", b"") for m in sent).decode()

    pages = {}
    for round in ("first", "second"):
        for (mode, name), app in wsgi.items():
            for fmt, accept in FORMATS.items():
                before = set(sys.modules)
                body = Client(app).get("/orders/7", headers={"Accept": accept}).get_data(True)
                new = sorted(set(sys.modules) - before)
                pages[f"{round} wsgi {name} {mode} {fmt}"] = (body, references[-1], new)
        for mode, app in asgi.items():
            for fmt, accept in FORMATS.items():
                before = set(sys.modules)
                body = asyncio.run(asgi_page(app, accept))
                new = sorted(set(sys.modules) - before)
                pages[f"{round} asgi failing {mode} {fmt}"] = (body, references[-1], new)
    print(json.dumps({"pages": pages, "compiled_at_start": at_start, "compiled": compiled}))
    """
)


def fresh_process(tmp: Path, templates: Path | None = None) -> dict[str, Any]:
    """Run ``SCRIPT`` in a new process whose temp folder (and so Jinja's cache) is ``tmp``."""
    env = {**os.environ, "TMPDIR": str(tmp)}
    env.pop("DEBUGPAGES", None)
    argv = [sys.executable, "-c", SCRIPT, str(templates or "")]
    result: dict[str, Any] = json.loads(run(argv, env=env).splitlines()[-1])
    return result


def pages(result: dict[str, Any], round: str) -> dict[str, str]:
    """The pages of one round, comparable, by (adapter, app, mode, format)."""
    return {
        key.split(" ", 1)[1]: comparable(body, reference)
        for key, (body, reference, _) in result["pages"].items()
        if key.startswith(round + " ")
    }


@pytest.fixture(scope="module")
def cold_then_warm(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    """A process that meets an empty template cache, then one that finds it filled."""
    tmp = tmp_path_factory.mktemp("tmp")
    return fresh_process(tmp), fresh_process(tmp)


def test_the_first_failure_imports_nothing(cold_then_warm: tuple[Any, Any]) -> None:
    for result in cold_then_warm:
        imported = {key: new for key, (_, _, new) in result["pages"].items() if new}
        assert imported == {}


def test_the_first_failure_compiles_no_template(cold_then_warm: tuple[Any, Any]) -> None:
    cold, warm = cold_then_warm
    assert "traceback.html" in cold["compiled_at_start"]  # an empty cache: compiled at start
    assert cold["compiled"] == cold["compiled_at_start"]  # ... and never on a failure's path
    assert warm["compiled"] == []  # the next process loads them from Jinja's cache


def test_a_fresh_process_sends_the_same_pages_as_a_warm_one(
    cold_then_warm: tuple[Any, Any],
) -> None:
    cold, warm = cold_then_warm
    first = pages(cold, "first")
    assert len(first) == 3 * 3 * 3  # modes x formats x (WSGI, ASGI, HTTP error)
    assert pages(cold, "second") == first
    assert pages(warm, "first") == first
    assert pages(warm, "second") == first
    assert "parse_order" in first["wsgi failing on html"]  # the traceback page itself
    assert "parse_order" not in first["wsgi failing off html"]


def test_a_changed_built_in_template_is_never_served_from_the_cache(tmp_path: Path) -> None:
    from debugpages.render import BUILTIN_TEMPLATES

    templates = tmp_path / "templates"
    shutil.copytree(BUILTIN_TEMPLATES, templates)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    before = fresh_process(tmp, templates)["pages"]["first wsgi failing off text"][0]
    page = templates / "500.txt"
    page.write_text(page.read_text().replace("please quote", "kindly quote"))  # a new install
    after = fresh_process(tmp, templates)
    assert "please quote the reference" in before
    assert "kindly quote the reference" in after["pages"]["first wsgi failing off text"][0]
    assert after["compiled_at_start"] == ["500.txt"]  # the others came from the cache


SHOW = "import sys; print(' '.join(sorted(sys.modules)))"
IMPORTED = "import debugpages; " + SHOW
BUILT = "from debugpages import ErrorPages; ErrorPages(print, mode='on'); " + SHOW


def test_import_debugpages_leaves_out_frameworks_integrations_and_the_pipeline() -> None:
    loaded = set(run([sys.executable, "-c", IMPORTED]).split())
    assert {"debugpages.wsgi", "debugpages.asgi"} <= loaded  # the middleware classes are there
    left_out = {
        "flask", "django", "starlette", "fastapi", "opentelemetry", "jinja2", "importlib.metadata",
        "debugpages.cli", "debugpages.flask", "debugpages.django", "debugpages.check",
        "debugpages.demo", "debugpages.templating",
        "debugpages.respond", "debugpages.capture", "debugpages.report",  # built with a middleware
    }  # fmt: skip
    assert loaded & left_out == set()


def test_building_error_pages_loads_what_a_failure_needs() -> None:
    loaded = set(run([sys.executable, "-c", BUILT]).split())
    assert {"jinja2", "debugpages.templating", "debugpages.respond", "werkzeug.wrappers"} <= loaded
    left_out = {"flask", "django", "starlette", "debugpages.cli", "opentelemetry"}
    assert loaded & left_out == set()  # OpenTelemetry: only if the application imports it


def test_a_new_error_pages_compiles_no_built_in_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jinja2

    from debugpages import ErrorPages

    from . import apps

    ErrorPages(apps.plain, mode="on")  # the process's first: loaded or compiled once
    compiled: list[str | None] = []
    compile_template = jinja2.Environment.compile

    def counting(self: jinja2.Environment, source: str, name: str | None = None, *a: Any) -> Any:
        compiled.append(name)
        return compile_template(self, source, name, *a)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    (tmp_path / "404.html").write_text("<p>Not here: {{ page.reference }}</p>")
    for mode in ("off", "on", "legacy-200"):
        ErrorPages(apps.plain, mode=mode)
        ErrorPages(apps.plain, mode=mode, template_dirs=[tmp_path])  # falls back on built-ins
    assert compiled == ["404.html"] * 3  # the user's own, one environment per ErrorPages


def test_an_unusable_cache_folder_costs_a_compile_at_start_up_and_nothing_else(
    tmp_path: Path, cold_then_warm: tuple[Any, Any]
) -> None:
    (tmp_path / f"_jinja2-cache-{os.getuid()}").write_text("not a folder")  # Jinja refuses it
    result = fresh_process(tmp_path)
    assert "traceback.html" in result["compiled_at_start"]
    assert result["compiled"] == result["compiled_at_start"]
    assert {key: new for key, (_, _, new) in result["pages"].items() if new} == {}
    assert pages(result, "first") == pages(cold_then_warm[0], "first")


def test_a_corrupt_cache_file_is_compiled_again_and_replaced(
    tmp_path: Path, cold_then_warm: tuple[Any, Any]
) -> None:
    fresh_process(tmp_path)  # fills the cache
    folder = tmp_path / f"_jinja2-cache-{os.getuid()}"
    entries = sorted(folder.glob("__debugpages_*.cache"))
    assert entries
    for number, entry in enumerate(entries):  # garbage, truncated, empty
        entry.write_bytes([b"\x00garbage" * 50, entry.read_bytes()[:40], b""][number % 3])
    result = fresh_process(tmp_path)
    assert len(result["compiled_at_start"]) == len(entries)
    assert pages(result, "first") == pages(cold_then_warm[0], "first")
    assert fresh_process(tmp_path)["compiled"] == []  # written anew, whole


FRAMEWORKS = textwrap.dedent(
    """
    import json, logging, sys
    logging.getLogger("debugpages").disabled = True
    logging.getLogger("django").disabled = True
    from flask import Flask
    import debugpages.flask
    from tests import django_site
    from django.test import Client

    flask_app = Flask("shop")

    @flask_app.route("/fail")
    def fail():
        return {"in stock": 1}["out of stock"]

    debugpages.flask.init_app(flask_app, mode=sys.argv[1])
    flask_client, django_client = flask_app.test_client(), Client(raise_request_exception=False)
    django_client.get("/ok")  # Django builds its middleware on its first request
    imported = {}
    for name, get in (("flask", flask_client.get), ("django", django_client.get)):
        for accept in ("text/html", "application/json", "text/plain"):
            before = set(sys.modules)
            status = get("/fail", headers={"Accept": accept}).status_code
            imported[f"{name} {accept} {status}"] = sorted(set(sys.modules) - before)
    print(json.dumps(imported))
    """
)


@pytest.mark.parametrize("mode", ["off", "on"])
def test_the_first_failure_in_flask_and_django_imports_nothing(mode: str) -> None:
    env = {**os.environ, "DEBUGPAGES": mode}
    output = run([sys.executable, "-c", FRAMEWORKS, mode], env=env, cwd=ROOT)
    imported = json.loads(output.splitlines()[-1])
    assert len(imported) == 6
    assert all(key.endswith(" 500") for key in imported)
    assert {key: new for key, new in imported.items() if new} == {}

"""Logging that works with no set-up, and the README's set-ups, run as the README gives them.

debugpages' records carry every field its documented formats use; with nothing set up they
reach the error log of gunicorn and uvicorn (time, level, the server's ``--log-level``).
"""

from __future__ import annotations

import logging
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.test import Client

from debugpages import ErrorPages

from . import apps
from .conftest import fetch
from .frameworks import running
from .test_readme import blocks

LOGGING = [block for block in blocks() if block.section == "Logging"]
BROKEN = "{{ page.no_such_field }}\n"  # fails to render: StrictUndefined

MYAPP = """
from debugpages import ErrorPages


def failing(environ, start_response):
    raise ValueError("two euros")


app = ErrorPages(failing)
"""

MAIN = """
from starlette.applications import Starlette
from starlette.routing import Route

from debugpages import ASGIErrorPages


def fail(request):
    raise ValueError("two euros")


app = Starlette(routes=[Route("/fail", fail)])
app.add_middleware(ASGIErrorPages)
"""


def reference_in(page: str) -> str:
    """The reference a page shows (``Reference: X``, or ``quote the reference X.``)."""
    found = re.search(r"[Rr]eference:? ([\w-]{16})(?![\w-])", page)
    assert found is not None, page
    return found[1]


def readme_block(fragment: str, lang: str) -> str:
    [block] = [b for b in LOGGING if b.lang == lang and fragment in b.text]
    return block.text


@pytest.fixture
def fields() -> Iterator[list[str]]:
    """debugpages' records as a format naming every documented field prints them."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Keep()
    handler.setFormatter(
        logging.Formatter("%(levelname)s [%(reference)s %(method)s %(path)s %(mode)s] %(message)s")
    )
    logger = logging.getLogger("debugpages")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lines
    logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)


def test_every_record_of_debugpages_carries_the_documented_fields(
    fields: list[str], tmp_path: Path
) -> None:
    (tmp_path / "500.txt").write_text(BROKEN)
    pages = ErrorPages(apps.plain, "off", template_dirs=[tmp_path])
    body = Client(pages).get("/orders", headers={"Accept": "text/plain"}).text
    reference = reference_in(body)
    announced, failure, broken = fields
    assert announced == "INFO [- - - -] debugpages: mode off (from argument)"
    assert broken.startswith(f"ERROR [{reference} - - -] debugpages: the user's template")
    assert "jinja2.exceptions.UndefinedError" in broken  # the template's traceback is kept
    assert failure.startswith(f"ERROR [{reference} GET /orders off] ValueError on GET /orders")


def _script(setup: str) -> str:
    """The README's set-up, then what an app logs: debugpages' records and werkzeug's."""
    return setup + (
        "\nimport logging, sys, tempfile, pathlib\n"
        "from werkzeug.test import Client\n"
        "from debugpages import ErrorPages\n"
        "from tests import apps\n"
        "folder = pathlib.Path(tempfile.mkdtemp())\n"
        f"(folder / '500.txt').write_text({BROKEN!r})\n"
        "app = ErrorPages(apps.plain, 'off', template_dirs=[folder])\n"
        "body = Client(app).get('/orders', headers={'Accept': 'text/plain'}).text\n"
        "import re; print(re.search(r'[Rr]eference:? ([\\w-]{16})', body)[1])\n"
        "logging.getLogger('werkzeug').info('127.0.0.1 - - \"GET /orders HTTP/1.1\" 500 -')\n"
    )


@pytest.mark.parametrize("setup", [b.text for b in LOGGING if "basicConfig" in b.text])
def test_the_readmes_plain_logging_setups_print_every_record(setup: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _script(setup)], capture_output=True, text=True, timeout=60,
        check=True,
    )  # fmt: skip
    reference = done.stdout.strip()
    assert "--- Logging error ---" not in done.stderr
    assert re.search(r" INFO .*debugpages: mode off \(from argument\)", done.stderr)
    assert "the user's template 500.txt failed to render" in done.stderr
    assert "UndefinedError" in done.stderr
    assert f"ValueError on GET /orders (reference {reference})" in done.stderr
    assert 'werkzeug: 127.0.0.1 - - "GET /orders HTTP/1.1" 500 -' in done.stderr
    if "%(reference)s" in setup:
        assert f"[{reference}] debugpages: ValueError on GET /orders" in done.stderr


def test_a_format_with_the_fields_never_breaks_on_debugpages_records() -> None:
    setup = (
        'import logging\nlogging.basicConfig(format="%(levelname)s %(reference)s %(message)s")\n'
    )
    script = _script(setup).replace(
        "logging.getLogger('werkzeug')", "logging.getLogger('debugpages')"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert "--- Logging error ---" not in done.stderr
    assert f"ERROR {done.stdout.strip()} ValueError on GET /orders" in done.stderr


def _wait_for_line(path: Path, pattern: str, seconds: float = 10) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = path.read_text("utf-8", "replace") if path.exists() else ""
        if re.search(pattern, text, re.M):
            return text
        time.sleep(0.1)
    raise AssertionError(f"no line like {pattern!r} in {path}:\n{text}")


def _server_argv(command: str) -> list[str]:
    """A README command line, as ``python -m`` arguments, on a free port of 127.0.0.1."""
    argv = shlex.split(command.split("#")[0])
    if argv[0] == "gunicorn":
        return [*argv, "--no-control-socket", "-b", "127.0.0.1:{port}"]
    return [*argv, "--host", "127.0.0.1", "--port", "{port}"]


def test_gunicorn_with_nothing_set_up_logs_debugpages_in_its_error_log(tmp_path: Path) -> None:
    (tmp_path / "myapp.py").write_text(MYAPP)
    command = readme_block("--error-logfile errors.log", "sh")
    argv = _server_argv(command)
    with running(argv, tmp_path / "out.log", {"DEBUGPAGES": "off"}, cwd=tmp_path) as server:
        page = fetch(server.base, "/orders", {"Accept": "text/plain"})
        reference = reference_in(page.text)
        errors = _wait_for_line(tmp_path / "errors.log", rf"\(reference {reference}\)$")
    stamp = r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[\d+\] "
    assert re.search(stamp + r"\[INFO\] debugpages: mode off \(from DEBUGPAGES\)$", errors, re.M)
    line = stamp + rf"\[ERROR\] ValueError on GET /orders \(reference {reference}\)\nTraceback"
    assert re.search(line, errors, re.M), errors


def test_gunicorn_with_the_readmes_logconfig_dict_shows_the_reference(tmp_path: Path) -> None:
    (tmp_path / "myapp.py").write_text(MYAPP)
    (tmp_path / "gunicorn.conf.py").write_text(readme_block("logconfig_dict", "python"))
    argv = ["gunicorn", "-c", "gunicorn.conf.py", "myapp:app"]
    with running(
        _server_argv(" ".join(argv)), tmp_path / "out.log", {"DEBUGPAGES": "off"}, cwd=tmp_path
    ) as server:
        page = fetch(server.base, "/orders", {"Accept": "text/plain"})
        reference = reference_in(page.text)
        output = _wait_for_line(server.log, rf"\(reference {reference}\)$")
    assert "--- Logging error ---" not in output
    assert re.search(r"\[INFO\] \[-\] debugpages: mode off \(from DEBUGPAGES\)$", output, re.M)
    line = rf"\[ERROR\] \[{reference}\] ValueError on GET /orders \(reference {reference}\)$"
    assert re.search(line, output, re.M), output


def test_uvicorn_with_nothing_set_up_logs_debugpages_among_its_own(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(MAIN)
    argv = _server_argv(readme_block("uvicorn main:app", "sh"))
    with running(argv, tmp_path / "out.log", {"DEBUGPAGES": "off"}, cwd=tmp_path) as server:
        page = fetch(server.base, "/fail", {"Accept": "text/plain"})
        reference = reference_in(page.text)
        output = _wait_for_line(server.log, rf"\(reference {reference}\)$")
    assert re.search(r"^INFO: +debugpages: mode off \(from DEBUGPAGES\)$", output, re.M), output
    line = rf"^ERROR: +ValueError on GET /fail \(reference {reference}\)\nTraceback"
    assert re.search(line, output, re.M), output

"""The package as users get it: a wheel, installed in a fresh environment, outside the checkout."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT, fetch
from .frameworks import free_port
from .processes import Child, run

TEMPLATES = {p.name for p in (ROOT / "templates").iterdir() if p.is_file()}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(ROOT)],
        timeout=300,
    )  # fmt: skip
    (built,) = out.glob("debugpages-*.whl")
    return built


def test_the_wheel_ships_every_template_and_the_typing_marker(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for template in TEMPLATES:
        assert f"debugpages/templates/{template}" in names
    assert "debugpages/py.typed" in names
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    fields = (
        "License-Expression: BSD-3-Clause",
        "Requires-Python: >=3.11",
        "Requires-Dist: jinja2>=3.1",
        "Requires-Dist: werkzeug>=3.0",
        "Project-URL",
    )
    for field in fields:
        assert field in text


def test_an_installed_wheel_renders_pages_from_outside_the_checkout(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
        timeout=300,
    )
    script = textwrap.dedent(
        """
        import debugpages, json
        from werkzeug.test import Client
        def app(environ, start_response):
            raise KeyError("from the installed wheel")
        for mode in ("off", "on"):
            client = Client(debugpages.ErrorPages(app, mode=mode))
            r = client.get("/", headers={"Accept": "text/html"})
            print(mode, r.status_code, "<!doctype html>" in r.get_data(as_text=True),
                  "from the installed wheel" in r.get_data(as_text=True))
        print(debugpages.__file__)
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DEBUGPAGES")}
    lines = run([str(python), "-c", script], cwd=tmp_path, env=env).splitlines()
    assert lines[0] == "off 500 True False"
    assert lines[1] == "on 500 True True"
    assert lines[2].startswith(str(venv))  # the installed copy, not the checkout


def test_make_demo_installs_the_package_alone_and_serves_on_the_port_given(
    tmp_path: Path,
) -> None:
    venv, port = tmp_path / "venv", free_port()
    argv = ["make", "--no-print-directory", "-C", str(ROOT), "demo", f"PYTHON={sys.executable}"]
    demo = Child([*argv, f"VENV={venv}", f"PORT={port}"], env=_without("DEBUGPAGES"))
    try:
        deadline = time.monotonic() + 240  # a new environment: venv, then pip install -e .
        while True:
            with contextlib.suppress(OSError):
                page = fetch(f"http://127.0.0.1:{port}", "/on/plain", {"Accept": "text/plain"})
                break
            assert demo.process.poll() is None, demo.stop()
            assert time.monotonic() < deadline, demo.stop()
            time.sleep(0.2)
        assert page.status == 500
        assert "TypeError" in page.text
    finally:
        output = demo.stop(signal.SIGINT)
        demo.kill()
    assert f"debugpages demo on http://127.0.0.1:{port}/" in output
    installed = run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format=freeze"])
    names = {line.split("==")[0].lower() for line in installed.splitlines()}
    assert {"debugpages", "werkzeug", "jinja2"} <= names
    assert not names & {"pytest", "playwright", "mypy", "ruff", "django", "flask", "hypothesis"}


def _without(name: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != name}

"""What keeps tests apart and bounded: memos emptied before each test, no other state that
fills up while pages are made, and a hanging test turned into a failure."""

from __future__ import annotations

import sys
import textwrap
import time
import weakref
from pathlib import Path
from typing import Any

from werkzeug.test import Client

from debugpages import ErrorPages

from .conftest import ROOT, memos
from .processes import Child

CONTAINERS = (dict, list, set, weakref.WeakKeyDictionary, weakref.WeakValueDictionary)


def _fill(size: Any) -> int:
    return size.cache_info().currsize if hasattr(size, "cache_info") else len(size)


def _fail_freshly(folder: Path, tag: str) -> None:
    """Pages for a failure nothing has seen: new file, new code, new URL, new headers."""
    source = folder / f"fresh_{tag}.py"
    source.write_text(
        textwrap.dedent(
            f"""
            def app(environ, start_response):
                token_{tag} = "secret-{tag}-value"
                return [b"%d" % ({{}}["{tag}"],)]
            """
        )
    )
    scope: dict[str, Any] = {}
    exec(compile(source.read_text(), str(source), "exec"), scope)
    accepts = ("text/html", "application/json", "text/plain", f"text/x-{tag};q=0.9, */*;q=0.1")
    for mode in ("off", "on"):
        client = Client(ErrorPages(scope["app"], mode=mode))
        for accept in accepts:
            response = client.get(
                f"/{tag}/{mode}?api_key={tag}",
                headers={"Accept": accept, "Cookie": f"session={tag}", "Host": f"{tag}.test"},
            )
            assert response.status_code == 500


def test_making_pages_fills_memos_that_the_fixture_finds(tmp_path: Path) -> None:
    _fail_freshly(tmp_path, "fills")
    found = memos()
    assert any(hasattr(memo, "cache_info") for memo in found)  # functools caches...
    assert all(isinstance(memo, dict) or hasattr(memo, "cache_info") for memo in found)
    assert sum(_fill(memo) for memo in found) > 0


def test_every_memo_is_empty_when_a_test_starts() -> None:
    # The test before this one filled them; the autouse fixture emptied them.
    assert {f"{memo!r}": _fill(memo) for memo in memos() if _fill(memo)} == {}


def test_no_state_but_memos_changes_while_pages_are_made(tmp_path: Path) -> None:
    _fail_freshly(tmp_path, "warmup")  # imports made on first use are not state
    before = {}
    for name, module in list(sys.modules.items()):
        if name == "debugpages" or name.startswith("debugpages."):
            for attr, value in vars(module).items():
                memo = hasattr(type(value), "cache_clear")
                if isinstance(value, CONTAINERS) and not memo and not attr.startswith("__"):
                    before[f"{name}.{attr}"] = (value, _snapshot(value))
    _fail_freshly(tmp_path, "again")
    changed = [where for where, (value, seen) in before.items() if _snapshot(value) != seen]
    assert changed == [], f"module-level state that fills at run time: make it a Memo ({changed})"


def _snapshot(value: Any) -> object:
    return list(value.items()) if hasattr(value, "items") else list(value)


def test_a_hanging_test_fails_and_prints_every_threads_stack(tmp_path: Path) -> None:
    (tmp_path / "test_hangs.py").write_text(
        textwrap.dedent(
            """
            import threading, time

            def sleeper_in_a_thread():
                time.sleep(60)

            def test_hangs():
                threading.Thread(target=sleeper_in_a_thread, daemon=True).start()
                time.sleep(60)
            """
        )
    )
    # The project's own pytest settings, a shorter timeout.
    argv = [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "-o", "timeout=2"]
    argv += ["--rootdir", str(tmp_path), "-p", "no:cacheprovider", str(tmp_path)]
    started = time.monotonic()
    pytest_run = Child(argv, cwd=tmp_path)
    try:
        output, _ = pytest_run.process.communicate(timeout=30)
    finally:
        pytest_run.kill()
    assert time.monotonic() - started < 30
    assert pytest_run.process.returncode == 1
    assert "Failed: Timeout (>2.0s) from pytest-timeout." in output
    assert "sleeper_in_a_thread" in output  # the other thread's stack
    assert "1 failed" in output

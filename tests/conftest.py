"""Shared fixtures: a real werkzeug server on 127.0.0.1, a raw HTTP client, and every
module-level memo emptied before each test."""

from __future__ import annotations

import http.client
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from werkzeug.serving import make_server

from .clients import Lines, LogText

ROOT = Path(__file__).resolve().parent.parent

# No test is timed: Hypothesis' per-example deadline (200 ms) and its too-slow health check
# fail a test on a loaded machine (CI, or several suites at once) for what is only speed.
settings.register_profile("debugpages", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("debugpages")

# A shell that starts a command in the background without job control (``(make test &)``)
# starts it with Ctrl-C ignored, and an ignored signal stays ignored in every child: the
# servers the tests stop with Ctrl-C would never see it. A handler is not inherited; the
# children get Ctrl-C's default back, as under a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
ARTIFACTS = Path(os.environ.get("DEBUGPAGES_ARTIFACTS", ROOT / "artifacts"))


@dataclass
class Fetched:
    status: int
    reason: str
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def fetch(
    base: str, path: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> Fetched:
    """One request over a real socket; the status line as the server sent it."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return Fetched(response.status, response.reason, response.headers, response.read())
    finally:
        conn.close()


def eventually(check: Callable[[], bool], seconds: float = 5.0) -> bool:
    """The server thread closes the body just after sending it: give it a moment."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.fixture
def serve() -> Iterator[Callable[..., str]]:
    """Start a WSGI app on werkzeug's threaded server; return its base URL."""
    servers = []

    def start(app: object) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)  # type: ignore[arg-type]
        # A short poll interval: shutdown() waits for the loop to notice, once per test.
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _no_debugpages_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests choose their mode; the developer's own DEBUGPAGES must not leak in."""
    monkeypatch.delenv("DEBUGPAGES", raising=False)


@pytest.fixture
def records(caplog: pytest.LogCaptureFixture) -> Callable[[], list[logging.LogRecord]]:
    """The records logged on the ``debugpages`` logger so far."""
    caplog.set_level(logging.DEBUG, logger="debugpages")
    return lambda: [r for r in caplog.records if r.name == "debugpages"]


def memos() -> list[Any]:
    """Every module-level memo of debugpages' modules imported so far: the values whose
    type has a ``cache_clear`` (``functools`` caches and ``debugpages.memo.Memo``)."""
    found = []
    for name, module in list(sys.modules.items()):
        if name == "debugpages" or name.startswith("debugpages."):
            for value in list(vars(module).values()):
                # Asked of the type: a proxy (flask.request) answers any name by itself.
                if callable(getattr(type(value), "cache_clear", None)):
                    found.append(value)
    return found


@pytest.fixture(autouse=True)
def _empty_memos() -> None:
    """Each test starts with every memo empty: the order of tests cannot hide a stale one."""
    for memo in memos():
        memo.cache_clear()


@pytest.fixture
def log() -> Iterator[LogText]:
    """The debugpages records as a log file shows them, from the test's start."""
    handler = LogText()
    logger = logging.getLogger("debugpages")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@pytest.fixture
def debug_lines(monkeypatch: pytest.MonkeyPatch) -> Iterator[Lines]:
    """The debugpages records as text from the test's start, the logger at DEBUG (records
    still propagate)."""
    handler = Lines()
    logger = logging.getLogger("debugpages")
    logger.addHandler(handler)
    monkeypatch.setattr(logger, "level", logging.DEBUG)
    yield handler
    logger.removeHandler(handler)


@pytest.fixture
def lines(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], Lines]]:
    """The debugpages records as text, from when it is called, in the test's body: pytest's
    own capture joins a logger that stops propagating before the test's call starts, and
    it keeps every record it sees (and so the failure, in ``exc_info``)."""
    logger = logging.getLogger("debugpages")
    handler, level = Lines(), logger.level

    def watch() -> Lines:
        monkeypatch.setattr(logger, "propagate", False)
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
        return handler

    yield watch
    logger.removeHandler(handler)
    logger.setLevel(level)

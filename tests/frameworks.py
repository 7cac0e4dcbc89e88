"""What the framework tests share: the expected pages, and real servers in their own process.

gunicorn and ``flask run`` listen on 127.0.0.1; every wait is bounded.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .processes import Child

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 30.0
MODES = ["off", "on", "legacy-200"]
TEXT = {"Accept": "text/plain"}
Records = Callable[[], list[logging.LogRecord]]


def errors(records: Records) -> list[logging.LogRecord]:
    return [r for r in records() if r.levelno >= logging.ERROR]


def assert_page_of_mode(mode: str, status: int, reason: str, body: str) -> None:
    """The page ``mode`` promises for the ValueError of ``/fail``."""
    if mode == "off":
        assert (status, reason) == (500, "Internal Server Error")
        assert "two euros" not in body
        assert "tomato-1234" not in body
        assert "parse_price" not in body
    else:
        expected = (200, "OK") if mode == "legacy-200" else (500, "Internal Server Error")
        assert (status, reason) == expected
        assert "ValueError: could not convert string to float: 'two euros'" in body
        # The failing frame and its line, as Python prints them (locals: HTML and JSON).
        assert "in parse_price\n    return float(text) * len(sauce)\n" in body


def logged_references(output: str) -> list[str]:
    """The references of the ERROR lines debugpages wrote to the server's output (bare, or
    in gunicorn's error log format: ``[time] [pid] [ERROR] ValueError on GET ...``)."""
    line = r"^(?:\[[^]]+\] \[\d+\] \[ERROR\] )?[A-Za-z_]\w* on GET \S+ \(reference ([\w-]+)\)$"
    return re.findall(line, output, re.MULTILINE)


@dataclass
class Server:
    base: str
    log: Path

    def output(self) -> str:
        """What the server printed so far: its own log lines and debugpages' records."""
        return self.log.read_text("utf-8", "replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def running(
    argv: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> Iterator[Server]:
    """Start ``python -m argv...`` (``{port}`` filled in) and wait until it accepts connections."""
    port = free_port()
    command = [sys.executable, "-m", *(part.format(port=port) for part in argv)]
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    with log.open("wb") as sink:
        child = Child(command, cwd=cwd, env=environment, log=sink)
    try:
        _wait_for(port, child.process, log)
        yield Server(f"http://127.0.0.1:{port}", log)
    finally:
        child.stop(signal.SIGTERM)
        child.kill()


def _wait_for(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read_text()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"the server did not listen within {START_TIMEOUT} s:\n{log.read_text()}")

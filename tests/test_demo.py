"""The demo: the same failures in the three modes, and the command that serves it."""

from __future__ import annotations

import os
import re
import signal
import socket
import sys
import time
from collections.abc import Callable

import pytest

from debugpages.demo import ROUTES, make_demo

from .conftest import fetch
from .processes import Child

FAILING = [route for route in ROUTES if route not in ("missing", "nowhere")]


def test_the_index_links_every_route_in_every_mode(serve: Callable[..., str]) -> None:
    page = fetch(serve(make_demo()), "/")
    assert page.status == 200
    for mode in ("off", "on", "legacy-200"):
        for route in ROUTES:
            assert f'href="/{mode}/{route}"' in page.text


@pytest.mark.parametrize("route", FAILING)
def test_each_failure_in_each_mode(serve: Callable[..., str], route: str) -> None:
    base = serve(make_demo())
    off = fetch(base, f"/off/{route}", {"Accept": "text/html"})
    on = fetch(base, f"/on/{route}", {"Accept": "text/html"})
    legacy = fetch(base, f"/legacy-200/{route}", {"Accept": "text/html"})
    assert (off.status, on.status, legacy.status) == (500, 500, 200)
    assert "Traceback" not in off.text
    assert "Traceback" in on.text
    assert "Legacy mode" in legacy.text
    assert legacy.headers["Debugpages-Original-Status"] == "500 Internal Server Error"


def test_the_recursion_page_is_collapsed_and_small(serve: Callable[..., str]) -> None:
    page = fetch(serve(make_demo()), "/on/recursion", {"Accept": "text/html"})
    assert "RecursionError" in page.text
    assert re.search(r"repeated [\d,]+ more times", page.text)
    assert len(page.body) < 100_000


@pytest.mark.parametrize("mode", ["off", "on", "legacy-200"])
def test_not_found_is_a_404_page_in_every_mode(serve: Callable[..., str], mode: str) -> None:
    page = fetch(serve(make_demo()), f"/{mode}/nowhere", {"Accept": "text/html"})
    assert (page.status, page.reason) == (404, "Not Found")
    assert "Traceback" not in page.text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_demo_command_serves_and_stops_cleanly_on_ctrl_c() -> None:
    port = _free_port()
    demo = Child(
        [sys.executable, "-m", "debugpages", "demo", "--port", str(port)],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        started = [demo.readline() for _ in range(4)]
        assert any(f"http://127.0.0.1:{port}/" in line for line in started), started
        for _ in range(50):
            try:
                page = fetch(f"http://127.0.0.1:{port}", "/on/plain", {"Accept": "text/plain"})
                break
            except OSError:
                time.sleep(0.1)
        assert page.status == 500
        assert "TypeError" in page.text
        output = demo.stop(signal.SIGINT)
        assert demo.process.returncode == 0
        assert "Traceback" not in output.split("stopped")[-1]
        assert "debugpages demo stopped" in output
    finally:
        demo.kill()

"""The log record: Python's own traceback text, once, whatever the handler."""

from __future__ import annotations

import io
import logging
import traceback
from collections.abc import Callable, Iterator

import pytest
from werkzeug.test import Client

from debugpages import ErrorPages

from . import apps


def recursion(environ: apps.Environ, start_response: apps.StartResponse) -> list[bytes]:
    def down(n: int) -> int:
        return down(n + 1) + 1

    down(0)
    return []


def ping(n: int) -> int:
    return pong(n + 1) + 1


def pong(n: int) -> int:
    return ping(n + 1) if n % 7 else ping(n + 2)  # two call sites: no run repeats exactly


def mutual_recursion(environ: apps.Environ, start_response: apps.StartResponse) -> list[bytes]:
    try:
        ping(0)
    except RecursionError as exc:
        raise RuntimeError("gave up") from exc
    return []


@pytest.fixture
def formatted(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """What a plain ``logging.Formatter`` writes for the ``debugpages`` logger."""
    logger = logging.getLogger("debugpages")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    monkeypatch.setattr(logger, "propagate", False)
    monkeypatch.setattr(logger, "level", logging.ERROR)
    yield stream
    logger.removeHandler(handler)


@pytest.mark.parametrize("app", [apps.plain, apps.chained, apps.group, recursion, mutual_recursion])
@pytest.mark.parametrize("mode", ["off", "on"])
def test_the_logged_traceback_is_pythons_own_text(
    formatted: io.StringIO, app: Callable[..., list[bytes]], mode: str
) -> None:
    caught: list[BaseException] = []

    def keep(environ: apps.Environ, start_response: apps.StartResponse) -> list[bytes]:
        try:
            return app(environ, start_response)
        except Exception as exc:
            caught.append(exc)
            raise

    Client(ErrorPages(keep, mode=mode)).get("/")
    exc = caught[0]
    assert exc.__traceback__ is not None
    middleware = exc.__traceback__.tb_frame  # it caught the exception: a hidden frame
    assert "__traceback_hide__" in middleware.f_code.co_varnames
    below = exc.__traceback__.tb_next
    expected = "".join(traceback.format_exception(type(exc), exc, below)).rstrip("\n")
    logged = formatted.getvalue()
    assert middleware.f_code.co_filename not in logged
    assert logged.count("(reference ") == 1
    assert logged.rstrip("\n").endswith(expected)
    if app is recursion:
        assert "more times]" in logged  # collapsed, as Python prints it

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


def huge_message(environ: apps.Environ, start_response: apps.StartResponse) -> list[bytes]:
    api_token = environ["HTTP_X_API_TOKEN"]  # a secret local: masked by value
    echoed = environ["QUERY_STRING"] * 500_000  # a 10 MB query string in the message
    raise ValueError(f"bad filter {echoed} for {api_token}")


@pytest.mark.parametrize("mode", ["off", "on", "legacy-200"])
def test_a_huge_message_makes_a_bounded_record_with_both_ends_and_no_secret(
    formatted: io.StringIO, mode: str
) -> None:
    from debugpages.logs import MAX_RECORD_CHARS

    token = "tok-7a0c1d5e9b3f4a2c8e6d"
    response = Client(ErrorPages(huge_message, mode=mode)).get(
        "/?q=abcdefghij1234567890", headers={"X-Api-Token": token}
    )
    assert response.status_code == (200 if mode == "legacy-200" else 500)
    logged = formatted.getvalue()
    assert MAX_RECORD_CHARS < len(logged) < MAX_RECORD_CHARS + 1000  # was over 10 MB
    assert logged.count("(reference ") == 1
    assert "ValueError on GET /" in logged  # the record's own line names the exception
    assert "Traceback (most recent call last):" in logged
    assert "in huge_message" in logged
    assert "characters of the traceback cut here to keep the log record small ..." in logged
    assert logged.rstrip("\n").endswith("for ********")  # its end, the secret masked
    assert token[4:] not in logged

"""Requests made as a server makes them, and what the client and the log got of them.

``wsgi_get`` runs the application under ``wsgiref.validate`` (PEP 3333's checks on the
status line and the headers), ``asgi_get`` through bare ASGI messages; ``assert_page``
checks what every failure must get.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from wsgiref.validate import validator

from werkzeug.test import create_environ

MODES = {"off": 500, "on": 500, "legacy-200": 200}
ACCEPTS = ["text/html", "text/plain", "application/json"]


class LogText(logging.Handler):
    """The debugpages records, formatted as a log file shows them."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


class Lines(logging.Handler):
    """The debugpages records as text: a kept record's ``exc_info`` would keep the failure
    alive, which the retention tests must see freed."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[tuple[int, str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        reference = str(getattr(record, "reference", "-"))
        self.lines.append((record.levelno, record.getMessage(), reference))

    def failures(self, reference: str) -> list[str]:
        """The records of the failure itself (not debugpages' notes on its own troubles)."""
        return [
            message
            for _, message, ref in self.lines
            if ref == reference and not message.startswith("debugpages:")
        ]

    def warnings(self) -> list[str]:
        """The WARNING records of failures (not the start-up line that names the mode)."""
        return [m for level, m, ref in self.lines if level == logging.WARNING and ref != "-"]


@dataclass
class Got:
    status: int
    status_line: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def wsgi_get(
    app: Callable[..., Iterable[bytes]], accept: str = "text/html", path: str = "/orders/7"
) -> Got:
    """One request through a WSGI app under ``wsgiref.validate``, as a server makes it."""
    environ = create_environ(path, headers={"Accept": accept})
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
        started.append((status, headers))
        return lambda data: None

    result = validator(app)(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    status, headers = started[-1]
    return Got(int(status.split()[0]), status, headers, body)


def asgi_messages(app: Callable[..., Any], scope: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages an ASGI app sends for one request of ``scope`` with an empty body."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def asgi_get(app: Callable[..., Any], accept: str = "text/html") -> Got:
    """One request through an ASGI app, in bare messages."""
    scope = {
        "type": "http", "method": "GET", "path": "/orders/7", "query_string": b"",
        "headers": [(b"host", b"localhost"), (b"accept", accept.encode())],
    }  # fmt: skip
    sent = asgi_messages(app, scope)
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in sent[0]["headers"]]
    status = sent[0]["status"]
    body = b"".join(m.get("body", b"") for m in sent)
    return Got(status, str(status), headers, body)


def assert_page(got: Got, status: int, lines: Lines) -> str:
    """The client's page: the status, under 1 MB, with the reference of the one record of
    the failure (a hang is the test timeout's to catch). Returns the body."""
    assert got.status == status
    assert len(got.body) < 1_000_000
    references = {ref for _, _, ref in lines.lines if ref != "-"}
    assert len(references) == 1, lines.lines
    reference = references.pop()
    assert reference.encode() in got.body
    assert len(lines.failures(reference)) == 1, lines.lines
    return got.body.decode("utf-8")

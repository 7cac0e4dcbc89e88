"""Small WSGI applications that fail in the ways the tests need."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
App = Callable[[Environ, StartResponse], Iterable[bytes]]


def ok_app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"fine"]


def parse_price(text: str) -> float:
    sauce = "tomato-1234"  # a local the page shows in on mode, never in off
    return float(text) * len(sauce)


def price_of(item: str) -> float:
    catalogue = {"tea": "two euros"}
    return parse_price(catalogue[item])


def plain(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """A ValueError three frames deep."""
    price_of("tea")
    return []


def chained(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    try:
        {}["missing-key"]
    except KeyError:
        try:
            int("not-a-number")
        except ValueError as exc:
            raise RuntimeError("outer failure") from exc
    return []


def suppressed(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    try:
        {}["hidden-context"]
    except KeyError:
        raise LookupError("context suppressed") from None
    return []


def group(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    first = ValueError("first member")
    first.add_note("a note on the first member")
    nested = ExceptionGroup("nested group", [TypeError("deep member")])
    raise ExceptionGroup("two things failed", [first, nested])


def raising(exc: BaseException) -> App:
    """An app that raises ``exc`` before calling ``start_response``."""

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        raise exc

    return app


def fails_after_start_response(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    raise RuntimeError("failed after start_response")


class Body:
    """An iterable body that records whether it was closed."""

    def __init__(self, chunks: list[bytes], error: Exception | None = None) -> None:
        self.chunks = chunks
        self.error = error
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        self.closed = True


def streaming(body: Body) -> App:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return body

    return app

"""Containers that lie about themselves, held in a view's locals: a length that is negative
or raises, iteration without end, keys whose ``__eq__`` and ``__hash__`` raise once the
dict is made, a ``__dict__`` or ``__class__`` that raises. Whatever they do, the client
gets its page, in every mode and format, WSGI and ASGI, and the failure is logged once.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
from werkzeug.test import Client as WerkzeugClient
from werkzeug.test import create_environ, run_wsgi_app

from debugpages import ASGIErrorPages, ErrorPages

from .clients import ACCEPTS, MODES, Lines
from .test_hostile_requests import asgi_call, failures
from .test_template_errors import HTML, frames

ARMED = [False]
"""Flipped once the locals are made: the keys below then raise on every comparison."""


class Key:
    def __init__(self, number: int) -> None:
        self.number = number

    def __hash__(self) -> int:
        if ARMED[0]:
            raise RuntimeError("no hash now")
        return self.number

    def __eq__(self, other: object) -> bool:
        if ARMED[0]:
            raise RuntimeError("no equality now")
        return self is other

    def __lt__(self, other: object) -> bool:
        raise RuntimeError("no order")


class NegativeLength(list[int]):
    def __len__(self) -> int:
        return -1


class HugeLength(list[int]):
    def __len__(self) -> int:
        return 10**30


class Endless(list[int]):
    def __iter__(self) -> Iterator[int]:
        return itertools.count()


class EndlessMapping(Mapping[int, int]):
    def __getitem__(self, key: int) -> int:
        return key

    def __iter__(self) -> Iterator[int]:
        return itertools.count()

    def __len__(self) -> int:
        return 2**100


class RaisingMapping(Mapping[str, int]):
    def __getitem__(self, key: str) -> int:
        raise RuntimeError("no item")

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("no iteration")

    def __len__(self) -> int:
        raise RuntimeError("no length")


class RaisingSequence(Sequence[int]):
    def __getitem__(self, index: Any) -> Any:
        raise RuntimeError("no item")

    def __len__(self) -> int:
        return 3


class EndlessSet(set[int]):
    def __iter__(self) -> Iterator[int]:
        return itertools.count()


class Impostor:
    @property  # type: ignore[misc]
    def __class__(self) -> type:  # type: ignore[override]
        raise RuntimeError("no class to tell")


class NoDict:
    @property  # type: ignore[misc]
    def __dict__(self) -> dict[str, Any]:  # type: ignore[override]
        raise RuntimeError("no dict")


def fail() -> None:
    ARMED[0] = False
    table = {Key(n): n for n in range(5)}
    keys = {Key(1), Key(2)}
    nested = {"inner": {Key(3): [Key(4)]}}
    lengths = [NegativeLength([1]), HugeLength([1, 2])]
    endless = [Endless([1]), EndlessMapping(), EndlessSet([1])]
    raising = [RaisingMapping(), RaisingSequence()]
    odd = [Impostor(), NoDict()]
    held = (table, keys, nested, lengths, endless, raising, odd)
    ARMED[0] = True
    raise ValueError(f"{len(held)} lies told")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("accept", ACCEPTS)
def test_containers_that_lie_about_themselves_get_the_page(
    debug_lines: Lines, mode: str, accept: str
) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        fail()
        return []

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        fail()

    environ = create_environ("/", headers={"Accept": accept})
    chunks, status, _ = run_wsgi_app(ErrorPages(app, mode=mode), environ, buffered=True)
    sent = [(int(status.split()[0]), b"".join(chunks))]
    sent.append(
        asgi_call(ASGIErrorPages(asgi, mode=mode), b"/", b"", [(b"accept", accept.encode())])
    )
    assert len(failures(debug_lines)) == 2, debug_lines.lines
    for code, raw in sent:
        assert code == MODES[mode]
        assert len(raw) < 1_000_000
        body = raw.decode()
        if accept == "application/json":
            json.loads(body)
        if mode != "off" and accept == "text/html":
            assert "lies told" in body
            assert '<h1 class="type">ValueError</h1>' in body  # the full page, not the last resort
            assert '<th scope="row"><code>table</code></th>' in body  # the locals are shown


def test_an_item_that_cannot_be_shown_says_so_in_its_place_and_the_rest_is_shown() -> None:
    """One item whose ``len()`` or ``__class__`` raised made its whole container a
    ``<repr failed>``: a list of ten orders lost the nine that were fine."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        fail()
        return []

    page = WerkzeugClient(ErrorPages(app, mode="on")).get("/", headers=HTML).get_data(as_text=True)
    shown = next(frame for frame in frames(page) if ", in fail " in frame.summary).locals
    assert shown["lengths"] == (
        "[<repr failed: ValueError: __len__() should return >= 0>, "
        "<repr failed: OverflowError: cannot fit 'int' into an index-sized integer>]"
    )
    assert shown["odd"].startswith("[<repr failed: RuntimeError: no class to tell>, <")
    assert "NoDict object at 0x" in shown["odd"]
    assert shown["raising"] == "[<repr failed: RuntimeError: no iteration>, RaisingSequence()]"
    assert shown["table"].startswith("{Key(number=0): 0, Key(number=1): 1")

"""Hostile values and exceptions: whatever they do, the client gets its page, escaped,
bounded, quickly, and the failure is logged once.

Each test checks what a client and an operator see: the status, a page under 1 MB
sent in under a second, HTML in which no element or attribute came from the input
(parsed as a browser would), and one log record of the application's exception.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import pathlib
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import werkzeug.wrappers
from django.utils.safestring import SafeString
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient
from werkzeug.test import Client

from debugpages import ASGIErrorPages, ErrorPages, Policy, represent

from .conftest import fetch
from .test_fuzz import ALLOWED_ATTRIBUTES, ALLOWED_TAGS
from .test_security import parse

MODES = ("off", "on", "legacy-200")
ACCEPTS = {"html": "text/html", "json": "application/json", "text": "text/plain"}
MARK = "PWN"
PAYLOAD = (
    f'<meta http-equiv="refresh" content="0;url=https://evil.example/{MARK}">'
    f'<form action="https://evil.example/"><input name="{MARK}"></form>'
    f'<a href="javascript:alert(1)" onclick="{MARK}">{MARK}</a><b title="{MARK}">'
)
"""What an attacker would like the page to hold: a redirect, a form, a link, markup."""


@dataclass
class Sent:
    status: int
    headers: dict[str, str]
    body: bytes


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def of(self, exc: BaseException) -> list[logging.LogRecord]:
        """The records that carry ``exc`` itself."""
        return [r for r in self.records if r.exc_info and r.exc_info[1] is exc]


@pytest.fixture
def logged(monkeypatch: pytest.MonkeyPatch) -> Iterator[Records]:
    handler = Records()
    logger = logging.getLogger("debugpages")
    logger.addHandler(handler)
    monkeypatch.setattr(logger, "level", logging.DEBUG)
    yield handler
    logger.removeHandler(handler)


@pytest.fixture(autouse=True)
def releases() -> Iterator[list[Callable[[], None]]]:
    """What blocks a repr in a test is released after it, and its workers end."""
    releases: list[Callable[[], None]] = []
    yield releases
    for release in releases:
        release()
    deadline = time.monotonic() + 10
    while represent.abandoned() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert represent.abandoned() == 0


def raising(fail: Callable[[], object], raised: list[BaseException]) -> Any:
    """A WSGI app that calls ``fail`` and notes what it raised."""

    def app(environ: object, start_response: object) -> list[bytes]:
        try:
            fail()
        except Exception as exc:
            raised.append(exc)
            raise
        return []

    return app


def wsgi_get(
    fail: Callable[[], object], mode: str, accept: str, policy: Policy | None = None
) -> tuple[Sent, BaseException]:
    raised: list[BaseException] = []
    client = Client(ErrorPages(raising(fail, raised), mode=mode, policy=policy))
    response = client.get("/", headers={"Accept": accept})
    return Sent(response.status_code, dict(response.headers), response.data), raised[0]


def asgi_get(
    fail: Callable[[], object], mode: str, accept: str, policy: Policy | None = None
) -> tuple[Sent, BaseException]:
    raised: list[BaseException] = []

    async def view(request: Request) -> Response:
        try:
            fail()
        except Exception as exc:
            raised.append(exc)
            raise
        return Response("unreachable")

    app = Starlette(routes=[Route("/", view)])
    app.add_middleware(ASGIErrorPages, mode=mode, policy=policy)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/", headers={"Accept": accept})
    return Sent(response.status_code, dict(response.headers), response.content), raised[0]


ADAPTERS = {"wsgi": wsgi_get, "asgi": asgi_get}


def assert_good_page(sent: Sent, mode: str, accept: str) -> str:
    """The right status, under 1 MB, ours, and escaped; its text. (How long it took is the
    benchmark's to say: a page cut short by the time budget says so in its body.)"""
    assert sent.status == (200 if mode == "legacy-200" else 500)
    assert len(sent.body) < 1_000_000
    headers = {k.lower(): v for k, v in sent.headers.items()}
    assert "content-security-policy" in headers  # debugpages' page, not a server's
    body = sent.body.decode("utf-8")
    if accept == "application/json":
        json.loads(body)
    if accept == "text/html":
        assert_escaped(body, headers["content-security-policy"])
    return body


def assert_escaped(body: str, csp: str) -> None:
    """No element and no attribute of the page came from the input."""
    nonce = csp.split("'nonce-")[1].split("'")[0] if "'nonce-" in csp else None
    tags = parse(body)
    for tag, attrs in tags.tags:
        assert tag in ALLOWED_TAGS, tag
        assert set(attrs) <= ALLOWED_ATTRIBUTES, (tag, attrs)
        # The input may be a title's text (a file's full path on hover), never more; a
        # nonce is random (it held "PWN" once: "EwYrzIIR24gilbBPWNsVBQ"), and checked below.
        shown = {k: v for k, v in attrs.items() if k not in ("title", "nonce")}
        assert not any(MARK in (v or "") for v in shown.values()), attrs
        if tag in ("script", "style"):
            assert attrs["nonce"] == nonce
        if tag == "a":
            assert not (attrs.get("href") or "").lower().startswith("javascript"), attrs


# --- 1. no BaseException gets out ------------------------------------------------------


class Timeout(BaseException):
    """As gevent's ``Timeout`` is: a ``BaseException`` raised wherever the greenlet is."""


KINDS: dict[str, type[BaseException]] = {
    "CancelledError": asyncio.CancelledError,
    "KeyboardInterrupt": KeyboardInterrupt,
    "SystemExit": SystemExit,
    "GeneratorExit": GeneratorExit,
    "Timeout": Timeout,
}


def repr_raises(kind: type[BaseException]) -> None:
    class Value:
        def __repr__(self) -> str:
            raise kind("from repr")

    value = Value()  # noqa: F841
    raise ValueError("a local whose repr raises")


def str_raises(kind: type[BaseException]) -> None:
    class Failure(Exception):
        def __str__(self) -> str:
            raise kind("from str")

    raise Failure()


def note_raises(kind: type[BaseException]) -> None:
    class Note:
        def __str__(self) -> str:
            raise kind("from a note's str")

        __repr__ = __str__

    error = ValueError("a note that cannot be shown")
    error.__notes__ = [Note()]
    raise error


def attribute_raises(kind: type[BaseException]) -> None:
    class Failure(Exception):
        def __getattr__(self, name: str) -> Any:
            raise kind(name)

    raise Failure("attributes raise")


def cause_raises(kind: type[BaseException]) -> None:
    class Failure(Exception):
        @property  # type: ignore[override]
        def __cause__(self) -> Any:
            raise kind("from __cause__")

    raise Failure("its cause raises")


def html_raises(kind: type[BaseException]) -> None:
    class Text(str):
        def __html__(self) -> str:
            raise kind("from __html__")

    class Value:
        def __repr__(self) -> str:
            return Text("shown as text")

        def __html__(self) -> str:
            raise kind("from __html__")

    value, text = Value(), Text("a local")  # noqa: F841
    raise ValueError(Text("a message with __html__"))


PLACES = {
    "repr": repr_raises,
    "str": str_raises,
    "note": note_raises,
    "attribute": attribute_raises,
    "cause": cause_raises,
    "html": html_raises,
}


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("place", PLACES)
def test_a_base_exception_raised_while_the_page_is_made_never_gets_out(
    place: str, kind: str, mode: str, adapter: str, logged: Records
) -> None:
    accept = list(ACCEPTS.values())[(len(place) + len(kind)) % 3]  # each format in turn
    # A repr that raises at once: the budget is made long so that a busy machine, slow to
    # run the worker thread, cannot turn "repr failed" into "repr timed out".
    patient = Policy(repr_budget=60)
    sent, raised = ADAPTERS[adapter](lambda: PLACES[place](KINDS[kind]), mode, accept, patient)
    body = assert_good_page(sent, mode, accept)
    assert len(logged.of(raised)) == 1
    if mode != "off" and accept != "text/plain":
        assert "Traceback" in body or "frames" in body  # the traceback page, not the off one
        if place == "repr":
            assert f"repr failed: {KINDS[kind].__qualname__}: from repr" in body


@pytest.mark.parametrize("kind", [KeyboardInterrupt, SystemExit, asyncio.CancelledError])
def test_a_base_exception_the_application_raises_still_passes_through(
    kind: type[BaseException],
) -> None:
    def app(environ: object, start_response: object) -> list[bytes]:
        raise kind()

    with pytest.raises(kind):
        Client(ErrorPages(app, mode="on")).get("/")


# --- 2. the time budget bounds each value --------------------------------------------


def blocker(how: str, releases: list[Callable[[], None]]) -> object:
    """A value whose repr blocks: in a C call (a sleep, a lock, a socket) or in Python."""
    if how == "sleep":
        calls: Callable[[], object] = lambda: time.sleep(2)  # noqa: E731
    elif how == "lock":
        lock = threading.Lock()
        lock.acquire()
        releases.append(lock.release)
        calls = lock.acquire
    elif how == "socket":
        reader, writer = socket.socketpair()

        def hang_up() -> None:
            writer.close()  # the read returns, and then its socket can close
            deadline = time.monotonic() + 5
            while represent.abandoned() and time.monotonic() < deadline:
                time.sleep(0.01)
            reader.close()

        releases.append(hang_up)
        calls = lambda: reader.recv(1)  # noqa: E731
    else:
        stop = threading.Event()
        releases.append(stop.set)

        def calls() -> None:
            while not stop.is_set():  # a loop in Python code, holding the GIL by turns
                pass

    class Blocks:
        def __repr__(self) -> str:
            calls()
            return "<Blocks: returned>"

    return Blocks()


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("how", ["sleep", "lock", "socket", "loop"])
def test_a_repr_that_never_returns_costs_the_page_its_budget_and_says_it_timed_out(
    how: str, adapter: str, logged: Records, releases: list[Callable[[], None]]
) -> None:
    value = blocker(how, releases)

    def fail() -> None:
        stuck, after = value, [1, 2]  # noqa: F841
        raise ValueError("a slow local")

    sent, raised = ADAPTERS[adapter](fail, "on", "application/json")
    body = assert_good_page(sent, "on", "application/json")
    assert "repr timed out: still running when the 0.25 s for values ran out" in body
    assert len(logged.of(raised)) == 1
    assert "The time budget for showing values (0.25 s) ran out" in body


def test_reprs_run_off_the_requests_thread_on_one_worker_kept_between_pages() -> None:
    threads: list[int] = []

    class Noted:
        def __repr__(self) -> str:
            threads.append(threading.get_ident())
            return "noted"

    def fail() -> None:
        a, b, c, listed = Noted(), Noted(), Noted(), [Noted(), Noted()]  # noqa: F841
        raise ValueError("five reprs")

    for _ in range(3):
        sent, _ = wsgi_get(fail, "on", "text/html")
        assert sent.body.decode().count("noted") >= 5
    assert len(threads) == 15
    assert len(set(threads)) == 1
    assert threading.get_ident() not in threads


class Kept:
    def __repr__(self) -> str:
        return "<Kept>"


KEPT: list[weakref.ref[Kept]] = []


def keeping(environ: object, start_response: object) -> list[bytes]:
    """Its locals are its own values only: the last one a worker represents is a ``Kept``."""
    kept, other = Kept(), [Kept()]
    KEPT[:] = [weakref.ref(kept), weakref.ref(other[0])]
    raise ValueError("values a worker represented")


def test_the_worker_keeps_nothing_of_a_request_alive(monkeypatch: pytest.MonkeyPatch) -> None:
    # pytest's own log capture keeps every record, and a record keeps its exc_info.
    monkeypatch.setattr(logging.getLogger("debugpages"), "propagate", False)
    client = Client(ErrorPages(keeping, mode="on"))
    gc.collect()
    gc.disable()  # as the retention tests run: only reference counts free the request
    try:
        body = client.get("/", headers={"Accept": "text/html"}).get_data(as_text=True)
        assert body.count("&lt;Kept&gt;") == 2
        assert [ref() for ref in KEPT] == [None, None]
    finally:
        gc.enable()


def test_values_around_one_that_never_returns_show_what_they_could(
    releases: list[Callable[[], None]],
) -> None:
    class Quick:
        def __init__(self, name: str) -> None:
            self.name = name

        def __repr__(self) -> str:
            return f"<Quick {self.name}>"

    stuck = blocker("lock", releases)

    def fail() -> None:
        a_first, b_stuck, c_last = Quick("first"), stuck, Quick("last")  # noqa: F841
        raise ValueError("one stuck among quick ones")

    sent, _ = wsgi_get(fail, "on", "application/json")
    frames = json.loads(sent.body)["exception"]["frames"]
    shown = {v["name"]: v["text"] for v in frames[-1]["variables"]}
    assert shown["a_first"] == "<Quick first>"
    assert shown["b_stuck"].startswith("<repr timed out")
    assert shown["c_last"] == "<not shown: the time budget for values ran out>"


def test_a_request_or_path_of_the_applications_own_kind_is_bounded_too(
    releases: list[Callable[[], None]],
) -> None:
    """werkzeug's request and the standard library's paths are shown in place, but a
    subclass's own ``url`` or ``as_posix`` is the application's code."""
    lock = threading.Lock()
    lock.acquire()
    releases.append(lock.release)

    class SlowRequest(werkzeug.wrappers.Request):
        @property  # type: ignore[override]
        def url(self) -> str:
            with lock:
                return "unreachable"

    class SlowPath(type(pathlib.Path())):  # type: ignore[misc]
        def as_posix(self) -> str:
            with lock:
                return "unreachable"

    def fail() -> None:
        request = SlowRequest({"REQUEST_METHOD": "GET"})  # noqa: F841
        path, a_plain = SlowPath("/srv"), pathlib.Path("/srv/plain")  # noqa: F841
        raise ValueError("slow subclasses")

    sent, _ = wsgi_get(fail, "on", "application/json")
    frames = json.loads(sent.body)["exception"]["frames"]
    shown = {v["name"]: v["text"] for v in frames[-1]["variables"]}
    assert shown["a_plain"] == "PosixPath('/srv/plain')"  # shown first: sorted by name
    assert "timed out" in shown["path"] or "timed out" in shown["request"]
    assert not any("unreachable" in text for text in shown.values())


def test_a_plain_text_page_represents_no_value(
    logged: Records, releases: list[Callable[[], None]]
) -> None:
    calls = []

    class Counted:
        def __repr__(self) -> str:
            calls.append(1)
            return "counted"

    def fail() -> None:
        counted, stuck = Counted(), blocker("lock", releases)  # noqa: F841
        raise ValueError("text only")

    for adapter in ADAPTERS.values():
        sent, raised = adapter(fail, "on", "text/plain")
        assert_good_page(sent, "on", "text/plain")
        assert len(logged.of(raised)) == 1
    assert calls == []
    assert represent.abandoned() == 0


def test_abandoned_reprs_are_capped_and_then_values_show_their_type_only(
    releases: list[Callable[[], None]],
) -> None:
    lock = threading.Lock()
    lock.acquire()
    releases.append(lock.release)

    class Stuck:
        def __repr__(self) -> str:
            with lock:
                return "<Stuck: done>"

    threads = threading.active_count()

    def fail() -> None:
        stuck = Stuck()  # noqa: F841
        raise ValueError("stuck")

    for _ in range(represent.MAX_ABANDONED):
        sent, _ = wsgi_get(fail, "on", "application/json")
        assert "repr timed out" in sent.body.decode()
    assert represent.abandoned() == represent.MAX_ABANDONED
    sent, _ = wsgi_get(fail, "on", "application/json")
    assert f".Stuck object: not shown: {represent.MAX_ABANDONED} timed-out reprs still run>" in (
        json.dumps(json.loads(sent.body))
    )
    assert threading.active_count() <= threads + represent.MAX_ABANDONED + 2  # and 2 idle
    lock.release()
    releases.clear()
    deadline = time.monotonic() + 5
    while represent.abandoned() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert represent.abandoned() == 0
    assert "<Stuck: done>" in json.dumps(
        json.loads(wsgi_get(fail, "on", "application/json")[0].body)
    )


def test_over_a_real_server_a_blocked_repr_delays_neither_its_page_nor_the_next(
    serve: Callable[..., str], releases: list[Callable[[], None]]
) -> None:
    value = blocker("socket", releases)

    def app(environ: object, start_response: object) -> list[bytes]:
        stuck = value  # noqa: F841
        raise ValueError("blocked repr")

    base = serve(ErrorPages(app, mode="on"))
    for _ in range(2):  # the second page does not wait for the first one's repr either
        page = fetch(base, "/", {"Accept": "text/html"})
        assert page.status == 500
        assert "repr timed out" in page.text
        assert_escaped(page.text, page.headers["Content-Security-Policy"])


# --- 4. everything is escaped ---------------------------------------------------------


class Sneaky(str):
    """A ``str`` that says it is safe HTML, and stays itself through ``str()``."""

    def __str__(self) -> str:
        return self

    def __html__(self) -> str:
        return str.__str__(self)


def markup_repr() -> None:
    class Value:
        def __repr__(self) -> str:
            return Markup(PAYLOAD)

    value = Value()  # noqa: F841
    raise ValueError("a repr that returns Markup")


def sneaky_repr() -> None:
    class Value:
        def __repr__(self) -> str:
            return Sneaky(PAYLOAD)

    value = Value()  # noqa: F841
    raise ValueError("a repr that returns a str with __html__")


def safestring_message() -> None:
    raise ValueError(SafeString(PAYLOAD))


def markup_note() -> None:
    error = ValueError("a Markup note")
    error.add_note(Markup(PAYLOAD))
    raise error


def markup_type_name() -> None:
    class Failure(Exception):
        pass

    Failure.__qualname__ = Markup(PAYLOAD)
    Failure.__module__ = Sneaky(PAYLOAD)
    raise Failure(Sneaky(PAYLOAD))


def sneaky_keys_and_fields() -> None:
    class Holder:
        pass

    holder = Holder()
    holder.__dict__[Sneaky(PAYLOAD)] = Sneaky(PAYLOAD)
    mapping = {Sneaky(PAYLOAD): Markup(PAYLOAD)}  # noqa: F841
    raise ValueError("keys and fields with __html__")


def template_name() -> None:
    import jinja2

    raise jinja2.TemplateNotFound(Markup(PAYLOAD))


def template_syntax_error() -> None:
    import jinja2

    error = jinja2.TemplateSyntaxError(Markup(PAYLOAD), 2, Markup(PAYLOAD), Markup(PAYLOAD))
    error.source = Markup(f"line one\n{{% for %}} {PAYLOAD}\n")
    raise error


CARRIERS = {
    "repr returns Markup": markup_repr,
    "repr returns a str with __html__": sneaky_repr,
    "SafeString message": safestring_message,
    "Markup note": markup_note,
    "Markup type name and module": markup_type_name,
    "keys and fields with __html__": sneaky_keys_and_fields,
    "template name": template_name,
    "template syntax error": template_syntax_error,
}


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("carrier", CARRIERS)
def test_a_value_that_claims_to_be_safe_html_is_shown_as_text(
    carrier: str, mode: str, adapter: str, logged: Records
) -> None:
    for accept in ACCEPTS.values():
        sent, raised = ADAPTERS[adapter](CARRIERS[carrier], mode, accept)
        body = assert_good_page(sent, mode, accept)
        assert len(logged.of(raised)) == 1
        logged.records.clear()
        if accept == "text/html" and mode != "off":
            shown = "".join(parse(body).text)
            assert MARK in shown  # shown, as text
            assert "<form" not in body
            assert "<meta http-equiv" not in body


def test_the_request_view_shows_markup_in_the_request_as_text(logged: Records) -> None:
    def app(environ: dict[str, Any], start_response: object) -> list[bytes]:
        environ["PATH_INFO"] = Markup(PAYLOAD)
        environ["HTTP_X_PAYLOAD"] = Sneaky(PAYLOAD)
        raise ValueError("a request holding Markup")

    client = Client(ErrorPages(app, mode="on"))
    response = client.get("/", headers={"Accept": "text/html"})
    assert response.status_code == 500
    assert_escaped(response.get_data(as_text=True), response.headers["Content-Security-Policy"])


# --- 7. an exception with hostile attributes keeps its traceback page ----------------


def hostile(**members: Any) -> type[Exception]:
    return type("Hostile", (Exception,), members)


def _raises(kind: type[BaseException]) -> Any:
    def read(self: object, *args: object) -> Any:
        raise kind("hostile attribute")

    return read


HOSTILE: dict[str, type[Exception]] = {
    "__getattr__ raises": hostile(__getattr__=_raises(RuntimeError)),
    "__getattr__ raises CancelledError": hostile(__getattr__=_raises(asyncio.CancelledError)),
    "__getattr__ returns itself": hostile(__getattr__=lambda self, name: self),
    "__traceback__ is not a traceback": hostile(__traceback__=property(lambda self: 42)),
    "__traceback__ raises": hostile(__traceback__=property(_raises(RuntimeError))),
    "__notes__ is an int": hostile(__notes__=42),
    "__notes__ is a str": hostile(__notes__="not a list"),
    "__notes__ is a generator": hostile(__notes__=property(lambda self: iter(["a", "b"]))),
    "__notes__ raises": hostile(__notes__=property(_raises(RuntimeError))),
    "__cause__ raises": hostile(__cause__=property(_raises(RuntimeError))),
    "__context__ is not an exception": hostile(__context__=property(lambda self: 42)),
    "__suppress_context__ raises": hostile(__suppress_context__=property(_raises(RuntimeError))),
    "__bool__ raises": hostile(__bool__=_raises(RuntimeError)),
    "args raises": hostile(args=property(_raises(RuntimeError))),
}


def raise_hostile(kind: type[Exception]) -> None:
    try:
        raise LookupError("the context")
    except LookupError:
        raise kind("hostile attributes") from None


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("case", HOSTILE)
def test_an_exception_with_hostile_attributes_keeps_its_traceback_page(
    case: str, adapter: str, logged: Records
) -> None:
    for accept in ACCEPTS.values():
        sent, raised = ADAPTERS[adapter](lambda: raise_hostile(HOSTILE[case]), "on", accept)
        body = assert_good_page(sent, "on", accept)
        assert len(logged.of(raised)) == 1
        logged.records.clear()
        assert "raise_hostile" in body  # the frame that raised it
        assert "Hostile" in body
        if accept == "application/json":
            frames = json.loads(body)["exception"]["frames"]
            assert frames[-1]["function"] == "raise_hostile"


# --- hypothesis: values whose reprs, strs and __html__ do anything --------------------


class Blow(BaseException):
    pass


RESULTS = st.sampled_from([
    "plain", PAYLOAD, Markup(PAYLOAD), Sneaky(PAYLOAD), SafeString(PAYLOAD), 42, None,
    b"bytes", ["a", "list"], "x" * 100_000, "itself",
])  # fmt: skip
ERRORS = st.sampled_from([
    ValueError, RecursionError, MemoryError, asyncio.CancelledError, KeyboardInterrupt,
    SystemExit, GeneratorExit, Blow,
])  # fmt: skip
BEHAVIOURS = st.one_of(
    st.tuples(st.just("return"), RESULTS),
    st.tuples(st.just("raise"), ERRORS),
    st.tuples(st.just("sleep"), st.floats(0, 0.04), RESULTS),
)


def act(behaviour: tuple[Any, ...], self: object) -> Any:
    if behaviour[0] == "raise":
        raise behaviour[1](PAYLOAD)
    if behaviour[0] == "sleep":
        time.sleep(behaviour[1])
    result = behaviour[-1]
    return self if result == "itself" else result


def anything(repr_: tuple[Any, ...], str_: tuple[Any, ...], html: tuple[Any, ...]) -> type:
    members = {
        "__repr__": lambda self: act(repr_, self),
        "__str__": lambda self: act(str_, self),
        "__html__": lambda self: act(html, self),
    }
    return type("Anything", (), members)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
@given(
    value=st.tuples(BEHAVIOURS, BEHAVIOURS, BEHAVIOURS),
    message=st.tuples(BEHAVIOURS, BEHAVIOURS, BEHAVIOURS),
    mode=st.sampled_from(MODES),
    accept=st.sampled_from(list(ACCEPTS.values())),
)
def test_values_whose_reprs_strs_and_html_do_anything_still_get_their_page(
    value: tuple[tuple[Any, ...], ...],
    message: tuple[tuple[Any, ...], ...],
    mode: str,
    accept: str,
) -> None:
    kind = anything(*value)
    shown = anything(*message)

    class Failure(Exception):
        def __str__(self) -> str:
            return act(message[1], self)  # type: ignore[no-any-return]

    def fail() -> None:
        one, two, listed = kind(), kind(), [kind(), shown()]  # noqa: F841
        error = Failure(shown())
        error.__notes__ = [shown(), "a note"]
        raise error

    handler = Records()
    logger = logging.getLogger("debugpages")
    logger.addHandler(handler)
    try:
        sent, raised = wsgi_get(fail, mode, accept)
    finally:
        logger.removeHandler(handler)
    assert_good_page(sent, mode, accept)
    assert len(handler.of(raised)) == 1

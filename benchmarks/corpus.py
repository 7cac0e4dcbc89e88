"""The failure corpus of issue 7: one failing application per case.

Each case is a ``trigger``, a function of no arguments that raises, and the same
trigger is turned into a WSGI app (``case.wsgi``) and an ASGI app (``case.asgi``) so
that every renderer sees the very same exception, raised from inside the callable it
wraps. The bench, the soak and the tests import this module; nothing here measures.

Heavy objects (the huge locals, the 1 MB repr) are built once and shared between
calls: the cases are about what a renderer does with big values, not about how long
the application takes to allocate them, and a shared object keeps the baseline (the
app raising with a bare ``try/except``) small and steady.

Source files (the 200-frame module, the Jinja templates) are written to a temporary
folder on first use, so that ``linecache`` and Jinja find real source to show.
"""

from __future__ import annotations

import atexit
import functools
import importlib.util
import itertools
import linecache
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]
ASGIScope = MutableMapping[str, Any]
ASGIReceive = Callable[[], Awaitable[MutableMapping[str, Any]]]
ASGISend = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[ASGIScope, ASGIReceive, ASGISend], Awaitable[None]]
Trigger = Callable[[], NoReturn]

DEEP_FRAMES = 200
TEN_MB = 10 * 1024 * 1024


@dataclass(frozen=True)
class Case:
    """One failure of the corpus, with the group it belongs to for the targets."""

    name: str
    trigger: Trigger
    group: str
    description: str
    renew: Callable[[], None] | None = field(default=None, compare=False)
    """For a distinct-failures case: the next failure's source, written and imported anew
    (untimed, between two calls)."""

    @property
    def wsgi(self) -> WSGIApp:
        """A WSGI app that raises this case's exception before starting a response."""
        return make_wsgi(self.trigger)

    @property
    def asgi(self) -> ASGIApp:
        """An ASGI app that raises this case's exception before sending anything."""
        return make_asgi(self.trigger)


def make_wsgi(trigger: Trigger) -> WSGIApp:
    """Wrap ``trigger`` as a WSGI app, so the app's own frame shows on the page."""

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        trigger()

    app.__qualname__ = f"wsgi[{trigger.__name__}]"
    return app


def make_asgi(trigger: Trigger) -> ASGIApp:
    """Wrap ``trigger`` as an ASGI app: it raises from inside the ASGI callable."""

    async def app(scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
        trigger()

    app.__qualname__ = f"asgi[{trigger.__name__}]"
    return app


def ok_app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """The happy path: the smallest useful WSGI app, to price a middleware's overhead."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


async def ok_asgi(scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
    """The happy path for the ASGI anchor."""
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"2")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"ok"})


# --- a temporary folder for source the pages must be able to show -------------------


@functools.cache
def _scratch_dir() -> Path:
    """One temporary folder per process, removed at exit."""
    path = Path(tempfile.mkdtemp(prefix="debugpages-corpus-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


# --- simple, chained, group, notes ---------------------------------------------------


def _parse_quantity(raw: str) -> int:
    quantity = int(raw)
    if quantity <= 0:
        raise ValueError(f"quantity must be positive, got {quantity}")
    return quantity


def _load_order(order_id: int) -> dict[str, Any]:
    order: dict[str, Any] = {"id": order_id, "items": ["book", "pen"], "quantity": "0"}
    order["quantity"] = _parse_quantity(order["quantity"])
    return order


def fail_simple() -> NoReturn:
    """A plain ValueError three frames below the app."""
    order_id = 42
    _load_order(order_id)
    raise AssertionError("unreachable")


def _read_config(key: str) -> str:
    settings = {"timeout": "30"}
    return settings[key]


def fail_chained() -> NoReturn:
    """A KeyError, re-raised ``from`` as LookupError, during whose handling another fails."""
    try:
        try:
            _read_config("retries")
        except KeyError as exc:
            raise LookupError("configuration incomplete: no 'retries'") from exc
    except LookupError:
        fallback: dict[str, int] = {}
        _ = 1 / len(fallback)
    raise AssertionError("unreachable")


def _raise(exc: BaseException) -> NoReturn:
    raise exc


def _collect(errors: list[Exception]) -> list[Exception]:
    """Raise each error for real so every member of the group has a traceback."""
    caught: list[Exception] = []
    for error in errors:
        try:
            _raise(error)
        except Exception as exc:
            caught.append(exc)
    return caught


def fail_group() -> NoReturn:
    """An ExceptionGroup holding a nested group, every member with its own traceback."""
    inner = _collect([TypeError("inner type error"), KeyError("inner-missing-key")])
    try:
        raise ExceptionGroup("inner validation group", inner)
    except ExceptionGroup as nested:
        members = [*_collect([ValueError("outer value error")]), nested]
        raise ExceptionGroup("outer request group", members) from None


def fail_notes() -> NoReturn:
    """An exception carrying two notes (PEP 678)."""
    try:
        _parse_quantity("-3")
    except ValueError as exc:
        exc.add_note("while importing row 17 of orders.csv")
        exc.add_note("hint: quantities are counted in units, not in boxes")
        raise
    raise AssertionError("unreachable")


# --- recursion and 200 distinct frames --------------------------------------------


def _recurse(depth: int) -> int:
    return _recurse(depth + 1) + 1


def fail_recursion() -> NoReturn:
    """A RecursionError: about ``sys.getrecursionlimit()`` identical frames."""
    _recurse(0)
    raise AssertionError("unreachable")


def _deep_source(count: int) -> str:
    """Source of ``count`` distinct functions, each calling the next; the last raises."""
    chunks = []
    for index in range(count):
        body = (
            f"    return f_{index + 1:03d}(value_{index:03d})\n"
            if index < count - 1
            else f'    raise LookupError(f"bottom of {count} frames: {{value_{index:03d}}}")\n'
        )
        chunks.append(
            f"def f_{index:03d}(carried):\n    value_{index:03d} = carried + {index}\n{body}\n"
        )
    return "".join(chunks)


@functools.cache
def _deep_module() -> ModuleType:
    """Write the generated functions to a real .py file and import it, for linecache."""
    path = _scratch_dir() / "deep_frames.py"
    path.write_text(_deep_source(DEEP_FRAMES), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("debugpages_bench_deep_frames", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def fail_deep() -> NoReturn:
    """200 distinct frames, each from its own function in a real source file."""
    _deep_module().f_000(0)
    raise AssertionError("unreachable")


# --- huge locals and hostile objects ------------------------------------------------


@functools.cache
def huge_values() -> tuple[str, list[int], dict[str, int]]:
    """A 5 MB string, a million-int list and a 100,000-item dict, built once."""
    text = "x" * (5 * 1024 * 1024)
    numbers = list(range(1_000_000))
    mapping = {f"key{i}": i for i in range(100_000)}
    return text, numbers, mapping


def fail_huge_locals() -> NoReturn:
    """A frame whose locals are huge: a renderer must bound them, not print them.

    The tuple is unpacked at once so that the three values are the only big locals.
    """
    text, numbers, mapping = huge_values()
    raise MemoryError(f"pretend we ran out: {len(text)} {len(numbers)} {len(mapping)}")


class ReprRaises:
    """An object whose ``__repr__`` raises, as half-initialised objects often do."""

    def __repr__(self) -> str:
        raise RuntimeError("__repr__ failed: object not initialised")


class ReprRecurses:
    """An object whose ``__repr__`` calls itself until RecursionError."""

    def __repr__(self) -> str:
        return f"ReprRecurses({self!r})"


_ONE_MB_REPR = "R" * (1024 * 1024)


class ReprHuge:
    """An object whose ``__repr__`` returns 1 MB."""

    def __repr__(self) -> str:
        return _ONE_MB_REPR


class StrRaisesError(Exception):
    """An exception whose ``__str__`` raises: even its message cannot be trusted."""

    def __str__(self) -> str:
        raise RuntimeError("__str__ of the exception failed")


def fail_evil_repr_raises() -> NoReturn:
    """A local whose repr raises."""
    hostile = ReprRaises()
    raise ValueError(f"failed with a hostile local of type {type(hostile).__name__}")


def fail_evil_repr_recurses() -> NoReturn:
    """A local whose repr recurses without end."""
    hostile = ReprRecurses()
    raise ValueError(f"failed with a hostile local of type {type(hostile).__name__}")


def fail_evil_repr_huge() -> NoReturn:
    """A local whose repr is 1 MB long."""
    hostile = ReprHuge()
    raise ValueError(f"failed with a hostile local of type {type(hostile).__name__}")


def fail_evil_str_raises() -> NoReturn:
    """An exception that cannot be turned into a message."""
    raise StrRaisesError("this text is never shown by str()")


def fail_unicode() -> NoReturn:
    """A message with a lone surrogate and a NUL, which no UTF-8 encoder accepts as is."""
    name = "caf\u00e9 \ud800 \U0001f40d"
    raise ValueError(f"bad name {name!s} with a NUL here:\x00 and a lone surrogate \udfff")


def fail_os_error() -> NoReturn:
    """An OSError with errno, strerror and filename."""
    path = _scratch_dir() / "no-such-dir" / "settings.ini"
    with open(path, encoding="utf-8") as handle:
        handle.read()
    raise AssertionError("unreachable")


# --- template errors -----------------------------------------------------------------

_TEMPLATES = {
    "base.html": "<html><body>{% block body %}{% endblock %}</body></html>\n",
    "broken.html": (
        '{% extends "base.html" %}\n'
        "{% block body %}\n"
        "<ul>\n"
        "{% for item in items %}\n"
        "  <li>{{ item }}</li>\n"
        "{% endblock %}\n"
    ),
    "profile.html": (
        '{% extends "base.html" %}\n'
        "{% block body %}\n"
        "<h1>{{ user.name }}</h1>\n"
        "<p>{{ user.address.city }}</p>\n"
        "{% endblock %}\n"
    ),
}


@functools.cache
def _jinja_env() -> Any:
    """A Jinja environment over real files, strict about undefined names."""
    import jinja2

    folder = _scratch_dir() / "templates"
    folder.mkdir(exist_ok=True)
    for name, text in _TEMPLATES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def fail_syntax_in_template() -> NoReturn:
    """A TemplateSyntaxError: a for loop closed by endblock."""
    items = ["a", "b"]
    _jinja_env().get_template("broken.html").render(items=items)
    raise AssertionError("unreachable")


def fail_undefined_in_template() -> NoReturn:
    """An UndefinedError raised from inside a template that extends another."""
    user = {"name": "Ada"}
    _jinja_env().get_template("profile.html").render(user=user)
    raise AssertionError("unreachable")


# --- for the soak -------------------------------------------------------------------


def fail_with_10mb_locals() -> NoReturn:
    """Allocate 10 MB per request and fail while holding it: a leak shows at once."""
    blob = b"\x00" * TEN_MB
    raise RuntimeError(f"failed while holding {len(blob)} bytes")


# --- distinct failures: a new source file for every failure ----------------------

_FRESH_HEADER = "from __future__ import annotations\n\nfrom typing import Any, NoReturn\n\n\n"
_fresh_numbers = itertools.count()


class FreshTrigger:
    """A case's functions, run from a source file written anew for every failure.

    Each ``renew`` writes the source to a new file and imports it, so every failure
    comes from a file name, code objects and source lines that no renderer has met
    before: no memo (``linecache``, a frame's text, a code object's names) can hit.
    The file of the previous failure is removed, from ``linecache`` too.
    """

    def __init__(self, entry: str, source: Callable[[], str]) -> None:
        self.__name__ = entry
        self.entry = entry
        self.source = functools.cache(source)
        self.path: Path | None = None
        self.module: str | None = None
        self.current: Trigger | None = None

    @classmethod
    def of(cls, entry: Trigger, *helpers: Callable[..., Any]) -> FreshTrigger:
        """The functions' own source, the entry last (read on the first ``renew``)."""

        def source() -> str:
            import inspect

            return "\n\n".join(inspect.getsource(f) for f in (*helpers, entry))

        return cls(entry.__name__, source)

    def renew(self) -> None:
        """Forget the last failure's file; write and import the next one's."""
        self.forget()
        number = next(_fresh_numbers)
        folder = _scratch_dir() / "fresh"
        folder.mkdir(exist_ok=True)
        self.path = folder / f"{self.entry}_{number:06d}.py"
        self.path.write_text(_FRESH_HEADER + self.source(), encoding="utf-8")
        self.module = f"debugpages_bench_fresh_{number:06d}"
        spec = importlib.util.spec_from_file_location(self.module, self.path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[self.module] = module
        spec.loader.exec_module(module)
        self.current = getattr(module, self.entry)

    def forget(self) -> None:
        """Drop the current module and its file, so memory and disk stay flat."""
        if self.module is not None:
            sys.modules.pop(self.module, None)
        if self.path is not None:
            linecache.cache.pop(str(self.path), None)
            self.path.unlink(missing_ok=True)
        self.current = self.module = self.path = None

    def __call__(self) -> NoReturn:
        if self.current is None:
            self.renew()
        assert self.current is not None
        self.current()
        raise AssertionError("unreachable")


_DEEP_ENTRY = """
def fail_deep() -> NoReturn:
    f_000(0)
    raise AssertionError("unreachable")
"""


def _distinct(name: str, trigger: FreshTrigger, description: str) -> Case:
    return Case(f"{name}/distinct", trigger, DISTINCT, description, trigger.renew)


# --- the corpus -------------------------------------------------------------------

ORDINARY = "ordinary"
DISTINCT = "distinct"

_CASES = [
    Case("simple", fail_simple, ORDINARY, "ValueError three frames deep"),
    Case("chained", fail_chained, ORDINARY, "raise ... from, then an implicit context"),
    Case("group", fail_group, ORDINARY, "ExceptionGroup with a nested group"),
    Case("notes", fail_notes, ORDINARY, "an exception with two notes"),
    Case("recursion", fail_recursion, "recursion", "RecursionError, ~1000 frames"),
    Case("deep", fail_deep, "deep", "200 distinct frames from a generated module"),
    Case("huge_locals", fail_huge_locals, "huge", "5 MB str, 1M-int list, 100k dict"),
    Case("evil_repr_raises", fail_evil_repr_raises, "hostile", "__repr__ raises"),
    Case("evil_repr_recurses", fail_evil_repr_recurses, "hostile", "__repr__ recurses"),
    Case("evil_repr_huge", fail_evil_repr_huge, "hostile", "__repr__ returns 1 MB"),
    Case("evil_str_raises", fail_evil_str_raises, "hostile", "exception __str__ raises"),
    Case("unicode", fail_unicode, "hostile", "lone surrogates and NUL in the message"),
    Case("syntax_in_template", fail_syntax_in_template, "template", "TemplateSyntaxError"),
    Case("undefined_in_template", fail_undefined_in_template, "template", "UndefinedError"),
    Case("os_error", fail_os_error, "hostile", "FileNotFoundError with a filename"),
    _distinct(
        "simple", FreshTrigger.of(fail_simple, _parse_quantity, _load_order), "simple, new file"
    ),
    _distinct("chained", FreshTrigger.of(fail_chained, _read_config), "chained, new file"),
    _distinct("group", FreshTrigger.of(fail_group, _raise, _collect), "group, new file"),
    _distinct("notes", FreshTrigger.of(fail_notes, _parse_quantity), "notes, new file"),
    _distinct(
        "deep",
        FreshTrigger("fail_deep", lambda: _deep_source(DEEP_FRAMES) + _DEEP_ENTRY),
        f"{DEEP_FRAMES} distinct frames, new file",
    ),
]

CASES: dict[str, Case] = {case.name: case for case in _CASES}


def prepare() -> None:
    """Build the shared objects and files up front, so no timed call pays for them."""
    huge_values()
    _deep_module()
    _jinja_env()
    for case in _CASES:
        if case.renew is not None:
            case.renew()

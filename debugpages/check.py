"""Sample failures, and the template checker behind ``debugpages check``.

Pages are rendered through the engine itself (``Engine.page`` and ``Engine.render``),
so the checker sees exactly what a failing request would get. A template that
fails shows up as the ERROR record the renderer logs before falling back.
"""

from __future__ import annotations

import dataclasses
import html
import json
import logging
import os
import re
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jinja2
from werkzeug.exceptions import HTTPException, default_exceptions
from werkzeug.test import EnvironBuilder

from .choose import HTML, JSON, TEXT, Format, template_names
from .model import Page
from .render import BUILTIN_TEMPLATES
from .respond import Engine
from .switch import Mode

log = logging.getLogger("debugpages")

FORMATS = {"html": HTML, "text": TEXT, "json": JSON}
STATUSES = (400, 404, 405, 500, 503)
"""The statuses checked besides the ones the user has a template of its own for."""

UNESCAPED = "<script>debugpagesUnescaped()</script>"
"""Hostile HTML: in an HTML page it must only ever appear escaped."""
MESSAGE = f"could not ship order {UNESCAPED} debugpagesMessage"
SECRET = "debugpagesSecretValue"
"""Sits under sensitive names (locals, Authorization, Cookie, ``?token=``): never shown."""


def sample_environ(hostile: bool = False) -> dict[str, Any]:
    """A request as a WSGI server would hand it over."""
    if not hostile:
        return EnvironBuilder(path="/orders/7", query_string={"page": "2"}).get_environ()
    return EnvironBuilder(
        path="/orders/7",
        query_string={"token": SECRET, "q": UNESCAPED},
        headers=[
            ("Authorization", f"Bearer {SECRET}"),
            ("Cookie", f"sessionid={SECRET}"),
            ("X-Note", UNESCAPED),
            ("Accept", "text/html"),
        ],
    ).get_environ()


def _load_order(order_id: str, password: str, api_key: str, hostile: bool) -> str:
    orders = {"1": "tea"}
    try:
        return orders[order_id]
    except KeyError as exc:
        error = RuntimeError(MESSAGE if hostile else f"could not ship order {order_id}")
        error.add_note(UNESCAPED if hostile else "while shipping")
        raise error from exc


def sample_failure(status: int, hostile: bool = False) -> Exception:
    """An exception for ``status``: a chained error three frames deep for 500."""
    if status == 500:
        try:
            secret = SECRET if hostile else "hunter2"
            _load_order("7", secret, secret, hostile)
        except RuntimeError as exc:
            return exc
    description = f"{UNESCAPED} for the user" if hostile else None
    kind = default_exceptions.get(status)
    if kind is not None:
        return kind(description)
    other = HTTPException(description)
    other.code = status
    return other


def sample_page(
    engine: Engine, status: int, hostile: bool = False, reference: str = "SampleReference00"
) -> Page:
    """The page model a request failing with ``status`` gets from ``engine``."""
    exc = sample_failure(status, hostile)
    code = exc.code if isinstance(exc, HTTPException) and exc.code else 500
    return engine.page(exc, sample_environ(hostile), reference, code)


@dataclasses.dataclass(frozen=True)
class Problem:
    template: str
    mode: str
    format: str
    what: str

    def __str__(self) -> str:
        return f"{self.template} ({self.mode}, {self.format}): {self.what}"


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def render_failures_logged() -> Iterator[list[logging.LogRecord]]:
    """The renderer's ERROR records while rendering, kept from the user's terminal."""
    handler = _Collect()
    propagate = log.propagate
    log.addHandler(handler)
    log.propagate = False
    try:
        yield handler.records
    finally:
        log.removeHandler(handler)
        log.propagate = propagate


def _failure(record: logging.LogRecord) -> str:
    exc = record.exc_info[1] if record.exc_info else None
    cause = f": {type(exc).__name__}: {exc}" if exc is not None else ""
    return f"{record.getMessage().removeprefix('debugpages: ')}{cause}"


def failed_at(record: logging.LogRecord) -> str | None:
    """``file:line`` of the template line that failed, as a compiler names it.

    A syntax error knows its line; a render error's traceback holds the template's
    frames (Jinja rewrites them), the innermost being the line that failed.
    """
    exc = record.exc_info[1] if record.exc_info else None
    if exc is None:
        return None
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.lineno:
        return f"{_shown(exc.filename or exc.name or '?')}:{exc.lineno}"
    found = None
    tb = record.exc_info[2] if record.exc_info else None  # the error's own is dropped
    for frame, line in traceback.walk_tb(tb):
        if frame.f_code.co_filename.endswith(_TEMPLATE_SUFFIXES):
            found = f"{_shown(frame.f_code.co_filename)}:{line}"
    return found


_TEMPLATE_SUFFIXES = (".html", ".txt", ".json", ".css")


def _shown(path: str) -> str:
    """A template's path as the user knows it: relative to the current folder, or built-in."""
    absolute, builtin = Path(path).resolve(), Path(BUILTIN_TEMPLATES).resolve()
    if absolute.is_relative_to(builtin):
        return f"built-in {absolute.relative_to(builtin)}"
    relative = os.path.relpath(absolute)
    return path if relative.startswith("..") else relative


def render_failures(records: Sequence[logging.LogRecord]) -> list[tuple[str | None, str]]:
    """Where each template failure recorded happened (``file:line``), and what it was."""
    return [(failed_at(record), _failure(record)) for record in records]


class Checker:
    """Renders every page debugpages would send, and collects what is wrong with them."""

    def __init__(self, template_dirs: Sequence[str | os.PathLike[str]] = ()) -> None:
        self.template_dirs = [Path(folder) for folder in template_dirs]
        self.engines = {mode: Engine(mode, self.template_dirs) for mode in Mode}
        self.problems: list[Problem] = []
        self.templates: set[str] = set()
        self.pages = 0

    def statuses(self) -> list[int]:
        """The statuses to check: the usual ones and any the user has a template for."""
        own = {
            int(match.group(1))
            for folder in self.template_dirs
            for path in folder.iterdir()
            if (match := re.fullmatch(r"([45]\d\d)\.(html|txt|json)", path.name))
        }
        return sorted(own.union(STATUSES))

    def run(self) -> list[Problem]:
        for mode, engine in self.engines.items():
            for status in self.statuses():
                for fmt_name, fmt in FORMATS.items():
                    self.check(engine, mode, status, fmt_name, fmt)
        return self.problems

    def name(self, engine: Engine, page: Page, fmt: Format) -> str:
        """Which file answers: the user's, shown by path, or the built-in one."""
        mode = Mode(page.mode) if page.error is not None else Mode.OFF
        names = template_names(mode, page.status, fmt, http_error=page.http_error)
        try:
            chosen = engine.renderer.users_first(names)
            found = engine.renderer.environments[0].select_template(chosen).filename or names[0]
        except Exception:  # the user's template does not even load: find it by name
            owned = [folder / names[0] for folder in self.template_dirs]
            return next((str(path) for path in owned if path.is_file()), names[0])
        path = Path(found)
        for folder in self.template_dirs:
            if path.is_relative_to(folder.resolve()) or path.is_relative_to(folder):
                return str(folder / path.name)
        return f"built-in {path.name}"

    def render(
        self, engine: Engine, page: Page, fmt: Format, nonce: str, where: Problem
    ) -> str | None:
        """The body; ``None`` when the template failed (and the fallback was rendered)."""
        with render_failures_logged() as failures:
            body = engine.render(page, fmt, nonce)
        self.pages += 1
        for location, what in render_failures(failures):
            at = where if location is None else dataclasses.replace(where, template=location)
            self.report(at, what)
        if failures:
            return None
        if fmt is JSON:
            try:
                json.loads(body)
            except ValueError as error:
                self.report(where, f"renders invalid JSON ({error}, in the output)")
        if fmt is TEXT and html.escape(UNESCAPED) in body:
            self.report(
                where,
                f"renders HTML-escaped text ({html.escape(UNESCAPED)}): a text page shows text "
                "as it is (no |e, no |escape)",
            )
        return body

    def report(self, where: Problem, what: str) -> None:
        problem = dataclasses.replace(where, what=what)
        if problem not in self.problems:
            self.problems.append(problem)

    def check(self, engine: Engine, mode: Mode, status: int, fmt_name: str, fmt: Format) -> None:
        plain = sample_page(engine, status)
        hostile = sample_page(engine, status, hostile=True)
        if hostile.error is not None:
            hostile = dataclasses.replace(hostile, trace_id="4bf92f3577b34da6a3ce929d0e0e4736")
        template = self.name(engine, plain, fmt)
        self.templates.add(template)
        where = Problem(template, mode.value, fmt_name, "")
        self.render(engine, plain, fmt, "SampleNonce", where)
        body = self.render(engine, hostile, fmt, "SampleNonce", where)
        if body is None:
            return  # the template failed: reported; what was sent is the built-in page
        if SECRET in body:
            self.report(where, "shows a secret that sat under a sensitive name")
        if fmt is HTML and UNESCAPED in body:
            self.report(where, f"shows unescaped HTML from the request or the error: {UNESCAPED}")
        if hostile.error is None:
            if "debugpagesMessage" in body:
                self.report(where, "shows the exception's message")
            self.compare(engine, plain, fmt, where)

    def compare(self, engine: Engine, page: Page, fmt: Format, where: Problem) -> None:
        """Two pages that differ only in reference, time and nonce, compared line by line.

        After the reference and the nonce are replaced by placeholders, they must be
        equal: anything else that differs comes from a field beyond status, title and
        reference (the time, say), which the ``off`` pages must not show.
        """
        texts = []
        for letter, time in (
            ("A", "2001-01-01T01:01:01+00:00"),
            ("B", "2002-02-02T02:02:02+00:00"),
        ):
            reference = f"Sample{letter}Reference{letter * 4}"
            nonce = f"Sample{letter}Nonce"
            sample = dataclasses.replace(
                page,
                reference=reference,
                time=time,
                description=f"Sample{letter}Description" if page.description else None,
            )
            body = self.render(engine, sample, fmt, nonce, where)
            if body is None:
                return
            for value, placeholder in (
                (reference, "{reference}"),
                (nonce, "{nonce}"),
                (f"Sample{letter}Description", "{description}"),
            ):
                body = body.replace(value, placeholder)
            texts.append(body.splitlines())
        first, second = texts
        for number, (one, two) in enumerate(zip(first, second, strict=False), start=1):
            if one != two:
                self.report(
                    where,
                    f"shows more than status, title and reference (line {number}: {one.strip()!r})",
                )
                return
        if len(first) != len(second):
            self.report(where, "shows more than status, title and reference (length differs)")

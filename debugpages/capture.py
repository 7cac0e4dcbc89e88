"""The capture step: an exception and a request become a model.

Built on ``traceback.extract_tb`` (frames with their column positions) and
``traceback.walk_tb`` (the frames themselves, for locals), with ``linecache`` for
source. Every string goes through the policy; only the frames whose locals the
page shows have their values represented. The result holds no frame, traceback or
application object, so nothing of the failed request outlives the page.

Before anything is shown, ``collect_secrets`` reads the values that sit under
sensitive names (locals, request fields, the OS environment); the finished report
is masked by value with them, in every string it holds.
"""

from __future__ import annotations

import functools
import linecache
import os
import site
import sys
import sysconfig
import traceback
from collections.abc import Callable, Iterator, Mapping
from importlib import metadata
from types import FrameType, TracebackType
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from werkzeug.http import parse_cookie
from werkzeug.wrappers import Request

from .model import ErrorReport, ExceptionView, FrameView, RequestView, SourceLine, Variable
from .policy import (
    MIN_ENVIRON_SECRET,
    Policy,
    Secrets,
    ValueFormatter,
    bound,
    collapse_repeats,
    safe_text,
)
from .sensitive import marked_names

T = TypeVar("T")

_MAX_SOURCE_CHARS = 300
_MAX_FORM_BYTES = 1024 * 1024
_MAX_GROUP_DEPTH = 10
_NOT_SECRETS = frozenset({"PWD", "OLDPWD"})
"""OS environment variables whose names look like secrets ("pwd") but hold a folder."""
_ENVIRON_KEYS = (
    "REMOTE_ADDR", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "SCRIPT_NAME",
    "wsgi.url_scheme", "wsgi.multithread", "wsgi.multiprocess",
)  # fmt: skip


def capture(
    exc: BaseException,
    environ: Mapping[str, Any] | None,
    policy: Policy,
    secrets: Secrets | None = None,
) -> ErrorReport:
    """Read what the traceback page shows of ``exc`` and the request that raised it."""
    if secrets is None:
        secrets = collect_secrets(exc, environ, policy)
    values = ValueFormatter(policy, secrets=secrets)
    try:
        exception = _Exceptions(policy, values).view(exc)
    finally:
        values.release()
    notices: tuple[str, ...] = ()
    if values.skipped:
        notices = (
            f"The time budget for showing values ({policy.repr_budget:g} s) ran out: "
            f"{values.skipped} values are not shown.",
        )
    request = capture_request(environ, policy, secrets) if environ is not None else None
    if secrets.left_out:
        notices += (
            f"{secrets.left_out} secret values are masked by name only: the page found more "
            "than it can mask by value cheaply.",
        )
    environment = capture_environment(policy)
    report = ErrorReport(exception, request, versions(), notices, environment)
    return secrets.masker().model(report)


class _Exceptions:
    """Walks an exception, its chain and its group members, each once."""

    def __init__(self, policy: Policy, values: ValueFormatter) -> None:
        self.policy = policy
        self.values = values
        self.seen: set[int] = set()
        self.chained = 0

    def view(self, exc: BaseException, depth: int = 0) -> ExceptionView:
        self.seen.add(id(exc))
        kind = type(exc)
        message, message_cut = self.values.text(_str(exc), self.policy.max_message_chars)
        frames, hidden, without_locals = self.frames(exc.__traceback__)
        members: list[ExceptionView] = []
        left_out = 0
        if isinstance(exc, BaseExceptionGroup):
            if depth < _MAX_GROUP_DEPTH:
                shown = exc.exceptions[: self.policy.max_group_members]
                members = [self.view(member, depth + 1) for member in shown]
            left_out = len(exc.exceptions) - len(members)
        return ExceptionView(
            type_name=safe_text(kind.__qualname__),
            module=safe_text(str(kind.__module__)),
            message=message,
            message_cut=message_cut,
            notes=self.notes(exc),
            frames=frames,
            hidden_frames=hidden,
            frames_without_locals=without_locals,
            cause=self.linked(exc.__cause__, depth),
            context=None if exc.__suppress_context__ else self.linked(exc.__context__, depth),
            members=tuple(members),
            members_left_out=left_out,
        )

    def linked(self, exc: BaseException | None, depth: int) -> ExceptionView | None:
        if exc is None or id(exc) in self.seen or self.chained >= self.policy.max_chain:
            return None
        self.chained += 1
        return self.view(exc, depth)

    def notes(self, exc: BaseException) -> tuple[str, ...]:
        notes = getattr(exc, "__notes__", None)
        if not isinstance(notes, list | tuple):
            return ()
        shown = []
        for note in notes[: self.policy.max_items]:
            text = note if isinstance(note, str) else self.values.variable("note", note).text
            shown.append(self.values.text(text, self.policy.max_message_chars)[0])
        return tuple(shown)

    def frames(self, tb: TracebackType | None) -> tuple[tuple[FrameView, ...], int, int]:
        """The frames of one traceback: hidden ones dropped, repeats collapsed."""
        summaries = traceback.extract_tb(tb)
        pairs = [
            (frame, summary)
            for (frame, _), summary in zip(traceback.walk_tb(tb), summaries, strict=True)
            if not _is_hidden(frame)
        ]
        hidden = len(summaries) - len(pairs)
        kept = collapse_repeats([(s.filename, s.lineno, s.name) for _, s in pairs])
        with_locals = len(kept) - self.policy.max_frames_with_locals
        views = [
            self.frame(*pairs[index], run, repeated, show_locals=position >= with_locals)
            for position, (index, run, repeated) in enumerate(kept)
        ]
        return tuple(views), hidden, max(with_locals, 0)

    def frame(
        self,
        frame: FrameType,
        summary: traceback.FrameSummary,
        run: int,
        repeated: int,
        *,
        show_locals: bool,
    ) -> FrameView:
        display, is_library = _where(summary.filename)
        variables = None
        if show_locals:
            names = sorted(frame.f_locals.items(), key=lambda item: item[0])
            variables = tuple(
                self.values.variable(name, value, frame.f_code)
                for name, value in names[: self.policy.max_variables]
                if name != "__traceback_hide__"
            )
        return FrameView(
            path=safe_text(summary.filename),
            display_path=display,
            line=summary.lineno or 0,
            function=safe_text(frame.f_code.co_qualname),
            module=safe_text(str(frame.f_globals.get("__name__", ""))),
            is_library=is_library,
            source=self.source(frame, summary),
            variables=variables,
            repeat_run=run,
            repeated=repeated,
        )

    def source(self, frame: FrameType, summary: traceback.FrameSummary) -> tuple[SourceLine, ...]:
        lineno = summary.lineno or 0
        lines = linecache.getlines(summary.filename, frame.f_globals)
        if not lines or not 0 < lineno <= len(lines):
            return ()
        context = self.policy.context_lines
        first = max(lineno - context, 1)
        shown = []
        for number in range(first, min(lineno + context, len(lines)) + 1):
            raw = lines[number - 1].rstrip("\r\n")
            mark = _mark(raw, summary) if number == lineno else None
            text = safe_text(bound(raw, _MAX_SOURCE_CHARS)[0])
            if mark is not None and (text[: mark[1]] != raw[: mark[1]]):
                mark = None  # escaping shifted the columns: show the line unmarked
            shown.append(SourceLine(number, text, number == lineno, mark))
        return tuple(shown)


def _str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception as error:
        return f"<str() failed: {type(error).__qualname__}>"


def _is_hidden(frame: FrameType) -> bool:
    """Paste's and Werkzeug's ``__traceback_hide__`` convention."""
    if "__traceback_hide__" in frame.f_code.co_varnames and frame.f_locals.get(
        "__traceback_hide__"
    ):
        return True
    return bool(frame.f_globals.get("__traceback_hide__"))


def _mark(line: str, summary: traceback.FrameSummary) -> tuple[int, int] | None:
    """The failing expression's character span on its line, from CPython's positions."""
    start = getattr(summary, "colno", None)
    end = getattr(summary, "end_colno", None)
    if start is None or end is None:
        return None
    if getattr(summary, "end_lineno", summary.lineno) != summary.lineno:
        end = len(line.encode("utf-8"))
    encoded = line.encode("utf-8")
    first = len(encoded[:start].decode("utf-8", "replace"))
    last = len(encoded[:end].decode("utf-8", "replace"))
    if first >= last or last > _MAX_SOURCE_CHARS:
        return None
    if line[:first].strip() == "" and line[last:].strip() == "":
        return None  # the whole line failed: nothing to point at
    return first, last


def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    roots.update(getattr(site, "getsitepackages", list)())
    return tuple(sorted((os.path.join(root, "") for root in roots), key=len, reverse=True))


_ROOTS = _library_roots()


@functools.lru_cache(maxsize=1024)
def _where(path: str) -> tuple[str, bool]:
    """How to show a file's path, and whether it belongs to a library."""
    if path.startswith("<frozen "):
        return safe_text(path), True
    for root in _ROOTS:
        if path.startswith(root):
            return safe_text(path[len(root) :]), True
    cwd = os.path.join(os.getcwd(), "")
    if path.startswith(cwd):
        return safe_text(path[len(cwd) :]), False
    return safe_text(path), False


@functools.cache
def versions() -> tuple[tuple[str, str], ...]:
    """The versions a bug report wants: Python and the packages under the page."""
    found = [("Python", sys.version.split()[0])]
    for name in ("debugpages", "werkzeug", "jinja2"):
        try:
            found.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            found.append((name, "not installed"))
    return tuple(found)


def capture_request(
    environ: Mapping[str, Any], policy: Policy, secrets: Secrets | None = None
) -> RequestView | None:
    """Read what can be read of the request; a part that fails is left out.

    Form fields under sensitive names join ``secrets``; every value is masked by
    value before it is bounded, so a cut never leaves part of a secret.
    """
    secrets = Secrets(policy) if secrets is None else secrets
    request = Request(dict(environ) if not isinstance(environ, dict) else environ)
    no_pairs: list[tuple[str, str]] = []
    form_pairs: list[tuple[str, str]] = []
    file_pairs: list[tuple[str, str]] = []
    if _attempt(
        lambda: (
            request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data")
            and (request.content_length or 0) <= _MAX_FORM_BYTES
        ),
        False,
    ):
        form_pairs = _attempt(lambda: list(request.form.items(multi=True)), no_pairs)
        file_pairs = _attempt(
            lambda: [
                (k, f"{f.filename!r} ({f.mimetype or 'unknown type'})")
                for k, f in request.files.items(multi=True)
            ],
            no_pairs,
        )
    for name, value in form_pairs:
        if policy.is_sensitive(name):
            secrets.add(value)
    mask = secrets.masker().text

    def fields(pairs: list[tuple[str, str]]) -> tuple[Variable, ...]:
        return tuple(policy.field(str(k), mask(str(v))) for k, v in pairs)

    method = _attempt(lambda: safe_text(str(environ.get("REQUEST_METHOD", "?"))), "?")
    path = _attempt(lambda: policy.text(mask(request.path))[0], "?")
    url = _attempt(lambda: policy.text(mask(request.base_url))[0], path)
    no_fields: tuple[Variable, ...] = ()
    query = _attempt(lambda: fields(list(request.args.items(multi=True))), no_fields)
    headers = _attempt(lambda: fields(list(request.headers.items())), no_fields)
    no_names: tuple[str, ...] = ()
    cookies = _attempt(lambda: tuple(safe_text(name) for name in request.cookies), no_names)
    server = _attempt(
        lambda: fields([(key, str(environ[key])) for key in _ENVIRON_KEYS if key in environ]),
        no_fields,
    )
    return RequestView(
        method=method,
        url=url,
        path=path,
        query=query,
        form=_attempt(lambda: fields(form_pairs), no_fields),
        files=_attempt(lambda: fields(file_pairs), no_fields),
        headers=headers,
        cookies=cookies,
        environ=server,
    )


def capture_environment(policy: Policy) -> tuple[Variable, ...]:
    """The allow-listed OS environment variables, masked by name like everything else."""
    return tuple(
        policy.field(name, os.environ[name]) for name in policy.environment if name in os.environ
    )


def collect_secrets(
    exc: BaseException, environ: Mapping[str, Any] | None, policy: Policy
) -> Secrets:
    """The values to mask wherever they appear: whatever sits under a sensitive name.

    Locals of every frame of the exception, its chain and its group members (by
    pattern, or marked by ``sensitive_variables``); the request's sensitive headers,
    cookies, query arguments and environ keys; and sensitive-named OS environment
    variables of at least ``MIN_ENVIRON_SECRET`` characters. Only strings are kept.
    """
    secrets = Secrets(policy)

    def sensitive(name: object) -> bool:
        return isinstance(name, str) and policy.is_sensitive(name)

    least = max(MIN_ENVIRON_SECRET, policy.min_secret_chars)
    for name in os.environ:
        if name not in _NOT_SECRETS and sensitive(name):
            secrets.add(os.environ.get(name), least)
    if environ is not None:
        _attempt(lambda: _request_secrets(environ, sensitive, secrets), None)
    for frame in _frames_of(exc, policy):
        marked = marked_names(frame.f_code)
        every = "*" in marked
        for name, value in frame.f_locals.items():
            if every or name in marked or sensitive(name):
                secrets.add(value)
    return secrets


def _request_secrets(
    environ: Mapping[str, Any], sensitive: Callable[[object], bool], secrets: Secrets
) -> None:
    for key, value in environ.items():
        if isinstance(value, str) and sensitive(key):
            secrets.add(value)
    for key in ("HTTP_AUTHORIZATION", "HTTP_PROXY_AUTHORIZATION"):
        value = environ.get(key)
        if isinstance(value, str):
            secrets.add_credentials(value)
    cookie = environ.get("HTTP_COOKIE")
    if isinstance(cookie, str):
        for value in parse_cookie(cookie).values():
            secrets.add(value)
    query = environ.get("QUERY_STRING")
    if isinstance(query, str) and query:
        text = query.encode("latin-1", "replace").decode("utf-8", "replace")
        for name, value in parse_qsl(text, keep_blank_values=True, errors="replace"):
            if sensitive(name):
                secrets.add(value)


def _frames_of(exc: BaseException, policy: Policy) -> Iterator[FrameType]:
    """Every frame of ``exc``, its causes, contexts and group members, each exception once."""
    pending: list[BaseException | None] = [exc]
    seen: set[int] = set()
    while pending and len(seen) < 4 * policy.max_chain:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        for frame, _ in traceback.walk_tb(current.__traceback__):
            yield frame
        pending += (current.__cause__, current.__context__)
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions[: policy.max_group_members])


def _attempt(read: Callable[[], T], default: T) -> T:
    try:
        return read()
    except Exception:
        return default

"""The capture step: an exception and a request become a model.

Built on the traceback's entries (each frame, its line and the instruction it stopped
at, hence the failing expression's columns), with ``linecache`` for source. Every
string goes through the policy; only the frames whose locals the page shows have their
values represented. The result holds no frame, traceback or application object, so
nothing of the failed request outlives the page.

Before anything is shown, ``collect_secrets`` reads the values that sit under
sensitive names (locals, request fields, the OS environment); every string is masked
by value with them as it is made. Values found later (a sensitive key inside a local
dict, a sensitive form field) are masked in the whole report by one more pass.
"""

from __future__ import annotations

import dataclasses
import functools
import linecache
import os
import site
import sys
import sysconfig
from collections.abc import Callable, Iterable, Mapping
from itertools import islice
from types import CodeType, FrameType, TracebackType
from typing import Any, NamedTuple, TypeVar
from urllib.parse import parse_qsl

from werkzeug.datastructures import EnvironHeaders
from werkzeug.http import parse_cookie
from werkzeug.sansio.utils import get_current_url
from werkzeug.wrappers import Request
from werkzeug.wsgi import get_host

from .editor import Editor
from .memo import Memo
from .model import ErrorReport, ExceptionView, FrameView, RequestView, SourceLine, Variable
from .policy import (
    MIN_ENVIRON_SECRET,
    NO_MASKER,
    Masker,
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
_MAX_EXCEPTIONS = 100
_FRAME_COST = 200  # characters of markup around a frame, for the page's size budget
_SHORT_MESSAGE = 200  # how much of a message is kept once the size budget is spent
_HIDE = "__traceback_hide__"
_ENVIRON_KEYS = (
    "REMOTE_ADDR", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "SCRIPT_NAME",
    "wsgi.url_scheme", "wsgi.multithread", "wsgi.multiprocess",
)  # fmt: skip


def capture(
    exc: BaseException,
    environ: Mapping[str, Any] | None,
    policy: Policy,
    editor: Editor | None = None,
    secrets: Secrets | None = None,
) -> ErrorReport:
    """Read what the traceback page shows of ``exc`` and the request that raised it."""
    running = _running_frames()
    if secrets is None:
        secrets = collect_secrets(exc, environ, policy, running)
    masker = secrets.masker()
    values = ValueFormatter(policy, secrets=secrets)
    walker = _Exceptions(policy, values, editor, running, masker)
    try:
        exception = walker.view(exc)
        frame_of = {id(view): key[0] for key, view in walker.frame_views.items()}
        exception = _Once(frame_of).view(exception)
    finally:
        values.release()
    notices: list[str] = []
    if values.skipped:
        notices.append(
            f"The time budget for showing values ({policy.repr_budget:g} s) ran out: "
            f"{values.skipped} values are not shown."
        )
    if walker.room <= 0:
        notices.append(
            f"This page reached its size limit ({policy.max_page_bytes:,} bytes): the source "
            "and locals of some frames were cut, and each cut says so."
        )
    request = capture_request(environ, policy, secrets) if environ is not None else None
    if secrets.left_out:
        notices.append(
            f"{secrets.left_out} secret values are masked by name only: the page found more "
            "than it can mask by value cheaply."
        )
    environment = capture_environment(policy, masker.text)
    report = ErrorReport(exception, request, versions(), tuple(notices), environment)
    if secrets.masker() is not masker:  # more secrets came to light: mask everything again
        return secrets.masker().model(report)
    return report


class _Exceptions:
    """Walks an exception, its chain and its group members, each once, within a size budget."""

    def __init__(
        self,
        policy: Policy,
        values: ValueFormatter,
        editor: Editor | None,
        running: frozenset[int],
        masker: Masker,
    ) -> None:
        self.policy = policy
        self.masker = masker
        self.mask = masker.text
        self.running = running
        self.values = values
        self.editor = editor
        self.seen: set[int] = set()
        self.views: dict[int, ExceptionView] = {}
        """Exceptions already read: a group's member that is also another's context (as
        ``except*`` makes them) is read once; ``_Once`` then shows it in full once."""
        self.frame_views: dict[tuple[int, ...], FrameView] = {}
        """Frames already read, by the frame's id first: the frame that caught each member
        of a group is shared."""
        self.chained = 0
        self.cwd = os.path.join(os.getcwd(), "")
        self.room = policy.max_page_bytes // 5
        """Characters of text still allowed: the HTML page holds it twice, escaped, in markup."""

    def view(self, exc: BaseException, depth: int = 0) -> ExceptionView:
        known = self.views.get(id(exc))
        if known is not None:
            return known
        self.seen.add(id(exc))
        kind = type(exc)
        limit = self.policy.max_message_chars
        if self.room < limit:
            limit = max(self.room, _SHORT_MESSAGE)
        message, message_cut = self.values.text(_str(exc), limit)
        self.room -= len(message)
        frames, hidden, without_locals = self.frames(exc.__traceback__)
        members: list[ExceptionView] = []
        left_out = 0
        if isinstance(exc, BaseExceptionGroup):
            for member in exc.exceptions[: self.policy.max_group_members]:
                if depth >= _MAX_GROUP_DEPTH or len(self.seen) >= _MAX_EXCEPTIONS:
                    break
                members.append(self.view(member, depth + 1))
            left_out = len(exc.exceptions) - len(members)
        view = self.views[id(exc)] = ExceptionView(
            type_name=self.mask(safe_text(kind.__qualname__)),
            module=self.mask(safe_text(str(kind.__module__))),
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
        return view

    def linked(self, exc: BaseException | None, depth: int) -> ExceptionView | None:
        if exc is None or id(exc) in self.seen or self.chained >= self.policy.max_chain:
            return None
        if len(self.seen) >= _MAX_EXCEPTIONS:
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
            limit = self.policy.max_message_chars if self.room > 0 else _SHORT_MESSAGE
            shown.append(self.values.text(text, limit)[0])
            self.room -= len(shown[-1])
        return tuple(shown)

    def frames(self, tb: TracebackType | None) -> tuple[tuple[FrameView, ...], int, int]:
        """The frames of one traceback: hidden ones dropped, repeats collapsed, innermost first
        in line for the size budget."""
        entries = _entries(tb)
        pairs = _visible(entries, self.running)
        hidden = len(entries) - len(pairs)
        kept = _cap(
            collapse_repeats([(e.tb_frame.f_code, e.tb_lineno) for e in pairs]),
            self.policy.max_frames,
        )
        with_locals = len(kept) - self.policy.max_frames_with_locals
        with_context = len(kept) - self.policy.max_frames_with_context
        views = []
        for position, (index, run, repeated, before) in reversed(list(enumerate(kept))):
            entry, show_locals = pairs[index], position >= with_locals
            step = _Step(entry.tb_frame, entry.tb_lineno or 0, entry.tb_lasti)
            context = self.policy.context_lines if position >= with_context else 0
            key = (id(step.frame), step.lasti, run, repeated, before, show_locals, context)
            view = self.frame_views.get(key)
            if view is None:
                view = self.frame(step, run, repeated, before, show_locals, context)
                self.frame_views[key] = view
            views.append(view)
        views.reverse()
        return tuple(views), hidden, max(with_locals, 0)

    def frame(
        self,
        step: _Step,
        run: int,
        repeated: int,
        left_out_before: int,
        show_locals: bool,
        context: int,
    ) -> FrameView:
        frame = step.frame
        code = frame.f_code
        path, display, is_library, function = _names(code.co_filename, code.co_qualname, self.cwd)
        line = step.lineno
        source: tuple[SourceLine, ...] = ()
        variables: list[Variable] | None = None
        variables_left_out = 0
        cut = self.room <= 0
        if not cut:
            source, size = self.source(step, context)
            self.room -= _FRAME_COST + size
        if show_locals and id(frame) not in self.running:
            names = [item for item in sorted(frame.f_locals.items()) if item[0] != _HIDE]
            every, sensitive = _sensitive_locals(code, self.policy)
            variables = []
            for name, value in names[: self.policy.max_variables]:
                if self.room <= 0:
                    cut = True
                    break
                shown = self.values.variable(name, value, sensitive=every or name in sensitive)
                variables.append(shown)
                self.room -= len(shown.text) + len(name)
            variables_left_out = len(names) - len(variables)
        link = self.editor.link(code.co_filename, line) if self.editor else None
        view = FrameView(
            path=path,
            display_path=display,
            line=line,
            function=function,
            module=safe_text(str(frame.f_globals.get("__name__", ""))),
            is_library=is_library,
            source=source,
            variables=None if variables is None else tuple(variables),
            repeat_run=run,
            repeated=repeated,
            editor_url=link,
            left_out_before=left_out_before,
            cut=cut,
            variables_left_out=variables_left_out,
        )
        return self.masked(view)

    def masked(self, view: FrameView) -> FrameView:
        """``view`` with its strings masked by value: one search when there is nothing to mask."""
        texts = [view.path, view.display_path, view.function, view.module, view.editor_url or ""]
        for variable in view.variables or ():
            texts += (variable.name, variable.text)
        if not self.masker.finds("\n".join(texts)):
            return view
        return self.masker.model(view)

    def source(self, step: _Step, context: int) -> tuple[tuple[SourceLine, ...], int]:
        """The source around the frame's line, masked, and how many characters it holds."""
        shown, text = _source(step, context)
        if not self.masker.finds(text):
            return shown, len(text)
        # A secret in the source: masked, and the line unmarked (its columns moved). One
        # pass over the joined lines, unless a secret spans lines (a line goes missing).
        masked = self.mask(text).split("\n")
        if len(masked) != len(shown):
            masked = [self.mask(line.text) for line in shown]
        lines = tuple(
            line if new == line.text else dataclasses.replace(line, text=new, mark=None)
            for new, line in zip(masked, shown, strict=True)
        )
        return lines, sum(map(len, masked))


def _source(step: _Step, context: int) -> tuple[tuple[SourceLine, ...], str]:
    """The lines around where ``step`` stopped, escaped and bounded (``()`` without
    source), and their text joined, to look for secrets in one pass.

    They depend only on the file's lines and where the code stopped, so they are
    remembered (while ``linecache`` holds the same lines): a failure that repeats
    reads its source once.
    """
    code, lineno = step.frame.f_code, step.lineno
    lines = linecache.getlines(code.co_filename, step.frame.f_globals)
    key = (code, step.lasti, lineno, context)
    known = _SOURCES.get(key)
    if known is not None and known[0] is lines:
        return known[1], known[2]
    if not lines or not 0 < lineno <= len(lines):
        return (), ""
    shown = []
    for number in range(max(lineno - context, 1), min(lineno + context, len(lines)) + 1):
        raw = lines[number - 1].rstrip("\r\n")
        mark = _mark(raw, step) if number == lineno else None
        text = safe_text(bound(raw, _MAX_SOURCE_CHARS)[0])
        if mark is not None and text[: mark[1]] != raw[: mark[1]]:
            mark = None  # escaping shifted the columns: show the line unmarked
        shown.append(SourceLine(number, text, number == lineno, mark))
    if len(_SOURCES) >= _MAX_SOURCES:
        _SOURCES.clear()
    entry = (lines, tuple(shown), "\n".join([line.text for line in shown]))
    _SOURCES[key] = entry  # another thread may clear the memo meanwhile: use our own entry
    return entry[1], entry[2]


_MAX_SOURCES = 512
_SOURCES: Memo[tuple[CodeType, int, int, int], tuple[list[str], tuple[SourceLine, ...], str]] = (
    Memo()
)
"""Source shown per (code, instruction, line, context), with the ``linecache`` lines it
was read from: a file that changed (and was read again) is never shown stale."""


class _Once:
    """The report in print order, with each exception in full once and each frame's
    locals once; a later sight names the exception, or says the locals are above.

    Python prints the chain before the exception (the deepest link first) and a group's
    members after it. A frame met again (a chain or a group passes through the same
    function call more than once) holds the same locals: its final ones.
    """

    def __init__(self, frame_of: dict[int, int]) -> None:
        self.frame_of = frame_of
        self.exceptions: set[int] = set()
        self.frames: set[int] = set()

    def view(self, view: ExceptionView) -> ExceptionView:
        """``view``, changed in place (each exception is met in full once); a later sight
        of it is a copy that only names it."""
        if id(view) in self.exceptions:
            return dataclasses.replace(
                view, frames=(), notes=(), cause=None, context=None, members=(), shown_above=True
            )
        if view.cause is not None:
            view.cause = self.view(view.cause)
        elif view.context is not None:
            view.context = self.view(view.context)
        self.exceptions.add(id(view))
        view.frames = tuple(map(self.frame, view.frames))
        view.members = tuple(map(self.view, view.members))
        return view

    def frame(self, view: FrameView) -> FrameView:
        """``view``, or, for a call met again, a copy without its locals (views are shared)."""
        if view.variables is None:
            return view
        frame = self.frame_of.get(id(view))
        if frame is None or frame not in self.frames:
            if frame is not None:
                self.frames.add(frame)
            return view
        return dataclasses.replace(view, variables=None, locals_shown_above=True)


def shrink(report: ErrorReport) -> ErrorReport:
    """The report without source, locals or long messages: for a page still over its limit."""

    def lean(exc: ExceptionView | None) -> ExceptionView | None:
        if exc is None:
            return None
        frames = tuple(
            dataclasses.replace(frame, source=(), variables=None, cut=True) for frame in exc.frames
        )
        message, cut = bound(exc.message, _SHORT_MESSAGE)
        return dataclasses.replace(
            exc,
            message=message,
            message_cut=exc.message_cut or cut,
            notes=tuple(bound(note, _SHORT_MESSAGE)[0] for note in exc.notes),
            frames=frames,
            cause=lean(exc.cause),
            context=lean(exc.context),
            members=tuple(m for m in map(lean, exc.members) if m is not None),
        )

    exception = lean(report.exception)
    assert exception is not None
    notice = "This page would have exceeded its size limit: source, locals and long text were cut."
    return dataclasses.replace(
        report, exception=exception, request=None, notices=(*report.notices, notice)
    )


def _cap(kept: list[tuple[int, int, int]], limit: int) -> list[tuple[int, int, int, int]]:
    """At most ``limit`` frames: the outermost few and the innermost rest, the gap counted."""
    if len(kept) <= limit:
        return [(*entry, 0) for entry in kept]
    head = limit // 4
    gap = len(kept) - limit
    tail = [(*entry, 0) for entry in kept[head + gap :]]
    tail[0] = (*tail[0][:3], gap)
    return [(*entry, 0) for entry in kept[:head]] + tail


def _str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception as error:
        return f"<str() failed: {type(error).__qualname__}>"


def _running_frames() -> frozenset[int]:
    """The frames still executing: the one that caught the exception and its callers.

    Reading ``f_locals`` of a running frame stores a snapshot of its locals on it; the
    catching frame holds the exception, whose traceback holds the frame: a reference
    cycle that keeps every failed request's frames alive until the cycle collector runs.
    So these frames' locals are never read.
    """
    running = set()
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        running.add(id(frame))
        frame = frame.f_back
    return frozenset(running)


def _visible(entries: list[TracebackType], running: frozenset[int]) -> list[TracebackType]:
    """The entries but those hidden by Paste's and Werkzeug's ``__traceback_hide__``.

    A local of that name hides its frame, a global its module's frames; for a frame still
    running, declaring the name is enough (its value is not read). Each code object and
    each module is looked at once: a recursion's thousand frames cost a few looks.
    """
    declares: dict[CodeType, bool] = {}
    module_hides: dict[int, bool] = {}
    shown = []
    for entry in entries:
        frame = entry.tb_frame
        code = frame.f_code
        declared = declares.get(code)
        if declared is None:
            declared = declares[code] = _HIDE in code.co_varnames
        if declared and (id(frame) in running or frame.f_locals.get(_HIDE)):
            continue
        module = frame.f_globals
        hides = module_hides.get(id(module))
        if hides is None:
            hides = module_hides[id(module)] = bool(module.get(_HIDE))
        if not hides:
            shown.append(entry)
    return shown


def below_hidden(tb: TracebackType | None) -> TracebackType | None:
    """``tb`` from its first frame not hidden by ``__traceback_hide__`` (the frame of the
    middleware that caught the exception is not part of the bug); whole if all are."""
    running = _running_frames()
    first = tb
    while first is not None and not _visible([first], running):
        first = first.tb_next
    return tb if first is None else first


class _Step(NamedTuple):
    """One traceback entry: the frame, its line, and where in its bytecode it stopped."""

    frame: FrameType
    lineno: int
    lasti: int


def _entries(tb: TracebackType | None) -> list[TracebackType]:
    """The traceback's entries, outermost first, without reading any source (cheap for
    the thousand frames of a RecursionError, most of which collapse)."""
    entries = []
    while tb is not None:
        entries.append(tb)
        tb = tb.tb_next
    return entries


def _mark(line: str, step: _Step) -> tuple[int, int] | None:
    """The failing expression's character span on its line, from CPython's positions."""
    if step.lasti < 0:
        return None
    position = next(islice(step.frame.f_code.co_positions(), step.lasti // 2, None), None)
    if position is None:
        return None
    first_line, last_line, start, end = position
    if start is None or end is None or first_line != step.lineno:
        return None
    if last_line != first_line:
        end = len(line.encode("utf-8"))
    encoded = line.encode("utf-8")
    first = len(encoded[:start].decode("utf-8", "replace"))
    last = len(encoded[:end].decode("utf-8", "replace"))
    if first >= last or last > _MAX_SOURCE_CHARS:
        return None
    if line[:first].strip() == "" and line[last:].strip() == "":
        return None  # the whole line failed: nothing to point at
    return first, last


def _library_roots() -> tuple[tuple[str, int], ...]:
    """Folders whose files are library code, each with how much of a path to strip."""
    paths = sysconfig.get_paths()
    roots = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    roots.update(getattr(site, "getsitepackages", list)())
    found = [(os.path.join(root, ""), len(os.path.join(root, ""))) for root in roots]
    # debugpages' own frames are library frames too, shown as debugpages/...
    package = os.path.dirname(os.path.abspath(__file__))
    found.append((os.path.join(package, ""), len(os.path.join(os.path.dirname(package), ""))))
    return tuple(sorted(found, key=lambda root: len(root[0]), reverse=True))


_ROOTS = _library_roots()
_DEMO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "demo.py")


@functools.lru_cache(maxsize=4096)
def _names(filename: str, qualname: str, cwd: str) -> tuple[str, str, bool, str]:
    """A frame's file (full and as shown), whether it is a library's, and its qualified
    name, escaped. Keyed by the names, never by the code object: equal code compiled
    from two files compares equal, file name aside."""
    display, is_library = _where(filename, cwd)
    return safe_text(filename), display, is_library, safe_text(qualname)


def _where(path: str, cwd: str) -> tuple[str, bool]:
    """How to show a file's path (``cwd``: the current folder, with a trailing separator),
    and whether it belongs to a library."""
    if path.startswith("<frozen "):
        return safe_text(path), True
    if path == _DEMO:  # the demo stands for an application, though shipped in debugpages
        return safe_text(os.path.join("debugpages", "demo.py")), False
    for root, strip in _ROOTS:
        if path.startswith(root):
            return safe_text(path[strip:]), True
    if path.startswith(cwd):
        return safe_text(path[len(cwd) :]), False
    return safe_text(path), False


@functools.cache
def versions() -> tuple[tuple[str, str], ...]:
    """The versions a bug report wants: Python and the packages under the page.

    Worked out when an engine is built (``importlib.metadata`` is imported then, not by
    ``import debugpages``).
    """
    from importlib import metadata

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

    Read straight from the environ with werkzeug's helpers (a ``Request`` object only
    for a form). Form fields under sensitive names join ``secrets``; every value is
    masked by value before it is bounded, so a cut never leaves part of a secret.
    """
    secrets = Secrets(policy) if secrets is None else secrets
    no_pairs: list[tuple[str, str]] = []
    form_pairs, file_pairs = _attempt(lambda: _form(environ), (no_pairs, no_pairs))
    for name, value in form_pairs:
        if policy.is_sensitive(name):
            secrets.add(value)
    masker = secrets.masker()
    mask = masker.text

    def fields(pairs: Iterable[tuple[object, object]]) -> tuple[Variable, ...]:
        shown = [(str(k), str(v)) for k, v in pairs]
        if not masker.finds("\n".join([text for pair in shown for text in pair])):
            return tuple([policy.field(k, v) for k, v in shown])
        # Masked before they are cut, so no part of a secret stays.
        return tuple([masker.model(policy.field(k, mask(v))) for k, v in shown])

    no_fields: tuple[Variable, ...] = ()
    method = _attempt(lambda: mask(safe_text(str(environ.get("REQUEST_METHOD", "?")))), "?")
    path = _attempt(lambda: policy.text(mask(_path(environ)))[0], "?")
    url = _attempt(lambda: policy.text(mask(_url(environ)))[0], path)
    return RequestView(
        method=method,
        url=url,
        path=path,
        query=_attempt(lambda: fields(_query(environ)), no_fields),
        form=_attempt(lambda: fields(form_pairs), no_fields),
        files=_attempt(lambda: fields(file_pairs), no_fields),
        headers=_attempt(lambda: fields(EnvironHeaders(dict(environ))), no_fields),
        cookies=_attempt(lambda: tuple(mask(safe_text(n)) for n in _cookies(environ)), ()),
        environ=_attempt(
            lambda: fields((key, environ[key]) for key in _ENVIRON_KEYS if key in environ),
            no_fields,
        ),
    )


_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _form(environ: Mapping[str, Any]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """A form's fields and files (names and types only), read only for a form of
    at most ``_MAX_FORM_BYTES``."""
    content_type = environ.get("CONTENT_TYPE")
    if not isinstance(content_type, str) or not content_type.startswith(_FORMS):
        return [], []
    request = Request(dict(environ))
    if request.mimetype not in _FORMS or (request.content_length or 0) > _MAX_FORM_BYTES:
        return [], []
    form = list(request.form.items(multi=True))
    files = [
        (k, f"{f.filename!r} ({f.mimetype or 'unknown type'})")
        for k, f in request.files.items(multi=True)
    ]
    return form, files


def _wsgi_text(value: object) -> str:
    """A WSGI string (bytes as latin-1) as the UTF-8 text it stands for."""
    return str(value).encode("latin-1", "replace").decode("utf-8", "replace")


def _path(environ: Mapping[str, Any]) -> str:
    return "/" + _wsgi_text(environ.get("PATH_INFO") or "").lstrip("/")


def _url(environ: Mapping[str, Any]) -> str:
    """The URL without its query, as werkzeug's ``Request.base_url`` reads it."""
    scheme = str(environ.get("wsgi.url_scheme", "http"))
    root = _wsgi_text(environ.get("SCRIPT_NAME") or "")
    return _current_url(scheme, get_host(dict(environ)), root, _path(environ))


@functools.lru_cache(maxsize=256)
def _current_url(scheme: str, host: str, root: str, path: str) -> str:
    """werkzeug's ``get_current_url``, remembered: a failing URL tends to fail again."""
    return get_current_url(scheme, host, root, path)


def _query(environ: Mapping[str, Any]) -> list[tuple[str, str]]:
    query = environ.get("QUERY_STRING")
    if not isinstance(query, str) or not query:
        return []
    return parse_qsl(_wsgi_text(query), keep_blank_values=True, errors="replace")


def _cookies(environ: Mapping[str, Any]) -> list[str]:
    cookie = environ.get("HTTP_COOKIE")
    return list(parse_cookie(cookie)) if isinstance(cookie, str) and cookie else []


def capture_environment(
    policy: Policy, mask: Callable[[str], str] = NO_MASKER.text
) -> tuple[Variable, ...]:
    """The allow-listed OS environment variables, masked by name and by value."""
    return tuple(
        policy.field(name, mask(os.environ[name]))
        for name in policy.environment
        if name in os.environ
    )


def collect_secrets(
    exc: BaseException,
    environ: Mapping[str, Any] | None,
    policy: Policy,
    running: frozenset[int] | None = None,
) -> Secrets:
    """The values to mask wherever they appear: whatever sits under a sensitive name.

    Locals of every frame of the exception, its chain and its group members (by
    pattern, or marked by ``sensitive_variables``); the request's sensitive headers,
    cookies, query arguments and environ keys; and sensitive-named OS environment
    variables of at least ``MIN_ENVIRON_SECRET`` characters. Only strings are kept.

    A frame's locals are read only when its code declares a sensitive name (looked up
    once per code object, so the thousand frames of a recursion cost one look), and
    never for a frame still running (see ``_running_frames``).
    """
    secrets = Secrets(policy)

    least = max(MIN_ENVIRON_SECRET, policy.min_secret_chars)
    for name in _os_secret_names(policy):
        secrets.add(os.environ.get(name), least)
    if environ is not None:
        _attempt(lambda: _request_secrets(environ, policy, secrets), None)
    if running is None:
        running = _running_frames()
    wanted: dict[CodeType, tuple[bool, frozenset[str]]] = {}  # a recursion: one look
    for frame in _frames_of(exc, policy):
        if id(frame) in running:
            continue
        code = frame.f_code
        known = wanted.get(code)
        if known is None:
            known = wanted[code] = _sensitive_locals(code, policy)
        every, names = known
        if every or names:
            for name, value in frame.f_locals.items():
                if every or name in names:
                    secrets.add(value)
    return secrets


def _os_secret_names(policy: Policy) -> list[str]:
    """The sensitive-named OS environment variables.

    Decoding every name on every failure costs more than the rest of this step, so the
    names found are kept for as long as the set of names is the same: a variable added,
    removed or renamed since is noticed; a value that changed is read anew anyway.
    """
    raw = getattr(os.environ, "_data", None)  # CPython's encoded names: no decoding
    fingerprint = tuple(raw) if isinstance(raw, dict) else None  # compared whole, not hashed
    known = _OS_SECRET_NAMES.get(policy.sensitive)
    if fingerprint is not None and known is not None and known[0] == fingerprint:
        return known[1]
    names = policy.sensitive_among(os.environ)
    if fingerprint is not None:
        _OS_SECRET_NAMES.clear()
        _OS_SECRET_NAMES[policy.sensitive] = (fingerprint, names)
    return names


_OS_SECRET_NAMES: Memo[tuple[str, ...], tuple[tuple[object, ...], list[str]]] = Memo()


def _sensitive_locals(code: CodeType, policy: Policy) -> tuple[bool, frozenset[str]]:
    """Whether every local of ``code`` is marked, and the names of its sensitive locals."""
    marked = marked_names(code)
    key = (code, policy.sensitive, marked)  # a mark added later is a new key
    known = _SENSITIVE_LOCALS.get(key)
    if known is None:
        declared = (*code.co_varnames, *code.co_cellvars, *code.co_freevars)
        names = frozenset(policy.sensitive_among(declared)) | (marked & frozenset(declared))
        if len(_SENSITIVE_LOCALS) >= _MAX_CODES:
            _SENSITIVE_LOCALS.clear()
        known = _SENSITIVE_LOCALS[key] = ("*" in marked, names)
    return known


_MAX_CODES = 4096
_SENSITIVE_LOCALS: Memo[
    tuple[CodeType, tuple[str, ...], frozenset[str]], tuple[bool, frozenset[str]]
] = Memo()
"""Per code object, sensitive patterns and marks: code declares its locals once and for all."""


def _request_secrets(environ: Mapping[str, Any], policy: Policy, secrets: Secrets) -> None:
    for key in policy.sensitive_among(environ):
        value = environ[key]
        if isinstance(value, str):
            secrets.add(value)
    for key in ("HTTP_AUTHORIZATION", "HTTP_PROXY_AUTHORIZATION"):
        value = environ.get(key)
        if isinstance(value, str):
            secrets.add_credentials(value)
    cookie = environ.get("HTTP_COOKIE")
    if isinstance(cookie, str):
        for value in parse_cookie(cookie).values():
            secrets.add(value)
    for name, value in _query(environ):
        if policy.is_sensitive(name):
            secrets.add(value)


def _frames_of(exc: BaseException, policy: Policy) -> list[FrameType]:
    """Every frame of ``exc``, its causes, contexts and group members, each exception once."""
    frames: list[FrameType] = []
    pending: list[BaseException | None] = [exc]
    seen: set[int] = set()
    while pending and len(seen) < 4 * policy.max_chain:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        frames += [entry.tb_frame for entry in _entries(current.__traceback__)]
        pending += (current.__cause__, current.__context__)
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions[: policy.max_group_members])
    return frames


def _attempt(read: Callable[[], T], default: T) -> T:
    try:
        return read()
    except Exception:
        return default

"""The model step: a capture, its request and its secrets become the traceback page's model.

Every string comes out of here masked (the secrets step's masker) and bounded; only
the frames whose locals the page shows have their values represented (the values
step). The result holds no frame, traceback or application object. A page that would
grow past ``Policy.max_page_bytes`` spends a budget of characters, innermost frames
first, and says where it cut.
"""

from __future__ import annotations

import dataclasses
import functools
import linecache
import os
import sys
import traceback
from collections.abc import Iterator

from .capture import HIDE, Capture, Captured, Step
from .editor import Editor
from .frameworks import in_use
from .mask import MASK, Masker
from .memo import Memo
from .model import (
    ErrorReport,
    ExceptionView,
    FrameView,
    RequestView,
    SourceLine,
    SyntaxLocation,
    TemplateView,
    Variable,
)
from .places import where
from .policy import Policy, bound, cut_middle, safe_text
from .request import ENVIRON_KEYS, MAX_FIELDS, Pairs, RequestFields
from .secrets import Secrets
from .sensitive import marked_names
from .template_errors import Spot, function_name, is_template_frame
from .template_errors import find as find_template
from .values import Values

_MAX_SOURCE_CHARS = 300
_FRAME_COST = 200  # characters of markup around a frame, for the page's size budget
_SHORT_MESSAGE = 200  # how much of a message is kept once the size budget is spent


def build_report(
    capture: Capture,
    request: RequestFields | None,
    secrets: Secrets,
    text: str,
    policy: Policy,
    editor: Editor | None = None,
    view: str | None = None,
    *,
    with_locals: bool = True,
) -> ErrorReport:
    """The traceback page's model of one failure; ``text``: its traceback, masked;
    ``view``: the view that handled the request, as the adapter read it; ``with_locals``:
    the page shows locals (the plain-text page does not)."""
    values = Values(policy, secrets.masker)
    builder = _Builder(policy, values, editor, secrets.masker, capture.no_source, with_locals)
    try:
        if with_locals:
            values.prefetch(_shown_locals(capture, policy))
        exception = builder.view(capture.top)
        exception = _Once(builder.frame_of).view(exception)
        template = template_view(capture, secrets.masker, policy, builder.cwd)
    finally:
        values.release()
    notices: list[str] = []
    if capture.chain_left_out:
        notices.append(
            f"The chain holds {capture.chain_left_out:,} more exceptions than the page shows "
            f"(at most {policy.max_chain})."
        )
    if values.skipped:
        notices.append(
            f"The time budget for showing values ({policy.repr_budget:g} s) ran out: "
            f"{values.skipped} values are not shown."
        )
    if builder.room <= 0:
        notices.append(
            f"This page reached its size limit ({policy.max_page_bytes:,} bytes): the source "
            "and locals of some frames were cut, and each cut says so."
        )
    if secrets.unsearched:
        notices.append(
            f"The search for secrets stopped at its bound: {secrets.unsearched} values were "
            "not looked into, and a secret held only there is not masked where else it shows."
        )
    unread = request.query_unread + request.form_unread if request is not None else 0
    if unread:
        notices.append(
            f"The request holds {unread:,} more query arguments or form fields than debugpages "
            f"reads ({MAX_FIELDS:,} of each): they are not shown, nor searched for secrets, and "
            "a secret held only there is not masked where else it shows."
        )
    if secrets.left_out:
        notices.append(
            f"{secrets.left_out} secret values are masked by name only: the page found more "
            "than it can mask by value cheaply."
        )
    return ErrorReport(
        exception,
        request_view(request, policy, values) if request is not None else None,
        versions(),
        tuple(notices),
        environment_view(policy, values),
        cut_middle(text, policy.max_page_bytes // 16, "traceback"),
        template,
        in_use(builder.packages),
        values.text(view, 300)[0] if view else None,
    )


def _shown_locals(capture: Capture, policy: Policy) -> Iterator[object]:
    """The locals the page will show, innermost frames first, but those masked by name:
    for ``Values.prefetch``."""
    for captured in capture.exceptions():
        for step in reversed(captured.steps):
            frame = step.frame
            if not step.show_locals or frame is None:
                continue
            marked = marked_names(frame.f_code)
            if "*" in marked:
                continue
            names = sorted(name for name in frame.f_locals if name not in (HIDE, ".0"))
            for name in names[: policy.max_variables]:
                if name not in marked and not policy.is_sensitive(name):
                    yield frame.f_locals[name]


class _Builder:
    """Makes the views of the captured exceptions, each once, within a size budget."""

    def __init__(
        self,
        policy: Policy,
        values: Values,
        editor: Editor | None,
        masker: Masker,
        no_source: dict[str, str],
        with_locals: bool = True,
    ) -> None:
        self.policy = policy
        self.with_locals = with_locals
        self.values = values
        self.no_source = no_source
        """Files whose source is not read, with the reason (the capture's)."""
        self.editor = editor
        self.mask = masker.text
        self.finds = masker.finds
        self.views: dict[int, ExceptionView] = {}
        self.frames: dict[tuple[object, ...], FrameView] = {}
        """Frames already made, by the frame's id first: the frame that caught each member
        of a group is shared."""
        self.frame_of: dict[int, int] = {}
        """For each frame view, the id of the frame it shows (``_Once`` reads it)."""
        self.packages: set[str] = set()
        """The top-level packages of the frames made: which frameworks the failure met."""
        self.cwd = os.path.join(os.getcwd(), "")
        self.room = policy.max_page_bytes // 5
        """Characters of text still allowed: the HTML page holds it twice, escaped, in markup."""

    def view(self, captured: Captured) -> ExceptionView:
        exc = captured.exc
        known = self.views.get(id(exc))  # one exception met twice (a group's member that is
        if known is not None:  # also another's context): one view, named the second time
            return known
        kind = type(exc)
        limit = self.policy.max_message_chars
        if self.room < limit:
            limit = max(self.room, _SHORT_MESSAGE)
        lines = _exception_only(captured.text, exc)
        message, message_cut = self.values.text(_message(lines[-1], captured.text), limit)
        self.room -= len(message)
        syntax = self.syntax(captured.text, lines) if issubclass(kind, SyntaxError) else None
        frames = self.frame_views(captured)
        view = self.views[id(exc)] = ExceptionView(
            type_name=self.mask(safe_text(kind.__qualname__)),
            module=self.mask(safe_text(str(kind.__module__))),
            message=message,
            message_cut=message_cut,
            syntax=syntax,
            notes=self.notes(captured),
            frames=frames,
            hidden_frames=captured.hidden,
            frames_without_locals=captured.without_locals,
            members_left_out=captured.members_left_out,
        )
        view.cause = self.view(captured.cause) if captured.cause is not None else None
        if captured.context is not None and captured.cause is None:
            view.context = self.view(captured.context)
        view.members = tuple(self.view(member) for member in captured.members)
        return view

    def syntax(self, te: traceback.TracebackException, lines: list[str]) -> SyntaxLocation | None:
        """Where Python found a ``SyntaxError``: its file and line, and the offending line
        with its carets as Python prints them (the lines before the message)."""
        try:  # both as CPython formats them: the line number is kept as a str
            number = int(te.lineno)  # type: ignore[arg-type]
            filename = str(te.filename or "<string>")
        except Exception:  # a hostile SyntaxError: no location
            return None
        path, display, _ = where(filename, self.cwd)
        printed = lines[1:-1] if lines[0].startswith("  File ") else []
        text, caret = [*(item.removeprefix("    ").rstrip("\n") for item in printed), "", ""][:2]
        shown, _ = self.values.text(text, _MAX_SOURCE_CHARS)
        if shown != text or len(caret) > _MAX_SOURCE_CHARS:
            caret = ""  # masked, escaped or cut: the carets would point elsewhere
        texts = [path, display]
        if self.finds("\n".join(texts)):
            texts = [self.mask(text) for text in texts]
        return SyntaxLocation(texts[0], texts[1], number, shown, caret)

    def notes(self, captured: Captured) -> tuple[str, ...]:
        notes = captured.text.__notes__
        if not isinstance(notes, list | tuple):
            return ()
        shown = []
        for note in notes[: self.policy.max_items]:
            text = note if isinstance(note, str) else self.values.variable("note", note).text
            limit = self.policy.max_message_chars if self.room > 0 else _SHORT_MESSAGE
            shown.append(self.values.text(text, limit)[0])
            self.room -= len(shown[-1])
        return tuple(shown)

    def frame_views(self, captured: Captured) -> tuple[FrameView, ...]:
        """Innermost first in line for the size budget; outermost first on the page."""
        views = []
        render: dict[str, int] | None = None  # the context of the render met, by value's id
        for step in reversed(captured.steps):
            template = is_template_frame(step.frame)
            shown = render if template else None
            key = (
                id(step.frame), step.lasti, step.run, step.repeated, step.left_out_before,
                step.show_locals, step.context, shown is not None,
            )  # fmt: skip
            view = self.frames.get(key)
            if view is None:
                view = self.frames[key] = self.frame(step, shown)
                self.frame_of[id(view)] = id(step.frame)
            views.append(view)
            if not template:
                render = None  # a render ends where Python code called it
            elif render is None and view.variables is not None and step.frame is not None:
                names = {variable.name for variable in view.variables}  # those it shows
                items = step.frame.f_locals.items()
                render = {name: id(value) for name, value in items if name in names}
        views.reverse()
        return tuple(views)

    def frame(self, step: Step, render: dict[str, int] | None = None) -> FrameView:
        """``render``: for a template frame, the context its render's innermost frame
        shows (only the locals that differ from it are shown here)."""
        frame, summary = step.frame, step.summary
        template = is_template_frame(frame)
        path, display, is_library = where(summary.filename, self.cwd)
        source: tuple[SourceLine, ...] = ()
        variables: list[Variable] | None = None
        left_out = 0
        cut = self.room <= 0
        if not cut:
            source = self.source(step)
            self.room -= _FRAME_COST + sum(len(line.text) for line in source)
        if step.show_locals and frame is not None and self.with_locals:
            marked = marked_names(frame.f_code)
            every = "*" in marked
            names = [item for item in sorted(frame.f_locals.items()) if item[0] != HIDE]
            names = [item for item in names if item[0] != ".0"]  # a comprehension's iterator
            if template:
                names = _context(names, render)
            variables = []
            for name, value in names[: self.policy.max_variables]:
                if self.room <= 0:
                    cut = True
                    break
                shown = self.values.variable(name, value, secret=every or name in marked)
                variables.append(shown)
                self.room -= len(shown.text) + len(name)
            left_out = len(names) - len(variables)
        link = self.editor.link(summary.filename, summary.lineno or 0) if self.editor else None
        module = str(frame.f_globals.get("__name__", "")) if frame is not None else ""
        self.packages.add(module.partition(".")[0])
        function = step.qualname
        if template and frame is not None:
            function, module = function_name(frame, summary.lineno or 0), ""
        texts = [path, display, safe_text(function), safe_text(module), link or ""]
        if self.finds("\n".join(texts)):  # one search for the common case: nothing to mask
            texts = [self.mask(text) for text in texts]
        return FrameView(
            path=texts[0],
            display_path=texts[1],
            line=summary.lineno or 0,
            function=texts[2],
            module=texts[3],
            is_library=is_library,
            source=source,
            variables=None if variables is None else tuple(variables),
            repeat_run=step.run,
            repeated=step.repeated,
            editor_url=texts[4] or None,
            no_source=self.no_source.get(summary.filename),
            left_out_before=step.left_out_before,
            cut=cut,
            variables_left_out=left_out,
            template=template,
            context_below=render is not None,
        )

    def source(self, step: Step) -> tuple[SourceLine, ...]:
        """The lines around where ``step`` stopped, masked, escaped and bounded (``()``
        without source). A masked line loses its mark: its columns moved."""
        summary = step.summary
        module_globals = step.frame.f_globals if step.frame is not None else None
        lines = linecache.getlines(summary.filename, module_globals)
        where = (summary.filename, summary.lineno, summary.end_lineno, summary.colno)
        key = (*where, summary.end_colno, step.context)
        known = _SOURCES.get(key)
        if known is None or known[0] is not lines:  # not seen, or the file was read again
            if len(_SOURCES) >= _MAX_SOURCES:
                _SOURCES.clear()
            known = _SOURCES[key] = (lines, *_source(lines, step))
        _, shown, joined = known
        if not self.finds(joined):  # one search for the common case: nothing to mask
            return shown
        masked = [self.mask(line) for line in joined.split("\n")]
        return tuple(
            line if text == line.text else SourceLine(line.number, text, line.current)
            for line, text in zip(
                shown, (safe_text(bound(m, _MAX_SOURCE_CHARS)[0]) for m in masked), strict=True
            )
        )


_MAX_SOURCES = 512
_SOURCES: Memo[tuple[object, ...], tuple[list[str], tuple[SourceLine, ...], str]] = Memo()
"""The source shown around a frame's line, by file, position and context, with the
``linecache`` lines it was read from (a file read again is never shown stale): a tenth
of a traceback page that repeats. Unmasked: each page masks what it shows."""


def _source(lines: list[str], step: Step) -> tuple[tuple[SourceLine, ...], str]:
    """The source lines around ``step``'s line, escaped and bounded, and their raw text
    joined (for the masker to search in one pass)."""
    lineno, context = step.summary.lineno or 0, step.context
    if not lines or not 0 < lineno <= len(lines):
        return (), ""
    numbers = range(max(lineno - context, 1), min(lineno + context, len(lines)) + 1)
    raws = [lines[number - 1].rstrip("\r\n") for number in numbers]
    shown = []
    template = is_template_frame(step.frame)  # its columns are those of Jinja's own code
    for number, raw in zip(numbers, raws, strict=True):
        mark = _mark(raw, step) if number == lineno and not template else None
        text = safe_text(bound(raw, _MAX_SOURCE_CHARS)[0])
        if mark is not None and text[: mark[1]] != raw[: mark[1]]:
            mark = None  # escaping shifted the columns: show the line unmarked
        shown.append(SourceLine(number, text, number == lineno, mark))
    return tuple(shown), "\n".join(raws)


def _mark(line: str, step: Step) -> tuple[int, int] | None:
    """The failing expression's character span on its line, from CPython's positions."""
    summary = step.summary
    start, end = summary.colno, summary.end_colno
    if start is None or end is None:
        return None
    encoded = line.encode("utf-8")
    if summary.end_lineno != summary.lineno:
        end = len(encoded)
    first = len(encoded[:start].decode("utf-8", "replace"))
    last = len(encoded[:end].decode("utf-8", "replace"))
    if first >= last or last > _MAX_SOURCE_CHARS:
        return None
    if line[:first].strip() == "" and line[last:].strip() == "":
        return None  # the whole line failed: nothing to point at
    return first, last


def _context(
    names: list[tuple[str, object]], render: dict[str, int] | None
) -> list[tuple[str, object]]:
    """A template frame's locals, without Jinja's own globals (``range``, ``lipsum``...)
    and, below the render's innermost frame, without what that frame shows."""
    defaults = getattr(sys.modules.get("jinja2.defaults"), "DEFAULT_NAMESPACE", None)
    if isinstance(defaults, dict):
        names = [(name, value) for name, value in names if defaults.get(name) is not value]
    if render is not None:
        names = [(name, value) for name, value in names if render.get(name) != id(value)]
    return names


def template_view(
    capture: Capture, masker: Masker, policy: Policy, cwd: str
) -> TemplateView | None:
    """Where in a template the failure happened, masked and bounded; ``None`` when no
    template raised it (or its engine's data could not be read)."""
    try:
        spot = find_template(capture)
    except BaseException:  # an engine's objects with attributes that raise anything
        return None
    return None if spot is None else _template_view(spot, masker, policy, cwd)


def _template_view(spot: Spot, masker: Masker, policy: Policy, cwd: str) -> TemplateView:
    line, lines, context, first = spot.line, spot.lines, policy.context_lines, spot.first
    numbers = range(max(line - context, first), min(line + context, first + len(lines) - 1) + 1)
    raws = [lines[number - first] for number in numbers]
    secret = masker.finds("\n".join([spot.name, spot.filename, *raws]))
    source = []
    for number, raw in zip(numbers, raws, strict=True):
        text = masker.text(raw) if secret else raw
        mark = spot.span if number == line and text == raw else None
        text = safe_text(bound(text, _MAX_SOURCE_CHARS)[0])
        if mark is not None and (mark[1] > len(text) or text[: mark[1]] != raw[: mark[1]]):
            mark = None  # cut, or escaping shifted the columns: show the line unmarked
        source.append(SourceLine(number, text, number == line, mark))
    path, display, _ = where(spot.filename, cwd) if spot.filename else ("", "", False)
    name = display or safe_text(spot.name)  # a file is named as the frames name theirs
    if secret:
        name, path = safe_text(masker.text(name)), safe_text(masker.text(path))
    return TemplateView(spot.engine, name, path, line, tuple(source))


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


def request_view(request: RequestFields, policy: Policy, values: Values) -> RequestView:
    """The request as the page shows it: secret fields masked by name, every field by value."""

    limit = policy.max_variables  # of each kind of field

    def fields(pairs: Pairs, unread: int = 0) -> tuple[Variable, ...]:
        kept = pairs[:limit]
        secret = values.masker.finds("\n".join(text for pair in kept for text in pair))
        shown = []
        for name, value in kept:
            shown_name = safe_text(values.masker.text(name) if secret else name)
            if policy.is_sensitive(name):
                shown.append(Variable(shown_name, MASK, False, True))
            elif secret:
                shown.append(Variable(shown_name, *values.text(value)))
            else:
                shown.append(Variable(shown_name, *policy.text(value)))
        if len(pairs) + unread > len(kept):
            shown.append(Variable("…", _more(len(pairs) + unread - len(kept)), True))
        return tuple(shown)

    cookies = [safe_text(values.masker.text(name)) for name, _ in request.cookies[:limit]]
    if len(request.cookies) > limit:
        cookies.append(f"… {_more(len(request.cookies) - limit)}")
    environ = tuple((k, v) for k, v in request.environ if k in ENVIRON_KEYS)
    return RequestView(
        method=values.text(request.method, 64)[0],
        url=values.text(request.url)[0],
        path=values.text(request.path)[0],
        query=fields(request.query, request.query_unread),
        form=fields(request.form, request.form_unread),
        files=fields(request.files),
        headers=fields(request.headers),
        cookies=tuple(cookies),
        environ=fields(environ),
    )


def _more(left: int) -> str:
    """What a list of the request's fields says of those it does not show."""
    return f"{left:,} more not shown"


def environment_view(policy: Policy, values: Values) -> tuple[Variable, ...]:
    """The allow-listed OS environment variables, masked by name and by value."""
    shown = []
    for name in policy.environment:
        value = os.environ.get(name)
        if value is None:
            continue
        if policy.is_sensitive(name):
            shown.append(Variable(name, MASK, False, True))
        else:
            shown.append(Variable(safe_text(name), *values.text(value)))
    return tuple(shown)


def _exception_only(te: traceback.TracebackException, exc: BaseException | None) -> list[str]:
    """What Python prints for the exception itself (``format_exception_only``) without its
    notes, which the page shows apart: the message last, after a ``SyntaxError``'s file,
    line and carets."""
    notes = te.__notes__
    te.__notes__ = None
    try:
        return list(te.format_exception_only()) or [""]
    except BaseException:  # CancelledError too: the page goes on
        return [f"{type(exc).__qualname__}: <exception str() failed>"]
    finally:
        te.__notes__ = notes


def _message(line: str, te: traceback.TracebackException) -> str:
    """The message of Python's last line for ``te``: the text after ``module.Type: `` (a
    "Did you mean" included), as ``format_exception_only`` names the type."""
    line = line.removesuffix("\n")
    kind = te.__dict__.get("exc_type", te.__dict__.get("_exc_type"))
    name = getattr(kind, "__qualname__", "")
    module = getattr(kind, "__module__", "")
    if module not in ("__main__", "builtins"):
        name = f"{module if isinstance(module, str) else '<unknown>'}.{name}"
    if line.startswith(f"{name}: "):
        return line[len(name) + 2 :]
    return "" if line == name else line


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

"""What a page can show, as plain data that nothing changes once it is made.

The model step (``debugpages.report``) fills these from the capture, the request and
the secrets; the templates read them. Nothing here knows HTML, and nothing here holds
a frame, a traceback or a value from the application: only bounded, escaped text and
numbers.

The classes made by the dozen per failure (``Variable``, ``FrameView``,
``ExceptionView``) are not frozen: a frozen dataclass costs ten times as much to
make (about 4% of a traceback page in all). Only the model step changes them, before
the page is made: a frame view can be shared, so it is copied, never changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter


@dataclass(frozen=True, slots=True)
class SourceLine:
    """One line of source around a frame's current line."""

    number: int
    text: str
    current: bool = False
    mark: tuple[int, int] | None = None
    """Character span of the failing expression on the current line, when known."""

    @property
    def indent(self) -> int:
        """How many blanks the line starts with (the plain text shows it without them)."""
        return len(self.text) - len(self.text.lstrip())


@dataclass(slots=True)
class Variable:
    """A local variable (or request field) as shown: its bounded, escaped text."""

    name: str
    text: str
    cut: bool = False
    masked: bool = False


@dataclass(slots=True)
class FrameView:
    """One frame of a traceback."""

    path: str
    display_path: str
    line: int
    function: str
    module: str
    is_library: bool
    source: tuple[SourceLine, ...] = ()
    variables: tuple[Variable, ...] | None = None
    """``None`` when this frame's locals are not shown (see ``ExceptionView``)."""
    repeat_run: int = 0
    """When this frame ends a collapsed run: how many frames the run holds."""
    repeated: int = 0
    """When this frame ends a collapsed run: how many more times the run repeated."""
    editor_url: str | None = None
    """A link that opens this file at this line in the developer's editor, when configured."""
    no_source: str | None = None
    """Why the source is not read, when the file is unsafe to read (not a regular file of
    bounded size); ``None`` otherwise, whether or not there is source."""
    left_out_before: int = 0
    """How many frames just before this one were left out to keep the page small."""
    cut: bool = False
    """Source or locals were left out because the page reached its size limit."""
    variables_left_out: int = 0
    """Locals not shown: beyond the per-frame cap, or past the page's size limit."""
    locals_shown_above: bool = False
    """The same frame (the same call) is shown earlier on the page with its locals: a
    chain or a group passes through it more than once, and its locals are the same."""
    template: bool = False
    """A frame of a Jinja template: its locals are the render's context."""
    context_below: bool = False
    """A template frame whose render's context is shown once, with the render's innermost
    frame further down: its locals here are only those that differ from it."""

    @property
    def around(self) -> tuple[tuple[str, ...], SourceLine | None, tuple[str, ...]]:
        """The context lines' text above the current line, the current line (when its
        source is shown), and the context lines' text below it: one look for all three."""
        source = self.source
        index = self._current_index()
        if index == len(source):
            return tuple(map(_TEXT, source)), None, ()
        return (
            tuple(map(_TEXT, source[:index])),
            source[index],
            tuple(map(_TEXT, source[index + 1 :])),
        )

    @property
    def current_line(self) -> SourceLine | None:
        """The line the frame stopped on, when its source is shown."""
        index = self._current_index()
        return self.source[index] if index < len(self.source) else None

    @property
    def lines_before(self) -> tuple[str, ...]:
        """The text of the context lines above the current one."""
        return self.around[0]

    @property
    def lines_after(self) -> tuple[str, ...]:
        """The text of the context lines below the current one."""
        return self.around[2]

    def _current_index(self) -> int:
        """Where ``line`` is in ``source`` (consecutive lines); ``len(source)`` without it."""
        if not self.source:
            return 0
        index = self.line - self.source[0].number
        if 0 <= index < len(self.source) and self.source[index].current:
            return index
        return len(self.source)


@dataclass(frozen=True, slots=True)
class SyntaxLocation:
    """Where Python found a ``SyntaxError`` (``IndentationError``, ``TabError``): what it
    prints above the message."""

    path: str
    display_path: str
    line: int
    text: str = ""
    """The offending line as Python prints it (without its indentation); ``""`` if unknown."""
    caret: str = ""
    """The line Python prints under it: carets (``^``) under the offending part, aligned
    with ``text``; ``""`` when Python prints none (or ``text`` had to be masked or cut)."""


@dataclass(slots=True)
class ExceptionView:
    """One exception, with its frames and the exceptions linked to it."""

    type_name: str
    module: str
    message: str
    message_cut: bool = False
    syntax: SyntaxLocation | None = None
    """For a ``SyntaxError``: the file, line and offending line Python names."""
    notes: tuple[str, ...] = ()
    frames: tuple[FrameView, ...] = ()
    hidden_frames: int = 0
    """Frames left out by ``__traceback_hide__``."""
    frames_without_locals: int = 0
    """Frames whose locals are not shown because of the per-exception cap (which goes to
    the innermost application frames first, then to library frames)."""
    cause: ExceptionView | None = None
    context: ExceptionView | None = None
    members: tuple[ExceptionView, ...] = ()
    """The members of an exception group."""
    members_left_out: int = 0
    shown_above: bool = False
    """The same exception was shown in full earlier on the page (a group's member that is
    also another exception's context, as ``except*`` makes them): this one only names it."""

    @property
    def qualified_name(self) -> str:
        """The name Python prints: ``module.Type``, or ``Type`` for builtins."""
        if self.module in ("builtins", "__main__", ""):
            return self.type_name
        return f"{self.module}.{self.type_name}"

    @property
    def frame_groups(self) -> tuple[tuple[bool, tuple[FrameView, ...]], ...]:
        """The frames in runs: ``(True, frames)`` for library frames the application trace
        folds away, ``(False, frames)`` for the rest. The innermost frame is never folded."""
        groups: list[tuple[bool, list[FrameView]]] = []
        last = len(self.frames) - 1
        for index, frame in enumerate(self.frames):
            foldable = frame.is_library and index != last
            if not groups or groups[-1][0] != foldable:
                groups.append((foldable, []))
            groups[-1][1].append(frame)
        return tuple([(foldable, tuple(frames)) for foldable, frames in groups])

    @property
    def has_application_frames(self) -> bool:
        """Whether this exception, its chain or its members hold a frame of the application."""
        return any(
            any(not frame.is_library for frame in exc.frames)
            or any(member.has_application_frames for member in exc.members)
            for exc, _ in self.chain
        )

    @property
    def chain(self) -> tuple[tuple[ExceptionView, str | None], ...]:
        """The chain in Python's print order, outermost last.

        Each item pairs an exception with how it leads to the next one:
        ``"cause"``, ``"context"`` or ``None`` for the last.
        """
        links: list[tuple[ExceptionView, str | None]] = [(self, None)]
        current: ExceptionView = self
        while True:
            if current.cause is not None:
                current, how = current.cause, "cause"
            elif current.context is not None:
                current, how = current.context, "context"
            else:
                break
            links.append((current, how))
        links.reverse()
        return tuple(links)


@dataclass(frozen=True, slots=True)
class TemplateView:
    """Where in a template the failure happened (Jinja or Django), as the page shows it."""

    engine: str
    """``"Jinja"`` or ``"Django"``."""
    name: str
    """Its file, shortened as the frames' files are; the name it was loaded by when it
    has no file (a template made from a string)."""
    path: str
    """Its file in full, or ``""`` for a template made from a string."""
    line: int
    source: tuple[SourceLine, ...] = ()
    """The lines around ``line``, the failing one current; its mark is the failing
    token's span, when the engine says which (Django's)."""


@dataclass(frozen=True, slots=True)
class RequestView:
    """The request that failed, as far as it could be read."""

    method: str
    url: str
    path: str
    query: tuple[Variable, ...] = ()
    form: tuple[Variable, ...] = ()
    files: tuple[Variable, ...] = ()
    headers: tuple[Variable, ...] = ()
    cookies: tuple[str, ...] = ()
    environ: tuple[Variable, ...] = ()


@dataclass(frozen=True, slots=True)
class ErrorReport:
    """Everything the traceback page shows beyond the status and the reference."""

    exception: ExceptionView
    request: RequestView | None
    versions: tuple[tuple[str, str], ...] = ()
    notices: tuple[str, ...] = ()
    """Things the capture itself had to leave out, said in words (budget spent, ...)."""
    environment: tuple[Variable, ...] = ()
    """The OS environment variables on the policy's allow-list: never the whole environment."""
    traceback: str = ""
    """The traceback as Python prints it, masked: the log record's text (its middle cut
    when it is longer than the page allows)."""
    template: TemplateView | None = None
    """The template the exception was raised in, when a template raised it."""
    frameworks: tuple[tuple[str, str], ...] = ()
    """(name, version) of each framework the exception passed through (``Flask``,
    ``Django``, ``FastAPI``, ``Starlette``); the version is ``""`` where none is known."""
    view: str | None = None
    """The view that was handling the request ("Raised during"): Flask's endpoint, the
    ``module.qualname`` of a Django view or a Starlette or FastAPI endpoint."""


@dataclass(frozen=True, slots=True)
class Page:
    """The whole context of a rendered page.

    In ``off`` mode ``error`` is ``None``: what is not in the context cannot leak.
    """

    status: int
    title: str
    reference: str
    mode: str
    time: str
    error: ErrorReport | None = None
    original_status: str | None = None
    """Set in ``legacy-200``: the status line the page would have had."""
    description: str | None = None
    """For HTTP errors: the message the application meant for the user."""
    trace_id: str | None = None
    """The OpenTelemetry trace id (32 hex digits), where a span was current; ``None`` in off."""
    http_error: bool = False
    """An HTTP error sent on purpose (``HTTPException``, ``SERVER_RETURN``, an empty error
    response): the page for its status, never the traceback page; ``error``, when set,
    says where it was raised."""
    unknown_status: bool = False
    """The status is a code HTTP does not define (``599``): the page says so."""

    @property
    def instance(self) -> str:
        """The problem+json ``instance`` member: a URI that holds the reference."""
        return f"urn:debugpages:{self.reference}"


_TEXT = attrgetter("text")

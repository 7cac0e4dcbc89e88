"""The capture step: one walk over an exception, as ``traceback.TracebackException`` does it.

CPython's ``TracebackException`` is built once per failure: it follows the chain
(``__cause__``, ``__context__``), exception groups and notes, and formats the text
Python prints. Its stacks are left empty and filled here, frame by frame, with the
frames the page shows: hidden frames (``__traceback_hide__``) dropped, the stack cut
to ``Policy.max_frames``, the chain to ``Policy.max_chain`` and groups to
``Policy.max_group_members``. Every output is made from this one capture: the page's
frames, the plain text, the JSON ``traceback`` and the log record's ``exc_text``; so a
limit holds for all of them, and where none applies the text is the running Python's
own ``traceback.format_exception``.

The capture holds the application's frames until ``release``; nothing made from it
does.
"""

from __future__ import annotations

import linecache
import sys
import traceback
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from types import FrameType, TracebackType
from typing import Any

from .memo import Memo
from .places import is_library, is_sourceless
from .policy import Policy
from .sources import refusal
from .suggestions import suggestion

HIDE = "__traceback_hide__"
"""Paste's and werkzeug's name for a local or global that hides frames."""
_MAX_GROUP_DEPTH = 10
_MAX_EXCEPTIONS = 100
_OWN = __name__.rpartition(".")[0] + "."


@dataclass(slots=True)
class Step:
    """One frame of the capture: where it stopped, and what the page shows of it."""

    frame: FrameType | None
    """The live frame, until the capture is released."""
    summary: traceback.FrameSummary
    """File, line, function and the failing expression's columns, as CPython has them."""
    qualname: str
    lasti: int
    running: bool
    """The frame is still executing (it caught the exception): its locals are not read."""
    library: bool = False
    """The frame's file belongs to a library (``places.is_library``)."""
    show_locals: bool = False
    context: int = 0
    """Lines of source shown on each side of the current one."""
    run: int = 0
    """When this frame ends a collapsed run of repeats: how many frames the run holds."""
    repeated: int = 0
    """... and how many more times the run repeated."""
    left_out_before: int = 0
    """Frames just before this one cut by ``Policy.max_frames``."""


@dataclass(slots=True)
class Captured:
    """One exception of the capture, linked as Python links them."""

    exc: BaseException | None
    """The exception itself, until the capture is released."""
    text: traceback.TracebackException
    steps: list[Step] = field(default_factory=list)
    hidden: int = 0
    """Frames of the application hidden by ``__traceback_hide__`` (not debugpages' own)."""
    others: list[tuple[FrameType, bool]] = field(default_factory=list)
    """The frames not among ``steps`` (hidden, cut, collapsed), each with whether it still
    runs: the page does not show them, but their secrets must be known."""
    without_locals: int = 0
    """Frames shown without their locals for want of budget (``Policy.max_frames_with_locals``)."""
    cause: Captured | None = None
    context: Captured | None = None
    members: list[Captured] = field(default_factory=list)
    members_left_out: int = 0


@dataclass(slots=True)
class Capture:
    """An exception read once: what every output of the failure is made from."""

    top: Captured
    text: traceback.TracebackException
    chain_left_out: int = 0
    """Exceptions at the far end of a chain longer than ``Policy.max_chain``."""
    no_source: dict[str, str] = field(default_factory=dict)
    """Files whose source is not read, by name, with the reason (``sources.refusal``)."""

    def exceptions(self) -> Iterator[Captured]:
        """Every exception of the capture, once each."""
        pending = [self.top]
        seen: set[int] = set()
        while pending:
            current = pending.pop()
            if id(current) in seen:
                continue
            seen.add(id(current))
            yield current
            pending += [e for e in (current.cause, current.context) if e is not None]
            pending += current.members

    def traceback(self) -> str:
        """The traceback as Python prints it, for the frames and limits of the capture."""
        text = _chain_text(self.text)
        if text is None:  # a group: CPython's own formatting, with its margins
            text = "".join(self.text.format(chain=True))
        text = text.removesuffix("\n")
        if self.chain_left_out:
            text = (
                f"[... {self.chain_left_out:,} older chained exceptions not shown:"
                " the chain is longer than the page allows ...]\n\n" + text
            )
        return text

    def release(self) -> None:
        """Drop every reference to the application's exception and frames."""
        for captured in self.exceptions():
            captured.exc = None
            captured.others.clear()
            for step in captured.steps:
                step.frame = None


def capture(exc: BaseException, policy: Policy) -> Capture:
    """Read ``exc``, its chain and its groups once, within the policy's limits."""
    options: dict[str, Any] = {
        "limit": 0,  # no stacks: they are filled below, with the frames the page shows
        "lookup_lines": False,
        "compact": True,
        "max_group_width": policy.max_group_members,
        "max_group_depth": _MAX_GROUP_DEPTH,
    }
    try:
        root = traceback.TracebackException(type(exc), exc, traceback_of(exc), **options)
    except BaseException:  # an attribute that raises (a __getattr__, a property, __bool__)
        root = _alone(exc, options)
    walk = _Walk(policy, _running_frames())
    top = walk.exception(root, exc)
    return Capture(top, root, walk.chain_left_out, walk.no_source)


_TRACEBACK = BaseException.__dict__["__traceback__"]
_LINKS = {name: BaseException.__dict__[name] for name in ("__cause__", "__context__")}
_MEMBERS = BaseExceptionGroup.__dict__["exceptions"]


def traceback_of(exc: BaseException) -> TracebackType | None:
    """The traceback the interpreter gave ``exc``, whatever its class says ``__traceback__``
    is (a property may return anything)."""
    tb = _TRACEBACK.__get__(exc)
    return tb if isinstance(tb, TracebackType) else None


def _alone(exc: BaseException, options: dict[str, Any]) -> traceback.TracebackException:
    """``exc`` as a ``TracebackException`` that reads none of its attributes: its frames,
    type, message and notes, without its chain or members."""
    text = traceback.TracebackException(type(exc), None, traceback_of(exc), **options)  # type: ignore[arg-type]
    try:
        message = str(exc)
    except BaseException:
        message = "<exception str() failed>"  # as Python says it
    text._str = message if type(message) is str else str.__str__(message)  # type: ignore[attr-defined]
    try:
        text.__notes__ = getattr(exc, "__notes__", None)
    except BaseException as error:  # as Python 3.13 says it
        name = type(error).__qualname__
        text.__notes__ = [f"Ignored error getting __notes__: <{name}>"]
    return text


class _Walk:
    """Pairs each ``TracebackException`` with its exception, as CPython built them."""

    def __init__(self, policy: Policy, running: frozenset[int]) -> None:
        self.policy = policy
        self.running = running
        self.positions: dict[tuple[int, int], tuple[Any, ...]] = {}
        """Column positions by (code, instruction), for this capture only: a recursion's
        thousand frames read a few. The frames hold their code, so the ids stay unique."""
        self.files: set[str] = set()
        self.no_source: dict[str, str] = {}
        self.count = 0
        self.chain_left_out = 0

    def exception(self, root: traceback.TracebackException, error: BaseException) -> Captured:
        top = Captured(error, root)
        pending: list[tuple[Captured, int, int]] = [(top, 0, 0)]
        while pending:
            current, depth, chained = pending.pop()
            self.count += 1
            self.frames(current)
            te = current.text
            exc = current.exc
            assert exc is not None
            if sys.version_info < (3, 12):
                _suggest(te, exc)
            links = ((te.__cause__, "__cause__"), (te.__context__, "__context__"))
            for linked, name in links:
                if linked is None:
                    continue
                other = _LINKS[name].__get__(exc)
                if (
                    chained >= self.policy.max_chain
                    or self.count + len(pending) >= _MAX_EXCEPTIONS
                    or not _is(other, linked)
                ):
                    self.chain_left_out += _length(linked)
                    setattr(te, name, None)  # the text stops where the page stops
                    continue
                assert isinstance(other, BaseException)
                captured = Captured(other, linked)
                setattr(current, name.strip("_"), captured)
                pending.append((captured, depth, chained + 1))
            if te.exceptions and isinstance(exc, BaseExceptionGroup):
                shown = min(len(te.exceptions), self.policy.max_group_members)
                if depth >= _MAX_GROUP_DEPTH:
                    shown = 0
                members = _MEMBERS.__get__(exc)
                for member_te, member in islice(zip(te.exceptions, members, strict=False), shown):
                    if not _is(member, member_te) or self.count >= _MAX_EXCEPTIONS:
                        break
                    captured = Captured(member, member_te)
                    current.members.append(captured)
                    pending.append((captured, depth + 1, chained))
                current.members_left_out = len(te.exceptions) - len(current.members)
        for filename in self.files:  # before any text is made: every text reads source
            why = refusal(filename)
            if why is not None:
                self.no_source[filename] = why
        return top

    def frames(self, captured: Captured) -> None:
        """The exception's frames: hidden ones dropped, repeats collapsed for the page, the
        stack cut to ``max_frames``; the text's stack holds the same frames."""
        exc = captured.exc
        assert exc is not None
        visible = []
        for entry in _entries(traceback_of(exc)):
            if not self.hides(entry):
                visible.append(entry)
                continue
            captured.others.append((entry.tb_frame, id(entry.tb_frame) in self.running))
            if not _is_own(entry.tb_frame):  # debugpages' own frames are no news
                captured.hidden += 1
        steps = [self.step(entry) for entry in visible]
        keys: list[Hashable] = [
            (s.summary.filename, s.summary.lineno, s.qualname) for s in steps
        ]  # never the code object: twin files compile to equal code
        policy = self.policy
        if len(set(keys)) == len(keys) and len(keys) <= policy.max_frames:
            kept, gap = None, (0, 0)  # the common case: every frame, each once
            captured.steps += steps
        else:
            kept = _cap(collapse_repeats(keys), policy.max_frames)
            gap = _gap(kept, len(steps))
            for index, run, repeated, before in kept:
                step = steps[index]
                step.run, step.repeated, step.left_out_before = run, repeated, before
                captured.steps.append(step)
        _give_context(captured.steps, policy.max_frames_with_context, policy.context_lines)
        captured.without_locals = _give_locals(captured.steps, policy.max_frames_with_locals)
        if kept is not None:
            kept_indexes = {index for index, *_ in kept}
            captured.others += [
                (step.frame, step.running)
                for index, step in enumerate(steps)
                if index not in kept_indexes and step.frame is not None
            ]
        captured.text.stack = _TextStack.of([step.summary for step in steps], gap)

    def hides(self, entry: TracebackType) -> bool:
        """Paste's and werkzeug's ``__traceback_hide__``: a true local hides its frame (for
        a frame still running, declaring it is enough: its locals are not read), a true
        global its module's frames."""
        frame = entry.tb_frame
        declared = HIDE in frame.f_code.co_varnames
        if declared and (id(frame) in self.running or frame.f_locals.get(HIDE)):
            return True
        return bool(frame.f_globals.get(HIDE))

    def step(self, entry: TracebackType) -> Step:
        frame, lasti = entry.tb_frame, entry.tb_lasti
        code = frame.f_code
        key = (id(code), lasti)
        positions = self.positions.get(key)
        if positions is None:
            positions = self.positions[key] = _position(code, lasti)
        lineno = positions[0] if positions[0] is not None else entry.tb_lineno
        if code.co_filename not in self.files:
            self.files.add(code.co_filename)
            linecache.lazycache(code.co_filename, frame.f_globals)
        summary = traceback.FrameSummary(
            code.co_filename,
            lineno,
            code.co_name,
            lookup_line=False,
            end_lineno=positions[1],
            colno=positions[2],
            end_colno=positions[3],
        )
        running = id(frame) in self.running
        return Step(frame, summary, code.co_qualname, lasti, running, is_library(code.co_filename))


def _give_context(steps: list[Step], budget: int, lines: int) -> None:
    """Give ``lines`` of source around their line to the innermost application frames,
    then the innermost library frames, ``budget`` frames in all; the others show their
    line alone (a view under thirty template-engine frames keeps its context)."""
    inward = steps[::-1]
    for rank, step in enumerate(
        [s for s in inward if not s.library] + [s for s in inward if s.library]
    ):
        step.context = lines if rank < budget else 0


def _give_locals(steps: list[Step], budget: int) -> int:
    """Mark the frames whose locals the page shows: the innermost application frames, then
    the innermost library frames while ``budget`` lasts; a frame still running or without
    source (a frozen module's) never takes it. Returns how many frames went without."""
    wanting = [
        step
        for step in reversed(steps)
        if not step.running and not is_sourceless(step.summary.filename)
    ]
    for step in [s for s in wanting if not s.library] + [s for s in wanting if s.library]:
        if budget <= 0:
            break
        step.show_locals = True
        budget -= 1
    return sum(not step.show_locals for step in wanting)


def _position(code: Any, lasti: int) -> tuple[Any, ...]:
    """The (line, end line, column, end column) of the instruction, as CPython reads it."""
    if lasti < 0:
        return (None, None, None, None)
    return next(islice(code.co_positions(), lasti // 2, None), (None, None, None, None))


def _suggest(te: traceback.TracebackException, exc: BaseException) -> None:
    """Add Python 3.11's "Did you mean" to the message, as 3.12's ``traceback`` does."""
    found = suggestion(exc)
    message = te.__dict__.get("_str")
    if found is not None and isinstance(message, str):
        te._str = f"{message}. Did you mean: '{found}'?"  # type: ignore[attr-defined]


def _is(exc: object, te: traceback.TracebackException) -> bool:
    """Whether ``te`` was made from ``exc`` (an attribute that changes between two reads,
    as a hostile exception's may, ends the walk there)."""
    # Python 3.13 warns on reading ``exc_type`` and keeps it as ``_exc_type``.
    made_from = te.__dict__.get("exc_type", te.__dict__.get("_exc_type"))
    return isinstance(exc, BaseException) and type(exc) is made_from


def _length(te: traceback.TracebackException) -> int:
    """How many exceptions a chain holds from ``te`` on."""
    count, seen = 0, set()
    current: traceback.TracebackException | None = te
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        count += 1
        current = current.__cause__ or current.__context__
    return count


def _is_own(frame: FrameType) -> bool:
    return str(frame.f_globals.get("__name__", "")).startswith(_OWN)


class _TextStack(traceback.StackSummary):
    """A stack that formats each distinct frame once, and says where frames were cut.

    CPython formats every frame (parsing its line for the carets) before it collapses
    repeats into "[Previous line repeated N more times]": a thousand parses for a
    RecursionError. The text is the same; the cost is that of the distinct frames.
    """

    gap: tuple[int, int] = (0, 0)
    """(where, how many): the frames cut by ``Policy.max_frames``, after frame ``where``."""

    @classmethod
    def of(cls, summaries: list[traceback.FrameSummary], gap: tuple[int, int]) -> _TextStack:
        where, count = gap
        stack = cls(summaries[:where] + summaries[where + count :] if count else summaries)
        stack.gap = (where, count)
        stack.formatted = {}
        return stack

    formatted: dict[tuple[object, ...], Any]

    def format(self, **kwargs: Any) -> list[str]:
        where, count = self.gap
        if not count:
            return super().format(**kwargs)
        head = _TextStack.of(self[:where], (0, 0))
        tail = _TextStack.of(self[where:], (0, 0))
        cut = f"  [... {count:,} frames cut here to keep the page small ...]\n"
        return [*head.format(**kwargs), cut, *tail.format(**kwargs)]

    def format_frame_summary(self, frame_summary: Any, *args: Any, **kwargs: Any) -> Any:
        where = (
            frame_summary.filename,
            frame_summary.lineno,
            frame_summary.name,
            frame_summary.end_lineno,
            frame_summary.colno,
            frame_summary.end_colno,
            args,
            tuple(sorted(kwargs.items())),
        )
        text = self.formatted.get(where)
        if text is None:  # a frame not met yet in this stack: once per distinct frame
            key = (*where, frame_summary.line)
            text = _FRAME_TEXTS.get(key)
            if text is None:
                if len(_FRAME_TEXTS) >= _MAX_FRAME_TEXTS:
                    _FRAME_TEXTS.clear()
                text = super().format_frame_summary(frame_summary, *args, **kwargs)
                _FRAME_TEXTS[key] = text
            self.formatted[where] = text
        return text


_MAX_FRAME_TEXTS = 1024
_FRAME_TEXTS: Memo[tuple[object, ...], Any] = Memo()
"""A frame's text by where it stopped and its line of source (nothing else goes in it):
CPython parses the line for its carets, a third of an ``off`` failure that repeats."""


_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def _chain_text(top: traceback.TracebackException) -> str | None:
    """``top.format(chain=True)`` for a chain without groups (``None`` for one with a
    group), in the same order and words, without CPython's margin machinery, which
    indents every line by nothing outside a group: half the cost of the text."""
    chain: list[tuple[str | None, traceback.TracebackException]] = []
    current: traceback.TracebackException | None = top
    while current is not None:
        if current.exceptions is not None:
            return None
        if current.__cause__ is not None:
            link, following = _CAUSE, current.__cause__
        elif current.__context__ is not None and not current.__suppress_context__:
            link, following = _CONTEXT, current.__context__
        else:
            link, following = None, None
        chain.append((link, current))
        current = following
    parts: list[str] = []
    for link, te in reversed(chain):
        if link is not None:
            parts.append(link)
        if te.stack:
            parts.append("Traceback (most recent call last):\n")
            parts += te.stack.format()
        parts += te.format_exception_only()
    return "".join(parts)


def _entries(tb: TracebackType | None) -> list[TracebackType]:
    """The traceback's entries, outermost first."""
    entries = []
    while isinstance(tb, TracebackType):
        entries.append(tb)
        tb = tb.tb_next
    return entries


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


def collapse_repeats(
    keys: Sequence[Hashable], *, cutoff: int = 3, longest_run: int = 8
) -> list[tuple[int, int, int]]:
    """Find runs of frames repeated more than ``cutoff`` times in a row.

    Returns ``(index, run, repeated)`` for each frame to keep; ``run`` and
    ``repeated`` are non-zero on the last frame of a run that stands for
    ``repeated`` more copies of itself, as CPython's traceback collapses recursion
    (and, unlike it, runs of up to ``longest_run`` frames: a mutual recursion).
    """
    n = len(keys)
    if len(set(keys)) == n:  # nothing repeats: the common case, decided in one pass
        return [(i, 0, 0) for i in range(n)]
    kept: list[tuple[int, int, int]] = []
    i = 0
    while i < n:
        best_run, best_times = 0, 1
        for run in range(1, min(longest_run, (n - i) // 2) + 1):
            block = keys[i : i + run]
            times = 1
            while keys[i + times * run : i + (times + 1) * run] == block:
                times += 1
            if times > cutoff and times * run > best_times * best_run:
                best_run, best_times = run, times
                if times * run == n - i:
                    break  # the rest is one run: no longer one can cover more
        if best_run:
            kept.extend((j, 0, 0) for j in range(i, i + best_run - 1))
            kept.append((i + best_run - 1, best_run, best_times - 1))
            i += best_run * best_times
        else:
            kept.append((i, 0, 0))
            i += 1
    return kept


def _cap(kept: list[tuple[int, int, int]], limit: int) -> list[tuple[int, int, int, int]]:
    """At most ``limit`` frames: the outermost few and the innermost rest, the gap counted
    on the first frame after it."""
    if len(kept) <= limit:
        return [(*entry, 0) for entry in kept]
    head = limit // 4
    gap = len(kept) - limit
    tail = [(*entry, 0) for entry in kept[head + gap :]]
    tail[0] = (*tail[0][:3], gap)
    return [(*entry, 0) for entry in kept[:head]] + tail


def _gap(kept: list[tuple[int, int, int, int]], total: int) -> tuple[int, int]:
    """The frames of the whole stack that the cut left out: (first, how many)."""
    for position, (index, _, _, before) in enumerate(kept):
        if before:
            first = kept[position - 1][0] + 1 if position else 0
            previous = kept[position - 1] if position else None
            if previous is not None and previous[1]:  # the frame before ends a repeated run
                first += previous[1] * previous[2]
            return first, index - first
    return 0, 0

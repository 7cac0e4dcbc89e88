"""Logging with the reference: every caught exception is logged once, masked.

While the engine works on one failure it keeps that failure's secrets in a context
variable, so that every record the ``debugpages`` logger emits meanwhile (its own,
the renderer's) carries a masked traceback in ``exc_text``, which standard
formatters print as it is. Records keep ``exc_info`` for handlers that want the
exception itself. A handler that raises never costs the client its page.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import CodeType, TracebackType
from typing import Any

from .capture import below_hidden, collect_secrets
from .logsetup import install
from .memo import Memo
from .policy import NO_MASKER, Masker, Policy, Secrets, one_line, safe_text
from .switch import Mode
from .tracing import record

log = logging.getLogger("debugpages")


@dataclass(slots=True)
class _Failure:
    """The failure the engine is working on, for the logging filter."""

    reference: str
    secrets: Secrets | None
    handler_failed: bool = False
    texts: dict[int, tuple[BaseException, Masker, str]] = field(default_factory=dict)
    """Tracebacks made meanwhile, by exception: the page's text is the log record's."""


_current: ContextVar[_Failure | None] = ContextVar("debugpages_failure", default=None)
_DEFAULT_POLICY = Policy()


@contextmanager
def handling(reference: str, secrets: Secrets | None) -> Iterator[None]:
    """Mark the failure being handled, for the records logged meanwhile."""
    token = _current.set(_Failure(reference, secrets))
    try:
        yield
    finally:
        _current.reset(token)


def current_secrets() -> Secrets | None:
    """The secrets of the failure being handled, if any."""
    failure = _current.get()
    return failure.secrets if failure is not None else None


def traceback_text(exc: BaseException, masker: Masker) -> str:
    """``masked_traceback``, made once per failure: the page and the log record share it."""
    failure = _current.get()
    known = failure.texts.get(id(exc)) if failure is not None else None
    if known is not None and known[0] is exc and known[1] is masker:
        return known[2]
    text = masked_traceback(exc, masker)
    if failure is not None:
        failure.texts[id(exc)] = (exc, masker, text)  # held only while the failure is handled
    return text


def masked_traceback(exc: BaseException, masker: Masker) -> str:
    """The traceback a standard formatter prints, with secrets masked and controls escaped.

    It starts below the frames hidden by ``__traceback_hide__`` that caught the exception
    (debugpages' own middleware, a framework's handler), as the page does.
    """
    try:
        summary = _summarized(exc)
        _format_repeats_once(summary)
        text = "".join(summary.format())
    except Exception:  # linecache cannot read a file name; say what can be said without it
        lines = ["Traceback (most recent call last):\n"]
        for frame, line in traceback.walk_tb(below_hidden(exc.__traceback__)):
            code = frame.f_code
            lines.append(f'  File "{code.co_filename}", line {line}, in {code.co_name}\n')
        kind = type(exc)
        name = kind.__qualname__
        if kind.__module__ not in ("builtins", "__main__"):
            name = f"{kind.__module__}.{name}"
        try:
            message = str(exc)
        except Exception:
            message = "<exception str() failed>"
        text = "".join(lines) + (f"{name}: {message}" if message else name)
    return safe_text(masker.text(text.removesuffix("\n")))


def _summarized(exc: BaseException) -> traceback.TracebackException:
    """``traceback.TracebackException`` of ``exc``, reading each distinct frame once.

    CPython reads the position of every frame (a walk of its code's positions each): a
    thousand for a RecursionError. Here the traceback it reads holds each distinct
    (code, instruction) once, and the stack is then laid out again in full, so the
    text is CPython's, "[Previous line repeated 996 more times]" included.
    """
    tb = top = below_hidden(exc.__traceback__)
    distinct: list[TracebackType] = []
    first: dict[tuple[CodeType, int], int] = {}
    order: list[int] = []
    while tb is not None:
        key = (tb.tb_frame.f_code, tb.tb_lasti)
        if key not in first:
            first[key] = len(distinct)
            distinct.append(tb)
        order.append(first[key])
        tb = tb.tb_next
    if len(distinct) * 2 > len(order):  # few repeats: read as it is
        return traceback.TracebackException(type(exc), exc, top, lookup_lines=False, compact=True)
    short: TracebackType | None = None
    for entry in reversed(distinct):
        short = TracebackType(short, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    summary = traceback.TracebackException(type(exc), exc, short, lookup_lines=False, compact=True)
    summary.stack = traceback.StackSummary.from_list([summary.stack[i] for i in order])
    return summary


class _RepeatAware(traceback.StackSummary):
    """Formats each distinct frame once.

    CPython formats every frame of a stack (parsing its line for the carets) before it
    collapses repeats into "[Previous line repeated N more times]": 1,000 parses for a
    RecursionError. The text is the same; the cost is that of the distinct frames.
    A frame's text depends only on where it stopped and on its line of source, so it is
    also remembered across failures: the same line failing again costs no parse.
    """

    def format_frame_summary(self, frame_summary: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(frame_summary, "locals", None) is not None:
            return super().format_frame_summary(frame_summary, *args, **kwargs)
        where = (
            frame_summary.filename,
            frame_summary.lineno,
            frame_summary.name,
            getattr(frame_summary, "end_lineno", None),
            getattr(frame_summary, "colno", None),
            getattr(frame_summary, "end_colno", None),
        )
        formatted: dict[tuple[object, ...], str] = self.__dict__.setdefault("_formatted", {})
        text = formatted.get(where)
        if text is None:  # a frame not met yet in this stack: once per distinct frame
            key = (*where, frame_summary.line, args, tuple(sorted(kwargs.items())))
            text = _FRAME_TEXTS.get(key)
            if text is None:
                if len(_FRAME_TEXTS) >= _MAX_FRAME_TEXTS:
                    _FRAME_TEXTS.clear()
                text = super().format_frame_summary(frame_summary, *args, **kwargs)
                _FRAME_TEXTS[key] = text
            formatted[where] = text
        return text


_MAX_FRAME_TEXTS = 1024
_FRAME_TEXTS: Memo[tuple[object, ...], str] = Memo()
"""Formatted frames by where they stopped and their source line (see ``_RepeatAware``)."""


def _format_repeats_once(summary: traceback.TracebackException) -> None:
    """Give every stack of the exception, its chain and its groups a ``_RepeatAware``."""
    pending: list[traceback.TracebackException | None] = [summary]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        current.stack = _RepeatAware(current.stack)
        pending += [current.__cause__, current.__context__, *(current.exceptions or ())]


class _MaskTracebacks(logging.Filter):
    """Sets ``exc_text``, which standard formatters print as it is, to the masked traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            exc = record.exc_info[1]
            secrets = current_secrets()
            try:
                if secrets is None:
                    masker = collect_secrets(exc, None, _DEFAULT_POLICY).masker()
                else:
                    masker = secrets.masker()
            except Exception:  # an exception too odd to read: URLs are still masked
                masker = NO_MASKER
            record.exc_text = traceback_text(exc, masker)
        return True


log.addFilter(_MaskTracebacks())


def _current_reference() -> str | None:
    failure = _current.get()
    return failure.reference if failure is not None else None


install(log, _current_reference)  # every record's fields, and the server's log by default


def request_line(environ: Mapping[str, Any], masker: Masker = NO_MASKER) -> tuple[str, str]:
    """The method and path of a request, escaped to one line so no request forges log lines."""
    method = one_line(str(environ.get("REQUEST_METHOD", "?")))[:64]
    raw_path = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
    return method, masker.text(one_line(raw_path)[:2048])


def report_log(
    exc: Exception,
    environ: Mapping[str, Any],
    reference: str,
    mode: Mode,
    code: int,
    note: str = "",
    *,
    policy: Policy | None = None,
) -> None:
    """Log the exception once, under its reference, and tell the current span about it."""
    record(exc, reference, code)  # on the current OpenTelemetry span, where there is one
    failure = _current.get()
    token = None
    try:
        if failure is None:  # called by an adapter on its own (the response had started)
            secrets = collect_secrets(exc, environ, policy or Policy()) if code >= 500 else None
            failure = _Failure(reference, secrets)
            token = _current.set(failure)
        masker = failure.secrets.masker() if failure.secrets is not None else NO_MASKER
        method, path = request_line(environ, masker)
        extra = {"reference": reference, "method": method, "path": path, "mode": mode.value}
        if code >= 500:
            log.error(
                "%s on %s %s (reference %s)%s",
                type(exc).__qualname__, method, path, reference, f": {note}" if note else "",
                exc_info=exc, extra=extra,
            )  # fmt: skip
        else:
            log.info("%d on %s %s (reference %s)", code, method, path, reference, extra=extra)
    except Exception as error:  # a handler raised instead of handling its own error
        handler_failed(reference, error)
    finally:
        if token is not None:
            _current.reset(token)


def log_failure(message: str) -> None:
    """Log a failure of debugpages itself, with its traceback, whatever the handlers do."""
    try:
        log.exception(message)
    except Exception as error:
        failure = _current.get()
        handler_failed(failure.reference if failure else "(none)", error)


def handler_failed(reference: str, error: BaseException) -> None:
    """Say on stderr, once per failure handled, that logging itself failed."""
    failure = _current.get()
    if failure is not None:
        if failure.handler_failed:
            return
        failure.handler_failed = True
    print(
        f"debugpages: logging the exception with reference {reference} failed: {error!r}",
        file=sys.stderr,
    )

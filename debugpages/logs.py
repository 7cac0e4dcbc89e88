"""Logging with the reference: every caught exception is logged once, masked.

The record of a failure is handed its text by the failure's capture: ``exc_text``, which
standard formatters print as it is, holds the masked traceback, and ``exc_info`` stays
on the record for handlers that want the exception itself (error trackers). Other records
the ``debugpages`` logger emits with an exception (a template that failed to render) are
masked by a filter that captures that exception the same way. A formatter that formats
``exc_info`` itself (python-json-logger, structlog) gets the masked text through
``MaskedTracebacks``. A handler that raises never costs the client its page.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from .capture import capture, traceback_of
from .logsetup import install
from .mask import NO_MASKER, Masker
from .policy import Policy, cut_middle, one_line, safe_text
from .secrets import find_secrets, frames_of
from .switch import Mode
from .tracing import record

log = logging.getLogger("debugpages")

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


@dataclass(slots=True)
class _Handling:
    """The failure being handled, for ``handler_failed``."""

    reference: str
    handler_failed: bool = False
    texts: dict[int, tuple[BaseException, str]] | None = None
    """Masked tracebacks made meanwhile, by exception (for ``MaskedTracebacks``)."""


_current: ContextVar[_Handling | None] = ContextVar("debugpages_failure", default=None)
_DEFAULT_POLICY = Policy()


@contextmanager
def handling(reference: str) -> Iterator[None]:
    """Mark the failure being handled, for the records logged meanwhile."""
    token = _current.set(_Handling(reference, texts={}))
    try:
        yield
    finally:
        _current.reset(token)


MAX_RECORD_CHARS = 256 * 1024
"""Characters of a traceback in one log record: its start and its end past that (a
message of 50 MB made a 50 MB record; log pipelines take about this much per event)."""


def log_text(text: str) -> str:
    """A masked traceback as a log record carries it: cut in the middle past
    ``MAX_RECORD_CHARS`` (after masking, so no cut can split a secret out of its mask)."""
    return cut_middle(text, MAX_RECORD_CHARS, "the traceback", "the log record")


def masked_traceback(exc: BaseException, policy: Policy = _DEFAULT_POLICY) -> str:
    """The traceback a standard formatter prints for ``exc``, its secrets masked: for an
    exception no capture was made for (what debugpages logs of its own failures)."""
    try:
        captured = capture(exc, policy)
        try:
            secrets = find_secrets(frames_of(captured.exceptions()), None, policy)
            return log_text(safe_text(secrets.masker.text(captured.traceback())))
        finally:
            captured.release()
    except BaseException:  # an exception too odd to read: what can be said without reading it
        return plain_traceback(exc, NO_MASKER)


def plain_traceback(exc: BaseException, masker: Masker) -> str:
    """The frames and the exception's line, read without source or positions."""
    lines = ["Traceback (most recent call last):\n"]
    tb = traceback_of(exc)
    while isinstance(tb, TracebackType):
        code = tb.tb_frame.f_code
        lines.append(f'  File "{code.co_filename}", line {tb.tb_lineno}, in {code.co_name}\n')
        tb = tb.tb_next
    kind = type(exc)
    name = kind.__qualname__
    if kind.__module__ not in ("builtins", "__main__"):
        name = f"{kind.__module__}.{name}"
    try:
        message = str.__str__(str(exc))
    except BaseException:
        message = "<exception str() failed>"
    text = "".join(lines) + (f"{name}: {message}" if message else name)
    return log_text(safe_text(masker.text(text)))


class _MaskTracebacks(logging.Filter):
    """Sets ``exc_text`` of a record that has none to the masked traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = masked_traceback(record.exc_info[1])
        return True


log.addFilter(_MaskTracebacks())


def _current_reference() -> str | None:
    failure = _current.get()
    return failure.reference if failure is not None else None


install(log, _current_reference)  # every record's fields, and the server's log by default


_pending: ContextVar[str | None] = ContextVar("debugpages_exc_text", default=None)
"""The masked text of the record a ``MaskedTracebacks`` formatter is formatting."""


def format_exception(exc_info: Any) -> str:
    """The masked traceback of ``exc_info``: for a formatter that formats it itself, such as
    structlog's ``ExceptionRenderer(debugpages.logs.format_exception)``."""
    pending = _pending.get()
    if pending is not None:
        return pending
    exc = exc_info[1] if isinstance(exc_info, tuple) and len(exc_info) == 3 else exc_info
    if not isinstance(exc, BaseException):
        return "".join(traceback.format_exception(*exc_info))
    handling_now = _current.get()
    known = (handling_now.texts or {}).get(id(exc)) if handling_now is not None else None
    return known[1] if known is not None and known[0] is exc else masked_traceback(exc)


class MaskedTracebacks(logging.Formatter):
    """A formatter mixin for formatters that format ``exc_info`` themselves instead of
    printing ``exc_text`` (python-json-logger, structlog's ``ProcessorFormatter``): put it
    first among the bases, and the traceback they print is debugpages' masked one.

    ``class JsonFormatter(MaskedTracebacks, pythonjsonlogger.json.JsonFormatter): ...``
    """

    def format(self, record: logging.LogRecord) -> str:
        own = record.name == log.name or record.name.startswith(f"{log.name}.")
        token = _pending.set(record.exc_text if own and record.exc_text else None)
        try:
            return super().format(record)
        finally:
            _pending.reset(token)

    def formatException(self, ei: Any) -> str:
        return format_exception(ei)


def request_line(environ: Mapping[str, Any], masker: Masker = NO_MASKER) -> tuple[str, str]:
    """The method and path of a request, escaped to one line so no request forges log lines."""
    method = one_line(str(environ.get("REQUEST_METHOD", "?")))[:64]
    raw_path = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
    return method, masker.head(one_line(raw_path), 2048)  # masked, then cut


def report_log(
    exc: Exception,
    environ: Mapping[str, Any],
    reference: str,
    mode: Mode,
    code: int,
    note: str = "",
    *,
    text: str | None = None,
    masker: Masker = NO_MASKER,
) -> None:
    """Log the exception once, under its reference, with ``text``, its masked traceback;
    and tell the current span about it."""
    record(exc, reference, code, text, masker.text)  # on the current span, where there is one
    try:
        method, path = request_line(environ, masker)
        extra = {"reference": reference, "method": method, "path": path, "mode": mode.value}
        if code < 500:
            log.info("%d on %s %s (reference %s)", code, method, path, reference, extra=extra)
            return
        if not log.isEnabledFor(logging.ERROR):
            return
        where, line, function, _ = log.findCaller()
        entry = log.makeRecord(
            log.name,
            logging.ERROR,
            where,
            line,
            "%s on %s %s (reference %s)%s",
            (type(exc).__qualname__, method, path, reference, f": {note}" if note else ""),
            (type(exc), exc, traceback_of(exc)),
            func=function,
            extra=extra,
        )
        if text is not None:
            entry.exc_text = text  # the capture's own text: the filter leaves it as it is
            handling_now = _current.get()
            if handling_now is not None and handling_now.texts is not None:
                handling_now.texts[id(exc)] = (exc, text)
        log.handle(entry)
    except Exception as error:  # a handler raised instead of handling its own error
        handler_failed(reference, error)


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

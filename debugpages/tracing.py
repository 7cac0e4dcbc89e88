"""OpenTelemetry, where the application uses it: the failed request's span carries the
reference.

Optional (the ``otel`` extra), and never imported here: a span can only be current
where the application (or its instrumentation) has imported ``opentelemetry.trace``, so
that module is read from ``sys.modules`` at the failure, and every function is a no-op
without it. With it, the current span records the exception, is marked as an error, and
gets the reference as the ``debugpages.reference`` attribute; the traceback page shows
the trace id, so one search in the tracing backend finds the request on every machine
it touched.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from types import ModuleType

log = logging.getLogger("debugpages")

REFERENCE_ATTRIBUTE = "debugpages.reference"


def _trace() -> ModuleType | None:
    """``opentelemetry.trace`` if the application imported it (no span exists otherwise)."""
    return sys.modules.get("opentelemetry.trace")


def record(
    exc: BaseException,
    reference: str,
    code: int,
    stacktrace: str | None = None,
    mask: Callable[[str], str] = str,
) -> None:
    """Tell the current span about ``exc``: an error for 5xx, the reference always.

    The span's exception event carries the message through ``mask`` and ``stacktrace``
    (the log record's masked traceback) in place of the unmasked ones OpenTelemetry
    makes itself. Client errors (4xx) leave the span's status alone, as OpenTelemetry's
    HTTP conventions ask of server spans. A failing tracer never costs the page.
    """
    trace = _trace()
    if trace is None:
        return
    try:
        span = trace.get_current_span()
        if not span.is_recording():
            return
        span.set_attribute(REFERENCE_ATTRIBUTE, reference)
        if code >= 500:
            masked = {"exception.message": mask(str(exc))}
            if stacktrace is not None:
                masked["exception.stacktrace"] = stacktrace
            span.record_exception(exc, attributes=masked)
            span.set_status(trace.Status(trace.StatusCode.ERROR, type(exc).__qualname__))
    except BaseException:  # the exception's own __str__ may raise anything
        log.warning("debugpages: recording reference %s on the span failed", reference,
                    exc_info=True)  # fmt: skip


def current_trace_id() -> str | None:
    """The current trace's id as 32 hex digits, as tracing backends show it; else ``None``."""
    trace = _trace()
    if trace is None:
        return None
    try:
        context = trace.get_current_span().get_span_context()
    except Exception:
        return None
    return trace.format_trace_id(context.trace_id) if context.is_valid else None

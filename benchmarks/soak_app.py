"""The app the soak serves under gunicorn: failing routes that each hold 10 MB, and /ok.

The mode comes from the ``DEBUGPAGES`` environment variable (the soak sets it per
run), so the soak also exercises the switch as a deployment would use it. Every
failing route allocates 10 MB per request and raises while a frame holds it: if a
traceback, a frame or a local outlived its request, the workers' memory would grow by
10 MB a request and the soak would see it within seconds.

Logging is paid but not printed: the records are formatted and dropped, so a minute
of errors does not fill the disk with tracebacks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NoReturn

from benchmarks import corpus
from benchmarks.corpus import Environ, StartResponse
from benchmarks.renderers import silence_logging_but_pay_for_it
from benchmarks.soak import FAILING_ROUTES, HEALTHY_ROUTE
from debugpages import ErrorPages


def _hold_10mb_then(trigger: Callable[[], NoReturn]) -> Callable[[], NoReturn]:
    """A trigger whose own frame holds 10 MB while the corpus failure is raised."""

    def fail() -> NoReturn:
        payload = b"\x00" * corpus.TEN_MB
        assert len(payload) == corpus.TEN_MB
        trigger()

    return fail


def _caught(make: Callable[[], Exception]) -> Exception:
    """An exception with a traceback, made so that no frame of ours keeps it alive."""
    try:
        raise make()
    except Exception as exc:
        return exc


def _members() -> list[Exception]:
    return [_caught(lambda: ValueError("no mailbox")), _caught(lambda: TimeoutError("smtp"))]


def fail_group_without_cycles() -> NoReturn:
    """An exception group that, unlike the corpus's, forms no reference cycle.

    A group caught in a local (``except* ... as nested``, or a list of caught errors)
    ties the frames to the exception in a cycle that only the cyclic GC frees, late;
    the soak must see what the renderer keeps, not what the app's own cycles keep.
    """
    payload = b"\x00" * corpus.TEN_MB
    raise ExceptionGroup(f"sending failed while holding {len(payload)} bytes", _members())


_FAILURES = dict(
    zip(
        FAILING_ROUTES,
        (
            corpus.fail_with_10mb_locals,
            _hold_10mb_then(corpus.fail_chained),
            fail_group_without_cycles,
        ),
        strict=True,
    )
)


def router(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """Route by path: a failure, the healthy page, or a plain 404."""
    path = environ.get("PATH_INFO", "/")
    if path == HEALTHY_ROUTE:
        return corpus.ok_app(environ, start_response)
    failure = _FAILURES.get(path)
    if failure is not None:
        failure()
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
    return [b"not found"]


silence_logging_but_pay_for_it()
application = ErrorPages(router)

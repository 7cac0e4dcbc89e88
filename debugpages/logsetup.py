"""Where debugpages' records go, and the fields each one carries, with no set-up at all.

Every record of the ``debugpages`` logger carries ``reference``, ``method``, ``path``
and ``mode`` (``-`` where a record has none), so a format that uses them never breaks
on one of debugpages' records. And where nothing was set up to take the records (no
handler on the way to the root logger), they go to the error log of the server that
runs the application (gunicorn, uvicorn, hypercorn), at its level and in its format,
instead of logging's last resort (warnings only, with no time and no level); elsewhere,
or when a logger on the way stops propagation, to that last resort, as before. Any
handler set up on the way makes this one stand aside.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

FIELDS = ("reference", "method", "path", "mode")
"""The record attributes debugpages documents."""
SERVER_LOGGERS = ("gunicorn.error", "uvicorn.error", "hypercorn.error")


class _Fields(logging.Filter):
    """Gives a record every documented field it lacks: ``-``, or the failure's reference."""

    def __init__(self, reference: Callable[[], str | None]) -> None:
        super().__init__()
        self.reference = reference

    def filter(self, record: logging.LogRecord) -> bool:
        fields = record.__dict__
        for name in FIELDS:
            if name not in fields:
                fields[name] = (self.reference() if name == "reference" else None) or "-"
        return True


def _configured(logger: logging.Logger, own: logging.Handler) -> bool | None:
    """Whether a handler other than ``own`` takes the logger's records: ``None`` when none
    does because a logger on the way stops propagation (logging's last resort then)."""
    current: logging.Logger | None = logger
    while current is not None:
        if any(handler is not own for handler in current.handlers):
            return True
        if not current.propagate:
            return None
        current = current.parent
    return False


def server_logger() -> logging.Logger | None:
    """The error logger of the server running this process, once the server set it up."""
    for name in SERVER_LOGGERS:
        found = logging.Logger.manager.loggerDict.get(name)
        if isinstance(found, logging.Logger) and found.hasHandlers():
            return found
    return None


class _ServerLog(logging.Handler):
    """Hands a record nothing else takes to the server's error log, else to the last resort."""

    def __init__(self, logger: logging.Logger) -> None:
        super().__init__()
        self.logger = logger

    def handle(self, record: logging.LogRecord) -> bool:
        configured = _configured(self.logger, self)
        if configured:
            return False
        server = server_logger() if configured is False else None
        if server is not None:
            server.callHandlers(record)  # its handlers and its parents', as its own records
        elif logging.lastResort is not None and record.levelno >= logging.lastResort.level:
            logging.lastResort.handle(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        self.handle(record)


def install(logger: logging.Logger, reference: Callable[[], str | None]) -> None:
    """Give ``logger``'s records their fields, and a place to go when none is set up."""
    logger.addFilter(_Fields(reference))
    logger.addHandler(_ServerLog(logger))


def follow_server_level(logger: logging.Logger) -> None:
    """At start-up: with nothing set up for ``logger``, log at the server's level.

    So ``gunicorn --log-level info`` shows debugpages' INFO lines (the mode, the 4xx
    pages), as it shows its own. A level set on ``logger`` is left alone.
    """
    own = next((h for h in logger.handlers if isinstance(h, _ServerLog)), None)
    server = server_logger()
    if logger.level == logging.NOTSET and own and server and _configured(logger, own) is False:
        logger.setLevel(server.getEffectiveLevel())

"""The Flask adapter: ``init_app(app)`` puts debugpages under a Flask application.

Flask catches a view's exceptions itself (``Flask.handle_exception``) and sends its
own 500 page, so wrapping ``app.wsgi_app`` alone never sees them. ``init_app`` sets
``PROPAGATE_EXCEPTIONS`` (Flask's own switch for handing unhandled exceptions to
the WSGI layer, sending ``got_request_exception`` first) and wraps ``app.wsgi_app``
in ``ErrorPages``. The app's error handlers run before any of that, so they keep
the exceptions they are registered for.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from flask import Flask, Response, request
from flask.typing import ErrorHandlerCallable as ErrorHandler
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from .respond import is_passthrough
from .switch import ConfigurationError, Mode
from .wsgi import ErrorPages

EXTENSION = "debugpages"


def init_app(
    app: Flask,
    mode: Mode | str | None = None,
    template_dirs: Sequence[str | os.PathLike[str]] = (),
    *,
    follow_debug: bool = False,
    http_errors: bool = True,
) -> ErrorPages:
    """Send debugpages' page for the exceptions ``app`` has no error handler for.

    ``mode`` beats ``DEBUGPAGES``, which beats the default: ``off``, or with
    ``follow_debug``, ``on`` when ``app.debug`` is true at this call. With
    ``http_errors``, an ``abort(404)`` that the app has no handler for gets
    debugpages' page for its status too (HTML, text or JSON by ``Accept``).
    Returns the ``ErrorPages`` now in ``app.wsgi_app``.
    """
    if EXTENSION in app.extensions:
        raise ConfigurationError(f"debugpages.flask.init_app was already called for {app!r}")
    default = Mode.ON if follow_debug and app.debug else Mode.OFF
    pages = ErrorPages(app.wsgi_app, mode, template_dirs=template_dirs, default=default)
    app.config["PROPAGATE_EXCEPTIONS"] = True
    app.wsgi_app = pages  # type: ignore[method-assign]
    app.extensions[EXTENSION] = pages
    if http_errors and HTTPException not in app.error_handler_spec[None][None]:

        def http_error_page(exc: HTTPException) -> ResponseReturnValue | HTTPException:
            """The fallback for HTTP errors: handlers the app registers still come first."""
            if is_passthrough(exc):
                return exc
            catch_all = _catch_all(app)
            if catch_all is not None:  # the app's handler for ``Exception`` covers HTTP errors
                return app.ensure_sync(catch_all)(exc)  # type: ignore[no-any-return]
            reply = pages.engine.reply(exc, request.environ)
            response = Response(reply.body, status=reply.status_line)
            response.headers.clear()
            response.headers.extend(reply.headers)
            return response

        app.register_error_handler(HTTPException, http_error_page)
    return pages


def _catch_all(app: Flask) -> ErrorHandler | None:
    """The app's own handler for a base class of ``HTTPException`` (``Exception``...), if any."""
    handlers = app.error_handler_spec[None][None]
    for cls in HTTPException.__mro__[1:]:
        if cls in handlers:
            return handlers[cls]
    return None

"""The Flask adapter: ``init_app(app)`` puts debugpages under a Flask application.

Flask catches a view's exceptions itself (``Flask.handle_exception``) and sends its
own 500 page, so wrapping ``app.wsgi_app`` alone never sees them. ``init_app`` sets
``PROPAGATE_EXCEPTIONS`` (Flask's own switch for handing unhandled exceptions to
the WSGI layer, sending ``got_request_exception`` first) and wraps ``app.wsgi_app``
in ``ErrorPages``. The app's error handlers run before any of that, so they keep
the exceptions they are registered for.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, Response, got_request_exception, request
from flask.typing import ErrorHandlerCallable as ErrorHandler
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from .config import Folder, flag
from .editor import Editor
from .frameworks import FORM_KEY, VIEW_KEY
from .policy import Policy
from .respond import is_passthrough
from .stack import HEADROOM
from .switch import ConfigurationError, DebugFlag, Mode, resolve_mode
from .wsgi import ErrorPages

EXTENSION = "debugpages"
DEBUG_FLAG = "Flask's app.debug"


def init_app(
    app: Flask,
    mode: Mode | str | None = None,
    template_dirs: Folder | Iterable[Folder] = (),
    *,
    follow_debug: bool = True,
    http_errors: bool = True,
    policy: Policy | None = None,
    editor: Editor | str | None = None,
    sensitive: str | Iterable[str] = (),
    allow: Iterable[str] | str | None = None,
) -> ErrorPages:
    """Send debugpages' page for the exceptions ``app`` has no error handler for.

    ``mode`` beats ``DEBUGPAGES``, which beats Flask's debug flag: ``on`` when
    ``app.debug`` is true (``flask run --debug``, ``FLASK_DEBUG=1``), else ``off``;
    ``follow_debug=False`` makes that default ``off`` whatever the flag. The flag is read
    now and again at the first request (``app.run(debug=True)`` sets it later). With
    ``http_errors``, an ``abort(404)`` that the app has no handler for gets debugpages'
    page for its status too (HTML, text or JSON by ``Accept``). The other arguments are
    ``ErrorPages``' own. Returns the ``ErrorPages`` now in ``app.wsgi_app``.
    """
    if not isinstance(app, Flask):
        raise ConfigurationError(
            f"app={app!r}: expected a Flask application, not a {type(app).__name__}"
        )
    if EXTENSION in app.extensions:
        raise ConfigurationError(f"debugpages.flask.init_app was already called for {app!r}")
    follow = flag(follow_debug, "follow_debug")
    http_errors = flag(http_errors, "http_errors")
    inner = app.wsgi_app

    def wrap(debug: bool) -> ErrorPages:
        return ErrorPages(
            inner,
            mode,
            template_dirs=template_dirs,
            policy=policy,
            editor=editor,
            sensitive=sensitive,
            allow=allow,
            debug_flag=DebugFlag(DEBUG_FLAG, debug, follow),
        )

    debug = app.debug
    pages = wrap(debug)
    got_request_exception.connect(_record_endpoint, app)
    app.config["PROPAGATE_EXCEPTIONS"] = True
    app.wsgi_app = pages  # type: ignore[method-assign]
    app.extensions[EXTENSION] = pages
    if resolve_mode(mode)[1] == "default":  # the debug flag decides: read it again, once

        def first_request() -> None:
            app.before_request_funcs[None] = [
                f for f in app.before_request_funcs[None] if f is not first_request
            ]  # a new list: Flask may be iterating over the old one
            if app.debug != debug:
                pages.engine = wrap(app.debug).engine

        app.before_request_funcs.setdefault(None, []).insert(0, first_request)
    if http_errors and HTTPException not in app.error_handler_spec[None][None]:

        def http_error_page(exc: HTTPException) -> ResponseReturnValue | HTTPException:
            """The fallback for HTTP errors: handlers the app registers still come first."""
            if is_passthrough(exc):
                return exc
            catch_all = _catch_all(app)
            if catch_all is not None:  # the app's handler for ``Exception`` covers HTTP errors
                return app.ensure_sync(catch_all)(exc)  # type: ignore[no-any-return]
            with HEADROOM:
                reply = pages.engine.reply(exc, request.environ)
            response = Response(reply.body, status=reply.status_line)
            response.headers.clear()
            response.headers.extend(reply.headers)
            return response

        app.register_error_handler(HTTPException, http_error_page)
    return pages


def _record_endpoint(sender: Flask, **extra: object) -> None:
    """Keep the failing request's endpoint for the page ("Raised during"), and the form
    the view read: Flask pops the request before the exception reaches ``ErrorPages``."""
    if request.url_rule is not None:
        request.environ[VIEW_KEY] = request.url_rule.endpoint
    parsed = request.__dict__  # werkzeug's cached form and files, when the view read them
    if "form" in parsed:
        request.environ[FORM_KEY] = (parsed["form"], parsed.get("files"))


def _catch_all(app: Flask) -> ErrorHandler | None:
    """The app's own handler for a base class of ``HTTPException`` (``Exception``...), if any."""
    handlers = app.error_handler_spec[None][None]
    for cls in HTTPException.__mro__[1:]:
        if cls in handlers:
            return handlers[cls]
    return None

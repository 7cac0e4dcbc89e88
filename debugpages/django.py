"""The Django adapter: ``ErrorPagesMiddleware`` renders a view's unhandled exception.

Django turns every exception into a response before any WSGI middleware could see
it, so debugpages hooks in where Django offers: ``process_exception``. The
exceptions Django answers with a 4xx itself (``Http404``, ``PermissionDenied``,
``BadRequest``, ``SuspiciousOperation``...) are left to Django and its
``handler404``/``handler403``/``handler400``; every other one gets debugpages' page.

Settings, all optional::

    DEBUGPAGES = {
        "MODE": "on",                   # beats the DEBUGPAGES environment variable
        "TEMPLATE_DIRS": ["templates/errors"],
        "FOLLOW_DEBUG": False,          # the default, True: with no MODE and no
    }                                   # variable, on when DEBUG, off when not
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import signals
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError

from .config import flag, folders
from .frameworks import django_view
from .respond import Engine, announce
from .stack import HEADROOM
from .switch import ACCEPTED, ConfigurationError, DebugFlag, Mode, parse_mode, resolve_mode

log = logging.getLogger("debugpages")

SETTING = "DEBUGPAGES"
_KEYS = ("MODE", "TEMPLATE_DIRS", "FOLLOW_DEBUG")
_DJANGO_ANSWERS = (Http404, PermissionDenied, BadRequest, SuspiciousOperation, MultiPartParserError)


class ErrorPagesMiddleware:
    """Django middleware: the page of the chosen mode for a view's unhandled exception."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        mode, source, template_dirs, debug = _configuration()
        self.engine = Engine(mode, template_dirs)
        announce(mode, source, debug)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """The page, logged once by debugpages; ``None`` for what Django answers itself."""
        if isinstance(exception, _DJANGO_ANSWERS):
            return None
        signals.got_request_exception.send(sender=None, request=request)  # as Django does
        form = request.POST if "_post" in request.__dict__ else None  # parsed: the body is read
        with HEADROOM:  # the failure may be near the recursion limit: the page needs room
            view = django_view(request)
            reply = self.engine.reply(exception, _environ(request), form, view=view)
        response = HttpResponse(reply.body, status=reply.status)
        for name, value in reply.headers:
            response.headers[name] = value
        response._has_been_logged = True  # django.request would log it a second time, bare
        return response


def _configuration() -> tuple[Mode, str, list[Path], DebugFlag]:
    """Mode, where it came from, template folders and ``DEBUG``, from ``settings.DEBUGPAGES``."""
    config: Any = getattr(settings, SETTING, {})
    if not isinstance(config, Mapping):
        raise ConfigurationError(
            f"settings.{SETTING}={config!r}: expected a dict with the keys {', '.join(_KEYS)}"
        )
    unknown = sorted(set(config) - set(_KEYS), key=str)
    if unknown:
        raise ConfigurationError(
            f"settings.{SETTING} has unknown keys {unknown}; the known ones are {', '.join(_KEYS)}"
        )
    where = f"settings.{SETTING}"
    template_dirs = folders(config.get("TEMPLATE_DIRS"), f"{where}['TEMPLATE_DIRS']")
    follow = flag(config.get("FOLLOW_DEBUG", True), f"{where}['FOLLOW_DEBUG']")
    debug = DebugFlag("settings.DEBUG", bool(settings.DEBUG), follow, '"FOLLOW_DEBUG": False')
    value = config.get("MODE")
    if value is not None:
        mode = value if isinstance(value, Mode) else None
        if mode is None:
            if not isinstance(value, str):
                raise ConfigurationError(
                    f"{where}['MODE']={value!r}: expected a debugpages.Mode or one of: "
                    f"{', '.join(ACCEPTED)}"
                )
            mode = parse_mode(value, setting=f"{where}['MODE']")
        return mode, f"{where}['MODE']", template_dirs, debug
    mode, source = resolve_mode(None, flag=debug)
    return mode, source, template_dirs, debug


def _environ(request: HttpRequest) -> Mapping[str, Any]:
    """The WSGI environ: ``request.META`` is one under WSGI; under ASGI, close to one."""
    environ = getattr(request, "environ", None)
    if isinstance(environ, dict):
        return environ
    return {**request.META, "wsgi.url_scheme": request.scheme}

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
        "FOLLOW_DEBUG": True,           # with no MODE and no variable: on when DEBUG
    }
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.core import signals
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError

from .respond import Engine, announce
from .switch import ConfigurationError, Mode, parse_mode, resolve_mode

log = logging.getLogger("debugpages")

SETTING = "DEBUGPAGES"
_KEYS = ("MODE", "TEMPLATE_DIRS", "FOLLOW_DEBUG")
_DJANGO_ANSWERS = (Http404, PermissionDenied, BadRequest, SuspiciousOperation, MultiPartParserError)


class ErrorPagesMiddleware:
    """Django middleware: the page of the chosen mode for a view's unhandled exception."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        mode, source, template_dirs = _configuration()
        self.engine = Engine(mode, template_dirs)
        announce(mode, source)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """The page, logged once by debugpages; ``None`` for what Django answers itself."""
        if isinstance(exception, _DJANGO_ANSWERS):
            return None
        signals.got_request_exception.send(sender=None, request=request)  # as Django does
        reply = self.engine.reply(exception, _environ(request))
        response = HttpResponse(reply.body, status=reply.status)
        for name, value in reply.headers:
            response.headers[name] = value
        response._has_been_logged = True  # django.request would log it a second time, bare
        return response


def _configuration() -> tuple[Mode, str, list[str]]:
    """Mode, where it came from, and template folders, from ``settings.DEBUGPAGES``."""
    config: Any = getattr(settings, SETTING, {})
    if not isinstance(config, Mapping):
        raise ConfigurationError(f"settings.{SETTING} must be a dict with the keys {_KEYS}")
    unknown = sorted(set(config) - set(_KEYS))
    if unknown:
        raise ConfigurationError(
            f"settings.{SETTING} has unknown keys {unknown}; the known ones are {_KEYS}"
        )
    template_dirs = list(config.get("TEMPLATE_DIRS", ()))
    if config.get("MODE") is not None:
        where = f"settings.{SETTING}['MODE']"
        value = config["MODE"]
        mode = value if isinstance(value, Mode) else parse_mode(str(value), setting=where)
        return mode, where, template_dirs
    follow = bool(config.get("FOLLOW_DEBUG")) and bool(settings.DEBUG)
    mode, source = resolve_mode(None, default=Mode.ON if follow else Mode.OFF)
    if source == "default" and follow:
        source = "settings.DEBUG, as FOLLOW_DEBUG asks"
    return mode, source, template_dirs


def _environ(request: HttpRequest) -> Mapping[str, Any]:
    """The WSGI environ: ``request.META`` is one under WSGI; under ASGI, close to one."""
    environ = getattr(request, "environ", None)
    if isinstance(environ, dict):
        return environ
    return {**request.META, "wsgi.url_scheme": request.scheme}

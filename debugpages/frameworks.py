"""Which framework served the failing request, and which of its views raised.

Decided from the failure, never from what happens to be installed: a framework is named
when the exception passed through its code (a frame of its package: Flask's
``Flask.wsgi_app``, Django's request handler, Starlette's router, FastAPI's route), with
its version; the view from what the framework recorded about the request (Flask's
endpoint, Django's resolver match, Starlette's and FastAPI's endpoint in the scope), as
each adapter reads it.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterable, Mapping
from typing import Any

_NAMES = {"flask": "Flask", "django": "Django", "fastapi": "FastAPI", "starlette": "Starlette"}
"""Top-level package -> the distribution's name (how each project spells itself)."""


def in_use(packages: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """The frameworks among ``packages`` (the top-level packages of the failure's frames),
    each with its installed version, in a fixed order (FastAPI before the Starlette under it)."""
    found = set(packages)
    return tuple((name, version(name)) for package, name in _NAMES.items() if package in found)


@functools.cache
def version(name: str) -> str:
    """The installed version of the distribution ``name`` ("" when it has no metadata).

    Read once per process: at start-up for the frameworks already imported (``prepare``),
    else at the first failure that names it."""
    from importlib import metadata

    try:
        return metadata.version(name)
    except Exception:  # no metadata (a vendored copy), or unreadable
        return ""


def prepare() -> None:
    """Read now the versions of the frameworks already imported: not at a failure."""
    for package, name in _NAMES.items():
        if package in sys.modules:
            version(name)


VIEW_KEY = "debugpages.view"
"""The environ key where an adapter records the view handling the request, once it fails
(Flask's, from ``got_request_exception``: Flask clears its request before the exception
reaches the middleware)."""


FORM_KEY = "debugpages.form"
"""The environ key where an adapter keeps the form and files the view read, as a pair
(Flask's: its request, which caches them, is gone from the environ by then)."""


def recorded_view(environ: Mapping[str, Any]) -> str | None:
    """The view an adapter recorded in ``environ`` (``VIEW_KEY``), if any."""
    view = environ.get(VIEW_KEY)
    return view if isinstance(view, str) else None


def dotted(view: object) -> str | None:
    """``module.qualname`` of a view (a class-based view's class; a partial's function)."""
    try:
        view = getattr(view, "view_class", view)  # Django's View.as_view()
        if isinstance(view, functools.partial):
            view = view.func
        module, name = getattr(view, "__module__", None), getattr(view, "__qualname__", None)
    except Exception:  # an object that lies about itself: no name
        return None
    if not isinstance(module, str) or not isinstance(name, str):
        return None
    return f"{module}.{name}"


def django_view(request: Any) -> str | None:
    """The view Django resolved for ``request`` (what its technical 500 calls "Raised
    during"), or ``None`` before the URL was resolved."""
    match = getattr(request, "resolver_match", None)
    return dotted(match.func) if match is not None else None

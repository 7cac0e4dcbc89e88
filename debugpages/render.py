"""The render step: a page model through Jinja templates, with a fallback chain.

The user's folders come first and the built-in templates after, so a user can
override one template and keep the rest: a name the user's folders hold beats a more
specific name that only the built-in set holds. A template that fails to load or render
gives way to the built-in one; if that fails too, a fixed minimal page is used.
Every failure is logged; rendering itself never raises.

Jinja itself is set up in ``templating``, imported when a ``Renderer`` is built: the
templates are ready before the first failure, which imports and compiles nothing.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import markupsafe

from .choose import HTML, JSON, Format
from .model import Page
from .switch import ConfigurationError

if TYPE_CHECKING:
    import jinja2

log = logging.getLogger("debugpages")


def _builtin_dir() -> str:
    """The built-in templates: inside the installed package, or beside it in a checkout.

    A plain path (``os.path``, not ``pathlib``): ``import debugpages`` stays light."""
    here = os.path.dirname(os.path.realpath(__file__))
    for candidate in (os.path.join(here, "templates"), os.path.join(here, "..", "templates")):
        candidate = os.path.normpath(candidate)
        if os.path.isfile(os.path.join(candidate, "base.html")):
            return candidate
    raise RuntimeError(f"debugpages' built-in templates are missing (looked in {here})")


BUILTIN_TEMPLATES = _builtin_dir()


def plain(value: Any) -> Any:
    """The model's dataclasses as plain dicts (their tuples as lists), for ``tojson``.

    What ``dataclasses.asdict`` gives, as JSON sees it, without its copy of every leaf:
    the model holds only text, numbers and ``None`` (half of a JSON page's time went to
    ``asdict``)."""
    kind: type = type(value)
    if kind is tuple or kind is list:
        return [plain(item) for item in value]
    if kind is dict:
        return {key: plain(item) for key, item in value.items()}
    names = _fields(kind) if hasattr(kind, "__dataclass_fields__") else None
    if names is None:
        return value
    return {name: plain(getattr(value, name)) for name in names}


@functools.cache
def _fields(kind: type) -> tuple[str, ...]:
    """The names of a model class's fields, in order."""
    return tuple(field.name for field in dataclasses.fields(kind))


def _escape_text(text: str) -> str:
    """markupsafe's escaping, in Python: the same five entities."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


# markupsafe 3's C function behind ``markupsafe.escape``, which returns a ``str``; else ours.
_fast_escape_text: Callable[[str], str] = getattr(markupsafe, "_escape_inner", _escape_text)


def escape_output(value: object) -> str:
    """``markupsafe.escape`` for a value a template outputs, as a plain ``str``.

    What ``{{ value }}`` outputs is only ever joined into the page, so the ``Markup``
    that ``markupsafe.escape`` wraps around each piece is work thrown away: a quarter
    of the time of a traceback page. The text is the same, entity for entity; a value
    with ``__html__`` (``Markup``, a macro's output) is trusted, as markupsafe does.
    """
    if type(value) is not str:  # not ``__class__``: a proxy may claim to be a str
        if hasattr(value, "__html__"):
            return str(value.__html__())
        value = str(value)
    return _fast_escape_text(value)


class Renderer:
    """Renders page models; knows the template folders and nothing of exceptions.

    The templates a page may need are loaded when the renderer is built: the built-in
    ones, and a user's of the same names or named for a status (``404.html``); one that
    fails to load is reported when a page needs it. The environment over the built-in
    templates is the process's one, shared by every renderer. With ``auto_reload``, a
    user's template is read again when its file changes.
    """

    def __init__(
        self, template_dirs: Sequence[str | os.PathLike[str]] = (), *, auto_reload: bool = False
    ) -> None:
        import jinja2

        from . import templating

        folders = [os.fspath(folder) for folder in template_dirs]
        for folder in folders:
            if not os.path.isdir(folder):
                raise ConfigurationError(f"template_dirs: {folder!r} is not a folder")
        self.folders = folders
        builtin_folder = os.fspath(BUILTIN_TEMPLATES)  # read now: a test may point it elsewhere
        self.builtin: jinja2.Environment = templating.builtin_environment(builtin_folder)
        self.environments = [self.builtin]
        names = [name for name in self.builtin.list_templates() if name != "demo.html"]
        templating.load_all(self.builtin, names)
        if folders:
            users = [jinja2.FileSystemLoader(folder) for folder in folders]
            loader = jinja2.ChoiceLoader([*users, jinja2.FileSystemLoader(builtin_folder)])
            cache = templating.builtin_cache(builtin_folder)
            env = templating.environment(loader, auto_reload, cache)
            self.environments.insert(0, env)
            statuses = [name for folder in folders for name in _status_templates(folder)]
            templating.load_all(env, [*names, *statuses])

    def render(self, names: Sequence[str], context: Mapping[str, Any]) -> str:
        """The first of ``names`` that renders; the built-in one; else a minimal page."""
        for env in self.environments:
            try:
                chosen = names if env is self.builtin else self.users_first(names)
                return env.select_template(chosen).render(context)
            except Exception as error:
                where = "built-in" if env is self.builtin else "user's"
                _template_failed(error, f"the {where} template {names[0]} failed to render")
        return minimal_page(context["page"], names[0])

    def users_first(self, names: Sequence[str]) -> list[str]:
        """The names a user's folder holds, in order, then the others.

        So a user's ``error.html`` wins over a built-in ``404.html``, and a user's
        ``404.html`` over their own ``error.html``.
        """
        folders = self.folders
        mine = [n for n in names if any(os.path.isfile(os.path.join(f, n)) for f in folders)]
        return [*mine, *(name for name in names if name not in mine)]


def _template_failed(error: Exception, message: str) -> None:
    """Log a template's failure on its own, then free what its traceback holds.

    Its context is the application's exception, logged once by itself (masked). Jinja's
    rewritten traceback is a reference cycle through the page's frames, and so through
    the failed request's: it would keep them alive until the cycle collector ran.
    """
    error.__context__ = None
    error.__suppress_context__ = True
    try:
        log.error("debugpages: %s", message, exc_info=error)
    finally:
        _break_rewritten_traceback(error.__traceback__)
        error.__traceback__ = None


def _break_rewritten_traceback(tb: TracebackType | None) -> None:
    """Jinja shows a template's line with a fake frame made in ``jinja2.debug``; the
    finished frames of that module behind it keep a list of the traceback that holds the
    fake frame (a cycle): clear them."""
    while tb is not None:
        frame = tb.tb_frame
        if "__jinja_exception__" in frame.f_globals:
            caller = frame.f_back
            while caller is not None and caller.f_globals.get("__name__") == "jinja2.debug":
                caller.clear()
                caller = caller.f_back
        tb = tb.tb_next


def _status_templates(folder: str) -> list[str]:
    """The templates in ``folder`` named for a status: ``404.html``, ``503.json``..."""
    return sorted(
        entry.name
        for entry in os.scandir(folder)
        if entry.name[:3].isdigit() and entry.name[3:] in (".html", ".txt", ".json")
    )


def minimal_page(page: Page, name: str) -> str:
    """The last resort, when no template renders: status and reference only."""
    fmt: Format = {".html": HTML, ".json": JSON}.get(os.path.splitext(name)[1]) or Format("", "")
    if fmt is JSON:
        return json.dumps({"title": page.title, "status": page.status, "instance": page.instance})
    heading = f"{page.status} {page.title}"
    if fmt is HTML:
        return (
            f"<!doctype html><title>{html.escape(heading)}</title><h1>{html.escape(heading)}</h1>"
            f"<p>Reference: <code>{html.escape(page.reference)}</code></p>\n"
        )
    return f"{heading}\nReference: {page.reference}\n"

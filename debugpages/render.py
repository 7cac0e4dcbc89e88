"""The render step: a page model through Jinja templates, with a fallback chain.

The user's folders come first and the built-in templates after, so a user can
override one template and keep the rest: a name the user's folders hold beats a more
specific name that only the built-in set holds. A template that fails to load or render
gives way to the built-in one; if that fails too, a fixed minimal page is used.
Every failure is logged; rendering itself never raises.
"""

from __future__ import annotations

import dataclasses
import html
import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2

from .choose import HTML, JSON, Format
from .model import Page
from .switch import ConfigurationError

log = logging.getLogger("debugpages")


def _builtin_dir() -> Path:
    """The built-in templates: inside the installed package, or beside it in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / "base.html").is_file():
            return candidate
    raise RuntimeError(f"debugpages' built-in templates are missing (looked in {here})")


BUILTIN_TEMPLATES = _builtin_dir()


def plain(value: Any) -> Any:
    """Turn the model's dataclasses into plain dicts, for ``tojson``."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def _environment(loader: jinja2.BaseLoader, auto_reload: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=loader,
        autoescape=jinja2.select_autoescape(["html"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        auto_reload=auto_reload,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["plain"] = plain
    env.policies["json.dumps_kwargs"] = {"sort_keys": False, "ensure_ascii": True}
    return env


class Renderer:
    """Renders page models; knows the template folders and nothing of exceptions.

    With ``auto_reload``, a user's template is read again when its file changes.
    """

    def __init__(
        self, template_dirs: Sequence[str | os.PathLike[str]] = (), *, auto_reload: bool = False
    ) -> None:
        folders = [Path(folder) for folder in template_dirs]
        for folder in folders:
            if not folder.is_dir():
                raise ConfigurationError(f"template_dirs: {str(folder)!r} is not a folder")
        self.folders = folders
        builtin = jinja2.FileSystemLoader(BUILTIN_TEMPLATES)
        # The built-in templates never change under a running process: never re-read them.
        self.builtin = _environment(builtin, auto_reload=False)
        self.environments = [self.builtin]
        if folders:
            users = [jinja2.FileSystemLoader(folder) for folder in folders]
            loader = jinja2.ChoiceLoader([*users, builtin])
            self.environments.insert(0, _environment(loader, auto_reload))

    def render(self, names: Sequence[str], context: Mapping[str, Any]) -> str:
        """The first of ``names`` that renders; the built-in one; else a minimal page."""
        for env in self.environments:
            try:
                chosen = names if env is self.builtin else self.users_first(names)
                return env.select_template(chosen).render(context)
            except Exception:
                where = "built-in" if env is self.builtin else "user's"
                log.exception("debugpages: the %s template %s failed to render", where, names[0])
        return minimal_page(context["page"], names[0])

    def users_first(self, names: Sequence[str]) -> list[str]:
        """The names a user's folder holds, in order, then the others.

        So a user's ``error.html`` wins over a built-in ``404.html``, and a user's
        ``404.html`` over their own ``error.html``.
        """
        mine = [name for name in names if any((f / name).is_file() for f in self.folders)]
        return [*mine, *(name for name in names if name not in mine)]


def minimal_page(page: Page, name: str) -> str:
    """The last resort, when no template renders: status and reference only."""
    fmt: Format = {".html": HTML, ".json": JSON}.get(Path(name).suffix) or Format("", "")
    if fmt is JSON:
        return json.dumps({"title": page.title, "status": page.status, "instance": page.instance})
    heading = f"{page.status} {page.title}"
    if fmt is HTML:
        return (
            f"<!doctype html><title>{html.escape(heading)}</title><h1>{html.escape(heading)}</h1>"
            f"<p>Reference: <code>{html.escape(page.reference)}</code></p>\n"
        )
    return f"{heading}\nReference: {page.reference}\n"

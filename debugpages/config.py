"""Checks of what adapters are given: a mistake is a ``ConfigurationError`` when they are built.

Each check names the argument (or setting), the value it got and what it expects, and
accepts what users naturally write: one folder as a string or a ``Path``, an editor as
``DEBUGPAGES_EDITOR`` spells it, patterns and networks as their variables spell them.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

from .editor import EDITOR_VAR, PATH_MAP_VAR, Editor, check_pattern, editor_from_env, parse_path_map
from .switch import ConfigurationError, Mode

Folder = str | os.PathLike[str]
T = TypeVar("T")


def _kind(value: object) -> str:
    return type(value).__name__


def folders(value: Folder | Iterable[Folder] | None, setting: str = "template_dirs") -> list[Path]:
    """The template folders, as absolute paths; one folder may be given alone.

    A relative folder is read against the current folder now, once: the error says
    which absolute path was tried, and a later ``chdir`` changes nothing.
    """
    if value is None:
        return []
    if isinstance(value, str | os.PathLike):
        value = [value]
    elif isinstance(value, bytes) or not isinstance(value, Iterable):
        raise ConfigurationError(
            f"{setting}={value!r}: expected a folder (a str or a Path) or a list of folders, "
            f"not a {_kind(value)}"
        )
    found = []
    for item in value:
        if not isinstance(item, str | os.PathLike) or isinstance(os.fspath(item), bytes):
            raise ConfigurationError(
                f"{setting}: {item!r} is a {_kind(item)}; expected a folder as a str or a Path"
            )
        path = Path(os.path.abspath(item))
        if not path.is_dir():
            given = os.fspath(item)
            where = "" if Path(given).is_absolute() else f", from the current folder {os.getcwd()}"
            what = "is a file, not a folder" if path.exists() else "is not a folder"
            raise ConfigurationError(f"{setting}: {given!r} {what} (looked for {path}{where})")
        found.append(path)
    return found


def editor(value: Editor | str | None, setting: str = "editor") -> Editor | None:
    """The editor links: an ``Editor``, a preset name or URL pattern, else the environment."""
    if value is None:
        return editor_from_env()
    if isinstance(value, Editor):
        return value
    if not isinstance(value, str):
        raise ConfigurationError(
            f"{setting}={value!r}: expected an Editor, a preset name or a URL pattern "
            f"(as {EDITOR_VAR} takes), not a {_kind(value)}"
        )
    return Editor(check_pattern(value, setting), parse_path_map(os.environ.get(PATH_MAP_VAR, "")))


def flag(value: object, setting: str) -> bool:
    """A yes-or-no setting: ``True`` or ``False`` only (a string ``"false"`` is true)."""
    if not isinstance(value, bool):
        raise ConfigurationError(f"{setting}={value!r}: expected True or False")
    return value


def patterns(value: str | Iterable[str], setting: str = "sensitive") -> tuple[str, ...]:
    """Name patterns: a list of strings, or one string comma-separated as the variable is."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, bytes) or not isinstance(value, Iterable):
        raise ConfigurationError(
            f"{setting}={value!r}: expected a list of regular expressions, not a {_kind(value)}"
        )
    items = tuple(value)
    for item in items:
        if not isinstance(item, str) or not item:
            raise ConfigurationError(
                f"{setting}: {item!r} is not a regular expression (a non-empty str)"
            )
        try:
            re.compile(item)
        except re.error as error:
            raise ConfigurationError(
                f"{setting}: {item!r} is not a regular expression ({error})"
            ) from None
    return items


def of_type(value: Any, kind: type, setting: str, expected: str) -> Any:
    """``value`` when it is a ``kind`` (or ``None``); else the error saying what was expected."""
    if value is not None and not isinstance(value, kind):
        raise ConfigurationError(f"{setting}={value!r}: expected {expected}, not a {_kind(value)}")
    return value


def application(app: T, setting: str = "app") -> T:
    """The application wrapped: anything callable."""
    if not callable(app):
        raise ConfigurationError(
            f"{setting}={app!r}: expected the application (a callable), not a {_kind(app)}"
        )
    return app


def default_mode(value: object) -> Mode:
    """The context's default mode: a ``Mode``."""
    if not isinstance(value, Mode):
        raise ConfigurationError(f"default={value!r}: expected a debugpages.Mode")
    return value


_MAY_BE_ZERO = frozenset(
    {"context_lines", "max_frames_with_locals", "max_frames_with_context", "max_secrets"}
)
"""Limits where 0 means "none of it"; every other limit is a size and must be positive."""


def limits(policy: object) -> None:
    """Check a policy's numbers and lists: no negative or zero sizes, no string for a list."""
    for spec in dataclasses.fields(policy):  # type: ignore[arg-type]
        if not spec.init:
            continue
        value = getattr(policy, spec.name)
        setting = f"Policy({spec.name}={value!r})"
        default = spec.default
        if isinstance(default, tuple):
            if isinstance(value, str) or not isinstance(value, tuple | list):
                raise ConfigurationError(f"{setting}: expected a tuple of strings")
            continue
        if not isinstance(default, int | float) or isinstance(default, bool):
            continue
        kinds = (int,) if isinstance(default, int) else (int, float)
        least = 0 if spec.name in _MAY_BE_ZERO else 1
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise ConfigurationError(f"{setting}: expected a number, not a {_kind(value)}")
        if isinstance(default, float) and not value > 0:
            raise ConfigurationError(f"{setting}: expected a number of seconds above 0")
        if isinstance(default, int) and value < least:
            raise ConfigurationError(f"{setting}: expected a whole number of {least} or more")

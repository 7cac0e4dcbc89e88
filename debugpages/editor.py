"""Editor links: a frame's file and line as a URL that opens the developer's editor.

Configured by ``DEBUGPAGES_EDITOR`` (a preset name or a URL pattern with ``{path}``
and ``{line}``) and ``DEBUGPAGES_PATH_MAP`` (``/app=/home/me/project``, comma-separated
pairs), which rewrites paths seen in a container into paths on the developer's machine.
Only ``http(s)`` and the presets' own schemes are accepted: a pattern that could make a
``javascript:`` link is a configuration error when the middleware is built, not a link.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from .switch import ConfigurationError

PRESETS: Mapping[str, str] = {
    "vscode": "vscode://file{path}:{line}",
    "vscode-insiders": "vscode-insiders://file{path}:{line}",
    "pycharm": "pycharm://open?file={path}&line={line}",
    "idea": "idea://open?file={path}&line={line}",
    "sublime": "subl://open?url=file://{path}&line={line}",
    "textmate": "txmt://open?url=file://{path}&line={line}",
    "emacs": "emacs://open?url=file://{path}&line={line}",
    "macvim": "mvim://open?url=file://{path}&line={line}",
}
SCHEMES = frozenset({"http", "https"} | {urlsplit(url).scheme for url in PRESETS.values()})
EDITOR_VAR = "DEBUGPAGES_EDITOR"
PATH_MAP_VAR = "DEBUGPAGES_PATH_MAP"


@dataclass(frozen=True, slots=True)
class Editor:
    """Where a frame's "open in editor" link points, and how container paths map to local ones.

    ``pattern`` is a preset name or a URL pattern with ``{path}`` and ``{line}``;
    ``path_map`` pairs a prefix seen by the server with the developer's own prefix.
    """

    pattern: str
    path_map: tuple[tuple[str, str], ...] = ()
    """Also accepted: a dict, or the text ``DEBUGPAGES_PATH_MAP`` takes."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", check_pattern(self.pattern, "Editor"))
        pairs: Any = self.path_map
        if isinstance(pairs, str):
            pairs = parse_path_map(pairs)
        elif isinstance(pairs, Mapping):
            pairs = pairs.items()
        pairs = tuple(pairs) if isinstance(pairs, Iterable) else None
        if pairs is None or not all(_is_pair(pair) for pair in pairs):
            raise ConfigurationError(
                f"Editor(path_map={self.path_map!r}): expected (server prefix, local prefix) "
                'pairs of strings, a dict of them, or the text "/app=/home/me/project"'
            )
        pairs = tuple(tuple(pair) for pair in pairs)
        longest_first = sorted(pairs, key=lambda pair: len(pair[0]), reverse=True)
        object.__setattr__(self, "path_map", tuple(longest_first))

    def local_path(self, path: str) -> str:
        """The path on the developer's machine: the first matching prefix rewritten."""
        for seen, local in self.path_map:
            if path == seen or path.startswith(seen.rstrip("/") + "/"):
                return local.rstrip("/") + path[len(seen.rstrip("/")) :]
        return path

    def link(self, path: str, line: int) -> str | None:
        """The URL that opens ``path`` at ``line``; ``None`` for files that are not files."""
        if not path or path.startswith("<"):
            return None
        return self.pattern.format(path=quote(self.local_path(path), safe="/:\\"), line=line)


def _is_pair(pair: object) -> bool:
    return (
        isinstance(pair, tuple | list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
    )


def check_pattern(value: object, setting: str = EDITOR_VAR) -> str:
    """The URL pattern a preset name or a pattern stands for; a ``ConfigurationError`` if unsafe."""
    if not isinstance(value, str):
        raise ConfigurationError(
            f"{setting}={value!r}: expected a preset name or a URL pattern, not a "
            f"{type(value).__name__}"
        )
    pattern = PRESETS.get(value.strip().lower(), value.strip())
    if "{path}" not in pattern:
        raise ConfigurationError(
            f"{setting}={value!r}: give a preset ({', '.join(PRESETS)}) "
            "or a URL pattern holding {path} (and {line})"
        )
    try:
        pattern.format(path="/x", line=1)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigurationError(
            f"{setting}={value!r}: only {{path}} and {{line}} may appear in braces"
        ) from exc
    # The scheme must be written out before any placeholder, exactly: browsers drop tabs
    # and newlines inside a URL, so "java\tscript:" would still be "javascript:".
    scheme, colon, _ = pattern.partition("{")[0].partition(":")
    if not colon or scheme.lower() not in SCHEMES or any(c.isspace() for c in pattern):
        raise ConfigurationError(
            f"{setting}={value!r}: the link must start with one of the schemes "
            f"{', '.join(sorted(SCHEMES))} (and hold no blanks)"
        )
    return pattern


def parse_path_map(text: str) -> tuple[tuple[str, str], ...]:
    """``/app=/home/me/project,/srv=/home/me/srv`` as ``(server prefix, local prefix)`` pairs."""
    pairs = []
    for item in text.split(","):
        if not item.strip():
            continue
        seen, sep, local = item.partition("=")
        if not sep or not seen.strip() or not local.strip():
            raise ConfigurationError(
                f"{PATH_MAP_VAR}={text!r}: write it as /path/in/server=/path/on/your/machine, "
                "pairs separated by commas"
            )
        pairs.append((seen.strip(), local.strip()))
    return tuple(pairs)


def editor_from_env(environ: Mapping[str, str] | None = None) -> Editor | None:
    """The editor the environment asks for; ``None`` when ``DEBUGPAGES_EDITOR`` is unset."""
    env = os.environ if environ is None else environ
    pattern = env.get(EDITOR_VAR, "").strip()
    path_map = parse_path_map(env.get(PATH_MAP_VAR, ""))
    if not pattern:
        return None
    return Editor(check_pattern(pattern, EDITOR_VAR), path_map)

"""Where a frame's file is: how the page names it, and whether a library holds it.

The capture step asks it which frames are the application's (they get the locals
first); the model step, how to show each file.
"""

from __future__ import annotations

import os
import site
import sysconfig

from .policy import safe_text


def _library_roots() -> tuple[tuple[str, int], ...]:
    """Folders whose files are library code, each with how much of a path to strip."""
    paths = sysconfig.get_paths()
    roots = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    roots.update(getattr(site, "getsitepackages", list)())
    found = [(os.path.join(root, ""), len(os.path.join(root, ""))) for root in roots]
    # debugpages' own frames are library frames too, shown as debugpages/...
    package = os.path.dirname(os.path.abspath(__file__))
    found.append((os.path.join(package, ""), len(os.path.join(os.path.dirname(package), ""))))
    return tuple(sorted(found, key=lambda root: len(root[0]), reverse=True))


_ROOTS = _library_roots()
_PREFIXES = tuple(root for root, _ in _ROOTS)
_DEMO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "demo.py")


def where(path: str, cwd: str) -> tuple[str, str, bool]:
    """A frame's file (escaped), how to show it (``cwd``: the current folder, with a
    trailing separator), and whether it belongs to a library."""
    full = safe_text(path)
    if path.startswith("<"):
        return full, full, is_sourceless(path)
    if path == _DEMO:  # the demo stands for an application, though shipped in debugpages
        return full, os.path.join("debugpages", "demo.py"), False
    for root, strip in _ROOTS:
        if path.startswith(root):
            return full, safe_text(path[strip:]), True
    if path.startswith(cwd):
        return full, safe_text(path[len(cwd) :]), False
    return full, full, False


def is_library(path: str) -> bool:
    """Whether the file ``path`` belongs to a library (the standard library, site-packages,
    debugpages itself, the interpreter's frozen modules)."""
    if path.startswith("<"):
        return is_sourceless(path)
    if path == _DEMO:
        return False
    return path.startswith(_PREFIXES)


def is_sourceless(path: str) -> bool:
    """A module frozen into the interpreter (``<frozen importlib._bootstrap>``): library
    code with no source to show."""
    return path.startswith("<frozen ")

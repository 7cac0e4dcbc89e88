"""Source is read only from regular files of bounded size.

Every text of a failure reads source through ``linecache``: the page's lines around each
frame, and the traceback Python prints (the plain page, the log record), in every mode.
``linecache`` opens whatever file a code object names: a FIFO blocks the open until a
writer comes, ``/dev/zero`` is read without end, a huge file is read whole. So before
any text is made, each file is looked at (``os.stat``, which never blocks on the file's
content), and one that is not safe to read gets an entry without lines in
``linecache``'s cache, where every reader finds it instead of the file.
"""

from __future__ import annotations

import linecache
import os
import stat
import sys

MAX_SOURCE_BYTES = 8 * 1024 * 1024
"""Larger files are not read for their source (the largest module of the standard
library is under 1 MB)."""

_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a folder",
}


class _Refused(list[str]):
    """The (empty) lines of a file refused here: its entry is looked at again next time."""


def refusal(filename: str) -> str | None:
    """Make ``linecache`` safe to ask for ``filename``; why its source is not shown (the
    file is not a regular file of bounded size), or ``None`` when it may be read."""
    if not filename or (filename.startswith("<") and filename.endswith(">")):
        return None  # linecache reads no file for these
    linecache.checkcache(filename)  # a file changed since it was read is read again
    entry = linecache.cache.get(filename)
    if entry is not None and len(entry) != 1 and not isinstance(entry[2], _Refused):
        return None  # its lines are in memory: nothing is read
    try:
        path = _located(filename)
        found = os.stat(path) if path is not None else None
    except ValueError:  # a NUL in the name: linecache lets it out (3.11)
        linecache.cache[filename] = (0, None, _Refused(), filename)
        return "the file name is not a path: it holds a NUL character"
    why = _unsafe(found) if found is not None else None
    if path is not None and found is not None and why is not None:
        linecache.cache[filename] = (found.st_size, None, _Refused(), path)
    elif entry is not None and len(entry) != 1:
        del linecache.cache[filename]  # refused before, fine now: read it again
    return why


def _located(filename: str) -> str | None:
    """The file ``linecache`` would open: the name itself, else (a relative name) the
    first match along ``sys.path``; ``None`` when there is none."""
    try:
        os.stat(filename)
        return filename
    except OSError:
        pass
    if os.path.isabs(filename):
        return None
    for folder in sys.path:
        if not isinstance(folder, str):
            continue
        candidate = os.path.join(folder, filename)
        try:
            os.stat(candidate)
            return candidate
        except (OSError, ValueError):
            continue
    return None


def _unsafe(found: os.stat_result) -> str | None:
    """Why a file is not read for its source; ``None`` for a regular file of bounded size."""
    if not stat.S_ISREG(found.st_mode):
        kind = _KINDS.get(stat.S_IFMT(found.st_mode), "not a file of a kind Python reads")
        return f"the file is not a regular file: it is {kind}"
    if found.st_size > MAX_SOURCE_BYTES:
        size = f"{found.st_size:,} bytes; at most {MAX_SOURCE_BYTES:,} are read"
        return f"the file is too large to read ({size})"
    return None

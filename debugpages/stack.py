"""Room on the stack for the failure path.

A failure may be handled a few frames under the recursion limit: an application that
dispatches recursively, a middleware stack called deep, a view that catches its own
recursion late. Making the page takes a few dozen frames (capture, masking, Jinja; a
deep exception group more), and every one of them would raise ``RecursionError`` there.
So while a failure is handled that near the limit, the limit is raised by ``ROOM``
frames, and put back when the last failure using the room is done: the page is made,
and the application's own recursion still stops where it did.
"""

from __future__ import annotations

import sys
import threading
from types import FrameType, TracebackType

ROOM = 250
"""Frames the failure path may take: about ten times what a chained failure's traceback
page takes (measured: 20 to 40), for deep groups and values."""


class _Headroom:
    """``with HEADROOM:`` around a failure's handling; shared and reentrant (a counter
    under a lock: failures in several threads raise and restore the limit once)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users = 0
        self.base: int | None = None
        """The limit before it was raised; ``None`` while it is not."""
        self.raised_to = 0

    def __enter__(self) -> None:
        with self.lock:
            self.users += 1
            limit = sys.getrecursionlimit()
            frame: FrameType | None = sys._getframe()
            for _ in range(limit - ROOM):  # the depth, walked here: a call is a frame more
                if frame is None:
                    break
                frame = frame.f_back
            if frame is None:
                if self.users == 1 and self.base is not None:  # left raised by the last one
                    if sys.getrecursionlimit() == self.raised_to:
                        sys.setrecursionlimit(self.base)
                    self.base = None
                return
            if self.base is None:
                self.base = limit
            self.raised_to = limit + ROOM
            sys.setrecursionlimit(self.raised_to)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with self.lock:
            self.users -= 1
            if self.users or self.base is None:
                return
            # Here, not in a method: a call would be a frame more, where there may be none.
            if sys.getrecursionlimit() == self.raised_to:  # not changed by someone since
                try:
                    sys.setrecursionlimit(self.base)
                except RecursionError:  # under the current depth: the next failure does it
                    return
            self.base = None


HEADROOM = _Headroom()

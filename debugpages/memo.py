"""The type of the module-level memos, so that one walk over the modules finds them all."""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Memo(dict[K, V]):
    """A dict of values worked out before. ``cache_clear`` empties it, as it empties a
    ``functools`` cache: the tests empty every memo before each test by that name."""

    __slots__ = ()

    def cache_clear(self) -> None:
        self.clear()

"""Read-only lookups over the raw results, shared by the report and the target checks.

The raw results are plain JSON-able dicts (they are what ``results.json`` holds), so a
report can be rebuilt from a saved file; this view only indexes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Cell = dict[str, Any]

TIMES = "\u00d7"  # the multiplication sign of "x1.5", spelled so linters do not flag it
DEBUGPAGES = "debugpages"
DEBUGPAGES_FOR = {"debug": "debugpages/on", "production": "debugpages/off"}


@dataclass
class ResultsView:
    """Index of the cells by (case, renderer), with the anchor lookups ratios need."""

    raw: dict[str, Any]
    _cells: dict[tuple[str, str], Cell] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        for cell in self.raw["cells"]:
            self._cells[(cell["case"], cell["renderer"])] = cell

    @property
    def cases(self) -> list[str]:
        """Case names in corpus order."""
        return list(self.raw["cases"])

    def cell(self, case: str, renderer: str) -> Cell | None:
        """The cell measured for ``case`` under ``renderer``, if any."""
        return self._cells.get((case, renderer))

    def renderers(self, kind: str) -> list[str]:
        """Renderer names of one kind (debug or production), debugpages first."""
        names = [r["name"] for r in self.raw["renderers"] if r["kind"] == kind]
        return sorted(names, key=lambda name: not name.startswith(DEBUGPAGES))

    def anchors(self, kind: str) -> list[str]:
        """The renderers of one kind that are not debugpages."""
        return [name for name in self.renderers(kind) if not name.startswith(DEBUGPAGES)]

    def fastest_anchor(self, case: str, kind: str) -> Cell | None:
        """The fastest anchor that sent a page; the fastest of all if every one crashed."""
        cells = [c for c in (self.cell(case, a) for a in self.anchors(kind)) if c and c["n"]]
        sound = [c for c in cells if not c["crashed"]] or cells
        return min(sound, key=lambda c: c["for_ratio_ms"], default=None)

    def ratio(self, case: str, renderer: str, anchor: str) -> float | None:
        """Net median of ``renderer`` over that of ``anchor`` (10 µs floor on both)."""
        mine, theirs = self.cell(case, renderer), self.cell(case, anchor)
        if not mine or not theirs or not mine["n"] or not theirs["n"]:
            return None
        return float(mine["for_ratio_ms"] / theirs["for_ratio_ms"])

    def ratio_to_fastest(self, case: str, renderer: str, kind: str) -> float | None:
        """``ratio`` against the fastest anchor of ``kind`` for this case."""
        fastest = self.fastest_anchor(case, kind)
        return None if fastest is None else self.ratio(case, renderer, fastest["renderer"])

"""The targets of issue 7, checked as ratios within one run: informational, never fatal.

A noisy machine moves absolute times from run to run but hardly the ratios between
renderers measured side by side, so every target that can be is a ratio to an anchor
measured in the same run. Each check returns PASS, MISS or N/A (not measured) with
the numbers behind it, for RESULTS.md and for whoever profiles a miss.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.corpus import CASES, DISTINCT, ORDINARY
from benchmarks.view import TIMES, ResultsView

ORDINARY_CASES = tuple(case.name for case in CASES.values() if case.group == ORDINARY)
DISTINCT_CASES = tuple(case.name for case in CASES.values() if case.group == DISTINCT)
KB = 1000
MB = 1000 * KB


@dataclass(frozen=True)
class Verdict:
    """One target: its wording, PASS/MISS/N/A, and the numbers that decided it."""

    target: str
    status: str
    detail: str


def _verdict(target: str, ok: bool | None, detail: str) -> Verdict:
    return Verdict(target, "N/A" if ok is None else ("PASS" if ok else "MISS"), detail)


def _fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{TIMES}{value:.2f}"


def check_ordinary(view: ResultsView, distinct: bool = False) -> Verdict:
    """Traceback page on ordinary cases: no slower than the fastest anchor."""
    what = "distinct failures (a new file each)" if distinct else "ordinary cases"
    target = f"Traceback page, {what}: ≤ {TIMES}1.0 of the fastest anchor"
    names = DISTINCT_CASES if distinct else ORDINARY_CASES
    cases = [case for case in names if view.cell(case, "debugpages/on")]
    ratios = {case: view.ratio_to_fastest(case, "debugpages/on", "debug") for case in cases}
    detail = ", ".join(f"{case} {_fmt_ratio(r)}" for case, r in ratios.items())
    known = [r for r in ratios.values() if r is not None]
    return _verdict(target, all(r <= 1.0 for r in known) if known else None, detail)


def _size_and_ratio(
    view: ResultsView, case: str, max_ratio: float, max_size: Callable[[], int]
) -> tuple[bool | None, str]:
    """Common shape of the recursion and deep targets: a time ratio and a size bound."""
    cell = view.cell(case, "debugpages/on")
    ratio = view.ratio_to_fastest(case, "debugpages/on", "debug")
    if cell is None or ratio is None:
        return None, "not measured"
    limit = max_size()
    ok = ratio <= max_ratio and cell["size"] <= limit and not cell["crashed"]
    detail = (
        f"{_fmt_ratio(ratio)} of the fastest anchor, page {cell['size']:,} B (limit {limit:,} B)"
    )
    return ok, detail


def check_distinct(view: ResultsView) -> Verdict:
    """The ordinary target again, with no memo hit: a new source file for every failure."""
    return check_ordinary(view, distinct=True)


def check_recursion(view: ResultsView) -> Verdict:
    """RecursionError: at most 0.1 times the fastest anchor, page under 100 kB."""
    ok, detail = _size_and_ratio(view, "recursion", 0.1, lambda: 100 * KB)
    target = f"RecursionError: ≤ {TIMES}0.1 of the fastest anchor, page < 100 kB"
    return _verdict(target, ok, detail)


def _smallest_anchor_page(view: ResultsView, case: str) -> int:
    """The smallest page a debug anchor sent for ``case`` without crashing."""
    sizes = [
        cell["size"]
        for cell in (view.cell(case, a) for a in view.anchors("debug"))
        if cell and not cell["crashed"]
    ]
    return min(sizes, default=0)


def check_deep(view: ResultsView) -> Verdict:
    """200 distinct frames: at most half the fastest anchor, page no larger than the smallest."""
    ok, detail = _size_and_ratio(view, "deep", 0.5, lambda: _smallest_anchor_page(view, "deep"))
    target = f"200 frames: ≤ {TIMES}0.5 of the fastest anchor, page ≤ the smallest anchor's"
    return _verdict(target, ok, detail)


def check_huge(view: ResultsView) -> Verdict:
    """Huge locals: under 5 ms, page under 256 kB, peak memory under 3 MB."""
    target = "Huge locals: < 5 ms, page < 256 kB, peak memory < 3 MB"
    cell = view.cell("huge_locals", "debugpages/on")
    if cell is None or not cell["n"]:
        return _verdict(target, None, "not measured")
    peak = cell["net_peak_bytes"]
    ok = (
        cell["median_ms"] < 5
        and cell["size"] < 256 * KB
        and peak is not None
        and peak < 3 * MB
        and not cell["crashed"]
    )
    peak_text = "not measured" if peak is None else f"{peak / MB:.2f} MB"
    detail = f"{cell['median_ms']:.2f} ms, page {cell['size']:,} B, peak {peak_text}"
    return _verdict(target, ok, detail)


def check_production(view: ResultsView) -> Verdict:
    """Production page: at most twice Starlette's and half werkzeug's, as HTML, every case."""
    target = f"Production page: ≤ {TIMES}2 Starlette's, ≤ {TIMES}0.5 werkzeug's, HTML, every case"
    rows = []
    for case in view.cases:
        cell = view.cell(case, "debugpages/off")
        to_starlette = view.ratio(case, "debugpages/off", "starlette/production")
        to_werkzeug = view.ratio(case, "debugpages/off", "werkzeug/production")
        if cell is None or to_starlette is None or to_werkzeug is None:
            continue
        html = cell["content_type"].startswith("text/html")
        rows.append(
            (case, to_starlette <= 2 and to_werkzeug <= 0.5 and html, to_starlette, to_werkzeug)
        )
    if not rows:
        return _verdict(target, None, "not measured")
    misses = [f"{c} (S {_fmt_ratio(s)}, W {_fmt_ratio(w)})" for c, ok, s, w in rows if not ok]
    worst_s = max(s for _, _, s, _ in rows)
    worst_w = max(w for _, _, _, w in rows)
    detail = (
        f"{len(rows) - len(misses)}/{len(rows)} cases meet; "
        f"worst S {_fmt_ratio(worst_s)}, W {_fmt_ratio(worst_w)}"
    )
    if misses:
        detail += "; missed: " + ", ".join(misses)
    return _verdict(target, not misses, detail)


def check_happy(view: ResultsView) -> Verdict:
    """Happy path: at most 1 µs added per request."""
    target = "Happy path: ≤ 1 µs added per request"
    happy = view.raw.get("happy", {})
    added = {name: row["added_us"] for name, row in happy.items() if name.startswith("debugpages")}
    if not added:
        return _verdict(target, None, "not measured")
    detail = ", ".join(f"{name} +{us:.2f} µs" for name, us in added.items())
    if "werkzeug/debug" in happy:
        detail += f" (werkzeug/debug +{happy['werkzeug/debug']['added_us']:.2f} µs)"
    return _verdict(target, all(us <= 1.0 for us in added.values()), detail)


def check_first_failure(view: ResultsView) -> Verdict:
    """A fresh process's first failure: no slower than werkzeug's debugger's, every mode
    and format; ``import debugpages`` no slower than ``import werkzeug.debug``."""
    target = (
        f"Fresh process: first failure ≤ {TIMES}1.0 of werkzeug's (every mode and format), "
        f"`import debugpages` ≤ {TIMES}1.0 of `import werkzeug.debug`"
    )
    fresh = view.raw.get("fresh")
    if not fresh:
        return _verdict(target, None, "not measured")
    ours = [row for row in fresh["failures"] if row["kind"].startswith("debugpages")]
    worst = max(ours, key=lambda row: row["ratio"])
    imported = next(row for row in fresh["imports"] if row["statement"] == "import debugpages")
    ok = worst["ratio"] <= 1.0 and imported["ratio"] <= 1.0 and not any(r["crashed"] for r in ours)
    detail = (
        f"worst first failure {worst['kind']} {_fmt_ratio(worst['ratio'])}; "
        f"import {_fmt_ratio(imported['ratio'])} "
        f"({imported['ms']:.1f} ms, median of {fresh['runs']} processes)"
    )
    return _verdict(target, ok, detail)


def check_no_crash(view: ResultsView) -> Verdict:
    """No crash on any case, in either mode."""
    target = "No crash on any case (debugpages on and off)"
    crashed = [
        f"{case} ({renderer})"
        for case in view.cases
        for renderer in ("debugpages/on", "debugpages/off")
        if (cell := view.cell(case, renderer)) and cell["crashed"]
    ]
    measured = any(view.cell(case, "debugpages/on") for case in view.cases)
    detail = "crashed on: " + ", ".join(crashed) if crashed else "no crash"
    return _verdict(target, (not crashed) if measured else None, detail)


CHECKS = (
    check_ordinary,
    check_distinct,
    check_recursion,
    check_deep,
    check_huge,
    check_production,
    check_happy,
    check_first_failure,
    check_no_crash,
)


def check_all(view: ResultsView) -> list[Verdict]:
    """Every target of issue 7, in the issue's order."""
    return [check(view) for check in CHECKS]

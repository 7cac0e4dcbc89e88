"""Markdown tables and a chart from the raw results (a dict, as saved in results.json).

The layout follows shared/ANCHORS.md, so that the two can be read side by side:
net median / p90 in ms, the ratio to the fastest anchor, the number of runs, and a
cross where the renderer crashed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.targets import Verdict, check_all
from benchmarks.view import TIMES, ResultsView

CRASH = " ✗"
RATIO = f"{TIMES} fastest anchor"


def fmt_ms(value: float) -> str:
    """Three significant digits, enough to compare and no more."""
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def fmt_size(size: int) -> str:
    """Bytes, kB or MB, in decimal units as ANCHORS.md uses."""
    if size >= 1_000_000:
        return f"{size / 1e6:.2f} MB"
    if size >= 1000:
        return f"{size / 1e3:.1f} kB"
    return f"{size} B"


def table(header: list[str], rows: list[list[str]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _time_cell(view: ResultsView, case: str, renderer: str, kind: str) -> str:
    cell = view.cell(case, renderer)
    if cell is None or not cell["n"]:
        return "—"
    ratio = view.ratio_to_fastest(case, renderer, kind)
    ratio_text = "" if ratio is None else f" ({TIMES}{ratio:.1f})"
    crash = CRASH if cell["crashed"] else ""
    median, p90 = fmt_ms(cell["median_ms"]), fmt_ms(cell["p90_ms"])
    return f"{median} / {p90}{ratio_text} n={cell['n']}{crash}"


def time_table(view: ResultsView, kind: str) -> str:
    """Net median / p90 per case and renderer of one kind."""
    renderers = view.renderers(kind)
    if not renderers:
        return "(none measured)"
    rows = [[case] + [_time_cell(view, case, r, kind) for r in renderers] for case in view.cases]
    return table(["case", *renderers], rows)


def ratio_table(view: ResultsView, kind: str, mine: str) -> str:
    """debugpages' net median divided by each anchor's, case by case."""
    anchors = view.anchors(kind)
    if not anchors or not view.renderers(kind)[0].startswith("debugpages"):
        return "(none measured)"
    rows = []
    for case in view.cases:
        ratios = [view.ratio(case, mine, anchor) for anchor in anchors]
        fastest = view.ratio_to_fastest(case, mine, kind)
        texts = ["—" if r is None else f"{TIMES}{r:.2f}" for r in [*ratios, fastest]]
        rows.append([case, *texts])
    return table(["case", *[f"÷ {a}" for a in anchors], "÷ fastest anchor"], rows)


def _size_text(cell: dict[str, Any] | None) -> str:
    if cell is None:
        return "—"
    if cell["escaped"]:
        return f"—{CRASH} {cell['escaped']}"
    return fmt_size(cell["size"]) + (CRASH if cell["crashed"] else "")


def _peak_text(cell: dict[str, Any] | None) -> str:
    if cell is None or cell["net_peak_bytes"] is None:
        return "—"
    return fmt_size(max(cell["net_peak_bytes"], 0))


def size_and_memory_tables(view: ResultsView) -> tuple[str, str]:
    """Response size and peak memory (net of the app raising alone), every renderer."""
    renderers = view.renderers("debug") + view.renderers("production")
    sizes, peaks = [], []
    for case in view.cases:
        cells = [view.cell(case, r) for r in renderers]
        sizes.append([case, *[_size_text(c) for c in cells]])
        peaks.append([case, *[_peak_text(c) for c in cells]])
    header = ["case", *renderers]
    return table(header, sizes), table(header, peaks)


def distinct_table(view: ResultsView, kind: str) -> str:
    """Each renderer's net median on a repeated failure and on distinct ones, side by side."""
    pairs = [
        (case.removesuffix("/distinct"), case)
        for case in view.cases
        if case.endswith("/distinct") and case.removesuffix("/distinct") in view.cases
    ]
    renderers = view.renderers(kind)
    if not pairs or not renderers:
        return "(none measured)"
    rows = []
    for repeated, distinct in pairs:
        row = [repeated]
        for renderer in renderers:
            texts = []
            for case in (repeated, distinct):
                cell = view.cell(case, renderer)
                ratio = view.ratio_to_fastest(case, renderer, kind)
                if cell is None or not cell["n"]:
                    texts.append("—")
                else:
                    suffix = "" if ratio is None else f" ({TIMES}{ratio:.2f})"
                    texts.append(fmt_ms(cell["median_ms"]) + suffix)
            row.append(" → ".join(texts))
        rows.append(row)
    return table(["case: repeated → distinct", *renderers], rows)


def fresh_text(raw: dict[str, Any]) -> str:
    """The fresh-process tables (benchmarks/fresh.py), when they were measured."""
    from benchmarks.fresh import tables

    return tables(raw["fresh"]) if raw.get("fresh") else "(not measured)"


def happy_table(raw: dict[str, Any]) -> str:
    """µs per call of a trivial app, bare and wrapped."""
    rows = [
        [name, f"{row['best_us']:.2f}", f"{row['median_us']:.2f}", f"{row['added_us']:+.2f}"]
        for name, row in raw.get("happy", {}).items()
    ]
    return table(["app", "best µs/call", "median µs/call", "added µs (best - bare best)"], rows)


def targets_table(verdicts: list[Verdict]) -> str:
    """The issue-7 targets, PASS/MISS, with their numbers."""
    return table(
        ["target", "result", "numbers"], [[v.target, v.status, v.detail] for v in verdicts]
    )


def machine_text(raw: dict[str, Any]) -> str:
    """Where and when the numbers were taken."""
    m = raw["machine"]
    versions = ", ".join(f"{name} {version}" for name, version in m["versions"].items())
    config = raw["config"]
    return (
        f"- Date: {m['date']}\n"
        f"- Machine: {m['nproc']} CPUs, {m['cpu']}; {m['platform']}\n"
        f"- Python {m['python']}; {versions}\n"
        f"- Run: {config['mode']} (up to {config['max_reps']} runs or {config['seconds']} s "
        f"per cell), server log for ASGI: {config['server_log']}, "
        f"{config['wall_s']:.0f} s wall time"
    )


NOTES = """\
Net times: each sample less the median cost of the same app raising under a bare
`try/except` in the same harness (WSGI or ASGI), in ms; ratios divide net medians,
with net times under 10 µs counted as 10 µs. The fastest anchor is the fastest one
that did not crash on the case. ✗ = crashed: the renderer raised, or sent a non-5xx
status or an empty body. Peak memory: tracemalloc over one separate call, less the
app raising alone. Every call, of every renderer, runs on one long-lived event loop
and is timed inside it, as under a server with one loop (uvicorn). Logging is paid,
not hidden, and every renderer pays for exactly one formatted record of the traceback
per failure (checked on the warm-up call): debugpages' own, `django.request`'s, the
server's record of what Starlette re-raises (as uvicorn writes it), Flask's
`app.logger` record around werkzeug's production page, and the traceback werkzeug's
debugger writes to `wsgi.errors`; the baselines log nothing. A `/distinct` case
raises from a source file written and imported anew for every failure (untimed), so
no memo of any renderer can hit; the others repeat one failure. Fresh processes
(benchmarks/fresh.py): each sample is a new interpreter that imports one renderer's
library only; all share one byte-code folder, filled by an untimed warm-up process of
each kind (so no side compiles Python, as none does once installed), and one temp
folder (debugpages' template cache as after the first start), but for the kinds with
an empty template cache. Compare ratios within one run, never absolute times across
runs."""


def markdown(raw: dict[str, Any]) -> str:
    """The whole report, for stdout and RESULTS.md."""
    view = ResultsView(raw)
    sizes, peaks = size_and_memory_tables(view)
    parts = [
        "# debugpages benchmark results",
        machine_text(raw),
        "## Targets (issue 7, informational)",
        targets_table(check_all(view)),
        f"## Render time, debug pages (HTML): net median / p90 ms ({RATIO}), n runs",
        time_table(view, "debug"),
        f"## Render time, production pages: net median / p90 ms ({RATIO}), n runs",
        time_table(view, "production"),
        "## debugpages/on ÷ each debug anchor (net medians)",
        ratio_table(view, "debug", "debugpages/on"),
        "## debugpages/off ÷ each production anchor (net medians)",
        ratio_table(view, "production", "debugpages/off"),
        f"## Repeated failure → distinct failures (new file each): net median ms ({RATIO})",
        "Debug pages:",
        distinct_table(view, "debug"),
        "Production pages:",
        distinct_table(view, "production"),
        "## Response size sent to the client",
        sizes,
        "## Peak memory during one render (tracemalloc, net of the app raising)",
        peaks,
        "## A fresh process: first failure, import and start-up",
        fresh_text(raw),
        "## Happy path: a trivial app, µs per call (timeit, 9 interleaved repeats)",
        happy_table(raw),
        "## How to read this",
        NOTES,
    ]
    return "\n\n".join(parts) + "\n"


def chart(raw: dict[str, Any], path: Path) -> bool:
    """Net median per case, log scale, debug and production side by side; False if no plotting."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    view = ResultsView(raw)
    figure, axes = plt.subplots(2, 1, figsize=(14, 10), constrained_layout=True)
    for axis, kind in zip(axes, ("debug", "production"), strict=True):
        _bars(axis, view, kind)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def _bars(axis: Any, view: ResultsView, kind: str) -> None:
    """One grouped bar chart: a group per case, a bar per renderer."""
    renderers = view.renderers(kind)
    width = 0.8 / max(len(renderers), 1)
    for index, renderer in enumerate(renderers):
        heights, hatches = [], []
        for case in view.cases:
            cell = view.cell(case, renderer)
            heights.append(max(cell["median_ms"], 0.01) if cell and cell["n"] else 0.0)
            hatches.append(bool(cell and cell["crashed"]))
        positions = [i + index * width for i in range(len(view.cases))]
        bars = axis.bar(positions, heights, width, label=renderer)
        for bar, crashed in zip(bars, hatches, strict=True):
            if crashed:
                bar.set_hatch("xx")
    axis.set_yscale("log")
    axis.set_ylabel("net median, ms (log)")
    axis.set_title(f"{kind} pages (hatched: crashed)")
    axis.set_xticks([i + 0.4 - width / 2 for i in range(len(view.cases))])
    axis.set_xticklabels(view.cases, rotation=30, ha="right")
    axis.legend(fontsize="small", ncols=2)

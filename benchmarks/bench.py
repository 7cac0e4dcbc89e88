"""Benchmark debugpages' error pages against werkzeug's, Django's and Starlette's.

    python benchmarks/bench.py [--quick] [--cases a,b] [--renderers a,b] [--out DIR]
                               [--fresh-runs N]

One process renders the corpus (benchmarks/corpus.py) with every renderer, in rounds
that alternate them; then fresh processes time first failures and imports
(benchmarks/fresh.py); then RESULTS.md, results.json and results.png are written into
DIR (benchmarks/ by default) and the report is printed. The targets of issue 7 are checked
and printed, but this is a measurement, not a test: it exits 0 whatever they say.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run as a script: make ``benchmarks`` importable

from benchmarks import corpus, fresh  # noqa: E402
from benchmarks.measure import (  # noqa: E402
    FULL,
    QUICK,
    Budget,
    Measurement,
    measure_peak,
    net_stats,
    run_rounds,
    time_per_call,
    warm_up,
)
from benchmarks.renderers import (  # noqa: E402
    BASELINE,
    Harness,
    Renderer,
    all_renderers,
    debugpages_available,
    happy_calls,
    make_harness,
)
from benchmarks.report import chart, markdown  # noqa: E402

PACKAGES = ("debugpages", "werkzeug", "jinja2", "django", "starlette", "matplotlib")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="about a minute, fewer runs")
    parser.add_argument("--cases", help="comma-separated case names (default: all)")
    parser.add_argument("--renderers", help="comma-separated renderer names (default: all)")
    parser.add_argument("--out", type=Path, default=HERE, help="folder for the outputs")
    parser.add_argument(
        "--no-server-log",
        action="store_true",
        help="do not log what Starlette re-raises (as uvicorn would)",
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the round order")
    parser.add_argument(
        "--fresh-runs",
        type=int,
        help="fresh processes per kind for first failures and imports (0: none)",
    )
    return parser.parse_args(argv)


def pick(names: str | None, available: list[str], what: str) -> list[str]:
    """The names asked for, in the order available, or all; unknown names are an error."""
    if not names:
        return available
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    unknown = sorted(set(wanted) - set(available))
    if unknown:
        sys.exit(f"unknown {what}: {', '.join(unknown)}; known: {', '.join(available)}")
    return [name for name in available if name in wanted]


def say(text: str) -> None:
    """Progress goes to stderr, so stdout is the report alone."""
    print(text, file=sys.stderr, flush=True)


def build_measurements(cases: list[str], renderers: list[Renderer]) -> list[Measurement]:
    """One measurement per case and renderer, its app built once and reused.

    A distinct-failures case renews its source after every call, in the cell's
    (untimed) reset, so that the next call of any renderer meets a new file.
    """
    measurements = []
    for name in cases:
        case = corpus.CASES[name]
        for renderer in renderers:
            cell = renderer.build(case)
            if case.renew is not None:
                cell.reset = _then(cell.reset, case.renew)
            logs = renderer.kind != BASELINE
            measurements.append(Measurement(name, renderer.name, cell, logs))
    return measurements


def _then(first: Callable[[], None], second: Callable[[], None]) -> Callable[[], None]:
    def both() -> None:
        first()
        second()

    return both


async def measure_all(measurements: list[Measurement], budget: Budget, seed: int) -> None:
    """Warm-up, timed rounds, then one traced call per cell for peak memory."""
    say(f"warming up {len(measurements)} cells")
    await warm_up(measurements)

    def progress(rounds: int, active: int) -> None:
        if rounds % 20 == 0 or active == 0:
            say(f"round {rounds}: {active} cells still measuring")

    await run_rounds(measurements, budget, seed=seed, progress=progress)
    say("peak memory, one traced call per cell")
    for m in measurements:
        await measure_peak(m, budget)


def cell_record(m: Measurement, renderer: Renderer, baseline: Measurement) -> dict[str, Any]:
    """The JSON record of one cell, net of the baseline of the same case and protocol."""
    baseline_ms = statistics.median(baseline.samples_ns) / 1e6
    stats = net_stats(m.samples_ns, baseline_ms)
    net_peak = None
    if m.peak_bytes is not None and baseline.peak_bytes is not None:
        net_peak = m.peak_bytes - baseline.peak_bytes
    return {
        "case": m.case,
        "renderer": m.renderer,
        "kind": renderer.kind,
        "protocol": renderer.protocol,
        "n": stats.n,
        "median_ms": stats.median_ms,
        "p90_ms": stats.p90_ms,
        "for_ratio_ms": stats.for_ratio,
        "raw_median_ms": stats.raw_median_ms,
        "baseline_ms": baseline_ms,
        "status": m.status,
        "content_type": m.content_type,
        "size": m.size,
        "crashed": m.crashed,
        "crashes": m.crashes,
        "escaped": m.escaped,
        "peak_bytes": m.peak_bytes,
        "net_peak_bytes": net_peak,
        "samples_ms": [round(s / 1e6, 4) for s in m.samples_ns],
    }


def cell_records(
    measurements: list[Measurement], renderers: list[Renderer]
) -> list[dict[str, Any]]:
    """JSON records of every non-baseline cell."""
    by_name = {r.name: r for r in renderers}
    index = {(m.case, m.renderer): m for m in measurements}
    records = []
    for m in measurements:
        renderer = by_name[m.renderer]
        if renderer.kind == BASELINE:
            continue
        baseline = index[(m.case, f"baseline/{renderer.protocol}")]
        records.append(cell_record(m, renderer, baseline))
    return records


async def measure_happy(harness: Harness, target_s: float) -> dict[str, dict[str, Any]]:
    """µs per call of the trivial app, bare and wrapped, and what each wrapper adds."""
    say("happy path")
    calls = happy_calls(harness)
    for name, call in calls.items():
        outcome = await call()
        if outcome.status != 200 or outcome.body != b"ok":
            sys.exit(f"happy path {name}: expected 200 ok, got {outcome}")
    timed = await time_per_call(calls, target_s)
    rows: dict[str, dict[str, Any]] = {}
    for name, per_call in timed.items():
        bare = "bare/asgi" if name in ("bare/asgi", "starlette/debug") else "bare/wsgi"
        rows[name] = {
            "best_us": per_call.best_us,
            "median_us": per_call.median_us,
            "added_us": per_call.added_to(timed[bare]),
            "added_paired_median_us": per_call.paired_median_added_to(timed[bare]),
            "bare": bare,
            "number": per_call.number,
            "runs_us": per_call.runs_us,
        }
    return rows


def cpu_model() -> str:
    """The CPU model as /proc/cpuinfo names it, or the platform's guess."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> dict[str, Any]:
    """Where and when: CPUs, CPU model, Python, package versions, date."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
    }


def write_outputs(raw: dict[str, Any], out: Path) -> str:
    """results.json, RESULTS.md and results.png into ``out``; returns the markdown."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(raw, indent=1, ensure_ascii=False) + "\n")
    text = markdown(raw)
    if chart(raw, out / "results.png"):
        text += "\n![net median per case, log scale](results.png)\n"
    (out / "RESULTS.md").write_text(text, encoding="utf-8")
    return text


def main(argv: list[str] | None = None) -> int:
    """Measure, report, and exit 0 whatever the targets say."""
    args = parse_args(argv)
    started = time.monotonic()
    budget = QUICK if args.quick else FULL
    if not debugpages_available():
        say("debugpages is not importable: measuring the anchors only")
    corpus.prepare()
    harness = make_harness(server_log=not args.no_server_log)
    cases = pick(args.cases, list(corpus.CASES), "cases")
    every = all_renderers(harness)
    chosen = pick(args.renderers, [r.name for r in every if r.kind != BASELINE], "renderers")
    renderers = [r for r in every if r.kind == BASELINE or r.name in chosen]
    measurements = build_measurements(cases, renderers)
    harness.driver.run(measure_all(measurements, budget, args.seed))
    happy = harness.driver.run(measure_happy(harness, target_s=0.05 if args.quick else 0.2))
    harness.driver.close()
    fresh_runs = args.fresh_runs if args.fresh_runs is not None else (3 if args.quick else 11)
    first = fresh.measure(fresh_runs, args.seed, say) if fresh_runs else None
    raw = {
        "machine": machine(),
        "config": {
            "mode": "quick" if args.quick else "full",
            "max_reps": budget.max_reps,
            "min_reps": budget.min_reps,
            "seconds": budget.seconds,
            "server_log": not args.no_server_log,
            "seed": args.seed,
            "wall_s": time.monotonic() - started,
        },
        "cases": cases,
        "renderers": [{"name": r.name, "kind": r.kind, "protocol": r.protocol} for r in renderers],
        "cells": cell_records(measurements, renderers),
        "happy": happy,
        "fresh": first,
    }
    print(write_outputs(raw, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

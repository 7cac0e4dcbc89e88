"""First failures in fresh processes, and import times: what a developer waits for after
every restart of a development server.

    python benchmarks/fresh.py [--runs 7]    # prints the two tables

Each sample is a new Python process. For a first failure (``--child NAME ACCEPT``), it
builds one renderer around the corpus's ``simple`` failure as the bench does (same
request, same logging that formats and drops each record, one event loop), importing
only that renderer's library, then times its first failure and its second. For an
import (a bare ``python -c``), it times one statement: ``import debugpages``, or building
the middleware from nothing. Kinds alternate within each round, so drift spreads over
all of them; medians of ``--runs`` processes are reported, with ratios to werkzeug's.

Every process shares one byte-code folder (``PYTHONPYCACHEPREFIX``, filled by an untimed
warm-up process of each kind), so no side pays for compiling Python, as none does once
installed; and one temp folder, so debugpages' template cache is as a developer's
machine has it after the first start. The ``empty template cache`` kinds get a new temp
folder each: the first start after an install.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TIMES = "\u00d7"  # the multiplication sign, spelled so linters do not flag it
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FORMATS = {"html": "text/html", "text": "text/plain", "json": "application/json"}
ANCHOR = "werkzeug/debug html"
IMPORT_ANCHORS = {
    "import debugpages": "import werkzeug.debug",
    "import and build ErrorPages (on)": "import and build DebuggedApplication",
    "import and build ErrorPages (on), empty template cache": (
        "import and build DebuggedApplication"
    ),
}
STATEMENTS = {
    "import debugpages": "import debugpages",
    "import werkzeug.debug": "import werkzeug.debug",
    "import and build ErrorPages (on)": (
        "from debugpages import ErrorPages; ErrorPages(lambda e, s: [], mode='on')"
    ),
    "import and build ErrorPages (on), empty template cache": (
        "from debugpages import ErrorPages; ErrorPages(lambda e, s: [], mode='on')"
    ),
    "import and build DebuggedApplication": (
        "from werkzeug.debug import DebuggedApplication; DebuggedApplication(lambda e, s: [])"
    ),
}


@dataclass(frozen=True)
class Kind:
    """One kind of fresh process: its label, its command line, whether its cache is empty."""

    label: str
    argv: tuple[str, ...]
    cold: bool = False


def failure_kinds() -> list[Kind]:
    """debugpages in every mode and format, each anchor in HTML, and a cold start."""
    kinds = [
        Kind(f"debugpages/{mode} {fmt}", ("--child", f"debugpages/{mode}", accept))
        for mode in ("on", "off", "legacy-200")
        for fmt, accept in FORMATS.items()
    ]
    anchors = ("werkzeug", "django", "starlette")
    for kind in ("debug", "production"):
        for anchor in anchors:
            name = f"{anchor}/{kind}"
            kinds.append(Kind(f"{name} html", ("--child", name, FORMATS["html"])))
    cold = ("--child", "debugpages/on", FORMATS["html"])
    kinds.append(Kind("debugpages/on html, empty template cache", cold, cold=True))
    return kinds


def import_kinds() -> list[Kind]:
    """Each statement of ``STATEMENTS``, timed in a bare ``python -c`` (nothing imported
    before it but what the interpreter imports itself)."""
    return [
        Kind(label, ("-c", _TIMED.format(STATEMENTS[label])), label.endswith("cache"))
        for label in STATEMENTS
    ]


_TIMED = """import time
started = time.perf_counter()
{}
print('{{"ms": %f}}' % ((time.perf_counter() - started) * 1e3))
"""


@dataclass
class Runner:
    """Starts the fresh processes, all sharing one byte-code folder and one temp folder."""

    folder: Path
    cold_count: int = 0
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.env = {**os.environ, "PYTHONPYCACHEPREFIX": str(self.folder / "pyc")}
        for name in ("PYTHONDONTWRITEBYTECODE", "DEBUGPAGES", "DEBUGPAGES_ALLOW"):
            self.env.pop(name, None)
        self.env["TMPDIR"] = str(self.folder / "tmp")
        (self.folder / "tmp").mkdir(parents=True, exist_ok=True)

    def run(self, kind: Kind) -> dict[str, Any]:
        """One fresh process of ``kind``; its JSON line."""
        env = dict(self.env)
        if kind.cold:
            self.cold_count += 1
            cold = self.folder / f"cold-{self.cold_count}"
            cold.mkdir()
            env["TMPDIR"] = str(cold)
        script = [] if kind.argv[0] == "-c" else [str(Path(__file__).resolve())]
        argv = [sys.executable, *script, *kind.argv]
        done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{kind.label} failed:\n{done.stdout}{done.stderr}")
        result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
        return result


def measure(runs: int, seed: int = 7, say: Any = None) -> dict[str, Any]:
    """``runs`` fresh processes of every kind, after one untimed warm-up process each."""
    rng = random.Random(seed)
    kinds = failure_kinds() + import_kinds()
    samples: dict[str, list[dict[str, Any]]] = {kind.label: [] for kind in kinds}
    with tempfile.TemporaryDirectory(prefix="debugpages-fresh-") as folder:
        runner = Runner(Path(folder))
        for kind in kinds:
            runner.run(kind)  # byte code written, template cache filled: as once installed
        for round_number in range(runs):
            if say is not None:
                say(f"fresh processes, round {round_number + 1} of {runs}")
            order = list(kinds)
            rng.shuffle(order)
            for kind in order:
                samples[kind.label].append(runner.run(kind))
    return {"runs": runs, "failures": _failure_rows(samples), "imports": _import_rows(samples)}


def _failure_rows(samples: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    rows = []
    for kind in failure_kinds():
        got = samples[kind.label]
        rows.append(
            {
                "kind": kind.label,
                "first_ms": statistics.median(s["first_ms"] for s in got),
                "second_ms": statistics.median(s["second_ms"] for s in got),
                "first_samples_ms": [round(s["first_ms"], 3) for s in got],
                "status": got[0]["status"],
                "size": got[0]["size"],
                "crashed": any(s["crashed"] for s in got),
            }
        )
    anchor = next(row["first_ms"] for row in rows if row["kind"] == ANCHOR)
    for row in rows:
        row["ratio"] = row["first_ms"] / anchor
    return rows


def _import_rows(samples: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    medians = {label: statistics.median(s["ms"] for s in samples[label]) for label in STATEMENTS}
    rows = []
    for label, ms in medians.items():
        anchor = IMPORT_ANCHORS.get(label)
        rows.append(
            {
                "statement": label,
                "ms": ms,
                "samples_ms": [round(s["ms"], 2) for s in samples[label]],
                "anchor": anchor,
                "ratio": ms / medians[anchor] if anchor else None,
            }
        )
    return rows


# --- inside a fresh process ---------------------------------------------------------


def child(name: str, accept: str) -> dict[str, Any]:
    """Build renderer ``name`` alone, then time its first and second failure."""
    sys.path.insert(0, str(ROOT))
    from benchmarks import corpus
    from benchmarks.renderers import BUILDERS, _debugpages, make_harness

    harness = make_harness()
    harness.environ["HTTP_ACCEPT"] = accept
    headers = [(k, v) for k, v in harness.scope["headers"] if k != b"accept"]
    harness.scope["headers"] = [*headers, (b"accept", accept.encode())]
    if name == "debugpages/legacy-200":
        build = _debugpages(harness, "legacy-200")
    else:
        build = BUILDERS[name][2](harness)
    cell = build(corpus.CASES["simple"])

    async def twice() -> list[tuple[float, Any]]:
        timed = []
        for _ in range(2):
            started = time.perf_counter_ns()
            outcome = await cell.call()
            timed.append(((time.perf_counter_ns() - started) / 1e6, outcome))
            cell.reset()
        return timed

    (first_ms, outcome), (second_ms, _) = harness.driver.run(twice())
    crashed = outcome.crashed
    if name == "debugpages/legacy-200":  # 200 OK is this mode's very point
        crashed = outcome.escaped is not None or outcome.status != 200 or not outcome.body
    return {
        "first_ms": first_ms,
        "second_ms": second_ms,
        "status": outcome.status,
        "size": len(outcome.body),
        "crashed": crashed,
    }


# --- the report -----------------------------------------------------------------------


def tables(fresh: dict[str, Any]) -> str:
    """The two markdown tables: first failures, then import and start-up."""
    lines = [
        f"First failure in a fresh process (median of {fresh['runs']} processes each; "
        f"÷ the first failure of {ANCHOR.split()[0]}, HTML):",
        "",
        "| process | first failure ms | second failure ms | ÷ werkzeug/debug | page |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in fresh["failures"]:
        crash = " ✗" if row["crashed"] else ""
        lines.append(
            f"| {row['kind']} | {row['first_ms']:.2f} | {row['second_ms']:.2f} "
            f"| {TIMES}{row['ratio']:.2f} | {row['status']}, {row['size']:,} B{crash} |"
        )
    lines += [
        "",
        f"Import and start-up in a fresh process (median of {fresh['runs']} processes each):",
        "",
        "| statement | ms | ÷ |",
        "| --- | --- | --- |",
    ]
    for row in fresh["imports"]:
        ratio = "" if row["ratio"] is None else f"{TIMES}{row['ratio']:.2f} of `{row['anchor']}`"
        lines.append(f"| `{row['statement']}` | {row['ms']:.1f} | {ratio} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """A child's measurement, or the whole set with its tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--child", nargs=2, metavar=("RENDERER", "ACCEPT"))
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child)))
    else:
        print(tables(measure(args.runs, say=lambda text: print(text, file=sys.stderr))))
    return 0


if __name__ == "__main__":
    sys.exit(main())

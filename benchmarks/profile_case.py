"""Profile one case under one renderer, to find out why a target is missed.

    python benchmarks/profile_case.py CASE [--renderer debugpages/on] [--calls 20]
                                           [--sort tottime] [--top 25]

It builds the cell exactly as the bench does (same request, same logging that
formats and drops, on one event loop), warms it up, then runs it under cProfile and prints the
functions that cost most. cProfile inflates small calls, so read it for where the
time goes, and the bench for how much.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script

from benchmarks import corpus
from benchmarks.renderers import all_renderers, make_harness


def main(argv: list[str] | None = None) -> int:
    """Profile ``--calls`` requests of CASE under ``--renderer``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("case", choices=list(corpus.CASES))
    parser.add_argument("--renderer", default="debugpages/on")
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--sort", default="tottime", choices=["tottime", "cumulative"])
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    corpus.prepare()
    harness = make_harness()
    renderers = {r.name: r for r in all_renderers(harness)}
    if args.renderer not in renderers:
        sys.exit(f"unknown renderer {args.renderer}; known: {', '.join(renderers)}")
    case = corpus.CASES[args.case]
    cell = renderers[args.renderer].build(case)
    profiler = cProfile.Profile()

    async def run() -> None:
        await cell.call()
        cell.reset()
        for _ in range(args.calls):
            if case.renew is not None:
                case.renew()
            profiler.enable()
            await cell.call()
            profiler.disable()
            cell.reset()

    harness.driver.run(run())
    harness.driver.close()
    pstats.Stats(profiler).strip_dirs().sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())

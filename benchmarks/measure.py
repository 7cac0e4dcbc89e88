"""Timing and memory measurements: rounds that alternate renderers, and their statistics.

Every cell (case x renderer) runs once per round, in an order shuffled anew each
round, so that drift of a noisy machine (frequency scaling, another process) spreads
over all renderers instead of landing on whichever ran last. A cell leaves the
rounds when it has ``max_reps`` samples, or has spent its time budget and has at
least ``min_reps``: fast pages get many samples, slow ones (Django on huge locals,
seconds per call) still finish in a few minutes.

Everything here is a coroutine, awaited on the one event loop of the run, and every
time is taken inside it, around the awaited call alone.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
import tracemalloc
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from benchmarks.renderers import Call, Cell, Outcome, check_one_record

FLOOR_MS = 0.010  # net times under 10 µs count as 10 µs in ratios: below that is noise


@dataclass(frozen=True)
class Budget:
    """How much measuring each cell gets."""

    max_reps: int
    min_reps: int
    seconds: float
    memory_skip_over_s: float | None  # skip tracemalloc for cells slower than this


FULL = Budget(max_reps=200, min_reps=3, seconds=1.5, memory_skip_over_s=None)
QUICK = Budget(max_reps=40, min_reps=1, seconds=0.25, memory_skip_over_s=1.0)


@dataclass
class Measurement:
    """Everything measured for one cell."""

    case: str
    renderer: str
    cell: Cell
    logs: bool = True
    """Whether each call formats one logged traceback (every renderer but the baselines)."""
    status: int = 0
    size: int = 0
    escaped: str | None = None
    content_type: str = ""
    crashes: int = 0
    samples_ns: list[int] = field(default_factory=list)
    spent_ns: int = 0
    peak_bytes: int | None = None

    @property
    def crashed(self) -> bool:
        """Whether any call, warm-up included, left the client without an error page."""
        return self.crashes > 0

    def record(self, outcome: Outcome) -> None:
        """Keep what the client saw on the first call, count every crash."""
        if self.status == 0 and not self.size:
            self.status, self.size = outcome.status, len(outcome.body)
            self.escaped, self.content_type = outcome.escaped, outcome.content_type
        if outcome.crashed:
            self.crashes += 1

    def done(self, budget: Budget) -> bool:
        """Whether this cell has samples enough, or has used up its time."""
        n = len(self.samples_ns)
        if n >= budget.max_reps:
            return True
        return self.spent_ns >= budget.seconds * 1e9 and n >= budget.min_reps


async def warm_up(measurements: list[Measurement]) -> None:
    """One untimed call per cell: imports, caches, the first look at the response, and
    the check that it logged one traceback (none for a baseline)."""
    for m in measurements:
        started = time.perf_counter_ns()
        m.record(await check_one_record(m.cell, m.logs, f"{m.case} under {m.renderer}"))
        m.spent_ns = time.perf_counter_ns() - started  # counts against the budget
        m.cell.reset()


async def run_rounds(
    measurements: list[Measurement],
    budget: Budget,
    seed: int = 7,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Time every cell once per round, in a new random order each round, until done."""
    rng = random.Random(seed)
    active = [m for m in measurements if not m.done(budget)]
    rounds = 0
    while active:
        rng.shuffle(active)
        for m in active:
            started = time.perf_counter_ns()
            outcome = await m.cell.call()
            elapsed = time.perf_counter_ns() - started
            m.cell.reset()
            m.samples_ns.append(elapsed)
            m.spent_ns += elapsed
            m.record(outcome)
        active = [m for m in active if not m.done(budget)]
        rounds += 1
        if progress is not None:
            progress(rounds, len(active))


async def measure_peak(m: Measurement, budget: Budget) -> None:
    """Peak memory allocated during one separate call, traced by tracemalloc."""
    median_s = statistics.median(m.samples_ns) / 1e9 if m.samples_ns else 0.0
    if budget.memory_skip_over_s is not None and median_s > budget.memory_skip_over_s:
        return
    gc.collect()
    tracemalloc.start()
    try:
        await m.cell.call()
        m.peak_bytes = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        m.cell.reset()


@dataclass(frozen=True)
class Stats:
    """Net times in milliseconds: the baseline's median is subtracted from each sample."""

    n: int
    median_ms: float
    p90_ms: float
    raw_median_ms: float

    @property
    def for_ratio(self) -> float:
        """The median with the noise floor applied, for dividing by."""
        return max(self.median_ms, FLOOR_MS)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile: no interpolation between two real samples."""
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def net_stats(samples_ns: list[int], baseline_ms: float) -> Stats:
    """Median and p90 of the samples, less the cost of the app raising on its own."""
    ms = [s / 1e6 for s in samples_ns]
    median = statistics.median(ms)
    return Stats(
        n=len(ms),
        median_ms=median - baseline_ms,
        p90_ms=percentile(ms, 0.9) - baseline_ms,
        raw_median_ms=median,
    )


# --- the happy path ---------------------------------------------------------------


@dataclass(frozen=True)
class PerCall:
    """Microseconds per call, one figure per timeit repeat (repeats are interleaved)."""

    runs_us: list[float]
    number: int

    @property
    def best_us(self) -> float:
        """The fastest repeat: the least disturbed by the rest of the machine."""
        return min(self.runs_us)

    @property
    def median_us(self) -> float:
        """The typical repeat."""
        return statistics.median(self.runs_us)

    def added_to(self, bare: PerCall) -> float:
        """What this call adds to ``bare``: best against best.

        On a shared machine noise only ever adds time, so the fastest of several
        interleaved repeats is the closest to the cost itself (timeit's own advice).
        """
        return self.best_us - bare.best_us

    def paired_median_added_to(self, bare: PerCall) -> float:
        """The median of the repeat-by-repeat differences: a check on ``added_to``."""
        pairs = zip(self.runs_us, bare.runs_us, strict=True)
        return statistics.median(mine - theirs for mine, theirs in pairs)


async def _time_loop(call: Call, number: int) -> float:
    """Seconds taken by ``number`` awaited calls, as timeit times a loop (gc off)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        started = time.perf_counter()
        for _ in range(number):
            await call()
        return time.perf_counter() - started
    finally:
        if enabled:
            gc.enable()


async def _loop_count(call: Call, target_s: float) -> int:
    """How many calls make one repeat last about ``target_s`` (timeit's autorange)."""
    number = 1
    while (elapsed := await _time_loop(call, number)) < 0.2:
        number *= 10
    return max(1000, int(target_s * number / elapsed))


async def time_per_call(
    calls: Mapping[str, Call], target_s: float, repeats: int = 9
) -> dict[str, PerCall]:
    """Time each call in loops as timeit does, the repeats interleaved across calls.

    Interleaving matters here: the differences sought are under a microsecond, less
    than what a machine drifts by between one block of repeats and the next.
    """
    numbers = {name: await _loop_count(call, target_s) for name, call in calls.items()}
    runs: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            elapsed = await _time_loop(call, numbers[name])
            runs[name].append(elapsed / numbers[name] * 1e6)
    return {name: PerCall(us, numbers[name]) for name, us in runs.items()}

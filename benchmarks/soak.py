"""Soak debugpages under a real server: gunicorn, 2 workers with threads, on loopback.

    python benchmarks/soak.py [--quick] [--duration S] [--modes off,on] [--out DIR]

For each mode, gunicorn serves benchmarks/soak_app.py with ``DEBUGPAGES`` set to
that mode; a bounded Python client (threads, keep-alive connections) drives the
failing routes, whose frames hold 10 MB each, for ``--duration`` seconds, then the
healthy route. Reported per phase: requests per second, latency percentiles,
unexpected statuses and socket errors (both must be 0), and each worker's memory
growth after warm-up (must stay under 20 MB). Every request goes to 127.0.0.1, and
every loop stops on a deadline and a request cap. Exits 1 if a "must" is broken.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # run as a script: make ``benchmarks`` importable

HOST = "127.0.0.1"  # loopback only, by rule
FAILING_ROUTES = ("/fail/simple", "/fail/chained", "/fail/group")  # served by soak_app.py
HEALTHY_ROUTE = "/ok"
MAX_GROWTH_MB = 20.0
MAX_REQUESTS_PER_PHASE = 2_000_000
# glibc raises its mmap threshold after each large free, up to 32 MB, so that freed
# 10 MB blocks stay in per-thread heaps and RSS climbs with no object kept alive.
# A fixed threshold returns them to the system, so that RSS growth means a leak.
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(1024 * 1024), "MALLOC_ARENA_MAX": "2"}
EXPECTED_FAILING_STATUS = {"off": 500, "on": 500, "legacy-200": 200}


@dataclass
class Tally:
    """What one client thread saw; merged across threads at the end of a phase."""

    latencies_ms: list[float] = field(default_factory=list)
    unexpected: dict[int, int] = field(default_factory=dict)
    socket_errors: int = 0


@dataclass(frozen=True)
class PhaseResult:
    """One phase (a mode at the failing or the healthy routes), as reported."""

    mode: str
    phase: str
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    unexpected_statuses: dict[int, int]
    socket_errors: int
    rss_start_mb: list[float]
    rss_end_mb: list[float]
    rss_peak_mb: list[float]

    @property
    def growth_mb(self) -> float:
        """The largest growth of any worker over the phase."""
        pairs = zip(self.rss_start_mb, self.rss_end_mb, strict=False)
        return max((end - start for start, end in pairs), default=0.0)

    @property
    def ok(self) -> bool:
        """The three musts of issue 7."""
        return (
            not self.unexpected_statuses
            and self.socket_errors == 0
            and self.growth_mb < MAX_GROWTH_MB
            and self.requests > 0
        )


# --- the server -------------------------------------------------------------------


def free_port() -> int:
    """A free TCP port on loopback (the kernel's pick; a small race is harmless here)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def no_control_socket() -> list[str]:
    """Gunicorn 23+ opens a control socket under ~/.gunicorn: the soak needs none."""
    help_text = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--help"], capture_output=True, text=True, check=True
    ).stdout
    return ["--no-control-socket"] if "--no-control-socket" in help_text else []


@contextlib.contextmanager
def gunicorn(mode: str, port: int, log_path: Path) -> Iterator[int]:
    """Run gunicorn for ``mode`` until the block ends; yields the master's pid."""
    command = [
        sys.executable, "-m", "gunicorn",
        "--workers", "2", "--threads", "4", "--worker-class", "gthread",
        "--bind", f"{HOST}:{port}", "--chdir", str(ROOT),
        "--timeout", "60", "--graceful-timeout", "10",
        *no_control_socket(),
        "benchmarks.soak_app:application",
    ]  # fmt: skip
    env = {**os.environ, **MALLOC_ENV, "DEBUGPAGES": mode, "PYTHONPATH": str(ROOT)}
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_up(port, server)
            yield server.pid
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def wait_until_up(port: int, server: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    """Poll the healthy route until it answers 200, or fail if the server died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode} at start-up")
        with contextlib.suppress(OSError):
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", HEALTHY_ROUTE)
            if conn.getresponse().status == 200:
                conn.close()
                return
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {timeout_s} s")


def worker_pids(master: int) -> list[int]:
    """The master's children, from /proc (Linux)."""
    path = Path(f"/proc/{master}/task/{master}/children")
    try:
        return sorted(int(pid) for pid in path.read_text().split())
    except OSError:
        return []


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MB, from /proc/PID/status."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


# --- the client ---------------------------------------------------------------------


def client_thread(
    port: int, paths: tuple[str, ...], expected: int, deadline: float, cap: int, tally: Tally
) -> None:
    """Send requests on one keep-alive connection until the deadline or the cap."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    headers = {"Accept": "text/html"}
    sent = 0
    while time.monotonic() < deadline and sent < cap:
        path = paths[sent % len(paths)]
        sent += 1
        started = time.perf_counter()
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            tally.socket_errors += 1
            conn.close()
            conn = http.client.HTTPConnection(HOST, port, timeout=30)
            continue
        tally.latencies_ms.append((time.perf_counter() - started) * 1000)
        if response.status != expected:
            tally.unexpected[response.status] = tally.unexpected.get(response.status, 0) + 1
    conn.close()


def drive(port: int, paths: tuple[str, ...], expected: int, seconds: float, threads: int) -> Tally:
    """Run ``threads`` client threads for ``seconds``; merge what they saw."""
    deadline = time.monotonic() + seconds
    cap = MAX_REQUESTS_PER_PHASE // threads
    tallies = [Tally() for _ in range(threads)]
    workers = [
        threading.Thread(target=client_thread, args=(port, paths, expected, deadline, cap, t))
        for t in tallies
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    merged = Tally()
    for tally in tallies:
        merged.latencies_ms += tally.latencies_ms
        merged.socket_errors += tally.socket_errors
        for status, count in tally.unexpected.items():
            merged.unexpected[status] = merged.unexpected.get(status, 0) + count
    return merged


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of ``values`` (0 if empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


# --- one mode ------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """How long each part of a mode's run lasts, and how hard the client pushes."""

    warmup_s: float
    failing_s: float
    healthy_s: float
    threads: int


class RssMonitor:
    """Samples the workers' RSS every half second, keeping each one's peak."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.peaks = [rss_mb(pid) for pid in pids]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.peaks = [max(p, rss_mb(pid)) for p, pid in zip(self.peaks, self.pids, strict=True)]

    def __enter__(self) -> RssMonitor:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


def settled_rss(pids: list[int]) -> list[float]:
    """RSS once in-flight requests have had half a second to finish."""
    time.sleep(0.5)
    return [rss_mb(pid) for pid in pids]


def run_phase(mode: str, phase: str, master: int, port: int, plan: Plan) -> PhaseResult:
    """Drive one phase and measure the workers' memory before, during and after it."""
    failing = phase == "failing"
    paths = FAILING_ROUTES if failing else (HEALTHY_ROUTE,)
    expected = EXPECTED_FAILING_STATUS[mode] if failing else 200
    seconds = plan.failing_s if failing else plan.healthy_s
    pids = worker_pids(master)
    before = settled_rss(pids)
    started = time.monotonic()
    with RssMonitor(pids) as monitor:
        tally = drive(port, paths, expected, seconds, plan.threads)
    elapsed = time.monotonic() - started
    after = settled_rss(pids)
    lat = tally.latencies_ms
    return PhaseResult(
        mode=mode,
        phase=phase,
        seconds=elapsed,
        requests=len(lat),
        rps=len(lat) / elapsed if elapsed else 0.0,
        p50_ms=percentile(lat, 0.5),
        p90_ms=percentile(lat, 0.9),
        p99_ms=percentile(lat, 0.99),
        max_ms=max(lat, default=0.0),
        unexpected_statuses=tally.unexpected,
        socket_errors=tally.socket_errors,
        rss_start_mb=before,
        rss_end_mb=after,
        rss_peak_mb=monitor.peaks,
    )


def run_mode(mode: str, plan: Plan, scratch: Path) -> list[PhaseResult]:
    """Start gunicorn in ``mode``, warm it up, then the failing and the healthy phases."""
    port = free_port()
    log_path = scratch / f"gunicorn-{mode}.log"
    print(f"[{mode}] gunicorn on {HOST}:{port}, log {log_path}", file=sys.stderr, flush=True)
    with gunicorn(mode, port, log_path) as master:
        expected = EXPECTED_FAILING_STATUS[mode]
        drive(port, (*FAILING_ROUTES, HEALTHY_ROUTE), expected, plan.warmup_s, plan.threads)
        results = [run_phase(mode, phase, master, port, plan) for phase in ("failing", "healthy")]
    for result in results:
        print(f"[{mode}] {result.phase}: {result.requests} requests", file=sys.stderr)
    if not all(result.ok for result in results):
        tail = log_path.read_text(errors="replace").splitlines()[-30:]
        print(f"[{mode}] a must was broken; gunicorn's log ends:", *tail, sep="\n", file=sys.stderr)
    return results


# --- the report -------------------------------------------------------------------


def report(results: list[PhaseResult], plan: Plan) -> str:
    """A markdown table of every phase, and the verdict."""
    header = (
        "| mode | phase | requests | req/s | p50 / p90 / p99 / max ms | unexpected statuses "
        "| socket errors | worker RSS start → end (peak), MB | growth MB | ok |\n"
        "|" + " --- |" * 10
    )
    rows = []
    for r in results:
        rss = ", ".join(
            f"{a:.0f} → {b:.0f} ({c:.0f})"
            for a, b, c in zip(r.rss_start_mb, r.rss_end_mb, r.rss_peak_mb, strict=False)
        )
        latency = f"{r.p50_ms:.1f} / {r.p90_ms:.1f} / {r.p99_ms:.1f} / {r.max_ms:.0f}"
        rows.append(
            f"| {r.mode} | {r.phase} | {r.requests} | {r.rps:.0f} | {latency} "
            f"| {r.unexpected_statuses or 0} | {r.socket_errors} | {rss} "
            f"| {r.growth_mb:+.1f} | {'yes' if r.ok else 'NO'} |"
        )
    env = ", ".join(f"{k}={v}" for k, v in MALLOC_ENV.items())
    verdict = "all musts held" if all(r.ok for r in results) else "a must was broken"
    return (
        "# debugpages soak\n\n"
        f"gunicorn, 2 gthread workers with 4 threads each, {plan.threads} client threads on "
        f"{HOST}; failing routes (each frame holding 10 MB) for {plan.failing_s:.0f} s, "
        f"then the healthy route for {plan.healthy_s:.0f} s, after {plan.warmup_s:.0f} s "
        f"of warm-up. Musts: no unexpected status, no socket error, worker growth under "
        f"{MAX_GROWTH_MB:.0f} MB. glibc malloc is pinned ({env}) so that RSS growth means "
        "objects kept alive, not an allocator keeping freed blocks.\n\n"
        + header
        + "\n"
        + "\n".join(rows)
        + f"\n\n{verdict}\n"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 s phases instead of 60 s")
    parser.add_argument("--duration", type=float, help="seconds at the failing routes")
    parser.add_argument("--modes", default="off,on,legacy-200", help="comma-separated modes")
    parser.add_argument("--threads", type=int, default=8, help="client threads")
    parser.add_argument("--out", type=Path, default=HERE, help="folder for SOAK.md/soak.json")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Soak every mode; exit 1 if any must was broken."""
    args = parse_args(argv)
    failing_s = args.duration or (10.0 if args.quick else 60.0)
    plan = Plan(
        warmup_s=min(10.0, failing_s / 4),
        failing_s=failing_s,
        healthy_s=max(5.0, failing_s / 4),
        threads=args.threads,
    )
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = set(modes) - set(EXPECTED_FAILING_STATUS)
    if unknown:
        sys.exit(f"unknown modes: {', '.join(sorted(unknown))}")
    results: list[PhaseResult] = []
    with tempfile.TemporaryDirectory(prefix="debugpages-soak-") as scratch:
        for mode in modes:
            results += run_mode(mode, plan, Path(scratch))
    text = report(results, plan)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "SOAK.md").write_text(text, encoding="utf-8")
    raw = [{**asdict(r), "growth_mb": r.growth_mb, "ok": r.ok} for r in results]
    (args.out / "soak.json").write_text(json.dumps(raw, indent=1) + "\n")
    print(text)
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Time and peak memory of ``handoff report --compare-previous`` at 1k, 10k and 100k decisions a week.

Each size gets its own store: N decisions in the reviewed week and N in the week before (the comparison
period), written by :mod:`synthetic_store` with a realistic share of varied unanswered questions (about a
quarter of decisions; real HWU64 and Bitext requests, a third of them with an order number, so most are
distinct strings). The review runs as its own process, the way a support lead runs it, three times per
size; the table shows the median wall time, the median CPU time (user + system: what the work costs
when other jobs share the cores) and the largest peak RSS (``ru_maxrss`` of the child).

Must hold (issue 14): 100k ≤ 30 s and ≤ 300 MB; 10× the decisions ≤ 12× the time.

Run: ``OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/bench_review.py [--sizes 1000,10000,100000]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import itertools

from synthetic_store import fill

START = datetime(2026, 11, 2, tzinfo=UTC)
WEEK = timedelta(days=7)


def run_once(store: Path, out: Path) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS in MB) of one ``handoff report`` process."""
    command = [
        sys.executable,
        "-m",
        "connectors.cli",
        "report",
        "--from",
        "2026-11-02",
        "--to",
        "2026-11-08",
        "--compare-previous",
        "--database",
        str(store),
        "--output",
        str(out),
    ]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1")}
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak RSS, not the running maximum
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            err.seek(0)
            raise SystemExit(f"handoff report failed: {err.read().decode()[-2000:]}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict[int, tuple[float, float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            store = Path(tmp) / f"review-{size}.sqlite3"
            t0 = time.perf_counter()
            fill(store, size, START - WEEK, WEEK, seed=1, prefix="p")
            fill(store, size, START, WEEK, seed=2, prefix="w")
            print(f"built {size:,} + {size:,} decisions in {time.perf_counter() - t0:.1f} s", flush=True)
            times, cpus, peaks = [], [], []
            for _ in range(args.runs):
                seconds, cpu, peak = run_once(store, Path(tmp) / "review.html")
                times.append(seconds)
                cpus.append(cpu)
                peaks.append(peak)
            results[size] = (statistics.median(times), statistics.median(cpus), max(peaks))
            wall, cpu, peak = results[size]
            print(f"{size:>7,} decisions: median {wall:.2f} s wall, {cpu:.2f} s CPU, peak {peak:.0f} MB", flush=True)
    print(f"\n| decisions in the week (+ as many the week before) | wall (median of {args.runs}) | CPU | peak memory |")
    print("|---|---|---|---|")
    for size, (seconds, cpu, peak) in results.items():
        print(f"| {size:,} | {seconds:.1f} s | {cpu:.1f} s | {peak:.0f} MB |")
    for small, large in itertools.pairwise(sizes):
        ratio = results[large][0] / results[small][0]
        cpu_ratio = results[large][1] / results[small][1]
        print(f"{large // small}× decisions ({small:,} → {large:,}): {ratio:.1f}× wall, {cpu_ratio:.1f}× CPU")


if __name__ == "__main__":
    main()

"""Start-up time of the command line (run: python bench/bench_cli.py [runs]).

Targets (issue 7): ``handoff --help`` under 0.5 s and ``handoff explain`` of one message under 2 s. Each
command runs as a fresh process, as a user types it; the best of N runs is reported (the least disturbed
by other jobs on the machine), with the CPU time of that run, which a busy machine inflates far less
than the wall time.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HANDOFF = str(Path(sys.executable).with_name("handoff"))
COMMANDS = {
    "handoff --help": [HANDOFF, "--help"],
    "handoff explain (one message)": [HANDOFF, "explain", "I want a refund for order 5521, this is ridiculous!!"],
    "handoff check": [HANDOFF, "check"],
}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(argv: list[str], runs: int) -> tuple[float, float]:
    best_wall, cpu_of_best = float("inf"), 0.0
    for _ in range(runs):
        cpu_before = _children_cpu()
        start = time.perf_counter()
        subprocess.run(argv, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        if wall < best_wall:
            best_wall, cpu_of_best = wall, _children_cpu() - cpu_before
    return best_wall, cpu_of_best


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print(f"best of {runs} runs; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for name, argv in COMMANDS.items():
        wall, cpu = measure(argv, runs)
        print(f"{name:32} {wall:6.2f} s wall  {cpu:6.2f} s CPU")


if __name__ == "__main__":
    main()

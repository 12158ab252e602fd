"""Run one measurement script inside another checkout, for the same-run A/B benches (ab_core, profile_core).

Why a fresh process per measurement: the checkout's ``handoff_core`` must be the one imported (first on
``PYTHONPATH``), and BLAS pinned to one thread, or the two sides of an A/B would not measure the same kind
of work. The script prints one JSON object as its last line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def measure_in(checkout: Path, code: str) -> dict[str, float]:
    """Run ``code`` with ``checkout`` first on the import path; its last stdout line, parsed as JSON."""
    env = {**os.environ, "PYTHONPATH": str(checkout), "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], check=False, cwd=checkout, env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"{checkout}: {done.stderr[-2000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result

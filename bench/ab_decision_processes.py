"""Same-run A/B of the worker's CPU per 2 KB web-chat request: decisions in a process vs in threads.

Why: ``bench_webhooks.py`` judges throughput and latency with load shedding on, and a worker that refuses
more looks cheaper or dearer per served request depending on how many refusals it charges to each. Here
nothing is refused (``DECISION_MAX_WAIT_SECONDS=10``, a closed loop of a few connections), so the CPU per
request of the two ways of deciding is compared like for like, split by where it went (the event loop's
thread, the decision threads, the decision process), with req/s and memory (RSS, PSS, USS from
``/proc/PID/smaps_rollup``). The modes alternate order each round; nothing is pinned.

    .venv/bin/python bench/ab_decision_processes.py [--connections 4] [--seconds 10] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_webhooks as bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    bench.SHARED.append(True)
    print(f"load average at start: {os.getloadavg()}")
    results: dict[str, list[dict[str, float]]] = {"processes": [], "threads": []}
    texts = bench.two_kb_messages()
    for n in range(args.rounds):
        for mode in ("processes", "threads") if n % 2 == 0 else ("threads", "processes"):
            tmp = Path(tempfile.mkdtemp())
            env = {"DECISION_PROCESSES": "1" if mode == "processes" else "0", "DECISION_MAX_WAIT_SECONDS": "10"}
            server = bench.Server("worker", tmp, bench.ROOT, env)
            try:
                requests = bench.webchat_requests(8_000, texts)
                file, lua = tmp / "requests.lua", tmp / "bench.lua"
                lua.write_text(bench.LUA, encoding="utf-8")
                bench._write_requests(file, requests)
                bench.wrk(server.port, file, lua, 2, args.connections, 0)  # warm-up
                bench._write_requests(file, requests[::-1])
                before = server.cpu_split()
                out = bench.wrk(server.port, file, lua, args.seconds, args.connections, 0)
                after = server.cpu_split()
                memory = server.memory()
            finally:
                server.stop()
            served = max(out["ok"], 1)
            row = {"req/s": out["rps"], "refused": out["shed"]}
            row |= {f"cpu_{k}_ms": 1000 * (after[k] - before[k]) / served for k in after}
            row["cpu_ms"] = sum(row[f"cpu_{k}_ms"] for k in after)
            row |= {f"{k}_mb": v for k, v in memory.items() if k != "children"}
            results[mode].append(row)
            print(mode, {k: round(v, 2) for k, v in row.items()}, flush=True)
    for mode, rows in results.items():
        print(f"{mode} medians:", {k: round(statistics.median(r[k] for r in rows), 2) for k in rows[0]})
    print(f"load average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()

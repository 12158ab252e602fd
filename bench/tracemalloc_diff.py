"""Where the memory a soak added between two samples was allocated: two tracemalloc snapshots compared.

Why a script: ``bench/soak_worker.py --tracemalloc DIR`` dumps a snapshot at every sample; what grows
between two of them (a cache filling, a structure kept per conversation or per word, a leak) is the
difference, grouped by the line (or the call stack) that allocated it, largest growth first.

Run: ``.venv/bin/python bench/tracemalloc_diff.py DIR/10000.tracemalloc DIR/50000.tracemalloc --top 25``
(``--traceback`` groups by the whole stack, ``--filename`` by file).
"""

from __future__ import annotations

import argparse
import tracemalloc
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--top", type=int, default=25)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--traceback", action="store_true", help="group by the whole call stack")
    group.add_argument("--filename", action="store_true", help="group by file")
    args = parser.parse_args()
    key = "traceback" if args.traceback else "filename" if args.filename else "lineno"
    before = tracemalloc.Snapshot.load(str(args.before))
    after = tracemalloc.Snapshot.load(str(args.after))
    ignore = [
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap*>"),
    ]
    before, after = before.filter_traces(ignore), after.filter_traces(ignore)
    total_before = sum(s.size for s in before.statistics("filename"))
    total_after = sum(s.size for s in after.statistics("filename"))
    grown = (total_after - total_before) / 2**20
    print(f"traced: {total_before / 2**20:.1f} MB -> {total_after / 2**20:.1f} MB ({grown:+.2f} MB)")
    grew = sorted(after.compare_to(before, key), key=lambda stat: stat.size_diff, reverse=True)
    for stat in grew[: args.top]:
        print(f"{stat.size_diff / 2**10:+10.1f} KB {stat.count_diff:+8d} blocks  now {stat.size / 2**10:9.1f} KB")
        for line in stat.traceback.format()[-(8 if args.traceback else 2) :]:
            print("      " + line)


if __name__ == "__main__":
    main()

"""Per-decision cost of the knowledge scorers, ``classic`` against ``fitted``, interleaved in one process.

Usage: python bench/ab_knowledge_scorers.py   (bench_core's 500-article knowledge, 1,560 questions)

``bench/ab_core.py`` compares two checkouts on the default (``classic``) policy; this compares the two
scorers in one checkout. On a shared machine consecutive measurements differ by tens of percent, so the
scorers alternate over five rounds on one pinned core (CPU time) and the medians are printed. Each decision
is measured as the engine pays it: featurise the message window (the trained detectors do it anyway), then
the coverage check, with the features handed over (``fitted`` reuses them; ``classic`` does not need them).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_core

from handoff_core.policy.schema import KnowledgeCoverageConfig
from handoff_core.text.window import analysis_window


def main(rounds: int = 5) -> None:
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    kb = bench_core.knowledge_500("static")
    lines = (bench_core.CORPUS / "messages.jsonl").read_text(encoding="utf-8").splitlines()
    texts = [analysis_window(json.loads(line)["text"]) for line in lines]
    matcher = kb._examples
    kb.fitted.threshold(0.1)  # fitted before timing, as the engine fits it when it is built
    configs = {
        "classic": KnowledgeCoverageConfig(encoder="static"),
        "fitted": KnowledgeCoverageConfig(encoder="static", scorer="fitted"),
    }
    results: dict[str, list[float]] = {name: [] for name in configs}
    for _ in range(rounds):
        for name, config in configs.items():
            start = time.process_time()
            for text in texts:
                features = matcher.featurize(text)  # the engine featurises every customer message anyway
                kb.coverage(text, config, features)
            results[name].append((time.process_time() - start) / len(texts) * 1e6)
    for name, runs in results.items():
        each = " ".join(f"{x:.0f}" for x in runs)
        median = statistics.median(runs)
        print(f"{name:8} featurise + coverage, us per message by round: {each}; median {median:.0f} us")


if __name__ == "__main__":
    main()

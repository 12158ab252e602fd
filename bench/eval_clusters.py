"""How well the weekly review groups unanswered questions, measured on real intent-labelled questions.

Why: a group in the review should be "one missing answer". Intent-labelled question sets say which
questions ask for the same thing, so they measure that directly: the adjusted Rand index (ARI: 1 is the
labelling exactly, 0 is chance) and purity (share of questions whose group's most common intent is their
own intent), with the number of groups beside them (purity alone rewards singletons).

Splits, fixed here before any score was read:

- tuning: HWU64 fold 1 (1,076 real crowd-written requests, 64 intents). ``--tune`` sweeps the threshold
  on it; nothing else was looked at while choosing ``DEFAULT_THRESHOLD`` and ``SEMANTIC_WEIGHT``;
- report: HWU64 fold 10 (1,352 rows, never tuned on) and Bitext customer support (4,514 rows, 27 support
  intents; partly generated text with injected typos, so it flatters any method a little).

Both the current grouping (:mod:`connectors.report.clusters`) and the previous TF-IDF greedy grouping
(``bench/legacy_clusters.py``, kept only as this baseline) are scored on the same questions.

Run: ``.venv/bin/python bench/eval_clusters.py`` (add ``--tune`` for the threshold sweep on fold 1).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import legacy_clusters

from connectors.report import clusters
from connectors.training.data import default_datasets

DATASETS = default_datasets()


def hwu64(fold: int) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    with (DATASETS / "hwu64_nlu_evaluation_data" / "hwu64.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if int(row["fold"]) == fold:
                texts.append(row["text_original"].strip("<> "))
                labels.append(row["label"])
    return texts, labels


def bitext() -> tuple[list[str], list[str]]:
    texts, labels = [], []
    path = DATASETS / "bitext_customer_support" / "bitext_customer_support_4514.csv"
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            texts.append(row["instruction"])
            labels.append(row["intent"])
    return texts, labels


def _comb2(x: np.ndarray) -> float:
    return float((x * (x - 1) / 2).sum())


def scores(groups: Sequence[Sequence[int]], labels: Sequence[str]) -> tuple[float, float, int]:
    """(adjusted Rand index, purity, number of groups)."""
    assigned = np.empty(len(labels), dtype=np.intp)
    for g, members in enumerate(groups):
        assigned[list(members)] = g
    names = {name: i for i, name in enumerate(sorted(set(labels)))}
    truth = np.asarray([names[x] for x in labels])
    table = np.zeros((len(groups), len(names)), dtype=np.float64)
    np.add.at(table, (assigned, truth), 1)
    n = float(len(labels))
    index = _comb2(table)
    rows, cols = _comb2(table.sum(axis=1)), _comb2(table.sum(axis=0))
    expected = rows * cols / (n * (n - 1) / 2)
    maximum = (rows + cols) / 2
    ari = (index - expected) / (maximum - expected) if maximum != expected else 1.0
    purity = float(table.max(axis=1).sum() / n)
    return ari, purity, len(groups)


def measure(name: str, texts: list[str], labels: list[str], grouper: Callable[[list[str]], list[list[int]]]) -> None:
    started = time.perf_counter()
    groups = grouper(texts)
    seconds = time.perf_counter() - started
    ari, purity, count = scores(groups, labels)
    intents = len(Counter(labels))
    print(f"| {name} | {len(texts)} | {intents} | {ari:.3f} | {purity:.3f} | {count} | {seconds:.1f} s |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tune", action="store_true", help="sweep the threshold on the tuning fold only")
    args = parser.parse_args()
    if args.tune:
        texts, labels = hwu64(1)
        for threshold in (0.2, 0.25, 0.3, 0.35, 0.4, 0.5):
            ari, purity, count = scores(clusters.cluster(texts, threshold), labels)
            print(f"threshold {threshold:.2f}: ARI {ari:.3f} purity {purity:.3f} groups {count}")
        ari, purity, count = scores(legacy_clusters.cluster(texts), labels)
        print(f"legacy TF-IDF greedy: ARI {ari:.3f} purity {purity:.3f} groups {count}")
        return
    print("| set | questions | intents | ARI | purity | groups | time |")
    print("|---|---|---|---|---|---|---|")
    for set_name, (texts, labels) in (("HWU64 fold 10", hwu64(10)), ("Bitext (27 intents)", bitext())):
        measure(f"{set_name}, hashed TF-IDF, numpy blocks (now)", texts, labels, clusters.cluster)
        measure(f"{set_name}, TF-IDF greedy (before)", texts, labels, legacy_clusters.cluster)


if __name__ == "__main__":
    main()

"""Restricted topics on every mapped CFPB complaint, by cross-fitting (the test split alone has 14 topical rows).

Usage: python bench/eval_topics_cv.py [--data ../shared/datasets] [--folds 5]

``bench/eval_real.py`` reports the shipped engine on the CFPB *test* split, where only 14 complaints carry a
strong refund or account-security mapping: "right topic" there moves 7 points per complaint. This script
measures the same engine on all of the sample's strong-mapped complaints (207 topical, 948 ``none``) without
ever scoring a complaint with a head that saw it:

- the folds are fixed here, before any score was read: SHA-1 of the complaint id, modulo 10, integer-divided
  by 2 (five folds of two hash buckets each);
- for each fold, the ``refund`` and ``account_security`` heads are refitted exactly as ``handoff train`` fits
  them (same features, C, seed, class balance, threshold rule on dev rows), with that fold's complaints
  removed from both their training and their dev rows; the other heads are the shipped ones;
- the default engine with those heads decides each complaint of the fold (first 400 characters, scrubbing
  marks removed), and the topic it names is compared with the mapping.

The per-fold heads are never shipped; this estimates how the recipe generalises to unseen complaints. The
shipped heads were trained on the CFPB train split, so this is not a score of the shipped file itself.
Needs the training extra (scikit-learn).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from eval_real import DEFAULT_DATA, _topic_lines, _topic_of, decide  # noqa: E402

from connectors.training import detectors as training  # noqa: E402
from connectors.training.data import Row, bitext, cfpb, hwu64  # noqa: E402
from handoff_core.detectors import Detectors, bundled_detectors  # noqa: E402
from handoff_core.engine import DecisionEngine  # noqa: E402
from handoff_core.policy import default_policy_path, load_policy  # noqa: E402

TOPIC_HEADS = ("refund", "account_security")
MAPPING = {"billing_refund": "refund", "account_security": "account_security", "none": "none"}


def fold_of(row: Row, folds: int) -> int:
    bucket = int(hashlib.sha1(row.labels[2].encode("utf-8")).hexdigest(), 16) % 10
    return bucket * folds // 10


def _heads_file(shipped: Detectors, fitted: dict[str, training.FittedHead], path: Path) -> None:
    """The shipped weights with the topic heads replaced by this fold's refits."""
    with np.load(ROOT / "handoff_core" / "data" / "detectors.npz") as loaded:
        arrays = dict(loaded)
    names = [str(n) for n in arrays["names"]]
    for head, result in fitted.items():
        i = names.index(head)
        arrays["hashed"][i] = result.hashed
        arrays["dense"][i] = result.dense
        arrays["bias"][i] = result.bias
        arrays["thresholds"][i] = result.threshold
    np.savez(path, **arrays)
    _ = shipped


def _detail(row: Row, gold: str, decision: object) -> str:
    """One complaint: gold, issue, each topic reason with how it was found and its score, the opening."""
    reasons = [x for x in decision.reasons if x.trigger.value == "restricted_topic"]  # type: ignore[attr-defined]
    found = (
        "; ".join(
            f"{x.topic}:{x.detail[:40]}:{x.score:.2f}:{'|'.join(m for e in x.evidence for m in e.matched)[:60]}"
            for x in reasons
        )
        or "-"
    )
    return "\t".join([gold, row.labels[1], found, row.text[:160].replace("\t", " ")])


def run(data: Path, folds: int, details: Path | None = None) -> list[str]:
    from threadpoolctl import threadpool_limits

    rows = [*bitext(data), *cfpb(data), *hwu64(data)]
    x = training.featurize_rows(rows)
    engine = DecisionEngine(load_policy(default_policy_path()))
    shipped = bundled_detectors()
    gold: list[str] = []
    found: list[str] = []
    decisions = []
    per_fold: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, threadpool_limits(limits=1):
        for k in range(folds):

            def held_out(r: Row, k: int = k) -> bool:
                return r.source == "cfpb" and fold_of(r, folds) == k

            fitted = {
                head: training.fit_head(head, rows, x, training.head_rows(head, rows, exclude=held_out))
                for head in TOPIC_HEADS
            }
            path = Path(tmp) / f"fold{k}.npz"
            _heads_file(shipped, fitted, path)
            engine._detectors = Detectors(path)
            fold_rows = [r for r in rows if held_out(r) and r.labels[0] in MAPPING]
            fold_gold = [MAPPING[r.labels[0]] for r in fold_rows]
            fold_decisions = [decide(engine, r.text, "en") for r in fold_rows]
            fold_found = [_topic_of(d) for d in fold_decisions]
            per_fold.extend(_topic_lines(f"fold {k}", fold_gold, fold_found, fold_decisions))
            if details is not None:
                with details.open("a", encoding="utf-8") as handle:
                    for r, g, d in zip(fold_rows, fold_gold, fold_decisions, strict=True):
                        handle.write(_detail(r, g, d) + "\n")
            gold += fold_gold
            found += fold_found
            decisions += fold_decisions
    out = [f"restricted topics, CFPB cross-fitted over {folds} folds (heads refitted without the fold):"]
    out.extend(_topic_lines("all strong-mapped complaints", gold, found, decisions))
    for topic in ("refund", "account_security"):
        idx = [i for i, g in enumerate(gold) if g == topic]
        counts = Counter(found[i] for i in idx)
        out.append(f"    gold {topic} (n={len(idx)}): found " + ", ".join(f"{t} {n}" for t, n in counts.most_common()))
    out.extend(per_fold)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--details", type=Path, help="append one line per complaint (gold, issue, topics) here")
    args = parser.parse_args()
    for line in run(args.data, args.folds, args.details):
        print(line, flush=True)


if __name__ == "__main__":
    main()

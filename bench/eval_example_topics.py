"""Topics a support lead defines with twenty examples: nearest example vs the fitted head, on real data.

Usage: python bench/eval_example_topics.py [--data ../shared/datasets] [--split dev|test] [--seeds 5]

Protocol (fixed here before any score was read): for each seed, three intents of a set are declared a
support lead's topics and twenty of each intent's *training* rows (drawn with that seed) are their
``examples:``; every row of the chosen split is then read by the detector: rows of the three intents
should be named their intent, every other row nothing. Sets: Bitext customer support (27 intents, partly
generated text; hash split ``dev``/``test``) and HWU64 (64 intents, real crowd-written requests; fold 9
``dev``, fold 10 ``test``). Tune on ``--split dev``; ``--split test`` is the report, read once.

Methods: ``nearest@T`` is the nearest example at ``threshold: T`` (0.8 is the policy's default)
(:class:`handoff_core.examples.ExampleMatcher`); ``head`` is :class:`handoff_core.example_head.ExampleHead`
with the bundled "none of the above" pool and thresholds cross-fitted from the examples (no tuning data);
``--min-recall 0 0.5 0.7`` compares the recall floor of that calibration (0.5 was chosen on dev).
This is the detector layer: the engine's framing rules (a question about the rules continues) come after.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connectors.training.data import Row, bitext, default_datasets, hwu64  # noqa: E402
from handoff_core.example_head import MIN_RECALL, ExampleHead  # noqa: E402
from handoff_core.examples import ExampleMatcher  # noqa: E402
from handoff_core.features import bundled_featurizer  # noqa: E402

TOPICS = 3
EXAMPLES = 20
NEAREST_THRESHOLDS = (0.8, 0.7, 0.6)


def trial(rows: list[Row], split: str, seed: int) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    rng = np.random.default_rng(seed)
    intents = sorted({r.labels[0] for r in rows})
    chosen = [intents[i] for i in rng.choice(len(intents), TOPICS, replace=False)]
    examples = {}
    for intent in chosen:
        train = sorted(r.text for r in rows if r.split == "train" and r.labels[0] == intent)
        examples[intent] = [train[i] for i in rng.choice(len(train), EXAMPLES, replace=False)]
    evaluated = [(r.text, r.labels[0] if r.labels[0] in chosen else "none") for r in rows if r.split == split]
    return examples, evaluated


def score(gold: list[str], found: list[str]) -> dict[str, float]:
    g, f = np.array(gold), np.array(found)
    topical = g != "none"
    return {
        "recall": float((f[topical] != "none").mean()),
        "right": float((f[topical] == g[topical]).mean()),
        "false": float((f[~topical] != "none").mean()),
    }


def run(data: Path, split: str, seeds: int, recalls: tuple[float, ...] = (MIN_RECALL,)) -> list[str]:
    featurizer = bundled_featurizer()
    out = []
    sets = {"bitext": bitext(data), "hwu64": hwu64(data)}
    for name, rows in sets.items():
        per: dict[str, list[dict[str, float]]] = {
            **{f"nearest@{t}": [] for t in NEAREST_THRESHOLDS},
            **{f"head@{r}": [] for r in recalls},
        }
        fit_s = []
        for seed in range(seeds):
            examples, evaluated = trial(rows, split, seed)
            gold = [g for _, g in evaluated]
            feats = featurizer.featurize_many([t for t, _ in evaluated])
            matcher = ExampleMatcher(examples, featurizer)
            for threshold in NEAREST_THRESHOLDS:
                near = []
                for f in feats:
                    m = matcher.match(f, threshold)
                    near.append(m.label if m else "none")
                per[f"nearest@{threshold}"].append(score(gold, near))
            for recall in recalls:
                started = time.process_time()
                head = ExampleHead(examples, featurizer=featurizer, min_recall=recall)
                fit_s.append(time.process_time() - started)
                fitted = []
                for f in feats:
                    m = head.best(f)
                    fitted.append(m.label if m else "none")
                per[f"head@{recall}"].append(score(gold, fitted))
            cal = "; ".join(
                f"{c.topic} thr {c.threshold:.2f} loo-recall {c.recall:.2f} dropped {c.dropped}"
                for c in head.calibration.values()
            )
            out.append(f"  {name} seed {seed}: [{cal}]")
        for method, results in per.items():
            mean = {k: np.mean([r[k] for r in results]) for k in results[0]}
            low = {k: np.min([r[k] for r in results]) for k in ("recall", "right")}
            out.append(
                f"{name} {split} {method:10s} recall {mean['recall']:.3f} (min {low['recall']:.3f})  right topic "
                f"{mean['right']:.3f} (min {low['right']:.3f})  false topic {mean['false']:.4f}"
                f"  (seeds {seeds}, {TOPICS} topics x {EXAMPLES} examples)"
            )
        out.append(f"{name} head fit CPU s per trial: median {np.median(fit_s):.2f}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=default_datasets())
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--min-recall", type=float, nargs="+", default=[MIN_RECALL], help="head variants (the shipped one by default)"
    )
    args = parser.parse_args()
    for line in run(args.data, args.split, args.seeds, tuple(args.min_recall)):
        print(line, flush=True)


if __name__ == "__main__":
    main()

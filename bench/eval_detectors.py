"""Detector accuracy: REAL public data first (``--real``), then the project's own written regression sets.

Usage: python bench/eval_detectors.py --real [--data ../shared/datasets]   # real development data
       python bench/eval_detectors.py [--set tuning|v2|v3|v4|holdout] [--split dev|test|all] [--errors]

Accuracy is judged on real data: ``--real`` runs ``bench/eval_real.py`` (GoEmotions, XED, CFPB, Rasa,
Bitext and HWU64 test splits that no model was trained and no threshold was tuned on). The sets below were
written by us: they are REGRESSION and TUNING sets, not evidence of accuracy on real customer text.

All written sets were written by people who had not seen the detectors or the other sets, in five rounds.
``tuning`` (tests/data/written_tuning_*.jsonl and config/examples/conversations.jsonl), ``v2``, ``v3`` and ``v4``
(tests/data/written_tuned_round2..4.jsonl) were each first used as a held-out test and afterwards to improve the
default policy, so their numbers are now optimistic. ``holdout`` (tests/data/written_untuned_round5.jsonl) was
written last and not used for tuning: its numbers are the honest estimate of how the detectors
generalise.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from connectors.training.data import default_datasets
from handoff_core import Action, Conversation
from handoff_core.engine import DecisionEngine
from handoff_core.knowledge import load_knowledge
from handoff_core.policy import Policy, default_policy_path, load_policy
from handoff_core.transformer import minilm_available

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Score:
    name: str
    correct: int
    total: int
    errors: list[str]
    extra: str = ""

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


ROUNDS = {
    "v2": ROOT / "tests/data/written_tuned_round2.jsonl",
    "v3": ROOT / "tests/data/written_tuned_round3.jsonl",
    "v4": ROOT / "tests/data/written_tuned_round4.jsonl",
    "holdout": ROOT / "tests/data/written_untuned_round5.jsonl",
}


def _rows(path: Path, split: str, kind: str | None = None) -> list[dict[str, object]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if kind is not None:
        rows = [r for r in rows if r.get("kind") == kind]
    if split == "all":
        return rows
    return [r for i, r in enumerate(rows) if (i % 2 == 0) == (split == "dev")]


def _one(engine: DecisionEngine, text: str) -> object:
    return engine.decide(Conversation.model_validate({"id": "eval", "messages": [{"role": "customer", "text": text}]}))


def sentiment(policy: Policy, engine: DecisionEngine, split: str, source: Path | None = None) -> Score:
    rows = (
        _rows(source, split, "sentiment")
        if source
        else _rows(ROOT / "tests/data/written_tuning_sentiment.jsonl", split)
    )
    tp = fp = fn = 0
    errors = []
    for r in rows:
        score = _one(engine, str(r["text"])).signals.sentiment  # type: ignore[attr-defined]
        predicted, gold = score <= policy.triggers.sentiment.negative_below, r["label"] == "angry"
        tp += predicted and gold
        fp += predicted and not gold
        fn += gold and not predicted
        if predicted != gold:
            errors.append(f"{r['label']:>5} {score:+.2f} {r['text']}")
    correct = len(rows) - len(errors)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return Score(
        "sentiment (angry vs calm)",
        correct,
        len(rows),
        errors,
        f"precision {precision:.2f}, recall {recall:.2f}",
    )


def topics(engine: DecisionEngine, split: str, source: Path | None = None) -> Score:
    rows = _rows(source, split, "topic") if source else _rows(ROOT / "tests/data/written_tuning_topic.jsonl", split)
    errors = []
    confusion: Counter[tuple[str, str]] = Counter()
    for r in rows:
        d = _one(engine, str(r["text"]))
        found = {x.topic for x in d.reasons if x.trigger.value == "restricted_topic"}  # type: ignore[attr-defined]
        predicted = "account_security" if "account_security" in found else "refund" if "refund" in found else "none"
        confusion[(str(r["topic"]), predicted)] += 1
        if predicted != r["topic"]:
            errors.append(f"{r['topic']:>16} -> {predicted:<16} {r['text']}")
    recall = {
        t: confusion[(t, t)] / max(1, sum(v for (g, _), v in confusion.items() if g == t))
        for t in ("refund", "account_security", "none")
    }
    extra = ", ".join(f"{t} recall {v:.2f}" for t, v in recall.items())
    return Score("topics (refund / account_security / none)", len(rows) - len(errors), len(rows), errors, extra)


def knowledge(policy: Policy, split: str, encoder: str) -> Score:
    kb = load_knowledge(ROOT / "config/examples/knowledge.jsonl", encoder=encoder)
    rows = _rows(ROOT / "tests/data/written_tuning_knowledge.jsonl", split)
    errors = []
    for r in rows:
        cov = kb.coverage(str(r["text"]), policy.triggers.low_confidence.knowledge)
        top = cov.matches[0].id if cov.matches else None
        ok = (cov.status == "covered") == r["covered"] and (not r["covered"] or top == r["entry"])
        if not ok:
            errors.append(f"covered={r['covered']!s:5} {cov.status:<9} {cov.score:.2f} top={top} {r['text']}")
    return Score(
        f"knowledge-{encoder} coverage (in / out of the knowledge base)", len(rows) - len(errors), len(rows), errors
    )


def conversations(engine: DecisionEngine, split: str) -> Score:
    rows = _rows(ROOT / "config/examples/conversations.jsonl", split)
    errors = []
    handoff_errors = 0
    for r in rows:
        expected = r.pop("expected")
        d = engine.decide(Conversation.model_validate(r))
        if d.action.value != expected["action"]:  # type: ignore[index]
            errors.append(f"{r['id']} expected {expected['action']} got {d.action.value}: {list(d.triggers)}")  # type: ignore[index]
            handoff_errors += (d.action is Action.CONTINUE) != (expected["action"] == "continue")  # type: ignore[index]
    hand = len(rows) - handoff_errors
    return Score(
        "example conversations (exact action)",
        len(rows) - len(errors),
        len(rows),
        errors,
        f"hand over or not: {hand}/{len(rows)} = {hand / len(rows):.2f}",
    )


def evaluate(split: str, which: str = "tuning") -> list[Score]:
    policy = load_policy(default_policy_path())
    engine = DecisionEngine(policy)
    if which in ROUNDS:
        return [sentiment(policy, engine, split, ROUNDS[which]), topics(engine, split, ROUNDS[which])]
    return [
        sentiment(policy, engine, split),
        topics(engine, split),
        knowledge(policy, split, "words"),
        knowledge(policy, split, "static"),
        *([knowledge(policy, split, "transformer")] if minilm_available() else []),
        conversations(engine, split),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", dest="which", choices=["tuning", *ROUNDS], default="tuning")
    parser.add_argument("--split", choices=["dev", "test", "all"], default="all")
    parser.add_argument("--errors", action="store_true", help="list the misclassified examples")
    parser.add_argument("--real", action="store_true", help="real public development data (bench/eval_real.py)")
    parser.add_argument("--data", type=Path, default=default_datasets())
    args = parser.parse_args()
    if args.real:
        import eval_real

        for line in eval_real.run(args.data, {"anger", "human", "topics", "knowledge"}):
            print(line, flush=True)
        return
    kind = "held out when written, never tuned on" if args.which == "holdout" else "TUNED ON: optimistic"
    print(f"REGRESSION set {args.which!r} (written by the project, {kind}; not evidence of real-world accuracy)")
    for score in evaluate(args.split, args.which):
        print(f"{score.name:<55} {score.correct:>4}/{score.total:<4} {score.accuracy:6.1%}  {score.extra}")
        if args.errors:
            for e in score.errors:
                print("    " + e)


if __name__ == "__main__":
    main()

"""Accuracy of the default policy on the labelled sets (written independently of the detectors).

The floors sit a little under the measured values (see README, "Measured") so that a change which makes
the detectors worse fails here. These are written REGRESSION sets, not evidence of accuracy: since issue 9
the sentiment score comes from detectors trained on real data (docs/models.md), which raised every real-data
number (docs/accuracy.md) and lowered the sentiment floors here by 6-10 points (the cue lists were tuned on
these very sets); `python bench/eval_detectors.py --errors` lists the misses.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import eval_detectors


@pytest.fixture(scope="module")
def scores() -> dict[str, eval_detectors.Score]:
    return {s.name.split(" ")[0]: s for s in eval_detectors.evaluate("all")}


@pytest.mark.parametrize(
    ("name", "floor"),
    [
        ("sentiment", 0.88),
        ("topics", 0.95),
        ("example", 0.85),
        ("knowledge-static", 0.48),
        ("knowledge-transformer", 0.6),
    ],
)
def test_accuracy_floor(scores: dict[str, eval_detectors.Score], name: str, floor: float) -> None:
    """Each detector keeps at least its measured accuracy (minus a small margin) on the labelled sets."""
    score = scores[name]
    assert score.total >= 98
    assert score.accuracy >= floor, f"{score.name}: {score.correct}/{score.total} = {score.accuracy:.1%}"


def test_no_calm_policy_question_is_handed_off(scores: dict[str, eval_detectors.Score]) -> None:
    """Questions labelled as policy questions in the topic set are never read as refund or security."""
    import json

    from handoff_core import Conversation
    from handoff_core.engine import DecisionEngine
    from handoff_core.policy import default_policy_path, load_policy

    root = Path(__file__).resolve().parents[2]
    engine = DecisionEngine(load_policy(default_policy_path()))
    rows = [
        json.loads(line) for line in (root / "tests/data/written_tuning_topic.jsonl").read_text().splitlines() if line
    ]
    questions = [r for r in rows if r.get("policy_question")]
    assert len(questions) >= 20
    wrong = []
    for r in questions:
        d = engine.decide(
            Conversation.model_validate({"id": "q", "messages": [{"role": "customer", "text": r["text"]}]})
        )
        if any(x.topic in {"refund", "account_security"} for x in d.reasons):
            wrong.append(r["text"])
    assert len(wrong) <= len(questions) * 0.15, wrong


@pytest.mark.parametrize(
    ("which", "name", "floor"),
    [
        ("v2", "sentiment", 0.85),
        ("v2", "topics", 0.93),
        ("v3", "sentiment", 0.82),
        ("v3", "topics", 0.94),
        ("v4", "sentiment", 0.86),
        ("v4", "topics", 0.95),
        ("holdout", "sentiment", 0.79),
        # 0.84 until round 6 (191/225); the example sets' veto of trained and combo hits costs three held-out
        # written messages (188/225) and takes Bitext test false topic 4.6 % -> 1.0 % (docs/models.md).
        ("holdout", "topics", 0.83),
    ],
)
def test_second_and_holdout_floors(which: str, name: str, floor: float) -> None:
    """On the later sets (v2 to v4 tuned on; v5 held out) the detectors keep their measured accuracy."""
    scores = {s.name.split(" ")[0]: s for s in eval_detectors.evaluate("all", which)}
    score = scores[name]
    assert score.total >= 160
    assert score.accuracy >= floor, f"{score.name}: {score.correct}/{score.total} = {score.accuracy:.1%}"

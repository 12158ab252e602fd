"""The example head: a topic defined by twenty examples, fitted at load against ordinary questions, with
thresholds cross-fitted from the examples themselves (handoff_core/example_head.py)."""

from __future__ import annotations

import numpy as np
import pytest

from handoff_core import Action
from handoff_core.engine import DecisionEngine
from handoff_core.example_head import GAMMA, NONE, RIDGE, ExampleHead, bundled_negatives
from handoff_core.features import bundled_featurizer
from handoff_core.policy import parse_policy

from .conftest import FIXTURE_POLICY, decide
from .test_example_topics import CANCEL_EXAMPLES

LOST_CARD = [
    "I lost my card",
    "my card was stolen",
    "someone stole my wallet with my bank card",
    "I can't find my debit card anywhere",
    "my credit card is missing",
    "please block my card, I lost it",
    "I think my card got stolen yesterday",
    "lost my card on the bus",
    "my wallet and cards were taken",
    "card stolen, what do I do",
    "I misplaced my card",
    "my bank card is gone",
    "I left my card at a shop and it's gone",
    "a thief took my card",
    "my card was stolen from my car",
    "I have lost my visa card",
    "my card disappeared",
    "can't locate my card, it may be stolen",
    "my purse was stolen with my cards inside",
    "I dropped my card somewhere",
]


@pytest.fixture(scope="module")
def head() -> ExampleHead:
    return ExampleHead({"cancellation": CANCEL_EXAMPLES, "lost_card": LOST_CARD})


def _named(head: ExampleHead, text: str) -> str | None:
    found = head.best(bundled_featurizer().featurize(text))
    return found.label if found else None


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("I'd like to cancel my subscription please", "cancellation"),
        ("cancel my subscription", "cancellation"),
        ("my card has been stolen, help", "lost_card"),
        ("I can't find my credit card, I think I lost it", "lost_card"),
        ("where is my parcel? it was due on Monday", None),
        ("what are your opening hours", None),
        ("can I change the delivery address of my order", None),
        ("set an alarm for 7 am", None),
        ("how do I download my invoice", None),
    ],
)
def test_twenty_examples_name_paraphrases_and_leave_ordinary_questions(
    head: ExampleHead, text: str, topic: str | None
) -> None:
    """Written paraphrases (regression cases, not evidence) are named their topic; ordinary questions nothing."""
    assert _named(head, text) == topic


def test_leave_one_out_equals_refitting_without_the_row(head: ExampleHead) -> None:
    """Each cross-fitted output equals the output of a head refitted (same kernel) without that row."""
    matcher = head.matcher
    n = len(matcher)
    kernel = np.stack([matcher.similarities(f) for f in matcher.features]).astype(np.float64)
    kernel = np.exp(GAMMA * ((kernel + kernel.T) / 2 - 1.0))
    targets = np.zeros((n, len(matcher.labels)))
    targets[np.arange(n), matcher.owners] = 1.0
    for i in (0, 5, 21, n // 2, n - 1):
        keep = np.arange(n) != i
        weights = np.linalg.solve(kernel[np.ix_(keep, keep)] + RIDGE * np.eye(n - 1), targets[keep])
        np.testing.assert_allclose(head.held_out[i], kernel[i, keep] @ weights, atol=1e-6)


def test_thresholds_come_from_the_cross_fitted_examples(head: ExampleHead) -> None:
    """Each topic's threshold keeps at least half of its own cross-fitted examples and is reported."""
    for topic in head.topics:
        calibration = head.calibration[topic]
        assert calibration.threshold == pytest.approx(head.threshold(topic), abs=1e-4)
        assert calibration.recall >= 0.5
        assert calibration.false_rate <= 0.05


def test_pool_questions_that_are_the_topic_are_not_its_negatives() -> None:
    """A pool question that is one of the topic's own examples is dropped as a negative, not learned against."""
    pool = list(bundled_negatives()[:60])
    topic = [*CANCEL_EXAMPLES[:10], *pool[:5]]
    head = ExampleHead({"cancellation": topic}, negatives=pool)
    assert head.calibration["cancellation"].dropped >= 5
    assert NONE in head.matcher.labels
    assert len(head.matcher) <= len(topic) + len(pool) - 5


def test_fit_is_deterministic(head: ExampleHead) -> None:
    """Two fits of the same examples give the same weights and thresholds, bit for bit."""
    again = ExampleHead({"cancellation": CANCEL_EXAMPLES, "lost_card": LOST_CARD})
    assert np.array_equal(again.weights, head.weights)
    assert again.calibration == head.calibration


def _engine(scorer: str) -> DecisionEngine:
    examples = "\n".join(f"          - {text}" for text in LOST_CARD)
    text = (
        f"extends: {FIXTURE_POLICY.name}\nversion: t\ntriggers:\n  restricted_topic:\n"
        f"    examples_scorer: {scorer}\n    topics:\n"
        f"      lost_card:\n        label: lost card\n        examples:\n{examples}\n"
    )
    return DecisionEngine(parse_policy(text, base_dir=FIXTURE_POLICY.parent))


def test_engine_hit_carries_score_nearest_example_and_similarity() -> None:
    """A head hit hands off with the head's score, the nearest example and its similarity as evidence."""
    d = decide(_engine("head"), "somebody stole my card at the station")
    reason = next(r for r in d.reasons if r.topic == "lost_card")
    assert d.action is Action.HANDOFF
    assert "examples head" in reason.detail
    [evidence] = reason.evidence
    assert evidence.example in LOST_CARD
    assert evidence.similarity is not None and 0.0 < evidence.similarity <= 1.0
    assert evidence.score == reason.score


def test_nearest_scorer_is_still_available() -> None:
    """examples_scorer: nearest reads the nearest example against the topic's threshold, as before."""
    engine = _engine("nearest")
    d = decide(engine, "my card was stolen")
    reason = next(r for r in d.reasons if r.topic == "lost_card")
    assert "nearest example" in reason.detail
    assert reason.evidence[0].similarity is None
    assert reason.evidence[0].example == "my card was stolen"


@pytest.mark.parametrize(
    "text",
    ["my card has been stolen, help", "cancel my subscription", "what are your opening hours", "my parcel is late"],
)
def test_reading_agrees_with_best(head: ExampleHead, text: str) -> None:
    """A reading's gap (margin minus threshold) is >= 0 exactly for the topic best() names, and gaps rank topics."""
    features = bundled_featurizer().featurize(text)
    reading = head.read(features)
    found = head.best(features)
    gaps = {topic: reading.gap(topic) for topic in head.topics}
    assert reading.gap("no_such_topic") is None
    if found is None:
        assert all(g is not None and g < 0 for g in gaps.values())
    else:
        assert gaps[found.label] is not None and gaps[found.label] >= 0
        assert reading.match(found.label) == found


def test_ordinary_examples_join_the_none_pool() -> None:
    """Extra ordinary examples are "none of the above": a message like them stops being named the topic."""
    text = "lost my card on the way, can I get the delivery tracked"
    plain = ExampleHead({"lost_card": LOST_CARD})
    extra = ExampleHead(
        {"lost_card": LOST_CARD},
        [*bundled_negatives(), *(f"my new card was lost in the post, can I track delivery {n}" for n in range(8))],
    )
    features = bundled_featurizer().featurize(text)
    plain_gap, extra_gap = plain.read(features).gap("lost_card"), extra.read(features).gap("lost_card")
    assert plain_gap is not None and extra_gap is not None
    assert extra_gap < plain_gap

"""Trained detectors: shipped weights load, score with evidence, and drive the triggers through the engine."""

from __future__ import annotations

import math
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from handoff_core import Conversation, Decision
from handoff_core.detectors import Detectors, DetectorScore, bundled_detectors, length_share
from handoff_core.engine import DecisionEngine
from handoff_core.features import bundled_featurizer
from handoff_core.policy import Policy
from handoff_core.sentiment import ModelSentiment, with_rules


# This module checks what the shipped default policy decides (its phrases, languages and detectors), so it
# uses the default policy rather than the core tests' small fixture policy.
@pytest.fixture(scope="module")
def engine(default_engine: DecisionEngine) -> DecisionEngine:
    return default_engine


@pytest.fixture(scope="module")
def policy(default_policy: Policy) -> Policy:
    return default_policy


HEADS = {"angry", "negative", "human_request", "refund", "account_security"}


def _policy(triggers: dict[str, Any]) -> Policy:
    return Policy.model_validate({"version": "detectors-test", "triggers": triggers})


def _decide(engine: DecisionEngine, text: str) -> Decision:
    return engine.decide(Conversation.model_validate({"id": "t", "messages": [{"role": "customer", "text": text}]}))


def test_weights_are_package_data_within_budget() -> None:
    """All shipped model data (detector heads + static embeddings) stays within 20 MB; every head loads."""
    data = resources.files("handoff_core") / "data"
    total = sum(len(p.read_bytes()) for p in data.iterdir() if p.name.endswith((".npz", ".json")))
    assert total <= 20 * 1024 * 1024
    detectors = bundled_detectors()
    assert set(detectors.names) == HEADS
    assert all(0.0 < t < 1.0 for t in detectors.thresholds.values())
    assert bundled_detectors() is detectors  # loaded once


@pytest.mark.parametrize(
    ("text", "head", "fires"),
    [
        ("This is absolutely ridiculous, you people are useless and I am furious!", "angry", True),
        ("Thanks, that worked perfectly. Have a nice day.", "angry", False),
        ("I want to talk to a human agent", "human_request", True),
        ("How do I change my delivery address?", "human_request", False),
        ("I want a refund for my order, I returned it two weeks ago", "refund", True),
        ("What time do you open on Saturdays?", "refund", False),
        ("I forgot my password and can't log in to my account", "account_security", True),
    ],
)
def test_heads_on_clear_messages(text: str, head: str, fires: bool) -> None:
    """Each head fires on a clear example of its class and stays quiet on an ordinary message."""
    score = bundled_detectors().score(bundled_featurizer().featurize(text), head)
    assert score.fired is fires, score
    if fires:
        assert score.contributors
        assert all(c.lower() in text.lower() for c in score.contributors)


def test_human_request_from_the_trained_detector_alone() -> None:
    """With no phrases at all, the trained detector recognises a request for a person, with its evidence."""
    engine = DecisionEngine(_policy({"human_request": {"phrases": []}}))
    d = _decide(engine, "can you connect me with a live agent please")
    reason = next(r for r in d.reasons if r.trigger.value == "human_request")
    evidence = reason.evidence[0]
    assert evidence.score is not None
    assert evidence.score >= bundled_detectors().thresholds["human_request"]
    assert evidence.matched
    off = DecisionEngine(_policy({"human_request": {"phrases": [], "model": {"enabled": False}}}))
    assert not _decide(off, "can you connect me with a live agent please").reasons


def test_topic_from_model_keeps_policy_questions_answerable() -> None:
    """A topic read by the trained head hands over a request but lets a question about the rules continue."""
    engine = DecisionEngine(_policy({"restricted_topic": {"topics": {"refund": {"model": {"head": "refund"}}}}}))
    d = _decide(engine, "I want a refund for my order, I returned it two weeks ago")
    reason = next(r for r in d.reasons if r.trigger.value == "restricted_topic")
    assert reason.topic == "refund"
    assert "trained detector" in reason.detail
    assert reason.evidence[0].score is not None
    question = _decide(engine, "What is your refund policy?")
    assert question.action.value == "continue"


def test_topic_from_examples_with_nearest_example_as_evidence() -> None:
    """A topic defined only by examples fires on a paraphrase through the example head (the default since
    round 5) and quotes its nearest example with that example's similarity."""
    examples = [
        "I want to cancel my subscription",
        "please stop my membership",
        "how do I end my plan, I don't want it anymore",
        "cancel my account renewal",
    ]
    engine = DecisionEngine(
        _policy(
            {
                "restricted_topic": {"topics": {"cancellation": {"examples": examples, "threshold": 0.7}}},
                "refund_exception": {"enabled": False},
            }
        )
    )
    d = _decide(engine, "cancel my subscription now please")
    reason = next(r for r in d.reasons if r.trigger.value == "restricted_topic")
    assert reason.topic == "cancellation"
    assert reason.evidence[0].example in examples
    assert reason.evidence[0].similarity is not None
    assert "examples head" in reason.detail
    assert _decide(engine, "what colours does the jacket come in").action.value == "continue"


def test_angry_signal_and_sentiment_evidence_from_the_model() -> None:
    """An angry message is angry through the trained head, its probability carried as evidence."""
    engine = DecisionEngine(_policy({"sentiment": {}}))
    d = _decide(engine, "This is absolutely ridiculous, you people are useless and I am furious!")
    assert d.signals.angry
    reason = next(r for r in d.reasons if r.trigger.value == "sentiment")
    assert reason.evidence[0].score is not None
    calm = _decide(engine, "the tracking page has not updated in four days")
    assert not calm.signals.angry


def test_rule_weights_move_the_angry_probability_the_scorer_reports(engine: DecisionEngine) -> None:
    """With rule weights, the sentiment scorer's angry probability is the n-gram logit plus weights . reading."""
    detectors = bundled_detectors()
    # The shipped heads read n-grams only (docs/models.md: rule features measured, not shipped).
    assert all(w == () for w in detectors.rule_weights.values())
    text = "This is ridiculous!! I have asked three times and I am furious"
    reading = engine.sentiment_features(text, "en")
    assert reading[0] > 0 and reading[1] > 0  # cues and VADER both read it as negative
    scores = detectors.score_all(bundled_featurizer().featurize_many([text])[0])
    weights = (1.0, 0.5, -1.0, -0.5)
    scorer = engine._sentiment
    analyzed = engine._analyzer.analyze(text, "en")
    plain = scorer.score(0, analyzed, ModelSentiment(scores["angry"], scores["negative"]))
    ruled = scorer.score(0, analyzed, ModelSentiment(scores["angry"], scores["negative"], angry_rules=weights))
    logit = scores["angry"].logit + sum(w * f for w, f in zip(weights, reading, strict=True))
    assert plain.angry_probability == scores["angry"].probability
    assert ruled.angry_probability == round(1.0 / (1.0 + math.exp(-logit)), 4) != plain.angry_probability
    assert ruled.negative_probability == plain.negative_probability  # no rule weights for that head


@pytest.mark.parametrize(
    ("weights", "features", "shift"),
    [
        ((), (1.0, 1.0, 0.0, 0.0), 0.0),
        ((2.0, 0.0, 0.0, 0.0), (0.5, 1.0, 0.0, 0.0), 1.0),
        ((0.0, 0.0, -1.5, 0.0), (0.0, 0.0, 1.0, 0.0), -1.5),
    ],
)
def test_with_rules_shifts_the_logit_by_the_dot_product(
    weights: tuple[float, ...], features: tuple[float, ...], shift: float
) -> None:
    """No rule weights leave a score as it is; otherwise the logit moves by exactly weights . features."""
    score = DetectorScore("angry", 0.5, 0.4, ("x",), logit=0.0)
    out = with_rules(score, weights, features)
    assert out.logit == pytest.approx(shift)
    assert out.probability == round(1.0 / (1.0 + math.exp(-shift)), 4)
    assert out.threshold == 0.4 and out.contributors == ("x",)


def test_weights_without_rule_member_read_no_rule_weights(tmp_path: Path) -> None:
    """A weights file written before rule features existed loads, and its heads read n-grams only."""
    with resources.files("handoff_core").joinpath("data", "detectors.npz").open("rb") as handle:
        arrays = {k: v for k, v in np.load(handle).items() if k != "rules"}
    path = tmp_path / "old.npz"
    np.savez(path, **arrays)
    assert all(w == () for w in Detectors(path).rule_weights.values())


@pytest.mark.parametrize(
    ("characters", "share"),
    [(0, 0.0), (150, 0.0), (225, 0.5), (300, 1.0), (2_000, 1.0)],
)
def test_length_share_ramps_between_start_and_end(characters: int, share: float) -> None:
    """The length offset applies not at all up to the ramp's start, linearly on it, and fully from its end."""
    assert length_share(characters, 150.0, 300.0) == pytest.approx(share)


def _with_length_offset(tmp_path: Path, offset: float) -> Detectors:
    with resources.files("handoff_core").joinpath("data", "detectors.npz").open("rb") as handle:
        arrays = {k: v for k, v in np.load(handle).items() if k not in ("length_offset", "length_ramp")}
    names = [str(n) for n in arrays["names"]]
    arrays["length_offset"] = np.asarray([offset if n == "angry" else 0.0 for n in names], dtype=np.float32)
    arrays["length_ramp"] = np.asarray([150.0, 300.0], dtype=np.float32)
    path = tmp_path / "offset.npz"
    np.savez(path, **arrays)
    return Detectors(path)


def test_length_offset_moves_long_messages_only(tmp_path: Path) -> None:
    """A head's length offset is added to the logit of a long message (in full from the ramp's end, with or
    without evidence), never to a short one, and never to another head."""
    plain = _with_length_offset(tmp_path, 0.0)
    shifted = _with_length_offset(tmp_path, 1.5)
    assert plain.length_offsets["angry"] == 0.0 and shifted.length_offsets["angry"] == 1.5
    short = "you people are useless"
    letter = "I have written to your bank four times about the same charge and nobody answers. " * 5
    long_features, short_features = bundled_featurizer().featurize_many([letter, short])
    assert len(letter) > 300
    for evidence in (0, 3):
        before = plain.score_all(long_features, evidence)
        after = shifted.score_all(long_features, evidence)
        assert after["angry"].logit == pytest.approx(before["angry"].logit + 1.5, abs=1e-4)
        assert after["angry"].probability > before["angry"].probability
        assert after["negative"].logit == before["negative"].logit
        assert shifted.score(long_features, "angry", evidence).logit == pytest.approx(after["angry"].logit, abs=1e-5)
        assert (
            shifted.score_all(short_features, evidence)["angry"].logit
            == plain.score_all(short_features, evidence)["angry"].logit
        )


def test_weights_without_length_member_have_no_offsets(tmp_path: Path) -> None:
    """A weights file written before length offsets existed loads, and no head moves with length."""
    with resources.files("handoff_core").joinpath("data", "detectors.npz").open("rb") as handle:
        arrays = {k: v for k, v in np.load(handle).items() if k not in ("length_offset", "length_ramp")}
    path = tmp_path / "old.npz"
    np.savez(path, **arrays)
    assert set(Detectors(path).length_offsets.values()) == {0.0}

"""The ``fitted`` knowledge scorer: a kernel ridge head fitted at load, its exact leave-one-out threshold,
and the nearest example question it gives as evidence."""

from __future__ import annotations

import numpy as np
import pytest

from handoff_core import Action
from handoff_core.engine import DecisionEngine
from handoff_core.errors import KnowledgeError
from handoff_core.knowledge import (
    FITTED_GAMMA,
    FITTED_MAX_QUESTIONS,
    FITTED_RIDGE,
    FittedCoverage,
    KnowledgeBase,
    check_fitted_size,
    load_knowledge,
)
from handoff_core.policy import Policy
from handoff_core.policy.schema import KnowledgeCoverageConfig

from .conftest import ROOT, conversation

FITTED = KnowledgeCoverageConfig(scorer="fitted")


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge(ROOT / "config" / "examples" / "knowledge.jsonl", encoder="static")


@pytest.fixture(scope="module")
def fitted_policy(policy: Policy) -> Policy:
    data = policy.model_dump()
    data["triggers"]["low_confidence"]["knowledge"]["scorer"] = "fitted"
    return Policy.model_validate(data)


def test_leave_one_out_equals_refitting_without_the_question(kb: KnowledgeBase) -> None:
    """Each closed-form held-out score equals the best output of a head refitted without that question."""
    head = kb.fitted
    matcher = head.matcher
    n = len(matcher)
    kernel = np.stack([matcher.similarities(f) for f in matcher.features]).astype(np.float64)
    kernel = np.exp(FITTED_GAMMA * ((kernel + kernel.T) / 2 - 1.0))
    targets = np.zeros((n, len(matcher.labels)))
    targets[np.arange(n), matcher.owners] = 1.0
    counts = np.bincount(matcher.owners)
    usable = [i for i in range(n) if counts[matcher.owners[i]] >= 2]
    assert len(usable) == len(head.held_out_scores)
    for position in (0, 7, len(usable) // 2, len(usable) - 1):
        i = usable[position]
        keep = np.arange(n) != i
        weights = np.linalg.solve(kernel[np.ix_(keep, keep)] + FITTED_RIDGE * np.eye(n - 1), targets[keep])
        refitted = float((kernel[i, keep] @ weights).max())
        assert head.held_out_scores[position] == pytest.approx(refitted, abs=1e-6)


def test_threshold_is_the_false_rate_quantile_of_held_out_scores(kb: KnowledgeBase) -> None:
    """The threshold leaves out the requested share of the knowledge's own (cross-fitted) questions."""
    scores = kb.fitted.held_out_scores
    for rate in (0.05, 0.1, 0.2):
        below = float((scores < kb.fitted.threshold(rate)).mean())
        assert abs(below - rate) <= 1.0 / len(scores) + 1e-9


def test_fit_is_deterministic(kb: KnowledgeBase) -> None:
    """Two fits of the same knowledge give the same weights and held-out scores, bit for bit."""
    again = FittedCoverage(kb.fitted.matcher)
    assert np.array_equal(again.weights, kb.fitted.weights)
    assert np.array_equal(again.held_out_scores, kb.fitted.held_out_scores)


@pytest.mark.parametrize(
    ("question", "status", "entry"),
    [
        ("how long does it take for my refund to arrive?", "covered", "kb-refund-timing"),
        ("Which countries outside Europe do you deliver parcels to?", "covered", "kb-shipping-countries"),
        ("can you write me a short poem about cats", "no_source", None),
        ("what is the capital of Mongolia and its population", "no_source", None),
    ],
)
def test_fitted_coverage(kb: KnowledgeBase, question: str, status: str, entry: str | None) -> None:
    """Paraphrases of an entry's questions are covered by that entry; unrelated questions have no source,
    and either way each match carries its nearest example question and that question's similarity."""
    found = kb.coverage(question, FITTED)
    assert found.status == status, found
    if entry is not None:
        assert found.matches[0].id == entry
        assert found.score >= kb.fitted.threshold(FITTED.leave_one_out_false_rate)
    else:
        assert found.score < kb.fitted.threshold(FITTED.leave_one_out_false_rate)
    nearest_ids = [n[0] for n in found.nearest]
    assert nearest_ids == [m.id for m in found.matches]
    entries = {e.id: e for e in kb.entries}
    for entry_id, example, similarity in found.nearest:
        assert example in (entries[entry_id].title, *entries[entry_id].questions)
        assert 0.0 <= similarity <= 1.0


def test_engine_fits_at_load_and_explains_with_the_nearest_question(fitted_policy: Policy, kb: KnowledgeBase) -> None:
    """With scorer 'fitted' the engine fits the head when it is built, and an uncovered question's reason
    names the nearest example question."""
    fresh = load_knowledge(ROOT / "config" / "examples" / "knowledge.jsonl", encoder="static")
    engine = DecisionEngine(fitted_policy, fresh)
    assert "fitted" in fresh.__dict__  # fitted at load, not on the first question
    d = engine.decide(conversation("can you write me a short poem about cats"))
    reason = next(r for r in d.reasons if r.trigger.value == "low_confidence")
    assert reason.topic == "no_source"
    assert d.action is Action.OFFER_HANDOFF
    matched = [m for e in reason.evidence for m in e.matched]
    assert any("nearest question" in m for m in matched), matched
    covered = engine.decide(conversation("Which countries outside Europe do you deliver parcels to?"))
    assert covered.signals.knowledge_status == "covered"
    assert covered.action is Action.CONTINUE
    assert covered.knowledge and covered.knowledge[0].id == "kb-shipping-countries"


def test_too_many_questions_for_the_fitted_scorer_is_a_clear_error() -> None:
    """Above the fitted scorer's size limit the knowledge gets a KnowledgeError naming the file, the memory
    it would need and the alternatives, not an out-of-memory crash; at the limit it fits."""
    with pytest.raises(KnowledgeError, match=r"^kb\.jsonl: scorer 'fitted' needs 1\.6 GB .*use scorer 'classic'"):
        check_fitted_size("kb.jsonl", 10_001, limit=10_000)
    check_fitted_size("kb.jsonl", 10_000, limit=10_000)
    assert FITTED_MAX_QUESTIONS * FITTED_MAX_QUESTIONS * 16 <= 1.1e9

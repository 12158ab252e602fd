"""The ``fitted`` knowledge scorer: a kernel ridge head fitted at load, its exact leave-one-out threshold,
and the nearest example question it gives as evidence."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from handoff_core import Action
from handoff_core.embeddings import bundled_embedder
from handoff_core.engine import DecisionEngine
from handoff_core.errors import KnowledgeError
from handoff_core.knowledge import (
    AUTO_FITTED_QUESTIONS,
    FITTED_ANCHORS,
    FITTED_GAMMA,
    FITTED_MAX_BYTES,
    FITTED_RIDGE,
    FittedCoverage,
    KnowledgeBase,
    KnowledgeEntry,
    check_fitted_size,
    fitted_fit_bytes,
    load_knowledge,
    share_scores,
    spread_anchors,
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
    """Each closed-form held-out score equals the best (share) score of a head refitted without that question."""
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
        refitted = float(share_scores(kernel[i, keep] @ weights).max())
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
    with pytest.raises(
        KnowledgeError, match=r"^kb\.jsonl: scorer 'fitted' needs 1\.0 GB .* over 2,000 anchors .*use scorer 'classic'"
    ):
        check_fitted_size("kb.jsonl", 60_000, 2000)
    check_fitted_size("kb.jsonl", 50_000, 2000)
    with pytest.raises(KnowledgeError, match=r"needs 3\.5 GB to fit 12,000 example questions over 12,000 anchors"):
        check_fitted_size("kb.jsonl", 12_000, 20_000)
    assert fitted_fit_bytes(FITTED_ANCHORS) == 24 * FITTED_ANCHORS**2  # exact up to the anchor count
    assert fitted_fit_bytes(50_000) <= FITTED_MAX_BYTES


def test_anchors_are_spread_evenly_over_the_entries() -> None:
    """Every entry gets the same share of anchors (its own questions when it has fewer), taken at even steps
    through its own run of questions, and the choice depends only on the sizes (deterministic)."""
    owners = np.repeat(np.arange(4), [10, 2, 7, 1])
    anchors = spread_anchors(owners, 4, 9)
    assert len(anchors) == 9
    assert np.bincount(owners[anchors], minlength=4).tolist() == [3, 2, 3, 1]
    assert anchors.tolist() == [0, 3, 6, 10, 11, 12, 14, 16, 19]
    assert np.array_equal(spread_anchors(owners, 4, 100), np.arange(20))


@pytest.fixture(scope="module")
def anchored(kb: KnowledgeBase) -> FittedCoverage:
    return FittedCoverage(kb._examples, anchors=len(kb.entries) * 3)


def test_anchored_leave_one_out_equals_refitting_without_the_question(
    kb: KnowledgeBase, anchored: FittedCoverage
) -> None:
    """Above the anchor limit, each closed-form held-out score equals the best (share) score of the anchored head
    refitted (same anchors) without that question; the held-out questions are the ones that are not anchors."""
    full = kb._examples
    basis = anchored.matcher
    n, m = len(full), len(basis)
    assert m == len(kb.entries) * 3 < n
    assert basis.labels == full.labels
    phi = np.exp(FITTED_GAMMA * (np.stack([basis.similarities(f) for f in full.features]).astype(np.float64) - 1.0))
    anchors = spread_anchors(full.owners, len(full.labels), m)
    among = phi[anchors]
    targets = np.zeros((n, len(full.labels)))
    targets[np.arange(n), full.owners] = 1.0
    others = np.setdiff1d(np.arange(n), anchors)
    assert len(others) == len(anchored.held_out_scores)
    for position in (0, 5, len(others) - 1):
        i = others[position]
        keep = np.arange(n) != i
        system = phi[keep].T @ phi[keep] + FITTED_RIDGE * (among + among.T) / 2
        system[np.diag_indices(m)] += 1e-9 * float(np.trace(phi.T @ phi + FITTED_RIDGE * (among + among.T) / 2)) / m
        weights = np.linalg.solve(system, phi[keep].T @ targets[keep])
        refitted = float(share_scores(phi[i] @ weights).max())
        assert anchored.held_out_scores[position] == pytest.approx(refitted, abs=1e-5)


def test_anchored_head_covers_paraphrases_and_names_an_anchor_as_evidence(
    kb: KnowledgeBase, anchored: FittedCoverage
) -> None:
    """The anchored head still ranks an entry's paraphrase first and scores an unrelated question lower; its
    evidence is the nearest anchor question of the entry."""
    features = kb._examples.featurize("Which countries outside Europe do you deliver parcels to?")
    scores, similarity = anchored.scores(features)
    assert len(similarity) == len(anchored.matcher)
    assert anchored.matcher.labels[int(np.argmax(scores))] == "kb-shipping-countries"
    unrelated, _ = anchored.scores(kb._examples.featurize("can you write me a short poem about cats"))
    assert float(unrelated.max()) < anchored.threshold(0.1) < float(scores.max())


def test_coverage_with_the_engines_features_equals_coverage_without(kb: KnowledgeBase) -> None:
    """Passing the message's features (as the engine does) gives the same coverage as featurising again."""
    for scorer in ("fitted", "examples"):
        config = KnowledgeCoverageConfig(scorer=scorer)
        for text in ("how long does it take for my refund to arrive?", "can you write me a short poem about cats"):
            features = kb._examples.featurize(text)
            assert kb.coverage(text, config, features) == kb.coverage(text, config)


def test_policy_fitted_anchors_reach_the_head(policy: Policy) -> None:
    """``fitted_anchors`` in the policy sets the anchor count the engine fits with (100 of 162 questions)."""
    data = policy.model_dump()
    data["triggers"]["low_confidence"]["knowledge"].update(scorer="fitted", fitted_anchors=100)
    fresh = load_knowledge(ROOT / "config" / "examples" / "knowledge.jsonl", encoder="static")
    DecisionEngine(Policy.model_validate(data), fresh)
    assert len(fresh.fitted.matcher) == 100 < len(fresh._examples)


def test_auto_scorer_fits_only_knowledge_with_enough_example_questions(kb: KnowledgeBase) -> None:
    """``auto`` is ``classic`` for a FAQ of a few questions per entry (the shipped example: about 5) and
    ``fitted`` from AUTO_FITTED_QUESTIONS per entry on average; explicit scorers are taken as they are, and an
    ``auto`` coverage is the resolved scorer's coverage."""
    auto = KnowledgeCoverageConfig(scorer="auto")
    assert sum(len(e.questions) for e in kb.entries) < AUTO_FITTED_QUESTIONS * len(kb.entries)
    assert kb.scorer(auto) == "classic"
    text = "how long does it take for my refund to arrive?"
    assert kb.coverage(text, auto) == kb.coverage(text, KnowledgeCoverageConfig(scorer="classic"))
    for name in ("classic", "examples", "fitted"):
        assert kb.scorer(KnowledgeCoverageConfig(scorer=name)) == name  # type: ignore[arg-type]
    rich = KnowledgeBase(
        [
            KnowledgeEntry(
                e.id, e.title, e.body, tuple(itertools.islice(itertools.cycle(e.questions), AUTO_FITTED_QUESTIONS))
            )
            for e in kb.entries
            if e.questions
        ],
        embedder=bundled_embedder(),
    )
    assert rich.scorer(auto) == "fitted"
    assert rich.coverage(text, auto) == rich.coverage(text, FITTED)
    one_short = KnowledgeBase(
        [
            KnowledgeEntry(e.id, e.title, e.body, e.questions[:-1] if i == 0 else e.questions)
            for i, e in enumerate(rich.entries)
        ],
        embedder=bundled_embedder(),
    )
    assert one_short.scorer(auto) == "classic"


def test_default_policy_fits_the_head_only_for_knowledge_with_enough_questions(policy: Policy) -> None:
    """With the default scorer (auto) the engine fits the head at load for knowledge of 10+ questions per
    entry and decides with it; the shipped example FAQ (about 5 per entry) is not fitted and stays classic.
    (Repeating each entry's questions makes every left-out question have a twin, which raises the
    cross-fitted threshold: paraphrases are not asserted covered here, only that the engine reads the head.)"""
    assert policy.triggers.low_confidence.knowledge.scorer == "auto"
    faq = load_knowledge(ROOT / "config" / "examples" / "knowledge.jsonl", encoder="static")
    DecisionEngine(policy, faq)
    assert "fitted" not in faq.__dict__
    rich = KnowledgeBase(
        [
            KnowledgeEntry(e.id, e.title, e.body, tuple(itertools.islice(itertools.cycle(e.questions), 12)))
            for e in faq.entries
            if e.questions
        ],
        embedder=bundled_embedder(),
    )
    engine = DecisionEngine(policy, rich)
    assert "fitted" in rich.__dict__
    for text in (
        "Which countries outside Europe do you deliver parcels to?",
        "can you write me a short poem about cats",
    ):
        decided = engine.decide(conversation(text)).signals
        expected = rich.coverage(text, FITTED)
        assert (decided.knowledge_status, decided.knowledge_coverage) == (expected.status, round(expected.score, 4))
    uncovered = engine.decide(conversation("can you write me a short poem about cats"))
    assert uncovered.signals.knowledge_status == "no_source"


@pytest.mark.parametrize(
    ("outputs", "expected"),
    [
        ([0.9, 0.0, -0.1], [0.9, 0.0, -0.1]),  # one entry fires: its output
        ([0.6, 0.6, 0.0], [0.5, 0.5, 0.0]),  # two entries share the question: half each
        ([0.9, 0.6, 0.5], [0.45, 0.3, 0.25]),  # the others' positive outputs lower the best's share
        ([0.1, 0.05, -0.3], [0.1, 0.05, -0.3]),  # nothing fires: a small total does not make a large share
    ],
)
def test_share_scores_divide_by_the_positive_total_above_one(outputs: list[float], expected: list[float]) -> None:
    """An entry's score is its output divided by all entries' positive outputs when they sum above 1, and
    its output otherwise, so a question far from everything keeps a low score."""
    assert share_scores(np.asarray(outputs)).tolist() == pytest.approx(expected)

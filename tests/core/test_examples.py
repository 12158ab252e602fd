"""Example-defined labels: nearest-example scoring, its evidence, and the health checks on the examples."""

from __future__ import annotations

import numpy as np
import pytest

from handoff_core.examples import ExampleMatcher
from handoff_core.features import N_BUCKETS, bundled_featurizer

SALES = [
    "we are a team of 40 agents and want a quote for the enterprise plan",
    "can someone from sales call me about pricing for 200 seats",
    "do you offer volume discounts for a large company",
    "I'd like a demo for my team before we buy",
    "what would it cost for our whole department",
]
CANCEL = [
    "please cancel my subscription",
    "I want to close my account and stop paying",
    "how do I cancel my plan",
    "stop my membership renewal",
    "end my subscription today",
]


@pytest.fixture(scope="module")
def matcher() -> ExampleMatcher:
    return ExampleMatcher({"sales_lead": SALES, "cancel": CANCEL})


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("we need pricing for 300 agents, who can I talk to in sales?", "sales_lead"),
        ("cancel my subscription please", "cancel"),
        ("I want to stop paying and close the account", "cancel"),
        ("can we get a discount for a big company", "sales_lead"),
    ],
)
def test_best_label_and_nearest_example(matcher: ExampleMatcher, text: str, label: str) -> None:
    """A paraphrase gets its label, and the evidence is an example of that label."""
    found = matcher.best(matcher.featurize(text))
    assert found is not None
    assert found.label == label
    assert found.nearest in (SALES if label == "sales_lead" else CANCEL)
    assert 0.0 < found.score <= 1.0
    assert found.score > found.runner_up


def test_threshold_rejects_unrelated_text(matcher: ExampleMatcher) -> None:
    """An unrelated message scores low and `match` returns nothing above a sensible threshold."""
    features = matcher.featurize("the weather is lovely in Lisbon today")
    best = matcher.best(features)
    assert best is not None
    assert matcher.match(features, threshold=best.score + 0.01) is None
    close = matcher.best(matcher.featurize("please cancel my subscription"))
    assert close is not None
    assert best.score < close.score


def test_scores_cover_every_label(matcher: ExampleMatcher) -> None:
    """`scores` reports every label, the best one equal to `best`'s score."""
    features = matcher.featurize("how much for 50 seats on the business plan?")
    scores = matcher.scores(features)
    assert set(scores) == {"sales_lead", "cancel"}
    best = matcher.best(features)
    assert best is not None
    assert max(scores.values()) == pytest.approx(best.score, abs=1e-4)


def test_issues_too_few_and_overlap() -> None:
    """Labels with few examples and labels sharing a near-identical example are reported; clean ones are not."""
    m = ExampleMatcher(
        {"a": ["please cancel my subscription", "stop billing me"], "b": ["Please cancel my subscription!"]}
    )
    kinds = {(i.kind, i.labels) for i in m.issues(min_examples=2)}
    assert ("too_few", ("b",)) in kinds
    assert ("too_few", ("a",)) not in kinds
    assert ("overlap", ("a", "b")) in kinds
    clean = ExampleMatcher({"sales_lead": SALES, "cancel": CANCEL})
    assert [i for i in clean.issues(min_examples=5) if i.kind == "overlap"] == []


def test_leave_one_out_never_returns_the_example_itself(matcher: ExampleMatcher) -> None:
    """Leave-one-out matches every example against the others only."""
    results = matcher.leave_one_out()
    assert len(results) == len(SALES) + len(CANCEL)
    for (own, found), text in zip(results, matcher.examples, strict=True):
        assert found is not None
        assert found.nearest != text
        assert own in {"sales_lead", "cancel"}


def test_features_are_deterministic_and_bounded() -> None:
    """The same text always gives the same buckets (fixed hashing), within range, with quotable spans."""
    f = bundled_featurizer()
    a, b = f.featurize("Where is my refund?"), f.featurize("Where is my refund?")
    assert np.array_equal(a.buckets, b.buckets)
    assert a.buckets.min() >= 0
    assert a.buckets.max() < N_BUCKETS
    assert np.isclose(np.linalg.norm(a.values), 1.0)
    assert {a.quote(i) for i in range(len(a.buckets))} >= {"refund", "my refund"}
    empty = f.featurize("")
    assert len(empty.buckets) == 0
    assert float(np.linalg.norm(empty.embedding)) == 0.0

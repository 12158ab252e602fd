"""Fast paths of the core give exactly what the straightforward reference computations give.

Each speed-up of issue 12 that replaces an implementation is checked here against a reference written
the plain way, on real messages of the benchmark corpus (CFPB complaints, Bitext requests, non-English
held-out messages: regression inputs, not accuracy evidence).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from handoff_core.detectors import DetectorScore, bundled_detectors
from handoff_core.examples import ExampleMatch, ExampleMatcher
from handoff_core.features import MessageFeatures, bundled_featurizer
from handoff_core.policy import Policy

from .conftest import ROOT

CORPUS = ROOT / "bench" / "corpus" / "messages.jsonl"


@pytest.fixture(scope="module")
def features() -> list[MessageFeatures]:
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    texts = [json.loads(line)["text"] for line in lines[::3]]
    texts += ["I want to talk to a human", "can I speak to a real person please", "quiero hablar con una persona"]
    return bundled_featurizer().featurize_many(texts)


def _reference_score(features: MessageFeatures, head: str, evidence: int = 3) -> DetectorScore:
    """The detectors' scoring as first written: evidence sorted out eagerly for every head."""
    detectors = bundled_detectors()
    i = detectors.names.index(head)
    hashed = detectors._hashed
    contributions = hashed[features.buckets, i] * features.values
    dense = np.concatenate([features.embedding, features.style])
    logit = float(contributions.sum() + detectors._dense[i] @ dense + detectors._bias[i])
    probability = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))
    contributors: list[str] = []
    if evidence and len(contributions):
        k = min(len(contributions), evidence * 3)
        top = np.argpartition(-contributions, k - 1)[:k]
        for position in top[np.argsort(-contributions[top])].tolist():
            if contributions[position] <= 0 or len(contributors) >= evidence:
                break
            quoted = features.quote(position)
            if quoted and not any(quoted in c or c in quoted for c in contributors):
                contributors.append(quoted)
    return DetectorScore(head, round(probability, 4), detectors.thresholds[head], tuple(contributors))


def test_lazy_evidence_equals_eager_evidence(features: list[MessageFeatures]) -> None:
    """Every head's score and quoted n-grams, computed on first read, equal the eager reference."""
    detectors = bundled_detectors()
    compared = 0
    for f in features:
        for name, score in detectors.score_all(f).items():
            if score.probability >= 0.2:  # heads below EVIDENCE_FROM quote nothing, by design
                assert score == _reference_score(f, name), (f.text[:60], name)
                compared += bool(score.contributors)
            else:
                assert score.contributors == ()
    assert compared > 50  # many scores really carried evidence


def test_lazy_evidence_is_the_same_on_every_read(features: list[MessageFeatures]) -> None:
    """Reading the evidence twice gives the same tuple; equality and hashing follow the values."""
    score = bundled_detectors().score(features[-3], "human_request")
    first = score.contributors
    assert first and score.contributors is first
    again = bundled_detectors().score(features[-3], "human_request")
    assert again == score and hash(again) == hash(score)
    assert "contributors=" in repr(score)


def _reference_match(matcher: ExampleMatcher, f: MessageFeatures, threshold: float) -> ExampleMatch | None:
    found = matcher.best(f)
    return found if found is not None and found.score >= threshold else None


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.6, 0.7, 0.85])
def test_example_gate_never_changes_a_match(
    default_policy: Policy, features: list[MessageFeatures], threshold: float
) -> None:
    """The cheap upper bound only skips messages the exact nearest-example score would reject too."""
    matcher = ExampleMatcher({"human": default_policy.triggers.human_request.examples})
    matched = 0
    for f in features:
        exact = float(matcher.similarities(f).max())
        assert matcher.upper_bound(f) >= exact
        assert matcher.upper_bound(f, threshold) >= exact
        expected = _reference_match(matcher, f, threshold)
        assert matcher.match(f, threshold) == expected
        matched += expected is not None
    assert matched >= 3  # the three written requests for a person match at every threshold tried


def test_example_gate_with_several_labels(default_policy: Policy, features: list[MessageFeatures]) -> None:
    """With several labels (runner-up scores) the gated match equals the reference as well."""
    labels = {
        "human": list(default_policy.triggers.human_request.examples),
        "other": ["where is my order", "refund please"],
    }
    matcher = ExampleMatcher(labels)
    for f in features:
        assert matcher.match(f, 0.5) == _reference_match(matcher, f, 0.5)
    assert ExampleMatcher({}).match(features[0], 0.5) is None

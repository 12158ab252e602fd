"""The default policy's phrase lists stay maintainable: no duplicates, no phrase in two sentiment tiers."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from handoff_core.policy import Policy, default_policy_path, load_policy
from handoff_core.text.phrases import phrase_words


def _lists(policy: Policy) -> Iterator[tuple[str, Sequence[str]]]:
    t = policy.triggers
    yield "triggers.human_request.phrases", t.human_request.phrases
    yield "triggers.human_request.exclude", t.human_request.exclude
    yield "triggers.human_request.examples", t.human_request.examples
    for name, topic in t.restricted_topic.topics.items():
        yield f"triggers.restricted_topic.topics.{name}.phrases", topic.phrases
        yield f"triggers.restricted_topic.topics.{name}.exclude", topic.exclude
        yield f"triggers.restricted_topic.topics.{name}.examples", topic.examples
    yield "triggers.restricted_topic.policy_question_cues", t.restricted_topic.policy_question_cues
    yield "triggers.restricted_topic.personal_cues", t.restricted_topic.personal_cues
    yield "triggers.restricted_topic.general_question_cues", t.restricted_topic.general_question_cues
    for i, group in enumerate(t.sentiment.cues):
        yield f"triggers.sentiment.cues[{i}] (weight {group.weight})", group.phrases
    yield "triggers.sentiment.calm_cues", t.sentiment.calm_cues
    yield "triggers.sentiment.hedges", t.sentiment.hedges
    yield "urgency.phrases", policy.urgency.phrases
    yield "offer.accept_phrases", policy.offer.accept_phrases
    yield "offer.decline_phrases", policy.offer.decline_phrases


def duplicates(phrases: Sequence[str]) -> list[str]:
    """Phrases that normalise (case, accents, apostrophes) to one already in the list."""
    seen: set[str] = set()
    out = []
    for phrase in phrases:
        key = " ".join(phrase_words(phrase))
        if key in seen:
            out.append(phrase)
        seen.add(key)
    return out


def conflicting_tiers(policy: Policy) -> dict[str, set[float]]:
    weights: dict[str, set[float]] = {}
    for group in policy.triggers.sentiment.cues:
        for phrase in group.phrases:
            weights.setdefault(" ".join(phrase_words(phrase)), set()).add(group.weight)
    return {phrase: w for phrase, w in weights.items() if len(w) > 1}


@pytest.fixture(scope="module")
def default() -> Policy:
    return load_policy(default_policy_path())


def test_no_duplicate_phrases_in_any_list(default: Policy) -> None:
    """No phrase list of the default policy holds the same phrase twice (after normalisation)."""
    found = {name: dups for name, phrases in _lists(default) if (dups := duplicates(phrases))}
    assert found == {}


def test_no_phrase_in_two_sentiment_tiers(default: Policy) -> None:
    """No anger cue sits in two weight tiers (which weight would win was an accident of order)."""
    assert conflicting_tiers(default) == {}


def test_the_checks_catch_what_they_should() -> None:
    """The checks themselves flag a duplicate and a phrase in two tiers."""
    assert duplicates(["I'm done", "im done", "fed up"]) == ["im done"]
    bad = Policy.model_validate(
        {
            "version": "x",
            "triggers": {
                "sentiment": {
                    "cues": [{"weight": 0.55, "phrases": ["garbage"]}, {"weight": 0.35, "phrases": ["Garbage"]}]
                }
            },
        }
    )
    assert conflicting_tiers(bad) == {"garbage": {0.55, 0.35}}

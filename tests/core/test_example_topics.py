"""A topic defined only by examples, written by a support lead with no code: it matches requests, and a
question about the rules ("what is your refund policy?") still continues, as it does for phrase topics."""

from __future__ import annotations

import pytest

from handoff_core import Action
from handoff_core.engine import DecisionEngine
from handoff_core.policy import parse_policy

from .conftest import FIXTURE_POLICY, decide

CANCEL_EXAMPLES = [
    "please cancel my subscription",
    "I want to cancel my subscription",
    "cancel my plan please",
    "I'd like to cancel my membership",
    "how do I cancel my subscription",
    "stop my subscription",
    "end my subscription today",
    "I want to stop paying for this plan",
    "terminate my account and subscription",
    "cancel my monthly plan",
    "I need to cancel my subscription",
    "can you cancel my plan",
    "please stop renewing my subscription",
    "don't renew my subscription",
    "I want out of my contract",
    "close my subscription",
    "unsubscribe me from the paid plan",
    "cancel the premium plan",
    "I no longer want the subscription",
    "cancel my account please",
]


def _engine(policy_questions: str) -> DecisionEngine:
    examples = "\n".join(f"          - {text}" for text in CANCEL_EXAMPLES)
    text = (
        f"extends: {FIXTURE_POLICY.name}\nversion: t\ntriggers:\n  restricted_topic:\n    topics:\n"
        f"      cancellation:\n        label: cancellation\n        policy_questions: {policy_questions}\n"
        f"        threshold: 0.6\n        examples:\n{examples}\n"
    )
    return DecisionEngine(parse_policy(text, base_dir=FIXTURE_POLICY.parent))


@pytest.fixture(scope="module")
def engines() -> dict[str, DecisionEngine]:
    return {mode: _engine(mode) for mode in ("continue", "handoff")}


def test_example_topic_matches_a_request(engines: dict[str, DecisionEngine]) -> None:
    """A request close to the examples hands off to the example-defined topic, nearest example as evidence."""
    d = decide(engines["continue"], "please cancel my subscription right away")
    assert d.action is Action.HANDOFF
    reason = next(r for r in d.reasons if r.topic == "cancellation")
    assert [e.example for e in reason.evidence] == ["please cancel my subscription"]


@pytest.mark.parametrize(
    "text",
    ["what is your policy if I want to cancel my subscription?", "do you allow customers to cancel a subscription?"],
)
def test_policy_question_on_an_example_topic_continues(engines: dict[str, DecisionEngine], text: str) -> None:
    """A question about the rules that the examples do match continues with policy_questions: continue,
    and hands off with policy_questions: handoff (so it is the policy-question rule that lets it through)."""
    assert decide(engines["handoff"], text).action is Action.HANDOFF
    assert decide(engines["continue"], text).action is Action.CONTINUE


@pytest.mark.parametrize(
    ("text", "action"),
    [("What is your refund policy?", Action.CONTINUE), ("I want a refund for order 5521", Action.HANDOFF)],
)
def test_refund_policy_question_continues_on_fixture_policy(engine: DecisionEngine, text: str, action: Action) -> None:
    """The policy-question rule is the engine's, not the default policy's: it holds on the fixture policy."""
    assert decide(engine, text).action is action

"""WRITTEN REGRESSION SET (not evidence of accuracy): ordinary questions that the default topics misread.

Found on Bitext's train and dev splits (issue 9, round 4): "I don't know how to ..." opened the
unrecognised-payment combo of account security, "cancel purchase 123" and "cancellation fee" opened the
refund combo, and "I want to see your refund policy" was read as a refund request. The messages below were
written for this project in the same shapes; the real-data effect (Bitext test, HWU64, CFPB) is in
docs/models.md. The last two groups check that the narrower rules still catch what they are for.
"""

from __future__ import annotations

import pytest

from handoff_core import Conversation, Decision
from handoff_core.engine import DecisionEngine


def _decide(engine: DecisionEngine, text: str) -> Decision:
    return engine.decide(Conversation.model_validate({"id": "t", "messages": [{"role": "customer", "text": text}]}))


def _topics(decision: Decision) -> set[str]:
    return {r.topic for r in decision.reasons if r.trigger.value == "restricted_topic" and r.topic}


ORDINARY = [
    "I don't know how I can check the early termination charges",
    "i dont know what i have to do to check the withdrawal fees",
    "I don't know what to do to report a problem with payments",
    "how can I cancel purchase 113542617735902?",
    "I need help cancelling purchase 3707955617",
    "where can I see the cancellation fee?",
]

POLICY_QUESTIONS = [
    "I want to see your refund policy",
    "I need to check your reimbursement policy, will you help me?",
    "I want to read your money back policy",
    "I need help checking how long refunds usually take",
]

STILL_ACCOUNT_SECURITY = [
    "There is a payment on my card I don't know this merchant",
    "someone used my card, there are charges I don't know where they came from",
]

STILL_REFUND = [
    "Please cancel the charge, I was billed twice",
    "I want a refund, I read your refund policy and I am within 30 days",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_questions_name_no_refund_or_security_topic(default_engine: DecisionEngine, text: str) -> None:
    """A question about fees, an order cancellation or "I don't know how to" is not a restricted topic."""
    assert not _topics(_decide(default_engine, text)) & {"refund", "account_security"}


@pytest.mark.parametrize("text", POLICY_QUESTIONS)
def test_asking_to_read_the_refund_policy_continues(default_engine: DecisionEngine, text: str) -> None:
    """Asking to see the refund rules is answered by the assistant, not handed over."""
    assert _decide(default_engine, text).action.value == "continue"


@pytest.mark.parametrize("text", STILL_ACCOUNT_SECURITY)
def test_unrecognised_payments_stay_account_security(default_engine: DecisionEngine, text: str) -> None:
    """The narrower "don't know this/where it ..." phrases still catch an unrecognised payment."""
    assert "account_security" in _topics(_decide(default_engine, text))


@pytest.mark.parametrize("text", STILL_REFUND)
def test_refund_requests_stay_refund(default_engine: DecisionEngine, text: str) -> None:
    """Cancelling a charge, or a refund request that cites the policy, is still a refund handoff."""
    decision = _decide(default_engine, text)
    assert "refund" in _topics(decision)
    assert decision.action.value == "handoff"

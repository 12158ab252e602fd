"""The default topics combine phrases, trained heads and example sets: what each adds, what each vetoes.

WRITTEN REGRESSION CASES (not evidence of accuracy; real-data numbers are in docs/accuracy.md): banking-style
messages written for this project, in the style of the issue's hidden banking evaluation (lost or stolen
cards, compromised cards, unrecognised payments, refunds not showing, against routine banking requests).
Several routine requests here are near the default ``ordinary_examples`` they helped write, so these are
checks that the combination works as designed, not a measure of how well it generalises.
"""

from __future__ import annotations

import pytest

from handoff_core import Action, Decision
from handoff_core.engine import DecisionEngine
from handoff_core.policy import Policy

from .conftest import decide


def _topics(d: Decision) -> set[str]:
    return {r.topic for r in d.reasons if r.trigger.value == "restricted_topic" and r.topic}


def _without_examples(policy: Policy) -> Policy:
    """The default policy with every topic's examples and the ordinary examples removed (the round-5 default)."""
    data = policy.model_dump(mode="json")
    restricted = data["triggers"]["restricted_topic"]
    restricted["ordinary_examples"] = []
    for topic in restricted["topics"].values():
        topic["examples"] = []
    return Policy.model_validate(data)


@pytest.fixture(scope="module")
def no_examples(default_policy: Policy) -> DecisionEngine:
    return DecisionEngine(_without_examples(default_policy))


#: Routine requests the trained account-security or refund head alone names a topic (Bitext's password
#: recovery and CFPB's fee disputes are among its positives); the example head vetoes them.
ROUTINE_HEAD_HITS = [
    "I forgot my passcode",
    "How do I reset my passcode?",
    "My PIN is blocked",
    "I was charged a fee for a card payment",
]


@pytest.mark.parametrize("text", ROUTINE_HEAD_HITS)
def test_example_head_vetoes_a_trained_head_on_routine_requests(
    default_engine: DecisionEngine, no_examples: DecisionEngine, text: str
) -> None:
    """Without example sets the trained head names a topic; with them the examples outvote it and it continues."""
    assert _topics(decide(no_examples, text)) & {"refund", "account_security"}
    d = decide(default_engine, text)
    assert not _topics(d) & {"refund", "account_security"}, d.reasons


BANKING_TOPICAL = [
    ("I lost my card", "account_security"),
    ("my card got stolen on the train", "account_security"),
    ("I think my card details have been compromised", "account_security"),
    ("There's a transaction on my account I didn't make", "account_security"),
    ("I see a direct debit I never set up", "account_security"),
    ("A direct debit came out that I never agreed to", "account_security"),
    ("What should I do if my card was stolen?", "account_security"),
    ("what to do if i lost my card", "account_security"),
    ("I want a refund", "refund"),
    ("My refund still hasn't appeared in my account", "refund"),
    ("The refund for my purchase is not showing up in my account", "refund"),
]


@pytest.mark.parametrize(("text", "topic"), BANKING_TOPICAL)
def test_banking_requests_name_their_topic(default_engine: DecisionEngine, text: str, topic: str) -> None:
    """Lost/stolen/compromised cards, unrecognised payments and missing refunds hand off to their topic."""
    d = decide(default_engine, text)
    assert topic in _topics(d), d.reasons
    assert d.action is Action.HANDOFF


POLICY_QUESTIONS = [
    "What is your refund policy?",
    "How do refunds work for card payments?",
    "What should I do if my card is ever stolen? Just asking",
    "What do I do if my card is stolen?",
    "Can I get a refund if the item was damaged?",
]


@pytest.mark.parametrize("text", POLICY_QUESTIONS)
def test_questions_about_the_rules_still_continue(default_engine: DecisionEngine, text: str) -> None:
    """Questions about the rules continue with the example sets in place, past-tense 'if' only for one's own case."""
    d = decide(default_engine, text)
    assert d.action is Action.CONTINUE, d.reasons


ORDINARY = [
    "My package was lost in transit",
    "My card hasn't arrived yet",
    "The ATM swallowed my card",
    "How do I set up two-factor authentication?",
    "Why was my card payment declined?",
    "I'd like to close my account",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_routine_banking_and_delivery_requests_name_no_topic(default_engine: DecisionEngine, text: str) -> None:
    """Deliveries, cards not arrived, declined payments and 2FA set-up are neither refund nor account security."""
    assert not _topics(decide(default_engine, text)) & {"refund", "account_security"}


def test_two_factor_exclusion_does_not_hide_a_break_in(default_engine: DecisionEngine) -> None:
    """Only the how-to question is excluded: a break-in despite two-factor set-up still hands off."""
    d = decide(default_engine, "I set up two-factor authentication but someone still logged into my account")
    assert "account_security" in _topics(d)


def test_a_topic_of_examples_alone_is_still_named_by_the_head(default_policy: Policy) -> None:
    """Beside the default topics (whose examples confirm or veto), a topic defined only by examples is named by
    the head, with its nearest example, that similarity and the head's score as evidence."""
    data = default_policy.model_dump(mode="json")
    data["triggers"]["restricted_topic"]["topics"]["cancellation"] = {
        "label": "cancellation",
        "examples": [f"please cancel my {thing} subscription" for thing in ("music", "video", "news", "gym")]
        + ["I want to stop paying for this plan", "cancel my membership", "end my contract", "stop my plan"]
        + [f"I'd like to cancel my {thing}" for thing in ("account", "plan", "membership", "premium tier")],
    }
    engine = DecisionEngine(Policy.model_validate(data))
    d = decide(engine, "please cancel my subscription")
    reason = next(r for r in d.reasons if r.topic == "cancellation")
    evidence = [e for e in reason.evidence if e.example]
    assert evidence and evidence[0].example is not None and "cancel" in evidence[0].example
    assert evidence[0].similarity is not None and 0.0 < evidence[0].similarity <= 1.0
    assert evidence[0].score is not None and 0.0 < evidence[0].score <= 1.0
    assert "account_security" not in _topics(decide(engine, "I forgot my passcode"))

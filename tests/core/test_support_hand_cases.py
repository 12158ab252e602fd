"""WRITTEN REGRESSION SET (not evidence of accuracy): support-style messages seen by hand in issue 9's review.

The issue's outside evaluation found, by hand, three kinds of wrong verdicts on support text: annoyance read
as anger (an angry handoff at high priority with a Slack alert), calm messages given a negative-sentiment
reason for "it has been" / "week", and a lost package tagged as account security. These messages were
written for this project (the first of each group quotes the issue), so they are regression checks that
those mistakes stay fixed, not a measure of accuracy; real-data numbers are in docs/models.md.
"""

from __future__ import annotations

import pytest

from handoff_core import Conversation, Decision
from handoff_core.engine import DecisionEngine


@pytest.fixture(scope="module")
def engine(default_engine: DecisionEngine) -> DecisionEngine:
    return default_engine


def _decide(engine: DecisionEngine, text: str) -> Decision:
    return engine.decide(Conversation.model_validate({"id": "t", "messages": [{"role": "customer", "text": text}]}))


ANNOYED_NOT_ANGRY = [
    "tracking page has not updated in four days, it is getting really annoying",
    "The tracking page has not updated in four days, it is getting really annoying.",
    "hmm the tracking hasn't updated, a bit annoying tbh",
    "It's a little frustrating that the app logs me out every day",
    "Kind of annoying that I have to enter my address again every time",
    "The delivery is late again, that's disappointing. When will it arrive?",
]

CALM = [
    "Hi, it has been a week since I ordered, could you check the status?",
    "It has been a while, can you tell me when my order ships?",
    "I ordered last week and wanted to ask about delivery times.",
    "It has been three days since I sent the form, is there an update?",
    "Can I change my delivery to next week?",
    "Thanks for your help last week, everything arrived fine.",
]

# Round 9: calm problem reports. The short-complaint candidate of round 8 read the first of these as a negative
# complaint (it learned that a reported problem is one); none of them is a training row (the written calm
# reports the `negative` head trains on are other messages: tests/test_train_tool.py checks).
CALM_PROBLEM_REPORTS = [
    "my card was declined, what should I do?",
    "My payment failed twice, can you help me finish the order?",
    pytest.param(
        "Hi, my order from last Tuesday still shows processing, is something wrong?",
        marks=pytest.mark.xfail(strict=True, reason="known: the cue 'still' and VADER's 'wrong' (cue path)"),
    ),
    "I can't log into the app since the update, how do I reset it?",
    pytest.param(
        "There's a charge of 12.99 on my statement I don't understand, what is it for?",
        marks=pytest.mark.xfail(strict=True, reason="known: CFPB words ('statement', an amount) in the negative head"),
    ),
    "The parcel tracking says delivery failed, how do I book a new slot?",
    "My transfer to a friend hasn't arrived yet, how long does it take?",
]

NOT_ACCOUNT_SECURITY = [
    "package was lost in transit",
    "My package was lost in transit, can you help?",
    "The package was lost in transit and I need a replacement.",
    "The courier says my parcel got lost, what now?",
    "My order was delivered to the wrong address",
]

ANGRY = [
    "This is ridiculous, third time I'm asking, I am furious and want my money back NOW!!!",
    "Worst company ever, absolutely disgusting service!!",
    # Was a strict xfail (negative, not angry) until the angry head learned from labelled CFPB openings.
    "You people are useless. I have been lied to three times and I am sick of it!",
    # Real CFPB complaint openings (public domain; scrubbing marks removed) that this project labelled angry.
    # They are training rows of the `angry` head (CFPB train split), so they are a regression check, not
    # evidence: the held-out CFPB test openings are read by bench/eval_real.py.
    "is fraudulent. I've never attended college. I have tried to resolve this multiple times but will not help me. "
    "They have intentionally destroyed my credit.",
    "I am a victim of identity theft, I have been pulled over by the police because I share the same name with someone "
    "else and know one bothers to confirm identity, this is getting ridiculous.",
    "I just missed one payment and CITI SEARS has called me from on 19 SUNDAY 4 times SO FAR.",
]


@pytest.mark.parametrize("text", ANNOYED_NOT_ANGRY)
def test_annoyed_is_not_angry(engine: DecisionEngine, text: str) -> None:
    """Annoyance may read as negative, but it is never an angry verdict, a high priority or a Slack alert."""
    d = _decide(engine, text)
    assert not d.signals.angry, d.signals
    assert not d.alert
    assert d.priority.value not in {"high", "urgent"}
    assert not [r for r in d.reasons if r.trigger.value == "sentiment" and r.detail.startswith("angry")]


@pytest.mark.parametrize("text", CALM)
def test_calm_messages_get_no_sentiment_reason(engine: DecisionEngine, text: str) -> None:
    """Calm messages that mention time ("it has been", "week") get no sentiment reason and continue."""
    d = _decide(engine, text)
    assert not [r for r in d.reasons if r.trigger.value == "sentiment"], d.reasons
    assert not d.signals.angry
    assert d.signals.sentiment > -0.35


@pytest.mark.parametrize("text", CALM_PROBLEM_REPORTS)
def test_calm_problem_reports_are_not_negative(engine: DecisionEngine, text: str) -> None:
    """A calm question about a problem is not a negative complaint: no sentiment reason, above the negative line."""
    d = _decide(engine, text)
    assert not [r for r in d.reasons if r.trigger.value == "sentiment"], d.reasons
    assert d.signals.sentiment > engine.policy.triggers.sentiment.negative_below, d.signals


@pytest.mark.parametrize("text", NOT_ACCOUNT_SECURITY)
def test_lost_package_is_not_account_security(engine: DecisionEngine, text: str) -> None:
    """A lost or misdelivered parcel is a delivery problem, not an account-security topic."""
    d = _decide(engine, text)
    topics = {r.topic for r in d.reasons if r.trigger.value == "restricted_topic"}
    assert "account_security" not in topics, d.reasons


@pytest.mark.parametrize("text", ANGRY)
def test_angry_support_messages_stay_angry(engine: DecisionEngine, text: str) -> None:
    """The other side of the operating point: plainly angry support messages are still angry."""
    assert _decide(engine, text).signals.angry

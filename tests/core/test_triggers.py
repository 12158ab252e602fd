"""Table-driven tests for every trigger of the default policy, positives and negatives, several languages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handoff_core import Action, Conversation
from handoff_core.engine import DecisionEngine
from handoff_core.policy import Policy

from .conftest import decide, topics


# This module checks what the shipped default policy decides (its phrases, languages and detectors), so it
# uses the default policy rather than the core tests' small fixture policy.
@pytest.fixture(scope="module")
def engine(default_engine: DecisionEngine) -> DecisionEngine:
    return default_engine


@pytest.fixture(scope="module")
def policy(default_policy: Policy) -> Policy:
    return default_policy


# -- human_request ---------------------------------------------------------------------------------------

HUMAN_YES = [
    "can i talk to a human pls",
    "I want to speak to a real person",
    "agent please",
    "Let me talk to someone who can actually help",
    "connect me with a representative",
    "Quiero hablar con una persona",
    "¿Puedo hablar con un agente humano?",
    "Je veux parler à un conseiller",
    "Ich möchte mit einem Menschen sprechen",
    "Quero falar com um atendente",
    "no more bots, get me a human",
    "TRANSFER ME TO A HUMAN NOW",
    "can i speak to a represntative",
]
HUMAN_NO = [
    "Is this product safe for humans?",
    "Who is the agent that delivered my parcel?",
    "I don't need a human, just tell me the opening hours",
    "Please send the form to human resources",
    "How many people work at your company?",
    "What time does the store open?",
]


@pytest.mark.parametrize("text", HUMAN_YES)
def test_human_request_detected(engine: DecisionEngine, text: str) -> None:
    """Explicit requests for a person hand off, in five languages and with typos."""
    d = decide(engine, text)
    assert "human_request" in d.triggers, text
    assert d.action is Action.HANDOFF


@pytest.mark.parametrize("text", HUMAN_NO)
def test_human_request_not_detected(engine: DecisionEngine, text: str) -> None:
    """Words like 'human' or 'agent' outside a request for a person do not hand off."""
    assert "human_request" not in decide(engine, text).triggers, text


# -- restricted_topic --------------------------------------------------------------------------------------

TOPIC_CASES = [
    ("I want a refund for order 12345", "refund"),
    ("Can I get my money back? The shoes fell apart", "refund"),
    ("please refnud me, the item never arrived", "refund"),
    ("Quiero un reembolso de mi pedido", "refund"),
    ("Ich möchte eine Rückerstattung für meine Bestellung", "refund"),
    ("je veux être remboursé", "refund"),
    ("Quero o estorno da compra", "refund"),
    ("my card was stolen on the train", "account_security"),
    ("There is a payment on my account I don't recognise", "account_security"),
    ("I think my account has been hacked", "account_security"),
    ("someone used my card in another country", "account_security"),
    ("I lost my phone with the banking app on it", "account_security"),
    ("me robaron la tarjeta", "account_security"),
    ("Meine Karte wurde gestohlen", "account_security"),
    ("Il y a un prélèvement inconnu sur mon compte", "account_security"),
    ("I will take you to court over this", "legal"),
    ("My lawyer will contact you", "legal"),
    ("I'm filing a chargeback with my bank", "legal"),
    ("I had an allergic reaction to the cream", "medical"),
    ("Should I invest my savings in bitcoin?", "financial_advice"),
    ("Please delete my personal data (GDPR)", "privacy"),
    ("Hiermit beantrage ich Auskunft nach DSGVO über meine Daten", "privacy"),
]

NOT_TOPIC = [
    "What is your refund policy?",
    "How long do refunds usually take in general?",
    "Do you refund shipping costs?",
    "How do I change my password?",
    "Is my data stored in the EU?",
    "my card was declined, what should I do?",
    "When will my new card arrive?",
    "Can I pay with PayPal?",
    "What are your opening hours?",
    "Just wanted to say my refund arrived today, thanks!",
    "How do I freeze my spending on takeaways in the budgeting tab?",
]


@pytest.mark.parametrize(("text", "topic"), TOPIC_CASES)
def test_restricted_topic_detected(engine: DecisionEngine, text: str, topic: str) -> None:
    """Each restricted topic is recognised across languages, inflections and typos, and hands off."""
    d = decide(engine, text)
    assert topic in topics(d), (text, d.reasons)
    assert d.action is Action.HANDOFF


@pytest.mark.parametrize("text", NOT_TOPIC)
def test_policy_questions_and_benign_mentions_continue(engine: DecisionEngine, text: str) -> None:
    """Questions about the rules and benign mentions do not raise a restricted topic."""
    d = decide(engine, text)
    assert not topics(d), (text, d.reasons)
    assert d.action is Action.CONTINUE, (text, d.reasons)


def test_policy_question_then_request_hands_off(engine: DecisionEngine) -> None:
    """A policy question followed by the customer's own request is a request."""
    d = decide(engine, "What is your refund policy? I want my money back for order 5521.")
    assert "refund" in topics(d)


def test_security_questions_about_the_rules_continue_but_reports_hand_off(engine: DecisionEngine) -> None:
    """'What do I do if my card is stolen?' is answered; 'my card was stolen, what do I do?' goes to a person."""
    assert "account_security" not in topics(decide(engine, "What should I do if my card is ever stolen? Just asking"))
    assert "account_security" not in topics(decide(engine, "How does your app protect against fraud?"))
    assert "account_security" in topics(decide(engine, "My card was stolen, what should I do?"))


def test_topic_evidence_quotes_the_customer(engine: DecisionEngine) -> None:
    """Evidence names the message and quotes the words as the customer wrote them."""
    d = decide(engine, "hello", "Honestly I just want a REFUND for this")
    reason = next(r for r in d.reasons if r.topic == "refund")
    assert reason.evidence[0].message_index == 1
    assert "REFUND" in reason.evidence[0].matched
    assert reason.group == "Billing"


# -- refund_exception --------------------------------------------------------------------------------------

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _msg(text: str) -> dict[str, object]:
    return {"role": "customer", "text": text, "created_at": NOW.isoformat()}


@pytest.mark.parametrize(
    ("context", "text", "expect"),
    [
        ({"refund_amount": 450, "currency": "EUR"}, "I'd like a refund please", "above the 200"),
        (
            {"purchase_date": (NOW - timedelta(days=45)).isoformat()},
            "Can I get a refund for this jacket?",
            "45 days ago",
        ),
        ({"previous_refunds": 3}, "refund this order too please", "earlier refunds"),
        ({}, "I know it's past the window but could you make an exception and refund me?", "exception"),
    ],
)
def test_refund_exception_detected(
    engine: DecisionEngine, context: dict[str, object], text: str, expect: str
) -> None:
    """Amount, window, repeat refunds and explicit exception asks are refund exceptions."""
    d = engine.decide(Conversation.model_validate({"id": "r", "messages": [_msg(text)], "context": context}))
    reason = next((r for r in d.reasons if r.trigger.value == "refund_exception"), None)
    assert reason is not None, d.reasons
    assert expect in reason.detail


def test_refund_within_limits_is_not_an_exception(engine: DecisionEngine) -> None:
    """A small, recent, first refund is a refund request but not an exception."""
    d = engine.decide(
        Conversation.model_validate(
            {
                "id": "r",
                "messages": [_msg("I want a refund")],
                "context": {"refund_amount": 20, "purchase_date": (NOW - timedelta(days=3)).isoformat()},
            }
        )
    )
    assert "refund_exception" not in d.triggers
    assert "restricted_topic" in d.triggers


def test_refund_policy_question_with_context_is_not_an_exception(engine: DecisionEngine) -> None:
    """Asking about the refund policy is not an exception even for an old purchase."""
    d = engine.decide(
        Conversation.model_validate(
            {
                "id": "r",
                "messages": [_msg("What is your refund policy?")],
                "context": {"purchase_date": (NOW - timedelta(days=90)).isoformat()},
            }
        )
    )
    assert "refund_exception" not in d.triggers


# -- vip -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "customer",
    [{"tags": ["VIP"]}, {"plan": "Enterprise"}, {"lifetime_value": 25000}, {"tags": ["key_account", "x"]}],
)
def test_vip_detected(engine: DecisionEngine, customer: dict[str, object]) -> None:
    """Tags, plans and lifetime value make a VIP; VIPs go to the VIP group with an alert."""
    d = decide(engine, "Where is my invoice?", customer=customer)
    assert "vip" in d.triggers
    assert d.alert and d.route.group == "VIP Support"


@pytest.mark.parametrize(
    "customer", [{}, {"tags": ["newsletter"]}, {"plan": "basic"}, {"lifetime_value": 900}]
)
def test_vip_not_detected(engine: DecisionEngine, customer: dict[str, object]) -> None:
    """Ordinary customers are not VIPs."""
    assert "vip" not in decide(engine, "Where is my invoice?", customer=customer).triggers


# -- sentiment -------------------------------------------------------------------------------------------

ANGRY = [
    "This is the THIRD time I ask, I've been waiting for days. Ridiculous!!",
    "Absolutely unacceptable. Worst service ever, I'm cancelling my account.",
    "wtf is wrong with you people, where is my money",
    "Great, another useless bot. Just perfect.",
    "Oh fantastic, another email telling me it's resolved. It's not. 🙄",
    "Estoy harto, es la tercera vez que escribo y nadie responde",
    "C'est inadmissible, ça fait trois semaines que j'attends !!",
    "Das ist eine Frechheit, ich warte seit Wochen auf mein Geld",
    "Isso é um absurdo, ninguém me ajuda",
    "I'm done. If this isn't fixed today I'm going to a competitor.",
]
CALM = [
    "Hi, where can I see my statements?",
    "my card was declined, what should I do?",
    "I'm not upset, just curious how the cashback works",
    "Thanks so much, that solved it!",
    "Could you tell me the delivery time to Austria?",
    # "Hola, ¿cuánto tarda el envío?" is read as mildly negative by the trained head (labels projected from
    # film subtitles): a known weakness, docs/models.md.
    "Bonjour, je voudrais savoir si je peux payer en plusieurs fois",
    "I love the new app design, great job",
    "My old card is damaged, how do I order a replacement?",
]


@pytest.mark.parametrize("text", ANGRY)
def test_angry_customers_detected(engine: DecisionEngine, text: str) -> None:
    """Angry messages (cues, caps, sarcasm, emoji, several languages) score negative and reach a person."""
    d = decide(engine, text)
    assert d.signals.sentiment <= -0.3, (text, d.signals)
    assert d.action is not Action.CONTINUE


@pytest.mark.parametrize("text", CALM)
def test_calm_customers_not_flagged(engine: DecisionEngine, text: str) -> None:
    """Calm messages, including ones with negative words, are not flagged."""
    d = decide(engine, text)
    assert d.signals.sentiment > -0.3, (text, d.signals)
    assert "sentiment" not in d.triggers


def test_anger_is_angry_and_alerts(engine: DecisionEngine) -> None:
    """Anger hands off with high priority and a Slack alert; mild negativity only offers a person."""
    angry = decide(engine, "This is a joke. Worst company ever, absolutely disgusting service!!")
    assert angry.signals.angry and angry.alert and angry.priority.value == "high"
    mild = decide(engine, "hmm the tracking hasn't updated, a bit annoying tbh")
    assert not mild.signals.angry


def test_worsening_trend_is_detected(engine: DecisionEngine) -> None:
    """A customer who gets more upset message after message is flagged with the trend."""
    d = decide(
        engine,
        "Hi, my parcel hasn't arrived yet, can you check?",
        "It's been a week now, still nothing.",
        "Seriously? Still waiting, nobody answers. This is frustrating.",
    )
    reason = next(r for r in d.reasons if r.trigger.value == "sentiment")
    assert "getting worse" in reason.detail
    assert d.signals.sentiment_trend < 0


def test_calm_again_clears_sentiment(engine: DecisionEngine) -> None:
    """Anger earlier in the thread does not count once the customer is clearly happy again."""
    d = decide(
        engine, "This is ridiculous, nothing works!!", "Oh it works now, thank you so much, great help!"
    )
    assert "sentiment" not in d.triggers


# -- low_confidence --------------------------------------------------------------------------------------


def test_low_assistant_confidence_offers_a_person(engine: DecisionEngine) -> None:
    """An assistant answer below the confidence threshold offers a person."""
    d = decide(
        engine,
        "How do I set up recurring transfers?",
        {"role": "assistant", "text": "I think you go to settings?", "confidence": 0.31},
    )
    assert "low_confidence" in d.triggers
    assert d.action is Action.OFFER_HANDOFF


def test_confident_assistant_continues(engine: DecisionEngine) -> None:
    """A confident answer keeps the assistant in charge."""
    d = decide(
        engine,
        "How do I set up recurring transfers?",
        {"role": "assistant", "text": "Go to Payments > Recurring.", "confidence": 0.92},
    )
    assert d.action is Action.CONTINUE


# -- bot_loop --------------------------------------------------------------------------------------------


def test_repeated_fallbacks_hand_off(engine: DecisionEngine) -> None:
    """Two fallback answers in one conversation hand off, whether flagged or recognised by wording."""
    d = decide(
        engine,
        "can I split a payment",
        {"role": "assistant", "text": "Sorry, I didn't understand that. Could you rephrase?"},
        "split the bill between two cards",
        {"role": "assistant", "text": "Hmm", "fallback": True},
    )
    assert "bot_loop" in d.triggers and d.action is Action.HANDOFF


def test_customer_repeating_the_question_hands_off(engine: DecisionEngine) -> None:
    """The same question three times, even reworded, is a loop."""
    d = decide(
        engine,
        "when does my new card arrive?",
        {"role": "assistant", "text": "Cards arrive in 3-5 days."},
        "yes but when does MY card arrive, I ordered it 12 days ago",
        {"role": "assistant", "text": "Cards arrive in 3-5 days."},
        "WHEN. DOES. MY. CARD. ARRIVE.",
    )
    assert "bot_loop" in d.triggers


def test_different_questions_are_not_a_loop(engine: DecisionEngine) -> None:
    """Several different questions are a conversation, not a loop."""
    d = decide(
        engine,
        "when does my new card arrive?",
        "how do I activate it?",
        "and can I use it abroad?",
    )
    assert "bot_loop" not in d.triggers

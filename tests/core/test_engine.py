"""The decision as a whole: precedence, offering once, staying silent, routing, fields, texts, summary."""

from __future__ import annotations

import pytest

from handoff_core import Action, Priority, TriggerName
from handoff_core.engine import DecisionEngine
from handoff_core.policy import parse_policy

from .conftest import conversation, decide


def test_calm_question_continues_without_summary(engine: DecisionEngine) -> None:
    """No trigger: continue, no route, no customer message, no summary."""
    d = decide(engine, "What are your opening hours?")
    assert d.action is Action.CONTINUE
    assert d.reasons == () and d.summary is None and d.customer_message is None and d.route.tags == ()


def test_strongest_action_wins_and_reasons_are_ordered(engine: DecisionEngine) -> None:
    """Handoff beats offer; reasons are ordered by action, then severity; the top reason picks the group."""
    d = decide(engine, "my card was stolen and this is the third time I write, frustrating")
    assert d.action is Action.HANDOFF
    assert d.reasons[0].topic == "account_security"
    assert d.route.group == "Trust & Safety"
    assert d.priority is Priority.URGENT
    severities = [r.severity for r in d.reasons if r.action is Action.HANDOFF]
    assert severities == sorted(severities, reverse=True)


def test_tags_include_handoff_trigger_and_topic_tags(engine: DecisionEngine) -> None:
    """Handoffs carry ai_handoff, handoff_<trigger> and the topic's tags."""
    d = decide(engine, "I want a refund for order 12345")
    assert {"ai_handoff", "handoff_restricted_topic", "topic_refund"} <= set(d.route.tags)


def test_offer_is_made_once(engine: DecisionEngine) -> None:
    """A handoff is offered at most once: after an offer the same signal continues."""
    first = decide(
        engine,
        "How do I set up recurring transfers?",
        {"role": "assistant", "text": "Maybe settings?", "confidence": 0.2},
    )
    assert first.action is Action.OFFER_HANDOFF
    again = decide(
        engine,
        "How do I set up recurring transfers?",
        {"role": "assistant", "text": "Maybe settings?", "confidence": 0.2},
        state={"handoff_offered": True},
    )
    assert again.action is Action.CONTINUE
    assert "low_confidence" in again.triggers  # the reason is still reported, for the audit log


def test_yes_to_an_offer_hands_off_and_a_decline_does_not(engine: DecisionEngine) -> None:
    """'Yes please' after an offer hands off; 'yes it helped, no need for a person' does not."""
    yes = decide(engine, "yes please", state={"handoff_offered": True})
    assert yes.action is Action.HANDOFF and yes.reasons[0].trigger is TriggerName.HUMAN_REQUEST
    no = decide(
        engine, "yes the answer helped, no need for a person, thanks", state={"handoff_offered": True}
    )
    assert no.action is Action.CONTINUE
    not_offered = decide(engine, "yes please")
    assert not_offered.action is Action.CONTINUE


def test_already_handed_off_stays_silent(engine: DecisionEngine) -> None:
    """Once with a person (state or an agent message), every later message is a silent handoff."""
    by_state = decide(engine, "thanks!", state={"handed_off": True, "handed_off_reason": "refund"})
    by_agent = decide(engine, "hi", {"role": "agent", "text": "Hello, Maria here"}, "thanks Maria")
    for d in (by_state, by_agent):
        assert d.action is Action.HANDOFF
        assert d.reasons[0].trigger is TriggerName.ALREADY_HANDED_OFF
        assert d.customer_message is None
    assert "refund" in by_state.reasons[0].detail


def test_missing_fields_are_asked_for_in_the_customer_language(engine: DecisionEngine) -> None:
    """The fields the policy wants are collected from the conversation; missing ones are asked for."""
    d = decide(engine, "Quiero un reembolso del pedido 778812")
    assert d.collected == {"order_id": "778812"}
    assert d.missing_fields == ("email",)
    assert d.language == "es"
    assert d.customer_message is not None and "correo electrónico" in d.customer_message
    complete = decide(engine, "Quiero un reembolso del pedido 778812", customer={"email": "ana@example.com"})
    assert complete.missing_fields == ()
    assert complete.customer_message is not None and complete.customer_message.startswith("Te estoy pasando")


def test_offer_text_in_language(engine: DecisionEngine) -> None:
    """Offers are worded in the customer's language."""
    d = decide(
        engine,
        "Bonjour, comment activer ma carte ?",
        {"role": "assistant", "text": "Peut-être dans l'app ?", "confidence": 0.2},
    )
    assert d.action is Action.OFFER_HANDOFF
    assert d.customer_message is not None and d.customer_message.startswith("Souhaitez-vous")


def test_urgency_raises_priority(engine: DecisionEngine) -> None:
    """Urgent wording raises a handoff to at least high priority."""
    calm = decide(engine, "I'd like to talk to a person about my invoice")
    urgent = decide(engine, "I need to talk to a person about my invoice, it's urgent")
    assert calm.priority is Priority.NORMAL
    assert urgent.urgent and urgent.priority is Priority.HIGH


def test_summary_is_short_redacted_and_informative(engine: DecisionEngine) -> None:
    """The summary names the customer, the ask, the facts and the reason, redacts PII and stays short."""
    long_tail = " ".join(["I also wanted to mention many other details about my life."] * 60)
    d = decide(
        engine,
        "Hi, I'm Jane, email jane.doe@example.com, card 4111 1111 1111 1111.",
        {"role": "assistant", "text": "How can I help?"},
        "I want a refund for order #A12345, it cost $249.99 on 2026-10-02. " + long_tail,
        customer={"name": "Jane Doe", "email": "jane.doe@example.com", "tags": ["vip"]},
    )
    s = d.summary
    assert s is not None and len(s) <= 1200
    assert "Jane Doe" in s and "VIP" in s
    assert "A12345" in s and "$249.99" in s
    assert "refund" in s.lower()
    assert "4111" not in s and "jane.doe@example.com" not in s
    # A courtesy question ("How can I help?") is not quoted (round 7), and a bot that asked nothing takes no line.
    assert "Assistant so far" not in s and "How can I help?" not in s  # round 8: nothing asked, no line


def test_summary_can_keep_pii_when_policy_says_so() -> None:
    """With redaction off the agent sees the raw values."""
    policy = parse_policy(
        'version: "1"\nprivacy: {redact_summary: false}\ntriggers:\n  human_request:\n    phrases: [human please]\n'
    )
    d = DecisionEngine(policy).decide(conversation("human please, mail me at jo@example.com"))
    assert d.summary is not None and "jo@example.com" in d.summary


def test_disabled_trigger_does_not_fire() -> None:
    """Every trigger can be switched off."""
    policy = parse_policy(
        'version: "1"\ntriggers:\n  human_request:\n    enabled: false\n    phrases: [human please]\n'
    )
    assert DecisionEngine(policy).decide(conversation("human please")).action is Action.CONTINUE


def test_decision_reports_policy_version_and_hash(engine: DecisionEngine) -> None:
    """Every decision names the policy version and hash it was made with."""
    d = decide(engine, "hello")
    assert d.policy.version == engine.policy.version and d.policy.hash == engine.policy.hash


def test_decisions_are_deterministic(engine: DecisionEngine) -> None:
    """The same conversation always gets the same decision."""
    texts = ("my card was stolen!!", "please help, it's urgent")
    assert decide(engine, *texts) == decide(engine, *texts)


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("I want a refund for my order, it arrived broken", "your order number and email address?"),
        ("Quiero un reembolso, llegó roto", "tu número de pedido y correo electrónico?"),
    ],
)
def test_missing_fields_read_as_a_sentence(engine: DecisionEngine, text: str, fields: str) -> None:
    """Two missing fields are joined with the language's "and", not a bare comma (issue 7, finding 9)."""
    d = decide(engine, text)
    assert d.missing_fields == ("order_id", "email")
    assert d.customer_message is not None and d.customer_message.endswith(fields)

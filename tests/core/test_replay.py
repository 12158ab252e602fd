"""Replaying a conversation turn by turn: one decision per customer message, state carried, stop at handoff."""

from __future__ import annotations

from handoff_core import Action
from handoff_core.engine import DecisionEngine
from handoff_core.replay import replay

from .conftest import conversation


def test_replay_finds_the_turn_of_the_handoff(engine: DecisionEngine) -> None:
    """Calm turns continue; the refund request hands off; later messages are not replayed."""
    conv = conversation(
        "Hi, where can I see my statements?",
        {"role": "assistant", "text": "In the app under Statements."},
        "Thanks. Also I want a refund for order 5521",
        {"role": "assistant", "text": "Let me check."},
        "hello?",
    )
    turns = list(replay(engine, conv))
    assert [t.number for t in turns] == [1, 2]
    assert [t.decision.action for t in turns] == [Action.CONTINUE, Action.HANDOFF]
    assert turns[1].message_index == 2
    assert len(turns[1].conversation.messages) == 3


def test_replay_carries_the_offer_forward(engine: DecisionEngine) -> None:
    """The unsure answer is seen at the next customer turn (offer); the state carries it, and a yes hands off."""
    conv = conversation(
        "How do I set up recurring transfers?",
        {"role": "assistant", "text": "Maybe in settings?", "confidence": 0.2},
        "hmm ok",
        {"role": "assistant", "text": "Would you like a person?"},
        "yes please",
    )
    turns = list(replay(engine, conv))
    assert [t.decision.action for t in turns] == [Action.CONTINUE, Action.OFFER_HANDOFF, Action.HANDOFF]
    assert not turns[1].conversation.state.handoff_offered
    assert turns[2].conversation.state.handoff_offered


def test_replay_without_stopping_stays_silent_after_handoff(engine: DecisionEngine) -> None:
    """With stop_at_handoff=False the turns after a handoff say the conversation is with a person."""
    conv = conversation("agent please", "are you there?")
    turns = list(replay(engine, conv, stop_at_handoff=False))
    assert [t.decision.triggers[0] for t in turns] == ["human_request", "already_handed_off"]


def test_replay_decides_on_trailing_assistant_messages(engine: DecisionEngine) -> None:
    """An unsure last answer after the last customer message is decided on (finding 8: it was dropped)."""
    conv = conversation(
        "How do I set up recurring transfers?",
        {"role": "assistant", "text": "Maybe in settings?", "confidence": 0.2},
    )
    turns = list(replay(engine, conv))
    assert [t.number for t in turns] == [1, 1]
    assert turns[-1].decision.action is engine.decide(conv).action is Action.OFFER_HANDOFF
    assert len(turns[-1].conversation.messages) == 2


def test_replay_decides_on_two_trailing_fallbacks(engine: DecisionEngine) -> None:
    """Two fallback replies at the end hand off, as deciding on the whole transcript does."""
    conv = conversation(
        "Can I change the currency of my savings pot?",
        {"role": "assistant", "text": "Sorry, I didn't understand that."},
        {"role": "assistant", "text": "I'm not sure I can help with that."},
    )
    turns = list(replay(engine, conv))
    assert turns[-1].decision.action is engine.decide(conv).action is Action.HANDOFF

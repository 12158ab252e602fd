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

"""The conversation state machine, table-driven: what each decision does to the remembered state."""

from __future__ import annotations

import pytest

from handoff_core import Action, ConversationState
from handoff_core.engine import HANDOFF_TAG
from handoff_core.state import advance, carry, is_new_handoff

from .conftest import conversation

FRESH = ConversationState()
OFFERED = ConversationState(handoff_offered=True)
HANDED = ConversationState(handed_off=True, handed_off_reason="vip")


@pytest.mark.parametrize(
    ("remembered", "observed", "expected"),
    [
        (None, FRESH, FRESH),
        (None, HANDED, HANDED),
        (OFFERED, FRESH, OFFERED),
        (FRESH, HANDED, HANDED),
        (HANDED, FRESH, HANDED),
        (OFFERED, HANDED, ConversationState(handed_off=True, handed_off_reason="vip", handoff_offered=True)),
    ],
)
def test_carry_never_undoes_a_handoff_or_an_offer(remembered, observed, expected):
    """What the store remembers and what the channel shows are joined; neither undoes the other."""
    assert carry(remembered, observed) == expected


@pytest.mark.parametrize(
    ("state", "text", "action", "new", "after"),
    [
        (FRESH, "where is my parcel?", Action.CONTINUE, False, FRESH),
        (FRESH, "I want to talk to a human now", Action.HANDOFF, True, None),
        (HANDED, "I want to talk to a human now", Action.HANDOFF, False, HANDED),
        (HANDED, "where is my parcel?", Action.HANDOFF, False, HANDED),
    ],
)
def test_advance_and_new_handoff(engine, state, text, action, new, after):
    """A handoff happens once; an already handed-off conversation stays handed off and acts no more."""
    decision = engine.decide(conversation(text).model_copy(update={"state": state}))
    assert decision.action is action
    assert is_new_handoff(state, decision) is new
    nxt = advance(state, decision)
    if after is not None:
        assert nxt == after
    else:
        assert nxt.handed_off and nxt.handed_off_reason == ",".join(decision.triggers)
    if new:
        assert decision.route.tags[0] == HANDOFF_TAG, "the handoff tag comes from the core"

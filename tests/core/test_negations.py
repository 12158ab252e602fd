"""Negations of a request for a person: one-word ones count alone, longer ones only as the whole phrase."""

from __future__ import annotations

import pytest

from handoff_core import Action
from handoff_core.engine import DecisionEngine

from .conftest import decide


@pytest.mark.parametrize(
    ("text", "action"),
    [
        # "no need" is a negation phrase: its word "need" alone is not (it once cancelled these requests).
        ("I need to talk to a person", Action.HANDOFF),
        ("we need to speak to a human about this", Action.HANDOFF),
        ("no need to talk to a person, thanks", Action.CONTINUE),
        ("I don't want to talk to a human", Action.CONTINUE),
        ("not now, talk to a person later maybe", Action.CONTINUE),
    ],
)
def test_negations_of_a_request(engine: DecisionEngine, text: str, action: Action) -> None:
    """A request is cancelled by a negation word or the whole negation phrase in the words before it."""
    assert decide(engine, text).action is action

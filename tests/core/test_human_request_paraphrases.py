"""WRITTEN REGRESSION CASES (not evidence): the round-6 paraphrases of a request for a person, and the
clause rule of its negations.

The issue's brief lists paraphrases the detector must take ("call me back", "put me in touch with
someone", "you're not helping, I want a person") and look-alikes it must not ("I don't need an agent",
"your agent said…", a travel agent). Accuracy on real text is measured by ``bench/eval_real.py`` on the
held-out Rasa half (docs/models.md); these cases only keep the wording from regressing.
"""

from __future__ import annotations

import pytest

from handoff_core.engine import DecisionEngine
from tests.core.conftest import decide


def _fires(engine: DecisionEngine, text: str) -> bool:
    return any(r.trigger.value == "human_request" for r in decide(engine, text).reasons)


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        ("call me back please", True),
        ("I'd like a callback", True),
        ("can someone call me about this", True),
        ("could you give me a call", True),
        ("put me in touch with someone who can help", True),
        ("hand me over to a human", True),
        ("let me talk to your boss", True),
        ("I want to speak to someone in charge", True),
        ("connect me to support", True),
        # A negation reaches only within its clause: the request after the comma stands.
        ("you're not helping, I want a person", True),
        ("I don't want a person to call me", False),
        ("I don't need an agent", False),
        ("your agent said it would arrive monday", False),
        ("my travel agent booked this trip", False),
        ("I spoke to a person yesterday and they said it was fine", False),
        ("are you a human?", False),
        ("I will call back tomorrow", False),
        ("can you remind me of my meeting with my boss", False),
        ("I am only human", False),
    ],
)
def test_paraphrases_and_look_alikes(default_engine: DecisionEngine, text: str, fires: bool) -> None:
    """Each written paraphrase fires and each look-alike stays quiet under the default policy."""
    assert _fires(default_engine, text) is fires

"""The analysis window: long messages are read as their opening and their close, short ones whole."""

from __future__ import annotations

import pytest

from connectors.training.data import CFPB_CHARS, Row
from connectors.training.detectors import training_features
from handoff_core import Conversation, Message, Role
from handoff_core.engine import DecisionEngine
from handoff_core.features import bundled_featurizer
from handoff_core.text.window import HEAD_CHARS, JOINT, TAIL_CHARS, WINDOW_CHARS, analysis_window

STORY = "On the third of May I called the bank about the transfer and they said to wait. "


def _complaint(middle: str = "", end: str = "Thank you.") -> str:
    """A 2 KB complaint: a story, ``middle`` buried in it, and ``end`` as its last sentence."""
    return "I am writing about my account. " + STORY * 12 + middle + " " + STORY * 12 + end


@pytest.mark.parametrize("size", [0, 1, 50, WINDOW_CHARS - 1, WINDOW_CHARS])
def test_messages_up_to_the_window_are_read_whole(size: int) -> None:
    """A message no longer than the window is returned unchanged (so short messages decide as before)."""
    text = ("word " * size)[:size]
    assert analysis_window(text) == text


@pytest.mark.parametrize("size", [WINDOW_CHARS + 1, 2_000, 50_000])
def test_long_messages_are_bounded_and_keep_opening_and_close(size: int) -> None:
    """A longer one is at most the window (plus the joint), starts with its opening and ends with its close."""
    text = ("alpha beta gamma " * (size // 17 + 1))[: size - 11] + " last words"
    window = analysis_window(text)
    assert len(window) <= WINDOW_CHARS + len(JOINT)
    assert window.startswith("alpha beta gamma")
    assert window.endswith("last words")
    assert JOINT in window
    head, tail = window.split(JOINT)
    assert text.startswith(head) and text.endswith(tail)
    assert HEAD_CHARS * 3 // 4 <= len(head) <= HEAD_CHARS
    assert TAIL_CHARS * 3 // 4 <= len(tail) <= TAIL_CHARS


def test_the_window_cuts_at_spaces_not_inside_words() -> None:
    """Neither part starts or ends with half a word."""
    text = _complaint()
    head, tail = analysis_window(text).split(JOINT)
    assert text[len(head)] == " "
    assert text[-len(tail) - 1] == " "


def test_the_window_covers_every_training_opening() -> None:
    """The heads learned from CFPB openings of CFPB_CHARS characters: the window reads all of such an opening."""
    assert HEAD_CHARS >= CFPB_CHARS
    opening = _complaint()[:CFPB_CHARS]
    assert analysis_window(opening) == opening


def test_training_featurises_through_the_same_window(default_engine: DecisionEngine) -> None:
    """A long training row is featurised exactly as the engine featurises the message at decision time."""
    text = _complaint(end="I want my money back now.")
    (trained,) = training_features([Row(text, "train", "cfpb", "en", ("none",))])
    features, _ = default_engine.score_messages([(0, text)])
    assert trained.text == features[0].text == analysis_window(text)
    assert trained.buckets.tolist() == features[0].buckets.tolist()
    assert trained.values.tolist() == features[0].values.tolist()
    assert len(trained.offsets) < len(bundled_featurizer().featurize(text).offsets) / 2  # fewer word pieces read


def _decide(engine: DecisionEngine, text: str) -> tuple[str, list[str]]:
    decision = engine.decide(Conversation(id="w", messages=(Message(role=Role.CUSTOMER, text=text),)))
    return decision.action.value, [r.trigger.value for r in decision.reasons]


def test_a_request_in_the_close_of_a_long_message_is_read(default_engine: DecisionEngine) -> None:
    """'Let me talk to a person' as the last sentence of a 2 KB complaint still hands off."""
    action, triggers = _decide(default_engine, _complaint(end="Please let me talk to a real person."))
    assert action == "handoff"
    assert "human_request" in triggers


def test_a_request_buried_in_the_middle_of_a_long_message_is_not_read(default_engine: DecisionEngine) -> None:
    """The same request in the middle of the story is outside the window: the price of a bounded cost."""
    text = _complaint(middle="Please let me talk to a real person.")
    assert len(text) > 2 * WINDOW_CHARS
    _, triggers = _decide(default_engine, text)
    assert "human_request" not in triggers
    _, whole = _decide(default_engine, "Please let me talk to a real person.")
    assert "human_request" in whole


def test_the_record_keeps_the_whole_text_and_analyses_the_window(default_engine: DecisionEngine) -> None:
    """Facts and the summary read the whole message; the per-message detectors read its window."""
    text = _complaint(middle="My order number is 88123456.")
    conversation = Conversation(id="w", messages=(Message(role=Role.CUSTOMER, text=text),))
    analysis = default_engine.analyze(conversation)
    record = analysis.records[0]
    assert record.text == text
    assert record.analyzed.text == analysis_window(text)

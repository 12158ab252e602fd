"""Incremental decisions: reusing per-message analysis gives byte-for-byte the decisions of a full re-read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from handoff_core import Conversation
from handoff_core.engine import DecisionEngine
from handoff_core.knowledge import load_knowledge
from handoff_core.policy import Policy
from handoff_core.replay import replay

from .conftest import ROOT, conversation

EXAMPLES = ROOT / "config" / "examples" / "conversations.jsonl"


def _examples() -> list[Conversation]:
    out = []
    for line in EXAMPLES.read_text(encoding="utf-8").splitlines():
        if line.strip():
            data = json.loads(line)
            data.pop("expected", None)
            out.append(Conversation.model_validate(data))
    return out


def _both_ways(engine: DecisionEngine, conv: Conversation) -> tuple[list[str], list[str]]:
    incremental = [t.decision.model_dump_json() for t in replay(engine, conv, stop_at_handoff=False, incremental=True)]
    full = [t.decision.model_dump_json() for t in replay(engine, conv, stop_at_handoff=False, incremental=False)]
    return incremental, full


@pytest.mark.parametrize("which", ["engine", "default_engine"])
def test_example_conversations_replay_identically(request: pytest.FixtureRequest, which: str) -> None:
    """Every example conversation, replayed turn by turn, decides the same with and without reuse (with
    the fixture policy and with the shipped one the examples were written for)."""
    engine: DecisionEngine = request.getfixturevalue(which)
    turns = 0
    for conv in _examples():
        incremental, full = _both_ways(engine, conv)
        assert incremental == full, conv.id
        turns += len(full)
    assert turns > 100  # the examples really were replayed turn by turn


def test_examples_with_knowledge_replay_identically(policy: Policy) -> None:
    """With approved knowledge the cached coverage of the latest question changes nothing either."""
    engine = DecisionEngine(policy, load_knowledge(Path(ROOT / "config/examples/knowledge.jsonl"), "static"))
    for conv in _examples()[:40]:
        incremental, full = _both_ways(engine, conv)
        assert incremental == full, conv.id


def test_language_switch_re_keys_earlier_messages(engine: DecisionEngine) -> None:
    """When later messages change the conversation's language, earlier records are redone in it."""
    conv = conversation(
        "hello, my card",
        "hola, quiero mi dinero de vuelta, la tarjeta no funciona y no me devuelven el dinero",
        "por favor, es la tercera vez que pregunto por el reembolso",
    )
    incremental, full = _both_ways(engine, conv)
    assert incremental == full
    assert [json.loads(d)["language"] for d in full][:2] == ["en", "es"]


def test_step_reuses_records_of_unchanged_messages(engine: DecisionEngine) -> None:
    """The analysis kept from the previous turn is reused: only the new message gets a new record."""
    first = conversation("where is my parcel?", {"role": "assistant", "text": "It ships tomorrow."})
    _, kept = engine.step(first)
    assert kept is not None
    second = first.model_copy(update={"messages": (*first.messages, *conversation("ok thanks").messages)})
    decision, again = engine.step(second, kept)
    assert again is not None
    assert again.records[:2] == kept.records
    assert all(a is b for a, b in zip(again.records, kept.records, strict=False))
    assert decision == engine.decide(second)


def test_an_edited_transcript_is_analysed_again(engine: DecisionEngine) -> None:
    """A record is reused only while its message is unchanged; an edited message is analysed afresh."""
    calm = conversation("where is my parcel?")
    _, kept = engine.step(calm)
    angry = conversation("I want a refund for order 5521 NOW")
    decision, again = engine.step(angry, kept)
    assert again is not None and kept is not None
    assert again.records[0] is not kept.records[0]
    assert decision == engine.decide(angry)
    assert decision.action.value == "handoff"


@pytest.mark.parametrize("length", [40, 400])
def test_long_conversation_replays_identically(engine: DecisionEngine, length: int) -> None:
    """Long mixed transcripts (fallbacks, repeats, anger late) decide the same both ways."""
    texts = [
        "when does my new card arrive?",
        "Sorry, I didn't get that.",
        "I ordered it 12 days ago, when does my card arrive",
        "It usually takes 5 to 7 working days.",
        "this is ridiculous, still nothing!!",
    ]
    messages = [
        {"role": "customer" if i % 2 == 0 else "assistant", "text": texts[i % len(texts)]} for i in range(length)
    ]
    conv = conversation(*messages)
    incremental, full = _both_ways(engine, conv)
    assert incremental == full


def _rich(length: int) -> Conversation:
    """Customer and assistant turns with every field the running folds read: fallbacks, confidences,
    times, repeats with short messages between them, a request for a person, calm and angry turns."""
    customer = [
        "when does my new card arrive?",
        "ok",
        "I ordered it 12 days ago, when does my card arrive",
        "can I talk to a real person please",
        "this is ridiculous, still nothing!!",
        "my new card has not arrived, when will it arrive?",
        "thanks",
    ]
    assistant = ["Sorry, I didn't get that.", "It usually takes 5 to 7 working days.", "Let me check."]
    messages: list[dict[str, object]] = []
    for i in range(length):
        stamp = f"2026-03-0{1 + i % 3}T10:{i % 60:02d}:00+00:00"  # not in order: the latest is not the last
        if i % 2 == 0:
            messages.append({"role": "customer", "text": customer[(i // 2) % len(customer)], "created_at": stamp})
        else:
            messages.append(
                {
                    "role": "assistant",
                    "text": assistant[(i // 2) % len(assistant)],
                    "fallback": i % 7 == 1,
                    "confidence": None if i % 5 else round(0.3 + (i % 11) / 20, 2),
                    "created_at": stamp,
                }
            )
    return conversation(*messages)


@pytest.mark.parametrize("length", [9, 60])
@pytest.mark.parametrize("which", ["engine", "default_engine"])
def test_running_folds_replay_identically(request: pytest.FixtureRequest, which: str, length: int) -> None:
    """Fallback counts, repeats among the recent messages, confidence, time and lowest sentiment, kept as
    running folds in the records, decide every turn exactly as a fresh read of the transcript (fixture
    policy, and the shipped one with its trained detectors and example sets)."""
    engine: DecisionEngine = request.getfixturevalue(which)
    conv = _rich(length)
    incremental, full = _both_ways(engine, conv)
    assert incremental == full
    # Replay stops reading after the first handoff (the conversation is with a person then); step every
    # prefix too, so the folds run over the whole transcript, carried from prefix to prefix.
    kept = None
    found: set[str] = set()
    for n in range(1, length + 1):
        prefix = conv.model_copy(update={"messages": conv.messages[:n]})
        decision, kept = engine.step(prefix, kept)
        assert decision.model_dump_json() == engine.decide(prefix).model_dump_json(), n
        found |= {f"{r.trigger.value}:{r.topic}" for r in decision.reasons}
    if length > 20:  # the folds really had something to find
        assert {"bot_loop:fallbacks", "bot_loop:repeated_question", "human_request:None"} <= found, found


@pytest.mark.parametrize(
    "change",
    [{"fallback": True}, {"confidence": 0.1}, {"created_at": "2026-04-01T09:00:00+00:00"}],
)
def test_a_changed_message_field_is_not_reused(engine: DecisionEngine, change: dict[str, object]) -> None:
    """A record is kept only while its message's flags match too: a fold never reads a stale flag."""
    before = _rich(12)
    _, kept = engine.step(before)
    messages = [m.model_dump() for m in before.messages]
    messages[3].update(change)
    after = conversation(*messages)
    decision, again = engine.step(after, kept)
    assert again is not None and kept is not None
    assert again.records[2] is kept.records[2] and again.records[3] is not kept.records[3]
    assert decision == engine.decide(after)


def _with_long_pastes_and_a_person(length: int) -> Conversation:
    """Short turns with two pastes longer than the message window (one early, one late, a request for a
    person at the end of the second) and, near the end, an agent who joins."""
    from handoff_core.engine import MESSAGE_WINDOW

    paste = "error: timeout while syncing the calendar\n" * (MESSAGE_WINDOW // 30)
    messages: list[dict[str, object]] = []
    for i in range(length):
        if i % 2:
            messages.append({"role": "assistant", "text": "Let me check that for you."})
        elif i == 4:
            messages.append({"role": "customer", "text": "here is the log:\n" + paste})
        elif i == length - 6:
            ask = " this is useless. Can I talk to a real person please?"
            messages.append({"role": "customer", "text": paste + ask})
        else:
            messages.append({"role": "customer", "text": f"my calendar still does not sync, try {i}"})
    messages[length - 3] = {"role": "agent", "text": "Hi, I am Sam from support, I can take it from here."}
    return conversation(*messages)


@pytest.mark.parametrize("which", ["engine", "default_engine"])
def test_long_pastes_and_a_person_joining_step_as_a_fresh_read(request: pytest.FixtureRequest, which: str) -> None:
    """Messages longer than the window and an agent who joins, found by step() through running folds over
    the kept records and a look at the new messages only, decide every prefix as a fresh read; a kept
    analysis made by analyze() from the unwindowed transcript is not reused for the long message."""
    from handoff_core.engine import MESSAGE_WINDOW

    engine: DecisionEngine = request.getfixturevalue(which)
    conv = _with_long_pastes_and_a_person(24)
    kept = None
    actions: list[tuple[str, set[str]]] = []
    for n in range(1, len(conv.messages) + 1):
        prefix = conv.model_copy(update={"messages": conv.messages[:n]})
        decision, kept = engine.step(prefix, kept)
        assert decision.model_dump_json() == engine.decide(prefix).model_dump_json(), n
        actions.append((decision.action.value, {r.trigger.value for r in decision.reasons}))
        assert kept is None or all(len(r.text) <= MESSAGE_WINDOW for r in kept.records)
    assert actions[-1] == ("handoff", {"already_handed_off"})  # the agent joined
    assert any("human_request" in found for _, found in actions[: len(conv.messages) - 3])  # after the paste
    # analyze() keeps what it is given: here the unwindowed paste, which step() must not reuse as is.
    before = conv.model_copy(update={"messages": conv.messages[:10]})
    raw = engine.analyze(before)
    assert max(len(r.text) for r in raw.records) > MESSAGE_WINDOW
    after = conv.model_copy(update={"messages": conv.messages[:11]})
    decision, again = engine.step(after, raw)
    assert again is not None and again.records[4] is not raw.records[4] and again.records[3] is raw.records[3]
    assert decision.model_dump_json() == engine.decide(after).model_dump_json()

"""The reuse check and the running folds of step(): table-driven against plain reads of the transcript.

Round 8 of issue 12 made the check that kept records still stand for their messages compare each
message's field mapping (the very mapping of the message a record was made from: a pointer comparison
for the same objects, a comparison of values for a transcript read back from a store) instead of building
a tuple per message. Each case below steps a conversation through successive versions of its transcript
(appended, read back from JSON, edited, re-numbered, reordered, shortened, joined by an agent, pasted
into, switched to another language), carrying the analysis from version to version, and checks at every
version that:

- the decision is byte for byte the decision of a fresh read;
- exactly the records of the unchanged prefix were reused (by identity), none after it;
- every running fold kept in the records (a person so far and the longest text, the latest time, the
  latest confidence, the lowest customer sentiment, the facts so far), every collection gathered for the
  triggers and the per-index views of the records they read (analysed texts, features, scores) equal the
  same quantity read plainly from the transcript and a fresh analysis.

Regression inputs written for the purpose, not evidence of accuracy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from handoff_core import Conversation
from handoff_core.analysis import ConversationAnalysis, MessageAnalysis, running
from handoff_core.engine import (
    _CONFIDENCE,
    _FACTS_SO_FAR,
    _LATEST_STAMP,
    _LOWEST,
    _NO_FACTS,
    _NO_SHAPE,
    _SHAPE_SO_FAR,
    MESSAGE_WINDOW,
    DecisionEngine,
    _bounded,
    _Gathered,
    _latest_confidence,
    _latest_stamp,
    _with_facts,
    _with_shape,
)
from handoff_core.facts import extract_facts
from handoff_core.models import Role

Messages = list[dict[str, Any]]
PASTE = "error: timeout while syncing the calendar, order 88123 failed\n" * (MESSAGE_WINDOW // 40)


def _chat(n: int, *, lang: str = "en", start: int = 0) -> Messages:
    """``n`` messages, customer and assistant in turn, with times, ids, confidences and facts."""
    customer = {
        "en": [
            "where is my parcel? order 55123",
            "it has been 12 days, this is not ok",
            "can I get a refund of $49.99",
            "still nothing, I am getting really annoyed",
        ],
        "es": [
            "hola, mi pedido no ha llegado y estoy esperando desde hace dos semanas",
            "quiero un reembolso, por favor, el paquete no llega",
            "es la tercera vez que pregunto por mi dinero, no me ayudan",
        ],
    }[lang]
    out: Messages = []
    for k in range(start, start + n):
        stamp = f"2026-03-0{1 + k % 3}T10:{k % 60:02d}:00+00:00"
        if k % 2 == 0:
            out.append(
                {"role": "customer", "text": customer[(k // 2) % len(customer)], "id": f"m{k}", "created_at": stamp}
            )
        else:
            out.append(
                {
                    "role": "assistant",
                    "text": "Let me check that for you." if k % 4 == 1 else "Sorry, I didn't get that.",
                    "fallback": k % 4 == 3,
                    "confidence": None if k % 3 else round(0.3 + (k % 7) / 20, 2),
                    "id": f"m{k}",
                    "created_at": stamp,
                }
            )
    return out


def _conv(messages: Messages) -> Conversation:
    return Conversation.model_validate({"id": "reuse", "messages": messages})


def _same_objects(previous: Conversation, more: Messages) -> Conversation:
    """The previous transcript's very message objects, and new ones after them (the simulator's path)."""
    return previous.model_copy(update={"messages": (*previous.messages, *_conv(more).messages)})


def _reread(conv: Conversation) -> Conversation:
    """The transcript as a store hands it back: parsed from JSON, every message a new object."""
    return Conversation.model_validate_json(conv.model_dump_json())


def _edited(conv: Conversation, index: int, **change: Any) -> Conversation:
    messages = [m.model_dump() for m in conv.messages]
    messages[index].update(change)
    return _conv(messages)


@dataclass(frozen=True)
class Case:
    name: str
    #: The first version of the transcript.
    start: Messages
    #: Each later version made from the one before, and how many leading records it must reuse.
    versions: tuple[tuple[Callable[[Conversation], Conversation], int], ...]


CASES = [
    Case(
        "messages appended, the same objects",
        _chat(6),
        (
            (lambda c: _same_objects(c, _chat(2, start=6)), 6),
            (lambda c: _same_objects(c, _chat(3, start=8)), 8),
        ),
    ),
    Case(
        "read back from JSON each time (the worker's store)",
        _chat(6),
        (
            (lambda c: _reread(_same_objects(c, _chat(2, start=6))), 6),
            (_reread, 8),
            (lambda c: _reread(_same_objects(c, _chat(1, start=8))), 8),
        ),
    ),
    Case(
        "a message edited in the middle",
        _chat(8),
        ((lambda c: _edited(c, 4, text="actually I want to cancel order 55123 and get my money back"), 4),),
    ),
    Case(
        "the same text under another id",
        _chat(8),
        ((lambda c: _edited(c, 5, id="m5-bis"), 5),),
    ),
    Case(
        "a flag or a confidence changed",
        _chat(8),
        ((lambda c: _edited(c, 3, fallback=False), 3), (lambda c: _edited(c, 1, confidence=0.05), 1)),
    ),
    Case(
        "a late message with an earlier id and time inserted before the last",
        _chat(8),
        (
            (
                lambda c: _conv(
                    [
                        *[m.model_dump() for m in c.messages[:7]],
                        {
                            "role": "customer",
                            "text": "I also paid $12.50 for shipping",
                            "id": "m0b",
                            "created_at": "2026-02-27T09:00:00+00:00",
                        },
                        c.messages[7].model_dump(),
                    ]
                ),
                7,
            ),
        ),
    ),
    Case(
        "a message deleted",
        _chat(9),
        ((lambda c: _conv([m.model_dump() for i, m in enumerate(c.messages) if i != 2]), 2),),
    ),
    Case(
        "pastes longer than the window",
        _chat(4),
        (
            (lambda c: _reread(_same_objects(c, [{"role": "customer", "text": "here is the log:\n" + PASTE}])), 4),
            (lambda c: _reread(_same_objects(c, _chat(2, start=5))), 5),
            (lambda c: _same_objects(c, [{"role": "customer", "text": PASTE + " Can I talk to a person?"}]), 7),
        ),
    ),
    Case(
        "the conversation switches language",
        _chat(2),
        (
            (lambda c: _same_objects(c, _chat(1, lang="es", start=2)), 0),  # the vote turns: records redone
            (lambda c: _same_objects(c, _chat(2, lang="es", start=3)), 3),
        ),
    ),
    Case(
        "an agent joins",
        _chat(6),
        (
            (lambda c: _same_objects(c, [{"role": "agent", "text": "Hi, Sam from support here, I can take it."}]), 6),
            (lambda c: _same_objects(c, _chat(1, start=7)), 7),
        ),
    ),
]


def _sentiment_of(engine: DecisionEngine, record: MessageAnalysis) -> float:
    return record.result(engine.sentiment).score


def _check_folds(engine: DecisionEngine, conv: Conversation, analysis: ConversationAnalysis) -> None:
    """Every running fold and gathered collection of ``analysis`` equals a plain read of ``conv``."""
    fresh = engine.analyze(conv)
    records = analysis.records
    assert [r.text for r in records] == [r.text for r in fresh.records]
    assert analysis.customer_indexes == fresh.customer_indexes
    assert analysis.fields == tuple(m.__dict__ for m in conv.messages)
    texts = [m.text for m in conv.messages]
    assert running(records, _SHAPE_SO_FAR, _NO_SHAPE, _with_shape) == (
        any(m.role is Role.AGENT for m in conv.messages),
        max(map(len, texts)),
    )
    stamps = [m.created_at for m in conv.messages if m.created_at is not None]
    latest: datetime | None = max(stamps) if stamps else None
    assert running(records, _LATEST_STAMP, None, _latest_stamp) == latest
    confidences = [m.confidence for m in conv.messages if m.confidence is not None]
    assert running(records, _CONFIDENCE, None, _latest_confidence) == (confidences[-1] if confidences else None)
    customer = [r for r in fresh.records if r.role is Role.CUSTOMER]
    lowest = min((_sentiment_of(engine, r) for r in customer), default=None)
    assert running(records, _LOWEST, None, engine._lowest_sentiment) == lowest
    assert running(records, _FACTS_SO_FAR, _NO_FACTS, _with_facts) == extract_facts([r.text for r in customer])
    gathered, plain = analysis.gathered, fresh.gathered
    assert isinstance(gathered, _Gathered) and isinstance(plain, _Gathered)
    assert [s.score for s in gathered.sentiments] == [s.score for s in plain.sentiments]
    assert gathered.topic_hits == plain.topic_hits
    assert gathered.summary.size == plain.summary.size == len(conv.messages)
    # The per-index views the triggers read, made from the kept records, against the fresh analysis's.
    ctx, fresh_ctx = engine._prepare(conv, analysis, None), engine._prepare(conv, fresh, None)
    assert {i: a.text for i, a in ctx.analyzed.items()} == {i: a.text for i, a in fresh_ctx.analyzed.items()}
    assert set(ctx.analyzed) == set(fresh.customer_indexes)
    assert ctx.features.keys() == fresh_ctx.features.keys()
    assert {i: {k: v.probability for k, v in s.items()} for i, s in ctx.model_scores.items()} == {
        i: {k: v.probability for k, v in s.items()} for i, s in fresh_ctx.model_scores.items()
    }
    for i in (-1, len(records), *[r.index for r in records if r.role is not Role.CUSTOMER][:2]):
        assert i not in ctx.analyzed and ctx.features.get(i) is None and ctx.model_scores.get(i) is None


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@pytest.mark.parametrize("which", ["engine", "default_engine"])
def test_reuse_and_folds_equal_plain_reads(request: pytest.FixtureRequest, which: str, case: Case) -> None:
    """Each version of the transcript decides as a fresh read, reuses exactly its unchanged prefix, and
    every running fold and gathered collection equals the plain read (fixture policy and shipped one)."""
    engine: DecisionEngine = request.getfixturevalue(which)
    conv = _conv(case.start)
    decision, kept = engine.step(conv)
    assert decision.model_dump_json() == engine.decide(conv).model_dump_json()
    assert kept is not None
    for make, reused in case.versions:
        conv = make(conv)
        decision, again = engine.step(conv, kept)
        assert decision.model_dump_json() == engine.decide(conv).model_dump_json(), case.name
        assert again is not None
        if decision.triggers == ("already_handed_off",):
            assert again is kept  # an agent joined: nothing analysed, nothing kept anew
            again = engine.analyze(conv, kept)  # the public path reuses the same prefix
        same = [a is b for a, b in zip(again.records, kept.records, strict=False)]
        assert same == [True] * reused + [False] * (len(same) - reused), case.name
        # The records of a paste hold its windowed text: the plain reads are of the windowed transcript.
        _check_folds(engine, _bounded(conv) if decision.triggers != ("already_handed_off",) else conv, again)
        kept = again


def test_a_message_object_and_its_copy_reuse_alike(engine: DecisionEngine) -> None:
    """The reuse check accepts the very objects (identity) and equal copies (values) alike, and a copy
    that differs in any field, the id included, is analysed again."""
    conv = _conv(_chat(6))
    _, kept = engine.step(conv)
    assert kept is not None
    longer = _same_objects(conv, _chat(1, start=6))
    for version in (longer, _reread(longer)):
        _, again = engine.step(version, kept)
        assert again is not None and all(a is b for a, b in zip(again.records[:6], kept.records, strict=True))
    for field, value in (("id", "other"), ("text", "where is my parcel? order 55124"), ("created_at", None)):
        changed = _edited(longer, 2, **{field: value})
        _, again = engine.step(changed, kept)
        assert again is not None and again.records[1] is kept.records[1] and again.records[2] is not kept.records[2]

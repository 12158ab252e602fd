"""The summary folded over per-message results kept with the conversation equals the summary read from the text."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from handoff_core import Conversation
from handoff_core.decision import Action, Reason, TriggerName
from handoff_core.facts import extract_facts
from handoff_core.issue import pool_of_ranks, pool_of_totals
from handoff_core.models import Message, Role
from handoff_core.sentiment import MessageSentiment
from handoff_core.summary import SummaryInput, summarize
from handoff_core.summary_state import JOURNAL, SummaryState, state_of, summary_features

from .conftest import ROOT, conversation
from .test_summary_threads import THREADS, _conversation

EXAMPLES = ROOT / "config" / "examples" / "conversations.jsonl"
_WORDS = "order package refund charge card watch phone iphone steps health sync update version router wifi".split()


def _examples() -> list[Conversation]:
    out = []
    for line in EXAMPLES.read_text(encoding="utf-8").splitlines():
        if line.strip():
            data = json.loads(line)
            data.pop("expected", None)
            out.append(Conversation.model_validate(data))
    return out


def _long(n: int, every: int = 2) -> Conversation:
    """``n`` messages, one in ``every`` the bot's, with times, versions, devices and repeats: past the window."""
    start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    turns: list[dict[str, Any]] = []
    for i in range(n):
        words = [_WORDS[(i * 7 + k * 3) % len(_WORDS)] for k in range(3 + i % 9)]
        text = f"My {' '.join(words)} stopped working since update 4.{i % 5}.1, order #{88000 + i % 13}."
        if i % 11 == 0:
            text = "I restarted the iPhone 13 and re-paired the Apple Watch, still nothing. Any update?"
        role = "assistant" if i % every == 1 else "customer"
        if role == "assistant":
            text = ["Could you share the order number?", "Have you tried restarting the phone?", "Thanks."][i % 3]
        turns.append({"role": role, "text": text, "created_at": (start + timedelta(minutes=i)).isoformat()})
    return conversation(*turns, id=f"long-{n}-{every}")


def _grown(messages: Conversation | tuple[Message, ...]) -> SummaryState:
    """The state as the engine builds it: extended by one message at a time."""
    state = SummaryState()
    for m in messages.messages if isinstance(messages, Conversation) else messages:
        state = state.extended([(m.role, m.created_at, summary_features(m.text))])
    return state


def _data(conv: Conversation) -> SummaryInput:
    customer = [m.text for m in conv.messages if m.role is Role.CUSTOMER]
    reason = Reason(trigger=TriggerName.HUMAN_REQUEST, action=Action.HANDOFF, detail="asked for a person", score=1.0)
    return SummaryInput(
        conversation=conv,
        action=Action.HANDOFF,
        reasons=(reason,),
        sentiments=(),
        facts=extract_facts(customer),
        collected={},
        missing=(),
        language="en",
        want_index=None,
        vip=False,
    )


CASES = (
    [("example", c) for c in _examples()]
    + [("written", _conversation(t)) for t in THREADS]
    + [("long", _long(n, every)) for n, every in ((63, 2), (130, 2), (131, 3), (400, 2), (1001, 2), (300, 5))]
)


@pytest.mark.parametrize(("kind", "conv"), CASES, ids=[f"{k}-{c.id}" for k, c in CASES])
def test_folded_summary_equals_the_summary_read_from_the_text(kind: str, conv: Conversation) -> None:
    """Grown one message at a time or built at once, the kept state gives the summary byte for byte."""
    data = _data(conv)
    read = summarize(data, max_chars=1200, redact_pii=True)
    grown = summarize(replace(data, prepared=_grown(conv)), max_chars=1200, redact_pii=True)
    whole = summarize(replace(data, prepared=state_of(conv.messages)), max_chars=1200, redact_pii=True)
    assert grown == read and whole == read
    assert read.text.startswith("Issue: ")


def test_a_state_that_does_not_match_the_transcript_is_not_used() -> None:
    """A state of fewer messages than the transcript is ignored (the summary is read from the text)."""
    conv = _long(130)
    data = _data(conv)
    short = state_of(conv.messages[:-1])
    assert summarize(replace(data, prepared=short), 1200, True) == summarize(data, 1200, True)


def test_branches_from_one_state_do_not_see_each_other() -> None:
    """Two messages decided after the same state (a re-decided last message), and the state itself, each
    summarise as their own transcript read from the text: the shared running totals never leak."""
    conv = _long(200)
    base = _grown(conv.messages[:150])
    ends = [
        Message(role=Role.CUSTOMER, text="My Pixel 7 on Android 14.1.2 crashed, order 99123, router reset."),
        Message(role=Role.CUSTOMER, text="The Kindle never arrived and the invoice charged twice."),
    ]
    branches = [(base.extended([(m.role, m.created_at, summary_features(m.text))]), m) for m in ends]
    for state, end in [*branches, *reversed(branches)]:
        messages = (*conv.messages[:150], end)
        branch = Conversation(id="branch", messages=messages)
        assert summarize(replace(_data(branch), prepared=state), 1200, True) == summarize(_data(branch), 1200, True)
        grown = state.extended([(Role.ASSISTANT, None, summary_features("Could you share the order number?"))])
        longer = Conversation(
            id="branch", messages=(*messages, Message(role=Role.ASSISTANT, text="Could you share the order number?"))
        )
        assert summarize(replace(_data(longer), prepared=grown), 1200, True) == summarize(_data(longer), 1200, True)
    trunk = Conversation(id="trunk", messages=conv.messages[:150])
    assert summarize(replace(_data(trunk), prepared=base), 1200, True) == summarize(_data(trunk), 1200, True)


def test_a_message_list_of_other_roles_only_still_summarises() -> None:
    """No customer message at all: both ways give the fallback Issue."""
    conv = Conversation(id="bot-only", messages=(Message(role=Role.ASSISTANT, text="Hello! How can I help?"),))
    data = _data(conv)
    assert summarize(replace(data, prepared=_grown(conv)), 1200, True) == summarize(data, 1200, True)


def _fresh_pool(state: SummaryState) -> list[int]:
    """The pool of a long state ranked from scratch: every customer message's total, sorted again."""
    log = state.log
    assert log.long is not None
    customer = log.long.customer
    n_words = [log.features[i].n_words for i in customer]
    return pool_of_totals(customer, log.long.others, log.long.totals, n_words)


def _running_pool(state: SummaryState) -> list[int]:
    long = state.log.long
    assert long is not None
    return pool_of_ranks(long.customer, long.others, [i for _, i in long.dense.items], [i for _, i in long.heavy.items])


@pytest.mark.parametrize(("n", "every"), [(260, 2), (300, 5), (200, 7)])
def test_running_ranks_equal_a_fresh_ranking_at_every_prefix(n: int, every: int) -> None:
    """The pool's rankings kept message by message are the rankings of all totals sorted again, at every
    prefix past the window, and after a branch takes the newest messages back through the journal."""
    conv = _long(n, every)
    state, states = SummaryState(), []
    for m in conv.messages:
        state = state.extended([(m.role, m.created_at, summary_features(m.text))])
        states.append(state)
        if state.log.long is not None:
            assert _running_pool(state) == _fresh_pool(state)
    assert state.log.long is not None
    branch = Message(role=Role.CUSTOMER, text="Refund the duplicate charge on order 99123 for the broken router.")
    for back in (1, 3, JOURNAL):
        older = states[-1 - back].extended([(branch.role, None, summary_features(branch.text))])
        assert older.log.long is not None
        assert _running_pool(older) == _fresh_pool(older)


def test_the_kept_lowest_sentiment_gives_the_same_summary() -> None:
    """A caller that passes the lowest sentiment it keeps (the engine's fold) gets the same bytes as one
    that lets the summary take the minimum."""
    conv = _long(130)
    scores = (-0.2, 0.4, -0.71, 0.05, -0.3)
    sentiments = tuple(MessageSentiment(message_index=2 * n, score=s, cues=()) for n, s in enumerate(scores))
    data = replace(_data(conv), sentiments=sentiments, prepared=_grown(conv))
    plain = summarize(data, 1200, True)
    assert "· angry" in plain.text  # the lowest score (-0.71) gives the label (round 8: no scores shown)
    assert summarize(replace(data, worst_sentiment=-0.71), 1200, True) == plain

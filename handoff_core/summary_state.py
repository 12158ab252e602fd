"""What the summary reads from each message, computed once when it arrives, and the running totals it folds.

Why: the engine decides again on every new message, and the decision that hands a conversation over
carries a summary. Built from the transcript each time, that summary made a handoff decision at message
1,001 cost about 13 ms against 1.5 ms for one that continues: every customer message was scanned again
(its per-text cache holds about 300 messages), and the key counts, the details and the waiting time were
gathered again. So, like the decision's own analysis (:mod:`handoff_core.analysis`):

- each message is analysed once, when it arrives, into :class:`SummaryFeatures` (its content keys and word
  count for salience, and its sentences with their flags, opening word, details and keys: the same
  :func:`~handoff_core.text.messages.analyze_message` result the summary quotes from), kept in the
  message's record;
- the conversation's running totals (:class:`SummaryState`: key counts over the customer messages, the
  customer's characters, the details given so far, the first customer time) are extended by the new
  messages only, copy-on-extend, so an older state stays valid for a caller who branches from it.

A summary then folds over these results (:func:`view_of_state`) and never reads the transcript's text
again. Without a state (a caller outside the engine), :func:`view_of_messages` computes the same view
from the text: every message is split into sentences up to the window, and beyond it every customer
message is only scanned and a bounded pool is split (:data:`~handoff_core.issue.WINDOW`). Both give the
same view, so the summary is the same byte for byte; tests/core/test_summary_incremental.py replays
conversations both ways.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain

from handoff_core.details import Details
from handoff_core.issue import BOT_POOL, WINDOW, pool
from handoff_core.models import Message, Role
from handoff_core.text.messages import (
    MessageScan,
    MessageText,
    analyze_message,
    details_of_scan,
    scan_message,
)


@dataclass(frozen=True, slots=True)
class SummaryFeatures:
    """What the summary reads from one message; a pure function of its text."""

    #: The content keys of all its tokens, and its word count (the salience of the whole message).
    keys: frozenset[str]
    n_words: int
    #: Its content sentences, opening word, details and keys (what the Issue, Details and Assistant lines quote).
    text: MessageText


def summary_features(text: str) -> SummaryFeatures:
    """:class:`SummaryFeatures` of one message (the engine keeps them in the message's record)."""
    scan = scan_message(text)
    return SummaryFeatures(scan.keys, scan.n_words, analyze_message(text))


@dataclass(frozen=True, slots=True)
class SummaryState:
    """The running totals over a conversation's messages, index-aligned with its transcript."""

    features: tuple[SummaryFeatures, ...] = ()
    customer: tuple[int, ...] = ()
    #: Indexes of the other messages (the assistant's), and of the assistant's replies among them.
    others: tuple[int, ...] = ()
    replies: tuple[int, ...] = ()
    #: How many customer messages use each content key.
    counts: Counter[str] = field(default_factory=Counter)
    customer_chars: int = 0
    details: Details = field(default_factory=Details)
    first_customer_at: datetime | None = None

    def extended(self, added: Sequence[tuple[Role, datetime | None, SummaryFeatures]]) -> SummaryState:
        """A copy with the messages ``added`` after the last one (their role, time and features)."""
        if not added:
            return self
        counts = self.counts.copy()
        details = self.details if self.details.full() else self.details.copy()
        customer, others, replies = list(self.customer), list(self.others), list(self.replies)
        chars, first = self.customer_chars, self.first_customer_at
        index = len(self.features)
        for role, created_at, features in added:
            if role is Role.CUSTOMER:
                customer.append(index)
                counts.update(features.keys)
                chars += len(features.text.cleaned)
                if first is None:
                    first = created_at
                if features.text.details and not details.full():
                    for kind, value in features.text.details:
                        details.add(kind, value)
            else:
                others.append(index)
                if role is Role.ASSISTANT:
                    replies.append(index)
            index += 1
        return SummaryState(
            self.features + tuple(f for _, _, f in added),
            tuple(customer),
            tuple(others),
            tuple(replies),
            counts,
            chars,
            details,
            first,
        )


def state_of(messages: Sequence[Message]) -> SummaryState:
    """The state of a whole transcript at once (what the engine builds message by message)."""
    return SummaryState().extended([(m.role, m.created_at, summary_features(m.text)) for m in messages])


@dataclass(frozen=True, slots=True)
class SummaryView:
    """What one summary reads: the messages split into sentences, and the conversation's totals."""

    #: The messages split into sentences, by index in ascending order: every message up to the window,
    #: a bounded pool beyond it. A message not here has no sentence to quote.
    texts: dict[int, MessageText]
    #: How many customer messages use each key, in a conversation past the window; None up to it (the
    #: Issue then counts the keys of the sentences themselves).
    counts: Mapping[str, int] | None
    #: How often each key is used over every message as read here (customer messages not split count
    #: their scanned keys, other messages not split count none): the weights of the bot's statements.
    told_counts: Mapping[str, int]
    customer: Sequence[int]
    replies: Sequence[int]
    customer_chars: int
    details: Details
    first_customer_at: datetime | None


def _told_counts(
    texts: Mapping[int, MessageText],
    counts: Mapping[str, int] | None,
    scanned: Mapping[int, frozenset[str]],
) -> Mapping[str, int]:
    every = Counter(chain.from_iterable(t.keys for t in texts.values()))
    if counts is None:
        return every
    # Past the window a customer message not split counts its scanned keys: all customer keys, less the
    # scanned keys of those that were split (they count their sentences' keys, in ``every``, instead).
    told = Counter(counts)
    told.subtract(chain.from_iterable(scanned.values()))
    told.update(every)
    return told


def view_of_state(state: SummaryState) -> SummaryView:
    """The view of a conversation from its running state: a fold over per-message results, no text read."""
    features, customer, others = state.features, state.customer, state.others
    scanned: dict[int, frozenset[str]] = {}
    if len(customer) <= WINDOW and len(others) <= WINDOW:
        texts = {i: f.text for i, f in enumerate(features)}
        counts: Mapping[str, int] | None = None
    else:
        counts = state.counts
        full = pool(
            customer,
            others,
            counts,
            [(features[i].keys, features[i].n_words) for i in customer],
            [features[i].keys for i in others[:BOT_POOL]],
        )
        texts = {i: features[i].text for i in full}
        is_customer = set(customer)
        scanned = {i: features[i].keys for i in full if i in is_customer}
    return SummaryView(
        texts,
        counts,
        _told_counts(texts, counts, scanned),
        customer,
        state.replies,
        state.customer_chars,
        state.details,
        state.first_customer_at,
    )


def view_of_messages(messages: Sequence[Message]) -> SummaryView:
    """The same view computed from the transcript's text: linear, and cheap per message past the window."""
    customer = [i for i, m in enumerate(messages) if m.role is Role.CUSTOMER]
    others = [i for i, m in enumerate(messages) if m.role is not Role.CUSTOMER]
    replies = [i for i in others if messages[i].role is Role.ASSISTANT]
    first = next((messages[i].created_at for i in customer if messages[i].created_at), None)
    details = Details()
    if len(customer) <= WINDOW and len(others) <= WINDOW:
        texts = {i: analyze_message(m.text) for i, m in enumerate(messages)}
        for i in customer:
            if texts[i].details and not details.full():
                for kind, value in texts[i].details:
                    details.add(kind, value)
        chars = sum(len(texts[i].cleaned) for i in customer)
        return SummaryView(texts, None, _told_counts(texts, None, {}), customer, replies, chars, details, first)
    scans: dict[int, MessageScan] = {i: scan_message(messages[i].text) for i in customer}
    counts = Counter(chain.from_iterable(scan.keys for scan in scans.values()))
    full = pool(
        customer,
        others,
        counts,
        [(scans[i].keys, scans[i].n_words) for i in customer],
        [scan_message(messages[i].text).keys for i in others[:BOT_POOL]],
    )
    texts = {i: analyze_message(messages[i].text) for i in full}
    for i in customer:
        scan = scans[i]
        # A message whose details would all be dropped is not searched (the same details in the end).
        if scan.detail_kinds and details.wants(scan.detail_kinds):
            for kind, value in texts[i].details if i in texts else details_of_scan(scan):
                details.add(kind, value)
    chars = sum(len(scan.cleaned) for scan in scans.values())
    scanned = {i: scans[i].keys for i in full if i in scans}
    return SummaryView(texts, counts, _told_counts(texts, counts, scanned), customer, replies, chars, details, first)

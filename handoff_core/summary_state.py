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
  messages only, in place in one log per conversation (:class:`_Log`): a state is a view of its first
  ``size`` messages, and an older state a caller branches from takes the newer messages back through a
  short journal or rebuilds its own log, so it stays valid.

A summary then folds over these results (:func:`view_of_state`) and never reads the transcript's text
again. Without a state (a caller outside the engine), :func:`view_of_messages` computes the same view
from the text: every message is split into sentences up to the window, and beyond it every customer
message is only scanned and a bounded pool is split (:data:`~handoff_core.issue.WINDOW`). Both give the
same view, so the summary is the same byte for byte; tests/core/test_summary_incremental.py replays
conversations both ways.
"""

from __future__ import annotations

import heapq
import math
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import chain, repeat
from typing import NamedTuple

from handoff_core.details import Details
from handoff_core.issue import (
    BOT_POOL,
    DEFAULT_WEIGHTS,
    DENSE_POOL,
    HEAVY_RANKS,
    LIGHT_KEYS,
    WINDOW,
    issue_sentences,
    pool,
    pool_of_ranks,
    powers,
)
from handoff_core.models import Message, Role
from handoff_core.text.messages import (
    MessageCount,
    MessageScan,
    MessageText,
    SentenceText,
    analyze_message,
    count_message,
    details_of_count,
    details_of_scan,
    scan_message,
    scan_of_count,
    split_scan,
)


@dataclass(frozen=True, slots=True)
class SummaryFeatures:
    """What the summary reads from one message; a pure function of its text."""

    #: The content keys of all its tokens, and its word count (the salience of the whole message).
    keys: frozenset[str]
    n_words: int
    #: Its content sentences, opening word, details and keys (what the Issue, Details and Assistant lines quote).
    text: MessageText
    #: Its sentences the Issue may quote (:func:`~handoff_core.issue.issue_sentences`; round 9: filtered once,
    #: here, not on every summary; the same tuple as ``text.sentences`` when all qualify).
    issue: tuple[SentenceText, ...] = ()


def summary_features(text: str) -> SummaryFeatures:
    """:class:`SummaryFeatures` of one message (the engine keeps them in the message's record)."""
    scan = scan_message(text)
    analysed = analyze_message(text)
    # Most messages' sentences hold every content key: one set then serves both (memory kept per message).
    keys = analysed.keys if analysed.keys == scan.keys else scan.keys
    return SummaryFeatures(keys, scan.n_words, analysed, issue_sentences(analysed))


#: How many of the latest messages a long conversation's log can take back: a caller that decides again
#: from an analysis up to this many messages old (the same next message decided twice, a benchmark
#: repeating a decision) extends the shared log instead of rebuilding one.
JOURNAL = 8
#: One lock for every log: each holds it for microseconds (a message added, a view taken).
_LOCK = threading.Lock()


@dataclass(slots=True)
class _Undo:
    """What one message changed in a :class:`_Long`: the values before it (None: there was none)."""

    customer_chars: int
    first_customer_at: datetime | None
    details: Details | None = None
    echoed: bool = False
    weights: dict[str, float | None] | None = None
    totals: dict[int, float | None] | None = None
    holders: dict[str, list[int] | None] | None = None
    #: The ranks before the message (:attr:`_Long.dense`, :attr:`_Long.heavy`), when it changed them.
    ranks: tuple[_Ranking, _Ranking] | None = None


class _Long:
    """The running totals of a conversation past the window (:data:`~handoff_core.issue.WINDOW`).

    Beyond the counts it keeps what the pool of a long conversation weighs (:func:`~handoff_core.issue.pool`):
    every key's weight and every customer message's total weight. A key's weight only changes while its
    uses (customer messages, plus the bot's first replies) are below the cap; until then the log
    remembers which messages hold it, and only those are summed again. It also keeps the pool's two
    rankings of the customer messages (:func:`~handoff_core.issue.pool_of_ranks`), so a summary does not
    rank every customer message again: a message's total only grows as messages arrive (counts and echoes
    only grow), so the best ``k`` so far and the messages whose totals changed give the best ``k`` now.
    """

    __slots__ = (
        "counts",
        "customer",
        "customer_chars",
        "dense",
        "details",
        "echoes",
        "first_customer_at",
        "heavy",
        "holders",
        "journal",
        "others",
        "replies",
        "totals",
        "weights",
    )

    def __init__(self) -> None:
        self.customer: list[int] = []
        self.others: list[int] = []
        self.replies: list[int] = []
        #: How many customer messages use each content key.
        self.counts: Counter[str] = Counter()
        self.customer_chars = 0
        self.details = Details()
        self.first_customer_at: datetime | None = None
        #: How many of the first :data:`BOT_POOL` other messages use each key (their scanned keys).
        self.echoes: Counter[str] = Counter()
        self.weights: dict[str, float] = {}
        #: Each customer message's total key weight (``math.fsum``: exact, whatever the set's order).
        self.totals: dict[int, float] = {}
        #: The customer messages that hold a key whose weight may still change.
        self.holders: dict[str, list[int]] = {}
        #: How to take back each of the last :data:`JOURNAL` messages (see :meth:`undo_to`).
        self.journal: list[_Undo] = []
        #: The customer messages past the first two, best first, as :func:`~handoff_core.issue.pool_of_totals`
        #: ranks them: the first :data:`DENSE_POOL` by ``(-total / (words + 3), index)`` and the first
        #: :data:`HEAVY_RANKS` by ``(-total, index)``. Replaced, never changed in place (the journal keeps them).
        self.dense = _NO_RANKING
        self.heavy = _NO_RANKING

    def add(self, index: int, role: Role, created_at: datetime | None, f: SummaryFeatures, log: _Log) -> None:
        undo = _Undo(self.customer_chars, self.first_customer_at)
        self.journal.append(undo)
        if len(self.journal) > JOURNAL:
            del self.journal[0]
        if role is not Role.CUSTOMER:
            self.others.append(index)
            if role is Role.ASSISTANT:
                self.replies.append(index)
            if len(self.others) <= BOT_POOL:
                undo.echoed = True
                self.echoes.update(f.keys)
                self._reweigh([k for k in f.keys if k in self.counts], undo, log)
            return
        self.customer.append(index)
        self.customer_chars += len(f.text.cleaned)
        if self.first_customer_at is None:
            self.first_customer_at = created_at
        if f.text.details and not self.details.full():
            undo.details = self.details.copy()
            for kind, value in f.text.details:
                self.details.add(kind, value)
        self.counts.update(f.keys)
        changed = [k for k in f.keys if k in self.holders or k not in self.weights]
        holders = self.holders
        saved = undo.holders = {}
        for key in changed:
            held = holders.get(key)
            saved.setdefault(key, None if held is None else list(held))
            if held is not None:
                held.append(index)
            else:
                holders[key] = [index]
        self._reweigh(changed, undo, log, index)

    def _reweigh(self, keys: Sequence[str], undo: _Undo, log: _Log, new: int | None = None) -> None:
        """Weigh ``keys`` again and sum again every message that holds one (and ``new``)."""
        w = DEFAULT_WEIGHTS
        cap, echo, light = w.cap, w.echo, w.light
        uses_weight = powers(cap, w.power)
        dirty: set[int] = set() if new is None else {new}
        weights, holders = self.weights, self.holders
        old_weights = undo.weights = {}
        old_holders = undo.holders if undo.holders is not None else {}
        undo.holders = old_holders
        for key in keys:
            uses = min(cap, self.counts[key] + echo * self.echoes.get(key, 0))
            value = uses_weight[uses] * (light if key in LIGHT_KEYS else 1.0)
            held = holders.get(key)
            old = weights.get(key)
            if old != value:
                old_weights.setdefault(key, old)
                weights[key] = value
                dirty.update(held or ())
            if uses >= cap and held is not None:
                old_holders.setdefault(key, list(held))
                del holders[key]  # counts and echoes only grow: this weight is final
        weight = weights.__getitem__
        totals = self.totals
        old_totals = undo.totals = {}
        features = log.features
        for i in dirty:
            old_totals.setdefault(i, totals.get(i))
            totals[i] = math.fsum(map(weight, features[i].keys))
        self._rank(dirty, undo, log)

    def _rank(self, dirty: set[int], undo: _Undo, log: _Log) -> None:
        """Bring the two rankings up to date with the new totals of the messages ``dirty``."""
        first = self.customer[:2]
        changed = [i for i in dirty if i not in first]
        if not changed:
            return
        totals, features = self.totals, log.features
        dense = _best(self.dense, [(-totals[i] / (features[i].n_words + 3), i) for i in changed], DENSE_POOL)
        heavy = _best(self.heavy, [(-totals[i], i) for i in changed], HEAVY_RANKS)
        if dense is not self.dense or heavy is not self.heavy:
            undo.ranks = (self.dense, self.heavy)
            self.dense = dense or self._ranked(log, dense=True)
            self.heavy = heavy or self._ranked(log, dense=False)

    def _ranked(self, log: _Log, *, dense: bool) -> _Ranking:
        """One ranking from every customer message's total (when a total fell: never in a growing log)."""
        totals, features = self.totals, log.features
        if dense:
            best = heapq.nsmallest(DENSE_POOL, [(-totals[i] / (features[i].n_words + 3), i) for i in self.customer[2:]])
        else:
            best = heapq.nsmallest(HEAVY_RANKS, [(-totals[i], i) for i in self.customer[2:]])
        return _Ranking(tuple(best), frozenset(i for _, i in best))

    def undo_last(self, role: Role, f: SummaryFeatures) -> None:
        """Take back the latest message (``role``, ``f``); the caller checked the journal has it."""
        undo = self.journal.pop()
        if role is Role.CUSTOMER:
            self.customer.pop()
            self.counts.subtract(f.keys)
            for key in f.keys:
                if self.counts[key] <= 0:
                    del self.counts[key]
        else:
            self.others.pop()
            if role is Role.ASSISTANT:
                self.replies.pop()
            if undo.echoed:
                self.echoes.subtract(f.keys)
                for key in f.keys:
                    if self.echoes[key] <= 0:
                        del self.echoes[key]
        self.customer_chars, self.first_customer_at = undo.customer_chars, undo.first_customer_at
        if undo.details is not None:
            self.details = undo.details
        for key, weight in (undo.weights or {}).items():
            if weight is None:
                del self.weights[key]
            else:
                self.weights[key] = weight
        for i, total in (undo.totals or {}).items():
            if total is None:
                del self.totals[i]
            else:
                self.totals[i] = total
        for key, held in (undo.holders or {}).items():
            if held is None:
                self.holders.pop(key, None)
            else:
                self.holders[key] = held
        if undo.ranks is not None:
            self.dense, self.heavy = undo.ranks


class _Log:
    """A conversation's per-message features, and its running totals once it is past the window.

    Copying the totals on every message (the key counts alone hold thousands of keys) would cost more than
    the message's own analysis, so they are kept once, mutably, and a :class:`SummaryState` is a view of
    the first ``size`` messages. A state that is not the latest any more (a caller decides again from an
    older analysis) takes the newer messages back through a short journal, or rebuilds a log of its own
    from the features, which are kept whole: correct either way. Up to the window nothing but the
    features is kept (a short conversation's totals cost less to add up than to keep).
    """

    __slots__ = ("features", "long", "n_customer", "roles", "stamps")

    def __init__(self) -> None:
        self.features: list[SummaryFeatures] = []
        self.roles: list[Role] = []
        self.stamps: list[datetime | None] = []
        self.n_customer = 0
        self.long: _Long | None = None

    def add(self, role: Role, created_at: datetime | None, f: SummaryFeatures) -> None:
        index = len(self.features)
        self.features.append(f)
        self.roles.append(role)
        self.stamps.append(created_at)
        self.n_customer += role is Role.CUSTOMER
        if self.long is not None:
            self.long.add(index, role, created_at, f, self)
        elif _past_window(self.n_customer, len(self.features)):
            long = self.long = _Long()
            for i, (r, t, g) in enumerate(zip(self.roles, self.stamps, self.features, strict=True)):
                long.add(i, r, t, g, self)

    def can_undo(self, size: int) -> bool:
        """Whether the log can go back to its first ``size`` messages."""
        if self.long is None or not _past_window(self._customers_in(size), size):
            return size <= len(self.features)
        return len(self.features) - len(self.long.journal) <= size <= len(self.features)

    def _customers_in(self, size: int) -> int:
        return self.n_customer - sum(1 for r in self.roles[size:] if r is Role.CUSTOMER)

    def undo_to(self, size: int) -> None:
        """Back to the first ``size`` messages (the states past them rebuild if used again)."""
        n_customer = self._customers_in(size)
        if self.long is not None and not _past_window(n_customer, size):
            self.long = None
        while len(self.features) > size:
            f, role = self.features.pop(), self.roles.pop()
            self.stamps.pop()
            if self.long is not None:
                self.long.undo_last(role, f)
        self.n_customer = n_customer

    @staticmethod
    def of(features: Sequence[SummaryFeatures], roles: Sequence[Role], stamps: Sequence[datetime | None]) -> _Log:
        log = _Log()
        for role, created_at, f in zip(roles, stamps, features, strict=True):
            log.add(role, created_at, f)
        return log


class _Ranking(NamedTuple):
    """The ``k`` smallest ``(value, index)`` pairs so far, in order, and their indexes."""

    items: tuple[tuple[float, int], ...]
    ids: frozenset[int]


_NO_RANKING = _Ranking((), frozenset())


def _best(top: _Ranking, entries: list[tuple[float, int]], k: int) -> _Ranking | None:
    """The ``k`` smallest after the messages of ``entries`` took their new values, from the ``k`` smallest
    before (``top``, returned itself when nothing enters it); None when a value in ``top`` grew (then the
    ``k`` smallest may be outside both).

    Values only fall as messages arrive, and the others are unchanged: the new ``k`` smallest are then
    among the old ones and the changed ones, and a changed one not among the old ones enters only if it
    is below the old ``k``-th (most messages: one comparison).
    """
    items, ids = top
    worst = items[-1] if len(items) >= k else None
    enter = [e for e in entries if e[1] in ids or worst is None or e < worst]
    if not enter:
        return top
    new = {i: value for value, i in enter}
    kept = []
    for value, i in items:
        now = new.get(i)
        if now is None:
            kept.append((value, i))
        elif now > value:
            return None
    kept.extend(enter)
    kept.sort()
    del kept[k:]
    return _Ranking(tuple(kept), frozenset(i for _, i in kept))


def _past_window(n_customer: int, n_messages: int) -> bool:
    return n_customer > WINDOW or n_messages - n_customer > WINDOW


@dataclass(frozen=True, slots=True)
class SummaryState:
    """The summary's running totals over the first ``size`` messages of a conversation (see :class:`_Log`)."""

    log: _Log = field(default_factory=_Log)
    size: int = 0

    def extended(self, added: Sequence[tuple[Role, datetime | None, SummaryFeatures]]) -> SummaryState:
        """The state with the messages ``added`` after the last one (their role, time and features)."""
        if not added:
            return self
        with _LOCK:
            log = self.log
            if self.size != len(log.features):
                # An older state: the log has moved on past it. Take the newer messages back when the
                # journal reaches (the newer states rebuild their own if used again), else start a new log.
                if log.can_undo(self.size):
                    log.undo_to(self.size)
                else:
                    log = self._own_log()
            for role, created_at, features in added:
                log.add(role, created_at, features)
        return SummaryState(log, self.size + len(added))

    def _own_log(self) -> _Log:
        n = self.size
        return _Log.of(self.log.features[:n], self.log.roles[:n], self.log.stamps[:n])


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
    #: Issue then counts the keys of the sentences themselves). Only the keys of the customer messages
    #: split into sentences are here: the Issue's candidates read no other.
    counts: Mapping[str, int] | None
    #: How often each key is used over every message as read here (customer messages not split count
    #: their scanned keys, other messages not split count none): the weights of the bot's statements.
    #: Only the keys of the bot's replies split into sentences are here: no other is read.
    told_counts: Mapping[str, int]
    customer: Sequence[int]
    replies: Sequence[int]
    customer_chars: int
    details: Details
    first_customer_at: datetime | None
    #: The customer messages and the bot's replies that are in ``texts``, in ascending order: what the
    #: Assistant line reads, without walking every message of a long conversation.
    read_customer: Sequence[int] = ()
    read_replies: Sequence[int] = ()
    #: The Issue's candidate sentences with their message index, in order, when the view was folded over
    #: kept features (each message's :attr:`SummaryFeatures.issue`); None: the Issue filters ``texts``.
    candidates: Sequence[tuple[int, SentenceText]] | None = None


def _told_counts(
    texts: Mapping[int, MessageText],
    counts: Mapping[str, int] | None,
    scanned: Mapping[int, frozenset[str]],
    read_replies: Sequence[int],
) -> Mapping[str, int]:
    """``read_replies``: the bot's replies split into sentences (in ``texts``), not every reply: a long
    conversation's view reads a bounded few, and walking all of them cost more than the rest."""
    # Only the keys of the bot's replies split into sentences are ever read (its statements' keys), so only
    # those are counted: each text's keys are a set, and a wanted key counts once for each text holding it.
    wanted = frozenset().union(*[texts[i].keys for i in read_replies])
    if not wanted:
        return {}
    every = Counter(chain.from_iterable([wanted.intersection(t.keys) for t in texts.values()]))
    if counts is None:
        return {k: every[k] for k in wanted}
    # Past the window a customer message not split counts its scanned keys: all customer keys, less the
    # scanned keys of those that were split (they count their sentences' keys, in ``every``, instead).
    split = Counter(chain.from_iterable([wanted.intersection(keys) for keys in scanned.values()]))
    return {k: counts.get(k, 0) - split[k] + every[k] for k in wanted}


def view_of_state(state: SummaryState) -> SummaryView:
    """The view of a conversation from its running state: a fold over per-message results, no text read."""
    log = state.log
    with _LOCK:
        if state.size == len(log.features):
            return _view_of_log(log)
    return _view_of_log(state._own_log())


def _view_of_log(log: _Log) -> SummaryView:
    features = log.features
    long = log.long
    if long is None:
        view = _short_view({i: f.text for i, f in enumerate(features)}, log.roles, log.stamps)
        return replace(view, candidates=[(i, s) for i in view.customer for s in features[i].issue])
    customer = long.customer
    full = pool_of_ranks(customer, long.others, [i for _, i in long.dense.items], [i for _, i in long.heavy.items])
    texts = {i: features[i].text for i in full}
    roles = log.roles
    scanned = {i: features[i].keys for i in full if roles[i] is Role.CUSTOMER}
    # The counts go on growing in the log: the view keeps only what it reads of them (the keys of the
    # customer messages split; each message's sentence keys are among its scanned keys or none).
    count = long.counts.get  # not Counter's __missing__: a Python call per absent key
    wanted = frozenset().union(*[texts[i].keys for i in scanned])
    counts = dict(zip(wanted, map(count, wanted, repeat(0)), strict=True))  # in C (round 9)
    read_replies = [i for i in full if roles[i] is Role.ASSISTANT]
    return SummaryView(
        texts,
        counts,
        _told_counts(texts, long.counts, scanned, read_replies),
        tuple(customer),
        tuple(long.replies),
        long.customer_chars,
        long.details.copy(),
        long.first_customer_at,
        list(scanned),
        read_replies,
        [(i, s) for i in scanned for s in features[i].issue],
    )


def _short_view(texts: dict[int, MessageText], roles: Sequence[Role], stamps: Sequence[datetime | None]) -> SummaryView:
    """The view of a conversation up to the window: every message split into sentences."""
    customer = [i for i, role in enumerate(roles) if role is Role.CUSTOMER]
    replies = [i for i, role in enumerate(roles) if role is Role.ASSISTANT]
    details = Details()
    for i in customer:
        if texts[i].details and not details.full():
            for kind, value in texts[i].details:
                details.add(kind, value)
    chars = sum(len(texts[i].cleaned) for i in customer)
    first = next((stamps[i] for i in customer if stamps[i]), None)
    told = _told_counts(texts, None, {}, replies)
    return SummaryView(texts, None, told, customer, replies, chars, details, first, customer, replies)


def view_of_messages(messages: Sequence[Message]) -> SummaryView:
    """The same view computed from the transcript's text: linear, and cheap per message past the window."""
    customer = [i for i, m in enumerate(messages) if m.role is Role.CUSTOMER]
    others = [i for i, m in enumerate(messages) if m.role is not Role.CUSTOMER]
    replies = [i for i in others if messages[i].role is Role.ASSISTANT]
    first = next((messages[i].created_at for i in customer if messages[i].created_at), None)
    if len(customer) <= WINDOW and len(others) <= WINDOW:
        texts = {i: analyze_message(m.text) for i, m in enumerate(messages)}
        return _short_view(texts, [m.role for m in messages], [m.created_at for m in messages])
    details = Details()
    # Every customer message is counted (its keys, words, characters and the kinds of detail it may hold:
    # round 8, not a whole scan with its token lists), and only the pool's are read again (split into
    # sentences), so only their scans go into the byte-bounded cache (round 7). A text the customer sent
    # twice ("any update?") is counted once and its count shared (round 9: a pure function of the text).
    cached = scan_message.cache.get
    scans: dict[int, MessageScan | MessageCount] = {}
    seen: dict[str, MessageScan | MessageCount] = {}
    for i in customer:
        text = messages[i].text
        scan = seen.get(text)
        if scan is None:
            scan = seen[text] = cached(text) or count_message(text)
        scans[i] = scan
    counts = Counter(chain.from_iterable(scan.keys for scan in scans.values()))
    full = pool(
        customer,
        others,
        counts,
        [(scans[i].keys, scans[i].n_words) for i in customer],
        [scan_message(messages[i].text).keys for i in others[:BOT_POOL]],
    )
    # The pool's messages are split from the tokens their count looked up (round 9), and their details
    # are searched below like every other customer message's, only for the kinds with room (the same
    # values kept: tests/core/test_details_kinds.py), not all four kinds as analyze_message would.
    pooled: dict[int, MessageText] = {}
    analysed = analyze_message.cache.get
    for i in full:
        text = messages[i].text
        known = analysed(text)
        if known is None:
            counted = scans.get(i)
            if counted is None:
                counted = scan_message(text)  # a bot reply (the echo pass scanned the first few)
            known = split_scan(scan_of_count(counted) if isinstance(counted, MessageCount) else counted)
        pooled[i] = known
    texts = pooled
    searched: set[str] = set()
    for i in customer:
        scan = scans[i]
        # A message whose details would all be dropped is not searched (the same details in the end).
        if scan.detail_kinds and details.wants(scan.detail_kinds):
            text = messages[i].text
            if text in searched:
                # The same text searched before, for these kinds or more (room only shrinks): each value
                # it holds was added then or dropped for a full kind, so adding it again changes nothing.
                continue
            searched.add(text)
            # Only the kinds with room are searched for (round 9: a full kind drops its values).
            kinds = details.wanted(scan.detail_kinds)
            found = details_of_scan(scan, kinds) if isinstance(scan, MessageScan) else details_of_count(scan, kinds)
            for kind, value in found:
                details.add(kind, value)
    chars = sum(len(scan.cleaned) for scan in scans.values())
    scanned = {i: scans[i].keys for i in full if i in scans}
    read = (
        [i for i in full if messages[i].role is Role.CUSTOMER],
        [i for i in full if messages[i].role is Role.ASSISTANT],
    )
    told = _told_counts(texts, counts, scanned, read[1])
    return SummaryView(texts, counts, told, customer, replies, chars, details, first, *read)

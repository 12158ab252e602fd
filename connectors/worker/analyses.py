"""The per-message analyses the worker keeps between two messages of a conversation, in memory.

The core analyses each message once (:mod:`handoff_core.analysis`); the worker keeps that analysis with
the conversation so the next message costs one message's work. It is a cache, not state: the stored
transcript stays the source of truth, so after a restart (or an eviction) the next decision simply
re-reads the transcript and decides the same. Bounded by the number of messages held *and* by their
estimated bytes, least recently used conversations first out, so memory stays flat however many chats
are open and however long their messages are.

Why a byte bound: a record keeps the message's text, its folded words and the detectors' results, about
5 KB plus 60 bytes per character of text (measured with ``tracemalloc``; 33 KB for a 2 KB message), and
since round 4 the summary's features of the message (its sentences, keys and details: about 1 KB plus
11 bytes per character, handoff_core/summary_state.py). A
count of 2,000 messages therefore meant anything from 10 to 70 MB, and it was the largest single holder
of a soaked worker's memory (33 MB after 8,000 decisions of realistic traffic). The estimate is charged
per record from its text length (O(1); walking the objects costs ~0.7 ms a record) and errs on the high
side: ``tests/connectors/test_analysis_cache.py`` checks it against ``tracemalloc`` on the corpus. The
estimate of the analysis that replaces a conversation's previous one adds the new records to the
previous estimate (:func:`_bytes_after`): putting the analysis of message 1,001 walks no record.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

from handoff_core.analysis import ConversationAnalysis, MessageAnalysis

#: Estimated bytes of one kept record: a fixed part and a part per character of the message's text.
RECORD_BASE_BYTES = 7_000
RECORD_BYTES_PER_CHAR = 72


def record_bytes(analysis: ConversationAnalysis) -> int:
    """Estimated memory held by the records of ``analysis`` (see the module docstring)."""
    return _bytes_of(analysis.records)


def _bytes_of(records: Sequence[MessageAnalysis]) -> int:
    return sum(RECORD_BASE_BYTES + RECORD_BYTES_PER_CHAR * len(r.text) for r in records)


def _bytes_after(old: ConversationAnalysis, old_cost: int, new: ConversationAnalysis) -> int:
    """:func:`record_bytes` of ``new``, from the estimate of the analysis it was made from.

    The worker puts the analysis of message n+1 where that of message n was: a walk over every record
    for the estimate (~0.1 us each, a tenth of a millisecond at message 1,001) would be the one step of a
    decision that still grows with the conversation. The engine reuses records as a prefix only, so
    the records before a kept record are the ones that came before it when it was made: when ``new``
    holds ``old``'s last record at the same place, it holds all of ``old``'s, and only the records after
    them are new.
    """
    before, after = old.records, new.records
    if before and len(after) >= len(before) and after[len(before) - 1] is before[-1]:
        return old_cost + _bytes_of(after[len(before) :])
    return _bytes_of(after)


class AnalysisCache:
    """Least-recently-used analyses by conversation id, within ``max_messages`` records and ``max_bytes``."""

    def __init__(self, max_messages: int, max_bytes: int | None = None) -> None:
        self.max_messages = max_messages
        self.max_bytes = max_bytes if max_bytes is not None else max_messages * 40_000
        self._items: OrderedDict[str, tuple[ConversationAnalysis, int]] = OrderedDict()
        self._messages = 0
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        #: Decisions may run in a thread pool: one lock keeps the order book consistent.
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    @property
    def messages(self) -> int:
        return self._messages

    def get(self, conversation_id: str) -> ConversationAnalysis | None:
        with self._lock:
            found = self._items.get(conversation_id)
            if found is None:
                self.misses += 1
                return None
            self.hits += 1
            self._items.move_to_end(conversation_id)
            return found[0]

    def put(self, conversation_id: str, analysis: ConversationAnalysis | None) -> None:
        with self._lock:
            self._put(conversation_id, analysis)

    def _put(self, conversation_id: str, analysis: ConversationAnalysis | None) -> None:
        old = self._items.pop(conversation_id, None)
        if old is not None:
            self._messages -= len(old[0].records)
            self.bytes -= old[1]
        if analysis is None:
            return
        cost = record_bytes(analysis) if old is None else _bytes_after(old[0], old[1], analysis)
        if len(analysis.records) > self.max_messages or cost > self.max_bytes:
            return
        self._items[conversation_id] = (analysis, cost)
        self._messages += len(analysis.records)
        self.bytes += cost
        while (self._messages > self.max_messages or self.bytes > self.max_bytes) and self._items:
            _, (evicted, evicted_cost) = self._items.popitem(last=False)
            self._messages -= len(evicted.records)
            self.bytes -= evicted_cost

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
side: ``tests/connectors/test_analysis_cache.py`` checks it against ``tracemalloc`` on the corpus.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from handoff_core.analysis import ConversationAnalysis

#: Estimated bytes of one kept record: a fixed part and a part per character of the message's text.
RECORD_BASE_BYTES = 7_000
RECORD_BYTES_PER_CHAR = 72


def record_bytes(analysis: ConversationAnalysis) -> int:
    """Estimated memory held by the records of ``analysis`` (see the module docstring)."""
    return sum(RECORD_BASE_BYTES + RECORD_BYTES_PER_CHAR * len(r.text) for r in analysis.records)


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
        cost = record_bytes(analysis)
        if len(analysis.records) > self.max_messages or cost > self.max_bytes:
            return
        self._items[conversation_id] = (analysis, cost)
        self._messages += len(analysis.records)
        self.bytes += cost
        while (self._messages > self.max_messages or self.bytes > self.max_bytes) and self._items:
            _, (evicted, evicted_cost) = self._items.popitem(last=False)
            self._messages -= len(evicted.records)
            self.bytes -= evicted_cost

"""The per-message analyses the worker keeps between two messages of a conversation, in memory.

The core analyses each message once (:mod:`handoff_core.analysis`); the worker keeps that analysis with
the conversation so the next message costs one message's work. It is a cache, not state: the stored
transcript stays the source of truth, so after a restart (or an eviction) the next decision simply
re-reads the transcript and decides the same. Bounded by the number of messages held, least recently
used conversations first out, so memory stays flat however many chats are open.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from handoff_core.analysis import ConversationAnalysis


class AnalysisCache:
    """Least-recently-used analyses by conversation id, at most ``max_messages`` message records."""

    def __init__(self, max_messages: int) -> None:
        self.max_messages = max_messages
        self._items: OrderedDict[str, ConversationAnalysis] = OrderedDict()
        self._messages = 0
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
            return found

    def put(self, conversation_id: str, analysis: ConversationAnalysis | None) -> None:
        with self._lock:
            self._put(conversation_id, analysis)

    def _put(self, conversation_id: str, analysis: ConversationAnalysis | None) -> None:
        old = self._items.pop(conversation_id, None)
        if old is not None:
            self._messages -= len(old.records)
        if analysis is None or len(analysis.records) > self.max_messages:
            return
        self._items[conversation_id] = analysis
        self._messages += len(analysis.records)
        while self._messages > self.max_messages and self._items:
            _, evicted = self._items.popitem(last=False)
            self._messages -= len(evicted.records)

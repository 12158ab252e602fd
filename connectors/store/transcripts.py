"""Transcripts stored a message per row, appended, and kept parsed between two messages.

Why: the store kept a conversation as one JSON document, so every web-chat message parsed the whole
transcript back (``Conversation.model_validate_json``: 1.35 ms at 1,001 messages) and wrote it whole
again (0.76 ms): the worker's own cost grew with the conversation, more than the core's decision. Now:

- **Append-only rows.** ``conversation_messages`` holds one row per message, ``(conversation_id, seq)``;
  the conversation's row keeps the rest (channel, customer, context, language: the *head*, a small JSON
  document) and its **revision**: ``transcript_epoch`` (a random token, new whenever the transcript is
  written from scratch) and ``msg_start``/``msg_end`` (the first kept and the next sequence number).
  Within one epoch message rows are never changed, only added at the end and, past the 2,000-message
  window, deleted at the start. Storing message n+1 is one insert and one row update, whatever n is.
- **What was read is what is extended.** A record read from the store carries a :class:`Stamp` (the
  revision it was read at and the messages it held); the record written back after the decision keeps
  it, so the store sees which messages are new (:func:`diff`: the old messages, less a window's head,
  must be the new transcript's start, the very same objects or equal field by field) and checks in the
  same transaction that the row is still at that revision. Anything else (a replaced transcript, an
  edited message, another replica that wrote meanwhile, a row of the old one-document format) is
  written from scratch under a new epoch: the slow path is the old cost, never a wrong transcript.
- **Parsed once.** :class:`TranscriptCache` keeps, per conversation, the last transcript this process
  wrote or read with its revision (bounded like the analyses: messages and text bytes, least recently
  used out). A read whose row is at the cached revision (and head) hands back the cached objects: no
  parse, and the core's reuse check then compares the kept messages by pointer. A row a few messages
  ahead (another replica appended) reads only the rows after the cached end. Anything else reads all
  rows and parses them as the one document did (the same JSON text, :func:`spliced`).

Raw text lives in exactly the places it did (the conversation's rows), and the retention purge deletes
a conversation's messages with it.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter

from handoff_core import Conversation, ConversationState, Message

#: The messages' field values: a message read back from JSON equals the one written, field by field
#: (pydantic's ``==`` also compares which fields were set, which a parse and a ``model_construct`` differ on).
_FIELDS = attrgetter(*Message.model_fields)
_EMPTY = ConversationState()
#: In a conversation's JSON (``model_dump_json``) the messages' array; the head is stored with it empty.
#: ``customer`` is the only field before it, and holds no free-form mapping, so its first occurrence is it.
_MESSAGES = '"messages":[]'


@dataclass(frozen=True)
class Stamp:
    """The revision a record was read (or written) at, and the messages it held then."""

    epoch: str
    start: int
    end: int
    messages: tuple[Message, ...]


def new_epoch() -> str:
    return uuid.uuid4().hex


def head_document(conversation: Conversation) -> str:
    """The conversation as stored in its row: everything but the messages and the state (their own rows
    and columns). The same JSON the whole document was, with an empty ``messages`` array."""
    return conversation.model_copy(update={"messages": (), "state": _EMPTY}).model_dump_json()


def message_document(message: Message) -> str:
    return message.model_dump_json()


def spliced(head: str, messages: Sequence[str]) -> str:
    """The conversation's whole JSON document from its head and its messages' rows (as it was stored
    before messages had rows: the same text, so the same parse)."""
    if _MESSAGES not in head:
        raise ValueError("a conversation head without its messages array")
    return head.replace(_MESSAGES, '"messages":[' + ",".join(messages) + "]", 1)


def same_messages(a: Sequence[Message], b: Sequence[Message]) -> bool:
    """Whether two runs of messages are the same: by pointer (a transcript extended in memory), else field
    by field (one rebuilt from a help desk's comments)."""
    if len(a) != len(b):
        return False
    return tuple(a) == tuple(b) or list(map(_FIELDS, a)) == list(map(_FIELDS, b))


def diff(old: tuple[Message, ...], new: tuple[Message, ...]) -> tuple[int, int] | None:
    """How ``new`` extends ``old``: (messages dropped from old's start, messages added at the end), or None
    when it does not (written from scratch then).

    ``new`` extends ``old`` when old, less its first ``dropped`` messages (the 2,000-message window),
    is new's start. The common case, nothing dropped, is one C-level tuple comparison (by pointer)."""
    if len(new) >= len(old) and same_messages(new[: len(old)], old):
        return 0, len(new) - len(old)
    if not new or not old:
        return None
    first = new[0]
    dropped = next((i for i, m in enumerate(old) if m is first), None)
    if dropped is None:
        key = _FIELDS(first)
        dropped = next((i for i, m in enumerate(old) if _FIELDS(m) == key), None)
    if dropped is None or dropped == 0:
        return None
    kept = len(old) - dropped
    if len(new) < kept or not same_messages(new[:kept], old[dropped:]):
        return None
    return dropped, len(new) - kept


@dataclass(frozen=True)
class _Kept:
    stamp: Stamp
    head: str
    conversation: Conversation
    size: int


class TranscriptCache:
    """The last transcript seen per conversation, at its revision; bounded, least recently used out.

    Thread-safe (the PostgreSQL store's calls run in a thread pool). The conversation objects are frozen
    and shared with their callers, so a hit copies nothing.
    """

    def __init__(self, max_messages: int = 2_000, max_bytes: int = 3 * 1024 * 1024) -> None:
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self._kept: OrderedDict[str, _Kept] = OrderedDict()
        self._messages = 0
        self._bytes = 0
        self._lock = threading.Lock()
        #: Reads answered from the cache whole, extended by the rows after it, and read in full (tests).
        self.hits = 0
        self.extended = 0
        self.misses = 0

    def get(self, conversation_id: str) -> _Kept | None:
        with self._lock:
            kept = self._kept.get(conversation_id)
            if kept is not None:
                self._kept.move_to_end(conversation_id)
            return kept

    def put(self, conversation_id: str, stamp: Stamp, head: str, conversation: Conversation) -> None:
        """Keep ``conversation`` (its state is dropped: the store's records carry it apart) at ``stamp``."""
        if conversation.state != _EMPTY:
            conversation = conversation.model_copy(update={"state": _EMPTY})
        previous = self.get(conversation_id)
        if previous is not None and previous.stamp.epoch == stamp.epoch and previous.stamp.start == stamp.start:
            # The previous transcript's text plus the new messages' (no walk over every message).
            size = previous.size + sum(len(m.text) for m in stamp.messages[previous.stamp.end - stamp.start :])
        else:
            size = sum(len(m.text) for m in stamp.messages)
        with self._lock:
            self._drop(conversation_id)
            if len(stamp.messages) > self.max_messages or size > self.max_bytes:
                return
            self._kept[conversation_id] = _Kept(stamp, head, conversation, size)
            self._messages += len(stamp.messages)
            self._bytes += size
            while self._messages > self.max_messages or self._bytes > self.max_bytes:
                self._drop(next(iter(self._kept)))

    def forget(self, conversation_id: str) -> None:
        with self._lock:
            self._drop(conversation_id)

    def _drop(self, conversation_id: str) -> None:
        kept = self._kept.pop(conversation_id, None)
        if kept is not None:
            self._messages -= len(kept.stamp.messages)
            self._bytes -= kept.size

    def __len__(self) -> int:
        return len(self._kept)

    @property
    def messages(self) -> int:
        return self._messages


__all__ = [
    "Stamp",
    "TranscriptCache",
    "diff",
    "head_document",
    "message_document",
    "new_epoch",
    "same_messages",
    "spliced",
]

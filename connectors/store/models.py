"""Plain records the store hands out: inbox events, outbox actions and remembered conversations.

They are frozen dataclasses rather than pydantic models because they never cross a trust boundary: the
store writes them and reads them back. Payloads are JSON-compatible dictionaries produced by our own code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from connectors.store.transcripts import Stamp
from handoff_core import Conversation, ConversationState


class InboxStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    IGNORED = "ignored"
    DEAD = "dead"


class OutboxStatus(StrEnum):
    """``local`` rows are actions recorded in local mode: what would have been sent, never sent."""

    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"
    LOCAL = "local"


@dataclass(frozen=True)
class InboxItem:
    """A webhook delivery accepted and stored before it was acknowledged."""

    id: int
    source: str
    dedupe_key: str
    kind: str
    payload: dict[str, Any]
    received_at: float
    status: InboxStatus
    attempts: int
    last_error: str | None = None


@dataclass(frozen=True)
class NewDelivery:
    """A webhook delivery to store before it is acknowledged; ``(source, dedupe_key)`` is stored once."""

    source: str
    dedupe_key: str
    kind: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class NewAction:
    """An outbound action to enqueue. ``dedupe_key`` makes enqueueing the same effect twice a no-op."""

    kind: str
    target: str
    dedupe_key: str
    payload: dict[str, Any]
    conversation_id: str | None = None
    decision_id: str | None = None


@dataclass(frozen=True)
class OutboxItem:
    id: int
    kind: str
    target: str
    dedupe_key: str
    payload: dict[str, Any]
    conversation_id: str | None
    decision_id: str | None
    status: OutboxStatus
    attempts: int
    next_attempt_at: float
    created_at: float
    updated_at: float
    last_error: str | None = None
    result: dict[str, Any] | None = None
    #: How often the row was claimed: above 1, an earlier run may have reached the vendor and crashed or
    #: timed out before recording it, so the executor looks for its effect before acting again.
    claims: int = 0


@dataclass(frozen=True)
class ConversationRecord:
    """What the worker remembers about a conversation between two events.

    ``conversation`` is the transcript the core last decided on; ``state`` is what the core needs back
    (handed off, handoff offered). ``ticket_id`` and ``alert`` tie the conversation to what was sent.
    ``stamp`` is the stored revision the transcript was read at (None: never stored, or not read from the
    store): a record written back with its predecessor's stamp stores only its new messages
    (:mod:`connectors.store.transcripts`).
    """

    conversation: Conversation
    state: ConversationState = field(default_factory=ConversationState)
    ticket_id: str | None = None
    alert_channel: str | None = None
    alert_ts: str | None = None
    last_decision_id: str | None = None
    stamp: Stamp | None = field(default=None, repr=False, compare=False)

    @property
    def id(self) -> str:
        return self.conversation.id


@dataclass(frozen=True)
class Backlog:
    """How far one lane of the inbox or outbox is behind: what ``/metrics`` and ``handoff outbox`` show.

    ``lane`` is the outbox target (``zendesk``, ``slack``, ``local``) or the inbox source (``zendesk``,
    ``slack``). ``oldest_pending_at`` is when the oldest row still pending arrived (None: none pending).
    """

    queue: str
    lane: str
    pending: int
    dead: int
    oldest_pending_at: float | None

    def oldest_pending_age(self, now: float) -> float:
        """Seconds the oldest pending row has waited (0 when nothing is pending)."""
        return max(0.0, now - self.oldest_pending_at) if self.oldest_pending_at is not None else 0.0

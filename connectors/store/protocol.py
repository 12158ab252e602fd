"""The store ports: one small ``Protocol`` per use, so each caller depends on what it needs and no more.

::

    InboxStore          webhooks stored before they are acknowledged, claimed with leases
    ConversationStore   what the worker remembers about a conversation between two events
    TurnStore           one web-chat turn stored atomically, and the answer replayed for duplicates
    OutboxStore         actions to send, claimed per lane with leases, retried, parked as dead
    LaneStore           per-lane pause (a vendor's Retry-After) and rate budget, shared by all replicas
    BacklogStore        how far each lane of the inbox and outbox is behind, read through indexes only
    RetentionStore      raw customer text older than the retention deleted or blanked (``handoff purge``)
    WorkerStore         all of the above plus health: what one worker process opens

Two implementations pass one contract suite (``tests/store/``): :mod:`connectors.store.sqlite` (the
embedded default; one worker process per file) and :mod:`connectors.store.postgres` (several replicas;
rows claimed with ``FOR UPDATE SKIP LOCKED``, conversations decided under an advisory lock).

Every method that changes more than one thing (a web-chat turn, finishing an inbox event) is atomic:
either all of its rows are written or none, which is what makes "processed exactly once or visibly
parked" hold across crashes.

Exception tree::

    StoreError            the store cannot be reached or its schema is unusable (readyz fails)
    └── StoreLockedError  another worker process holds the SQLite file (use PostgreSQL for replicas)
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from connectors.store.models import (
    Backlog,
    ConversationRecord,
    InboxItem,
    InboxStatus,
    NewAction,
    NewDelivery,
    OutboxItem,
    OutboxStatus,
)


class StoreError(Exception):
    """The store is unreachable or unusable."""


class StoreLockedError(StoreError):
    """Another worker process already uses this SQLite file."""


class InboxStore(Protocol):
    def inbox_add(self, source: str, dedupe_key: str, kind: str, payload: dict[str, Any]) -> bool:
        """Store a delivery; False when the same (source, dedupe_key) was stored before."""
        ...

    def inbox_add_many(self, deliveries: Sequence[NewDelivery]) -> list[bool]:
        """Store several deliveries in one transaction (group commit), all or none; per delivery, False when
        its (source, dedupe_key) was stored before, earlier in the same list included."""
        ...

    def inbox_claim(self, now: float, lease_seconds: float, limit: int) -> list[InboxItem]: ...
    def inbox_finish(
        self,
        item_id: int,
        status: InboxStatus,
        *,
        record: ConversationRecord | None = None,
        actions: Sequence[NewAction] = (),
        error: str | None = None,
    ) -> None:
        """Atomically mark the event finished, remember the conversation and enqueue its actions."""
        ...

    def inbox_retry_later(self, item_id: int, error: str, next_attempt_at: float, *, dead: bool) -> None: ...
    def inbox_list(self, statuses: Sequence[InboxStatus] = (), limit: int = 100) -> list[InboxItem]: ...
    def inbox_extend(self, ids: Sequence[int], until: float) -> None:
        """Keep inbox rows that are still being worked on from being claimed again."""
        ...


class ConversationStore(Protocol):
    def conversation_get(self, conversation_id: str) -> ConversationRecord | None: ...
    def conversation_find_by_ticket(self, ticket_id: str) -> ConversationRecord | None: ...
    def conversation_set_ticket(self, conversation_id: str, ticket_id: str) -> ConversationRecord | None: ...
    def conversation_set_alert(self, conversation_id: str, channel: str, ts: str) -> ConversationRecord | None: ...
    def conversation_lock(self, conversation_id: str) -> AbstractAsyncContextManager[None]:
        """Held while one conversation is decided: by one task of this process, and one replica of many."""
        ...


class TurnStore(Protocol):
    def reply_get(self, key: str) -> dict[str, Any] | None: ...
    def save_turn(
        self, record: ConversationRecord, reply_key: str, reply: dict[str, Any], actions: Sequence[NewAction]
    ) -> dict[str, Any]:
        """Store the conversation, the answer and the actions at once; return the stored answer.

        If ``reply_key`` was stored meanwhile (a concurrent duplicate), nothing is written and the answer
        stored first is returned, so a message id has one effect and one answer.
        """
        ...


class OutboxStore(Protocol):
    def outbox_enqueue(self, actions: Sequence[NewAction]) -> list[int]: ...
    def outbox_claim(self, now: float, lease_seconds: float, limit: int, lane: str | None = None) -> list[OutboxItem]:
        """Lease due rows (of one lane, when given); each claim counts in ``OutboxItem.claims``."""
        ...

    def outbox_done(self, item_id: int, result: dict[str, Any] | None = None) -> None: ...
    def outbox_failed(self, item_id: int, error: str, next_attempt_at: float, *, dead: bool) -> None: ...
    def outbox_get(self, item_id: int) -> OutboxItem | None: ...
    def outbox_by_key(self, dedupe_key: str) -> OutboxItem | None: ...
    def outbox_extend(self, ids: Sequence[int], until: float) -> None:
        """Keep outbox rows that are still being worked on from being claimed again."""
        ...

    def outbox_list(self, statuses: Sequence[OutboxStatus] = (), limit: int = 100) -> list[OutboxItem]: ...
    def outbox_retry(self, item_id: int) -> bool: ...
    def outbox_retry_dead(self) -> int: ...
    def outbox_counts(self) -> dict[OutboxStatus, int]: ...
    def outbox_next_due(self) -> float | None: ...


class LaneStore(Protocol):
    def lane_pause(self, lane: str, until: float) -> None:
        """No replica sends on ``lane`` before ``until`` (a vendor's Retry-After); never shortens a pause."""
        ...

    def lane_paused_until(self, lane: str) -> float: ...
    def lane_take(self, lane: str, now: float, per_minute: int) -> float:
        """Take one call from the lane's shared per-minute budget: 0 if granted, else seconds to wait."""
        ...


class BacklogStore(Protocol):
    """Lag facts whose cost does not grow with the size of the tables (months of done rows)."""

    def backlog(self) -> list[Backlog]:
        """Pending and dead rows and the oldest pending arrival, per queue and lane.

        Reads only the pending and dead rows, through the ``(status, lane, arrival)`` indexes, so the cost
        follows the backlog, not the table.
        """
        ...

    def oldest_pending(self) -> dict[str, float | None]:
        """Arrival time of the oldest pending row of ``inbox`` and ``outbox``: one index seek each (readyz)."""
        ...


class RetentionStore(Protocol):
    """Raw customer text is kept only as long as ``RAW_RETENTION_DAYS`` says (docs/security.md)."""

    def purge_raw(self, before: float, *, dry_run: bool = False) -> dict[str, int]:
        """Delete conversations and web-chat answers last touched before ``before``; blank the payloads of
        finished inbox and outbox rows older than that. Pending rows are never touched.

        Returns the rows purged per table (with ``dry_run``: the rows that would be, nothing changed).
        """
        ...


class WorkerStore(
    InboxStore, ConversationStore, TurnStore, OutboxStore, LaneStore, BacklogStore, RetentionStore, Protocol
):
    """Everything one worker process opens."""

    #: True when calls are network round trips (PostgreSQL): the worker runs them in a bounded thread
    #: pool; False for the embedded SQLite file, whose sub-millisecond calls run inline
    #: (:mod:`connectors.worker.offload` says why).
    remote: bool

    def ping(self) -> None: ...
    def close(self) -> None: ...

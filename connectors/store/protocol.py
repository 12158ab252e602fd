"""The store port: what the worker needs from durable storage, and nothing more.

The SQLite implementation (:mod:`connectors.store.sqlite`) is the default. A server database can
implement this ``Protocol`` later without touching the worker, which only ever sees this interface.

Every method that changes more than one thing (a web-chat turn, finishing an inbox event) is atomic:
either all of its rows are written or none, which is what makes "processed exactly once or visibly
parked" hold across crashes.

Exception tree::

    StoreError            the store cannot be reached or its schema is unusable (readyz fails)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from connectors.store.models import (
    ConversationRecord,
    InboxItem,
    InboxStatus,
    NewAction,
    OutboxItem,
    OutboxStatus,
)


class StoreError(Exception):
    """The store is unreachable or unusable."""


class WorkerStore(Protocol):
    # --- health
    def ping(self) -> None: ...
    def close(self) -> None: ...

    # --- inbox: webhooks stored before they are acknowledged
    def inbox_add(self, source: str, dedupe_key: str, kind: str, payload: dict[str, Any]) -> bool:
        """Store a delivery; False when the same (source, dedupe_key) was stored before."""
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

    # --- conversations
    def conversation_get(self, conversation_id: str) -> ConversationRecord | None: ...
    def conversation_find_by_ticket(self, ticket_id: str) -> ConversationRecord | None: ...
    def conversation_set_ticket(self, conversation_id: str, ticket_id: str) -> ConversationRecord | None: ...
    def conversation_set_alert(
        self, conversation_id: str, channel: str, ts: str
    ) -> ConversationRecord | None: ...

    # --- web chat: one atomic turn, and replayed answers for duplicate message ids
    def reply_get(self, key: str) -> dict[str, Any] | None: ...
    def save_turn(
        self, record: ConversationRecord, reply_key: str, reply: dict[str, Any], actions: Sequence[NewAction]
    ) -> dict[str, Any]:
        """Store the conversation, the answer and the actions at once; return the stored answer.

        If ``reply_key`` was stored meanwhile (a concurrent duplicate), nothing is written and the answer
        stored first is returned, so a message id has one effect and one answer.
        """
        ...

    # --- outbox: actions to send, retried with backoff, parked as dead after N attempts
    def outbox_enqueue(self, actions: Sequence[NewAction]) -> list[int]: ...
    def outbox_claim(self, now: float, lease_seconds: float, limit: int) -> list[OutboxItem]: ...
    def outbox_done(self, item_id: int, result: dict[str, Any] | None = None) -> None: ...
    def outbox_failed(self, item_id: int, error: str, next_attempt_at: float, *, dead: bool) -> None: ...
    def outbox_get(self, item_id: int) -> OutboxItem | None: ...
    def outbox_by_key(self, dedupe_key: str) -> OutboxItem | None: ...
    def extend_leases(self, inbox_ids: Sequence[int], outbox_ids: Sequence[int], until: float) -> None:
        """Keep rows that are still being worked on from being claimed again."""
        ...

    def outbox_list(self, statuses: Sequence[OutboxStatus] = (), limit: int = 100) -> list[OutboxItem]: ...
    def outbox_retry(self, item_id: int) -> bool: ...
    def outbox_retry_dead(self) -> int: ...
    def outbox_counts(self) -> dict[OutboxStatus, int]: ...
    def outbox_next_due(self) -> float | None: ...

"""Row mapping shared by the SQLite and PostgreSQL stores: both hand out the same records.

Rows arrive as mappings (``sqlite3.Row`` or psycopg's ``dict_row``); JSON documents are stored as text
in both, so one set of functions reads them and the two stores cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

from connectors.store.models import ConversationRecord, InboxItem, InboxStatus, OutboxItem, OutboxStatus
from connectors.store.protocol import StoreError
from handoff_core import Conversation, ConversationState


class Row(Protocol):
    """A row read by column name: ``sqlite3.Row`` and psycopg's ``dict_row`` rows both are."""

    def __getitem__(self, key: str, /) -> Any: ...


def conversation_document(record: ConversationRecord) -> str:
    """The transcript as stored: state lives in its own columns only, so it is stored once."""
    return record.conversation.model_copy(update={"state": ConversationState()}).model_dump_json()


def budget_step(now: float, per_minute: int, start: float, used: int) -> tuple[float, float, int]:
    """One fixed-window rate-budget step: (seconds to wait, or 0 if a call was granted; new window; used)."""
    if now >= start + 60.0:
        start, used = now, 0
    if used < per_minute:
        return 0.0, start, used + 1
    return start + 60.0 - now, start, used


def loads(text: str) -> dict[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise StoreError("corrupt JSON document in the store")
    return value


def status_filter(statuses: Sequence[Any], mark: str = "?") -> tuple[str, list[str]]:
    """A ``WHERE status IN (...)`` clause with the driver's placeholder (``?`` SQLite, ``%s`` psycopg)."""
    if not statuses:
        return "", []
    marks = ", ".join(mark for _ in statuses)
    return f"WHERE status IN ({marks})", [s.value for s in statuses]


def conversation_from(row: Row) -> ConversationRecord:
    return ConversationRecord(
        conversation=Conversation.model_validate_json(row["document"]),
        state=ConversationState(
            handed_off=bool(row["handed_off"]),
            handed_off_reason=row["handed_off_reason"],
            handoff_offered=bool(row["handoff_offered"]),
        ),
        ticket_id=row["ticket_id"],
        alert_channel=row["alert_channel"],
        alert_ts=row["alert_ts"],
        last_decision_id=row["last_decision_id"],
    )


def inbox_from(row: Row, attempts_delta: int = 0) -> InboxItem:
    return InboxItem(
        id=int(row["id"]),
        source=row["source"],
        dedupe_key=row["dedupe_key"],
        kind=row["kind"],
        payload=loads(row["payload"]),
        received_at=float(row["received_at"]),
        status=InboxStatus(row["status"]),
        attempts=int(row["attempts"]) + attempts_delta,
        last_error=row["last_error"],
    )


def outbox_from(row: Row, claims_delta: int = 0) -> OutboxItem:
    return OutboxItem(
        id=int(row["id"]),
        kind=row["kind"],
        target=row["target"],
        dedupe_key=row["dedupe_key"],
        payload=loads(row["payload"]),
        conversation_id=row["conversation_id"],
        decision_id=row["decision_id"],
        status=OutboxStatus(row["status"]),
        attempts=int(row["attempts"]),
        next_attempt_at=float(row["next_attempt_at"]),
        created_at=float(row["created_at"]),
        updated_at=float(row["updated_at"]),
        last_error=row["last_error"],
        result=loads(row["result"]) if row["result"] else None,
        claims=int(row["claims"]) + claims_delta,
    )

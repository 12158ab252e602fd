"""Row mapping shared by the SQLite and PostgreSQL stores: both hand out the same records.

Rows arrive as mappings (``sqlite3.Row`` or psycopg's ``dict_row``); JSON documents are stored as text
in both, so one set of functions reads them and the two stores cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

from connectors.store.models import Backlog, ConversationRecord, InboxItem, InboxStatus, OutboxItem, OutboxStatus
from connectors.store.protocol import StoreError
from connectors.store.transcripts import Stamp
from handoff_core import Conversation, ConversationState


class Row(Protocol):
    """A row read by column name: ``sqlite3.Row`` and psycopg's ``dict_row`` rows both are."""

    def __getitem__(self, key: str, /) -> Any: ...


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


def record_from(row: Row, conversation: Conversation, stamp: Stamp | None) -> ConversationRecord:
    """A conversation's record from its row, with its transcript (read by the caller: whole from a row of
    the one-document format, else from its message rows or the transcript cache)."""
    return ConversationRecord(
        conversation=conversation,
        stamp=stamp,
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


#: Indexes that keep lag and health reads independent of table size (months of done rows), in both
#: stores, under their own migration component (append-only, apart from the other components' lists).
VOLUME_COMPONENT = "worker_volume"
VOLUME_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE INDEX IF NOT EXISTS outbox_pending_age ON outbox (status, created_at);
    CREATE INDEX IF NOT EXISTS outbox_status_lane ON outbox (status, target, created_at);
    CREATE INDEX IF NOT EXISTS inbox_pending_age ON inbox (status, received_at);
    CREATE INDEX IF NOT EXISTS inbox_status_source ON inbox (status, source, received_at)
    """,
    # 2: the daily raw-text purge (PURGE_TARGETS) read whole tables every day (1,000,000 inbox and outbox
    # payloads, 300,000 conversations) while holding the store: each statement now reads only the rows
    # it changes, through an index on their age (partial: rows already purged are not in it).
    """
    CREATE INDEX IF NOT EXISTS conversations_updated ON conversations (updated_at);
    CREATE INDEX IF NOT EXISTS webchat_replies_created ON webchat_replies (created_at);
    CREATE INDEX IF NOT EXISTS inbox_unpurged ON inbox (received_at) WHERE payload <> '{"purged": true}';
    CREATE INDEX IF NOT EXISTS outbox_unpurged ON outbox (updated_at) WHERE payload <> '{"purged": true}'
    """,
    # 3: claiming the next inbox rows (``ORDER BY id LIMIT n`` among the pending) went through
    # ``inbox_due (status, next_attempt_at)`` and sorted every pending row for each claim: 1.4 ms per claim
    # of 4 with 5,000 pending (a burst of webhooks the inbox works through), 0.007 ms through this index.
    """
    CREATE INDEX IF NOT EXISTS inbox_claim_order ON inbox (status, id)
    """,
)

#: Transcripts a message per row (:mod:`connectors.store.transcripts`), under their own component. A row
#: of the one-document format (``transcript_epoch`` NULL: its ``document`` holds every message) is read as
#: before and written in the new format the next time its conversation is stored; nothing is rewritten at
#: start-up (the rows are parsed by the same code that wrote them, so none can be read differently).
TRANSCRIPT_COMPONENT = "worker_transcripts"


def transcript_migrations(table_options: str) -> tuple[str, ...]:
    """The scripts, with the driver's table options (SQLite: ``WITHOUT ROWID``, the rows clustered by
    conversation and sequence number as PostgreSQL's primary-key index finds them)."""
    return (
        f"""
        ALTER TABLE conversations ADD COLUMN transcript_epoch TEXT;
        ALTER TABLE conversations ADD COLUMN msg_start BIGINT NOT NULL DEFAULT 0;
        ALTER TABLE conversations ADD COLUMN msg_end BIGINT NOT NULL DEFAULT 0;
        CREATE TABLE conversation_messages (
            conversation_id TEXT NOT NULL,
            seq BIGINT NOT NULL,
            message TEXT NOT NULL,
            PRIMARY KEY (conversation_id, seq)
        ){table_options}
        """,
    )


#: Backlog per queue and lane; both queries read only pending and dead rows through an index.
BACKLOG_SQL = (
    "SELECT 'outbox' AS queue, target AS lane, status, COUNT(*) AS n, MIN(created_at) AS oldest"
    " FROM outbox WHERE status IN ('pending', 'dead') GROUP BY target, status",
    "SELECT 'inbox' AS queue, source AS lane, status, COUNT(*) AS n, MIN(received_at) AS oldest"
    " FROM inbox WHERE status IN ('pending', 'dead') GROUP BY source, status",
)
OLDEST_PENDING_SQL = (
    "SELECT (SELECT MIN(received_at) FROM inbox WHERE status = 'pending') AS inbox,"
    " (SELECT MIN(created_at) FROM outbox WHERE status = 'pending') AS outbox"
)


def backlog_from_rows(rows: Sequence[Row]) -> list[Backlog]:
    """Rows of ``(queue, lane, status, n, oldest)`` (pending and dead only) as one Backlog per lane."""
    lanes: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        entry = lanes.setdefault((str(row["queue"]), str(row["lane"])), {"pending": 0, "dead": 0, "oldest": None})
        if row["status"] == "pending":
            entry["pending"] = int(row["n"])
            entry["oldest"] = float(row["oldest"]) if row["oldest"] is not None else None
        else:
            entry["dead"] = int(row["n"])
    return [Backlog(queue, lane, e["pending"], e["dead"], e["oldest"]) for (queue, lane), e in sorted(lanes.items())]


#: Outbox statements both stores run word for word; ``?`` is the placeholder (PostgreSQL swaps in ``%s``).
OUTBOX_DONE = (
    "UPDATE outbox SET status = 'done', attempts = attempts + 1, lease_until = 0, result = ?,"
    " last_error = NULL, updated_at = ? WHERE id = ?"
)
OUTBOX_FAILED = (
    "UPDATE outbox SET status = ?, attempts = attempts + 1, lease_until = 0, last_error = ?,"
    " next_attempt_at = ?, updated_at = ? WHERE id = ?"
)
OUTBOX_BY_ID = "SELECT * FROM outbox WHERE id = ?"
OUTBOX_BY_KEY = "SELECT * FROM outbox WHERE dedupe_key = ?"

#: What a purged inbox or outbox payload becomes: the row (its dedupe key, status and times) stays, so
#: deduplication and counts still hold; the customer's text is gone. A purged dead action is never retried.
PURGED_PAYLOAD = '{"purged": true}'

#: Raw customer text past the retention, per table: (name, rows it touches, how it is purged). Pending
#: inbox and outbox rows are work still to do and are never touched; ``?`` is the cut-off time.
PURGE_TARGETS: tuple[tuple[str, str, str], ...] = (
    # A conversation's message rows go with it (before it: they are found through its ``updated_at``).
    (
        "conversation_messages",
        "FROM conversation_messages WHERE conversation_id IN (SELECT id FROM conversations WHERE updated_at < ?)",
        "DELETE FROM conversation_messages WHERE conversation_id IN"
        " (SELECT id FROM conversations WHERE updated_at < ?)",
    ),
    ("conversations", "FROM conversations WHERE updated_at < ?", "DELETE FROM conversations WHERE updated_at < ?"),
    (
        "webchat_replies",
        "FROM webchat_replies WHERE created_at < ?",
        "DELETE FROM webchat_replies WHERE created_at < ?",
    ),
    (
        "inbox",
        """FROM inbox WHERE status <> 'pending' AND received_at < ? AND payload <> '{"purged": true}'""",
        """UPDATE inbox SET payload = '{"purged": true}' WHERE status <> 'pending' AND received_at < ?"""
        """ AND payload <> '{"purged": true}'""",
    ),
    (
        "outbox",
        """FROM outbox WHERE status <> 'pending' AND updated_at < ? AND payload <> '{"purged": true}'""",
        """UPDATE outbox SET payload = '{"purged": true}' WHERE status <> 'pending' AND updated_at < ?"""
        """ AND payload <> '{"purged": true}'""",
    ),
)
assert all(PURGED_PAYLOAD in purge for _, _, purge in PURGE_TARGETS[3:])

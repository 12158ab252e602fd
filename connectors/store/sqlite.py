"""SQLite implementation of :class:`~connectors.store.protocol.WorkerStore` (the default store).

One file holds every component's tables; this module owns ``inbox``, ``outbox``, ``conversations`` and
``webchat_replies`` and migrates them through :mod:`connectors.sqlite_migrations` under the component
name ``worker``. WAL mode lets the CLI read and retry rows while the worker runs.

Crash safety: a claimed row carries a lease (``lease_until``). A worker that dies mid-action never marks
the row done, so once the lease expires another claim picks it up again. Every multi-row change runs in
one ``BEGIN IMMEDIATE`` transaction.

Calls are short and serialised by a lock, so the event loop may call them directly: a write is well
under a millisecond with WAL and ``synchronous=NORMAL``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from connectors.sqlite_migrations import connect, migrate
from connectors.store.models import (
    ConversationRecord,
    InboxItem,
    InboxStatus,
    NewAction,
    OutboxItem,
    OutboxStatus,
)
from connectors.store.protocol import StoreError
from handoff_core import Conversation, ConversationState

COMPONENT = "worker"

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE inbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        source TEXT NOT NULL,
        dedupe_key TEXT NOT NULL,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        received_at REAL NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        lease_until REAL NOT NULL DEFAULT 0,
        last_error TEXT,
        UNIQUE (source, dedupe_key)
    );
    CREATE INDEX inbox_due ON inbox (status, next_attempt_at);
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        dedupe_key TEXT NOT NULL UNIQUE,
        conversation_id TEXT,
        decision_id TEXT,
        payload TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        lease_until REAL NOT NULL DEFAULT 0,
        last_error TEXT,
        result TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
    CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        channel TEXT NOT NULL,
        document TEXT NOT NULL,
        ticket_id TEXT,
        handed_off INTEGER NOT NULL DEFAULT 0,
        handed_off_reason TEXT,
        handoff_offered INTEGER NOT NULL DEFAULT 0,
        alert_channel TEXT,
        alert_ts TEXT,
        last_decision_id TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX conversations_ticket ON conversations (ticket_id);
    CREATE TABLE webchat_replies (
        key TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL,
        reply TEXT NOT NULL,
        created_at REAL NOT NULL
    )
    """,
)


class SQLiteStore:
    """The worker's durable state in one SQLite file."""

    def __init__(self, path: Path) -> None:
        try:
            self._conn = connect(path)
            migrate(self._conn, COMPONENT, MIGRATIONS)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store at {path}: {exc}") from exc
        self._lock = threading.RLock()
        self.path = path

    # ------------------------------------------------------------------ plumbing
    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"store unavailable: {exc}") from exc
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"store unavailable: {exc}") from exc

    def ping(self) -> None:
        self._query("SELECT 1")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # ------------------------------------------------------------------ inbox
    def inbox_add(self, source: str, dedupe_key: str, kind: str, payload: dict[str, Any]) -> bool:
        now = time.time()
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO inbox (source, dedupe_key, kind, payload, received_at,"
                " next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)",
                (source, dedupe_key, kind, json.dumps(payload), now, now),
            )
            return cur.rowcount == 1

    def inbox_claim(self, now: float, lease_seconds: float, limit: int) -> list[InboxItem]:
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT * FROM inbox WHERE status = 'pending' AND next_attempt_at <= ? AND lease_until <= ?"
                " ORDER BY id LIMIT ?",
                (now, now, limit),
            ).fetchall()
            for row in rows:
                conn.execute(
                    "UPDATE inbox SET lease_until = ?, attempts = attempts + 1 WHERE id = ?",
                    (now + lease_seconds, row["id"]),
                )
        return [_inbox(row, attempts_delta=1) for row in rows]

    def inbox_finish(
        self,
        item_id: int,
        status: InboxStatus,
        *,
        record: ConversationRecord | None = None,
        actions: Sequence[NewAction] = (),
        error: str | None = None,
    ) -> None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE inbox SET status = ?, lease_until = 0, last_error = ? WHERE id = ?",
                (status.value, error, item_id),
            )
            if record is not None:
                _upsert_conversation(conn, record)
            _enqueue(conn, actions)

    def inbox_retry_later(self, item_id: int, error: str, next_attempt_at: float, *, dead: bool) -> None:
        status = InboxStatus.DEAD if dead else InboxStatus.PENDING
        with self._tx() as conn:
            conn.execute(
                "UPDATE inbox SET status = ?, lease_until = 0, last_error = ?, next_attempt_at = ?"
                " WHERE id = ?",
                (status.value, error[:2000], next_attempt_at, item_id),
            )

    def inbox_list(self, statuses: Sequence[InboxStatus] = (), limit: int = 100) -> list[InboxItem]:
        where, params = _status_filter(statuses)
        rows = self._query(f"SELECT * FROM inbox {where} ORDER BY id DESC LIMIT ?", (*params, limit))  # noqa: S608
        return [_inbox(row) for row in rows]

    # ------------------------------------------------------------------ conversations
    def conversation_get(self, conversation_id: str) -> ConversationRecord | None:
        rows = self._query("SELECT * FROM conversations WHERE id = ?", (conversation_id,))
        return _conversation(rows[0]) if rows else None

    def conversation_find_by_ticket(self, ticket_id: str) -> ConversationRecord | None:
        rows = self._query(
            "SELECT * FROM conversations WHERE ticket_id = ? ORDER BY updated_at DESC LIMIT 1", (ticket_id,)
        )
        return _conversation(rows[0]) if rows else None

    def conversation_set_ticket(self, conversation_id: str, ticket_id: str) -> ConversationRecord | None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE conversations SET ticket_id = ?, updated_at = ? WHERE id = ?",
                (ticket_id, time.time(), conversation_id),
            )
            rows = conn.execute("SELECT * FROM conversations WHERE id = ?", (conversation_id,)).fetchall()
        return _conversation(rows[0]) if rows else None

    def conversation_set_alert(
        self, conversation_id: str, channel: str, ts: str
    ) -> ConversationRecord | None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE conversations SET alert_channel = ?, alert_ts = ?, updated_at = ? WHERE id = ?",
                (channel, ts, time.time(), conversation_id),
            )
            rows = conn.execute("SELECT * FROM conversations WHERE id = ?", (conversation_id,)).fetchall()
        return _conversation(rows[0]) if rows else None

    # ------------------------------------------------------------------ web chat turns
    def reply_get(self, key: str) -> dict[str, Any] | None:
        rows = self._query("SELECT reply FROM webchat_replies WHERE key = ?", (key,))
        return _loads(rows[0]["reply"]) if rows else None

    def save_turn(
        self, record: ConversationRecord, reply_key: str, reply: dict[str, Any], actions: Sequence[NewAction]
    ) -> dict[str, Any]:
        with self._tx() as conn:
            existing = conn.execute(
                "SELECT reply FROM webchat_replies WHERE key = ?", (reply_key,)
            ).fetchall()
            if existing:
                return _loads(existing[0]["reply"])
            conn.execute(
                "INSERT INTO webchat_replies (key, conversation_id, reply, created_at) VALUES (?, ?, ?, ?)",
                (reply_key, record.id, json.dumps(reply), time.time()),
            )
            _upsert_conversation(conn, record)
            _enqueue(conn, actions)
        return reply

    # ------------------------------------------------------------------ outbox
    def outbox_enqueue(self, actions: Sequence[NewAction]) -> list[int]:
        with self._tx() as conn:
            return _enqueue(conn, actions)

    def outbox_claim(self, now: float, lease_seconds: float, limit: int) -> list[OutboxItem]:
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? AND lease_until <= ?"
                " ORDER BY next_attempt_at, id LIMIT ?",
                (now, now, limit),
            ).fetchall()
            for row in rows:
                conn.execute(
                    "UPDATE outbox SET lease_until = ? WHERE id = ?", (now + lease_seconds, row["id"])
                )
        return [_outbox(row) for row in rows]

    def outbox_done(self, item_id: int, result: dict[str, Any] | None = None) -> None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE outbox SET status = 'done', attempts = attempts + 1, lease_until = 0, result = ?,"
                " last_error = NULL, updated_at = ? WHERE id = ?",
                (json.dumps(result) if result is not None else None, time.time(), item_id),
            )

    def outbox_failed(self, item_id: int, error: str, next_attempt_at: float, *, dead: bool) -> None:
        status = OutboxStatus.DEAD if dead else OutboxStatus.PENDING
        with self._tx() as conn:
            conn.execute(
                "UPDATE outbox SET status = ?, attempts = attempts + 1, lease_until = 0, last_error = ?,"
                " next_attempt_at = ?, updated_at = ? WHERE id = ?",
                (status.value, error[:2000], next_attempt_at, time.time(), item_id),
            )

    def outbox_get(self, item_id: int) -> OutboxItem | None:
        rows = self._query("SELECT * FROM outbox WHERE id = ?", (item_id,))
        return _outbox(rows[0]) if rows else None

    def outbox_by_key(self, dedupe_key: str) -> OutboxItem | None:
        rows = self._query("SELECT * FROM outbox WHERE dedupe_key = ?", (dedupe_key,))
        return _outbox(rows[0]) if rows else None

    def extend_leases(self, inbox_ids: Sequence[int], outbox_ids: Sequence[int], until: float) -> None:
        if not inbox_ids and not outbox_ids:
            return
        with self._tx() as conn:
            conn.executemany(
                "UPDATE inbox SET lease_until = ? WHERE id = ? AND status = 'pending'",
                [(until, i) for i in inbox_ids],
            )
            conn.executemany(
                "UPDATE outbox SET lease_until = ? WHERE id = ? AND status = 'pending'",
                [(until, i) for i in outbox_ids],
            )

    def outbox_list(self, statuses: Sequence[OutboxStatus] = (), limit: int = 100) -> list[OutboxItem]:
        where, params = _status_filter(statuses)
        rows = self._query(f"SELECT * FROM outbox {where} ORDER BY id DESC LIMIT ?", (*params, limit))  # noqa: S608
        return [_outbox(row) for row in rows]

    def outbox_retry(self, item_id: int) -> bool:
        """Put a dead action back in the queue with a fresh attempt budget."""
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, lease_until = 0,"
                " updated_at = ? WHERE id = ? AND status = 'dead'",
                (time.time(), time.time(), item_id),
            )
            return cur.rowcount == 1

    def outbox_retry_dead(self) -> int:
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, lease_until = 0,"
                " updated_at = ? WHERE status = 'dead'",
                (time.time(), time.time()),
            )
            return cur.rowcount

    def outbox_counts(self) -> dict[OutboxStatus, int]:
        rows = self._query("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
        counts = dict.fromkeys(OutboxStatus, 0)
        for row in rows:
            counts[OutboxStatus(row["status"])] = int(row["n"])
        return counts

    def outbox_next_due(self) -> float | None:
        rows = self._query(
            "SELECT MIN(MAX(next_attempt_at, lease_until)) AS due FROM outbox WHERE status = 'pending'"
        )
        due = rows[0]["due"] if rows else None
        return float(due) if due is not None else None


# ---------------------------------------------------------------------- row mapping
def _loads(text: str) -> dict[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise StoreError("corrupt JSON document in the store")
    return value


def _status_filter(statuses: Sequence[Any]) -> tuple[str, list[str]]:
    if not statuses:
        return "", []
    marks = ", ".join("?" for _ in statuses)
    return f"WHERE status IN ({marks})", [s.value for s in statuses]


def _enqueue(conn: sqlite3.Connection, actions: Sequence[NewAction]) -> list[int]:
    now = time.time()
    ids: list[int] = []
    for action in actions:
        status = OutboxStatus.LOCAL if action.target == "local" else OutboxStatus.PENDING
        cur = conn.execute(
            "INSERT OR IGNORE INTO outbox (kind, target, dedupe_key, conversation_id, decision_id, payload,"
            " status, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                action.kind,
                action.target,
                action.dedupe_key,
                action.conversation_id,
                action.decision_id,
                json.dumps(action.payload),
                status.value,
                now,
                now,
                now,
            ),
        )
        if cur.rowcount == 1 and cur.lastrowid is not None:
            ids.append(cur.lastrowid)
    return ids


def _upsert_conversation(conn: sqlite3.Connection, record: ConversationRecord) -> None:
    now = time.time()
    conv = record.conversation
    document = conv.model_copy(update={"state": ConversationState()}).model_dump_json()
    conn.execute(
        "INSERT INTO conversations (id, channel, document, ticket_id, handed_off, handed_off_reason,"
        " handoff_offered, alert_channel, alert_ts, last_decision_id, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET channel = excluded.channel, document = excluded.document,"
        " ticket_id = COALESCE(excluded.ticket_id, conversations.ticket_id),"
        " handed_off = excluded.handed_off, handed_off_reason = excluded.handed_off_reason,"
        " handoff_offered = excluded.handoff_offered,"
        " alert_channel = COALESCE(excluded.alert_channel, conversations.alert_channel),"
        " alert_ts = COALESCE(excluded.alert_ts, conversations.alert_ts),"
        " last_decision_id = excluded.last_decision_id, updated_at = excluded.updated_at",
        (
            conv.id,
            conv.channel,
            document,
            record.ticket_id,
            int(record.state.handed_off),
            record.state.handed_off_reason,
            int(record.state.handoff_offered),
            record.alert_channel,
            record.alert_ts,
            record.last_decision_id,
            now,
            now,
        ),
    )


def _conversation(row: sqlite3.Row) -> ConversationRecord:
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


def _inbox(row: sqlite3.Row, attempts_delta: int = 0) -> InboxItem:
    return InboxItem(
        id=int(row["id"]),
        source=row["source"],
        dedupe_key=row["dedupe_key"],
        kind=row["kind"],
        payload=_loads(row["payload"]),
        received_at=float(row["received_at"]),
        status=InboxStatus(row["status"]),
        attempts=int(row["attempts"]) + attempts_delta,
        last_error=row["last_error"],
    )


def _outbox(row: sqlite3.Row) -> OutboxItem:
    return OutboxItem(
        id=int(row["id"]),
        kind=row["kind"],
        target=row["target"],
        dedupe_key=row["dedupe_key"],
        payload=_loads(row["payload"]),
        conversation_id=row["conversation_id"],
        decision_id=row["decision_id"],
        status=OutboxStatus(row["status"]),
        attempts=int(row["attempts"]),
        next_attempt_at=float(row["next_attempt_at"]),
        created_at=float(row["created_at"]),
        updated_at=float(row["updated_at"]),
        last_error=row["last_error"],
        result=_loads(row["result"]) if row["result"] else None,
    )

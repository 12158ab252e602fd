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

import asyncio
import fcntl
import json
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from connectors.sqlite_migrations import connect, migrate
from connectors.store.models import (
    Backlog,
    ConversationRecord,
    InboxItem,
    InboxStatus,
    NewAction,
    OutboxItem,
    OutboxStatus,
)
from connectors.store.protocol import StoreError, StoreLockedError
from connectors.store.rows import (
    BACKLOG_SQL,
    OLDEST_PENDING_SQL,
    OUTBOX_BY_ID,
    OUTBOX_BY_KEY,
    OUTBOX_DONE,
    OUTBOX_FAILED,
    PURGE_TARGETS,
    PURGED_PAYLOAD,
    VOLUME_COMPONENT,
    VOLUME_MIGRATIONS,
    backlog_from_rows,
    budget_step,
    conversation_document,
    conversation_from,
    inbox_from,
    loads,
    outbox_from,
    status_filter,
)

COMPONENT = "worker"
#: Lanes, per-lane pause and rate budget, and the claim counter live in their own migration component so
#: they never collide with later scripts appended to ``MIGRATIONS``.
LANES_COMPONENT = "worker_lanes"

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


LANES_MIGRATIONS: tuple[str, ...] = (
    """
    ALTER TABLE outbox ADD COLUMN claims INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX outbox_lane_due ON outbox (target, status, next_attempt_at);
    CREATE TABLE lanes (
        name TEXT PRIMARY KEY,
        paused_until REAL NOT NULL DEFAULT 0,
        window_start REAL NOT NULL DEFAULT 0,
        used INTEGER NOT NULL DEFAULT 0
    )
    """,
)


class ProcessLock:
    """An exclusive ``flock`` on ``<store>.lock``, held while a worker process uses the SQLite file.

    SQLite serialises writes but cannot serialise *decisions*: two worker processes on one file would
    each decide the same conversation and each send its effects. So a second process is refused with a
    clear error instead; several replicas need PostgreSQL (``HANDOFF_DATABASE_URL=postgresql://...``).
    The kernel drops the lock when the process dies, even on SIGKILL, so a crash never leaves it stale.
    """

    def __init__(self, path: Path) -> None:
        self.path = path.with_name(path.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> ProcessLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            raise StoreLockedError(
                f"another handoff worker is already using the SQLite store {self.path.with_suffix('')}:"
                " SQLite serves one worker process. Stop the other one, or run several replicas on"
                " PostgreSQL (HANDOFF_DATABASE_URL=postgresql://...); see docs/replicas.md"
            ) from exc
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class SQLiteStore:
    """The worker's durable state in one SQLite file."""

    remote = False

    def __init__(self, path: Path, *, exclusive: bool = False) -> None:
        """Open (and migrate) the store. ``exclusive``: this is the worker process; refuse a second one."""
        self._process_lock = ProcessLock(path).acquire() if exclusive and str(path) != ":memory:" else None
        try:
            self._conn = connect(path)
            migrate(self._conn, COMPONENT, MIGRATIONS)
            migrate(self._conn, LANES_COMPONENT, LANES_MIGRATIONS)
            migrate(self._conn, VOLUME_COMPONENT, VOLUME_MIGRATIONS)
        except sqlite3.Error as exc:
            if self._process_lock is not None:
                self._process_lock.release()
            raise StoreError(f"cannot open the store at {path}: {exc}") from exc
        self._lock = threading.RLock()
        self._conversation_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
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
        if self._process_lock is not None:
            self._process_lock.release()

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
        return [inbox_from(row, attempts_delta=1) for row in rows]

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
                "UPDATE inbox SET status = ?, lease_until = 0, last_error = ?, next_attempt_at = ? WHERE id = ?",
                (status.value, error[:2000], next_attempt_at, item_id),
            )

    def inbox_list(self, statuses: Sequence[InboxStatus] = (), limit: int = 100) -> list[InboxItem]:
        where, params = status_filter(statuses)
        rows = self._query(f"SELECT * FROM inbox {where} ORDER BY id DESC LIMIT ?", (*params, limit))  # noqa: S608
        return [inbox_from(row) for row in rows]

    # ------------------------------------------------------------------ conversations
    @asynccontextmanager
    async def conversation_lock(self, conversation_id: str) -> AsyncIterator[None]:
        """An in-process lock: one worker process per file (see :class:`ProcessLock`) makes it enough."""
        lock = self._conversation_locks.get(conversation_id)
        if lock is None:
            lock = asyncio.Lock()
            self._conversation_locks[conversation_id] = lock
        async with lock:
            yield

    def conversation_get(self, conversation_id: str) -> ConversationRecord | None:
        rows = self._query("SELECT * FROM conversations WHERE id = ?", (conversation_id,))
        return conversation_from(rows[0]) if rows else None

    def conversation_find_by_ticket(self, ticket_id: str) -> ConversationRecord | None:
        rows = self._query(
            "SELECT * FROM conversations WHERE ticket_id = ? ORDER BY updated_at DESC LIMIT 1", (ticket_id,)
        )
        return conversation_from(rows[0]) if rows else None

    def conversation_set_ticket(self, conversation_id: str, ticket_id: str) -> ConversationRecord | None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE conversations SET ticket_id = ?, updated_at = ? WHERE id = ?",
                (ticket_id, time.time(), conversation_id),
            )
            rows = conn.execute("SELECT * FROM conversations WHERE id = ?", (conversation_id,)).fetchall()
        return conversation_from(rows[0]) if rows else None

    def conversation_set_alert(self, conversation_id: str, channel: str, ts: str) -> ConversationRecord | None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE conversations SET alert_channel = ?, alert_ts = ?, updated_at = ? WHERE id = ?",
                (channel, ts, time.time(), conversation_id),
            )
            rows = conn.execute("SELECT * FROM conversations WHERE id = ?", (conversation_id,)).fetchall()
        return conversation_from(rows[0]) if rows else None

    # ------------------------------------------------------------------ web chat turns
    def reply_get(self, key: str) -> dict[str, Any] | None:
        rows = self._query("SELECT reply FROM webchat_replies WHERE key = ?", (key,))
        return loads(rows[0]["reply"]) if rows else None

    def save_turn(
        self, record: ConversationRecord, reply_key: str, reply: dict[str, Any], actions: Sequence[NewAction]
    ) -> dict[str, Any]:
        with self._tx() as conn:
            existing = conn.execute("SELECT reply FROM webchat_replies WHERE key = ?", (reply_key,)).fetchall()
            if existing:
                return loads(existing[0]["reply"])
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

    def outbox_claim(self, now: float, lease_seconds: float, limit: int, lane: str | None = None) -> list[OutboxItem]:
        lane_sql, lane_params = ("AND target = ?", [lane]) if lane is not None else ("", [])
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? AND lease_until <= ?"  # noqa: S608
                f" {lane_sql} ORDER BY next_attempt_at, id LIMIT ?",
                (now, now, *lane_params, limit),
            ).fetchall()
            for row in rows:
                conn.execute(
                    "UPDATE outbox SET lease_until = ?, claims = claims + 1 WHERE id = ?",
                    (now + lease_seconds, row["id"]),
                )
        return [outbox_from(row, claims_delta=1) for row in rows]

    def outbox_done(self, item_id: int, result: dict[str, Any] | None = None) -> None:
        with self._tx() as conn:
            conn.execute(
                OUTBOX_DONE,
                (json.dumps(result) if result is not None else None, time.time(), item_id),
            )

    def outbox_failed(self, item_id: int, error: str, next_attempt_at: float, *, dead: bool) -> None:
        status = OutboxStatus.DEAD if dead else OutboxStatus.PENDING
        with self._tx() as conn:
            conn.execute(
                OUTBOX_FAILED,
                (status.value, error[:2000], next_attempt_at, time.time(), item_id),
            )

    def outbox_get(self, item_id: int) -> OutboxItem | None:
        rows = self._query(OUTBOX_BY_ID, (item_id,))
        return outbox_from(rows[0]) if rows else None

    def outbox_by_key(self, dedupe_key: str) -> OutboxItem | None:
        rows = self._query(OUTBOX_BY_KEY, (dedupe_key,))
        return outbox_from(rows[0]) if rows else None

    def inbox_extend(self, ids: Sequence[int], until: float) -> None:
        if ids:
            with self._tx() as conn:
                conn.executemany(
                    "UPDATE inbox SET lease_until = ? WHERE id = ? AND status = 'pending'",
                    [(until, i) for i in ids],
                )

    def outbox_extend(self, ids: Sequence[int], until: float) -> None:
        if ids:
            with self._tx() as conn:
                conn.executemany(
                    "UPDATE outbox SET lease_until = ? WHERE id = ? AND status = 'pending'",
                    [(until, i) for i in ids],
                )

    def outbox_list(self, statuses: Sequence[OutboxStatus] = (), limit: int = 100) -> list[OutboxItem]:
        where, params = status_filter(statuses)
        rows = self._query(f"SELECT * FROM outbox {where} ORDER BY id DESC LIMIT ?", (*params, limit))  # noqa: S608
        return [outbox_from(row) for row in rows]

    def outbox_retry(self, item_id: int) -> bool:
        """Put a dead action back in the queue with a fresh attempt budget."""
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, lease_until = 0,"
                " updated_at = ? WHERE id = ? AND status = 'dead' AND payload <> ?",
                (time.time(), time.time(), item_id, PURGED_PAYLOAD),
            )
            return cur.rowcount == 1

    def outbox_retry_dead(self) -> int:
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, lease_until = 0,"
                " updated_at = ? WHERE status = 'dead' AND payload <> ?",
                (time.time(), time.time(), PURGED_PAYLOAD),
            )
            return cur.rowcount

    def outbox_counts(self) -> dict[OutboxStatus, int]:
        rows = self._query("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
        counts = dict.fromkeys(OutboxStatus, 0)
        for row in rows:
            counts[OutboxStatus(row["status"])] = int(row["n"])
        return counts

    def backlog(self) -> list[Backlog]:
        rows = [row for sql in BACKLOG_SQL for row in self._query(sql)]
        return backlog_from_rows(rows)

    def oldest_pending(self) -> dict[str, float | None]:
        row = self._query(OLDEST_PENDING_SQL)[0]
        return {q: (float(row[q]) if row[q] is not None else None) for q in ("inbox", "outbox")}

    def outbox_next_due(self) -> float | None:
        rows = self._query("SELECT MIN(MAX(next_attempt_at, lease_until)) AS due FROM outbox WHERE status = 'pending'")
        due = rows[0]["due"] if rows else None
        return float(due) if due is not None else None

    # ------------------------------------------------------------------ retention
    def purge_raw(self, before: float, *, dry_run: bool = False) -> dict[str, int]:
        counts: dict[str, int] = {}
        with self._tx() as conn:
            for table, rows_sql, purge_sql in PURGE_TARGETS:
                if dry_run:
                    counts[table] = int(conn.execute(f"SELECT COUNT(*) {rows_sql}", (before,)).fetchone()[0])
                else:
                    counts[table] = conn.execute(purge_sql, (before,)).rowcount
        return counts

    # ------------------------------------------------------------------ lanes (shared back-off and budget)
    def lane_pause(self, lane: str, until: float) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO lanes (name, paused_until) VALUES (?, ?) ON CONFLICT (name) DO UPDATE"
                " SET paused_until = MAX(lanes.paused_until, excluded.paused_until)",
                (lane, until),
            )

    def lane_paused_until(self, lane: str) -> float:
        rows = self._query("SELECT paused_until FROM lanes WHERE name = ?", (lane,))
        return float(rows[0]["paused_until"]) if rows else 0.0

    def lane_take(self, lane: str, now: float, per_minute: int) -> float:
        with self._tx() as conn:
            rows = conn.execute("SELECT window_start, used FROM lanes WHERE name = ?", (lane,)).fetchall()
            start, used = (float(rows[0]["window_start"]), int(rows[0]["used"])) if rows else (0.0, 0)
            wait, start, used = budget_step(now, per_minute, start, used)
            conn.execute(
                "INSERT INTO lanes (name, window_start, used) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE"
                " SET window_start = excluded.window_start, used = excluded.used",
                (lane, start, used),
            )
        return wait


# ---------------------------------------------------------------------- SQLite-only row writing
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
    document = conversation_document(record)
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

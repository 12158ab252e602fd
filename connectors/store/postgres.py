"""PostgreSQL implementation of the store ports, for several worker replicas on one database.

Selected by ``HANDOFF_DATABASE_URL=postgresql://...`` (psycopg 3, the ``[postgres]`` extra). What makes
N replicas safe where SQLite refuses a second process:

- **Leases with ``FOR UPDATE SKIP LOCKED``**: a claim locks due rows, skips rows another replica is
  claiming at that instant, and stamps ``lease_until`` in the same statement; a replica that dies leaves
  its lease to expire and another replica takes the row over (``claims`` counts it, so the executor looks
  for its effect before acting again).
- **One decision per conversation at a time**: :meth:`PostgresStore.conversation_lock` holds a session
  advisory lock keyed by the conversation id (after an in-process lock, because session locks are
  re-entrant within one connection). The lock dies with the replica's connection, never stale.
- **Shared back-off and budget**: the ``lanes`` row of a destination holds its pause (a vendor's
  ``Retry-After``) and its per-minute budget, updated under ``SELECT ... FOR UPDATE``.
- **Migrations once**: every replica runs :func:`migrate` at start; a transaction-scoped advisory lock
  makes concurrent starts wait for the first one, and DDL is transactional, so a crash mid-migration
  leaves the previous version intact.

Calls are synchronous, like the SQLite store's, on a small connection pool; the worker runs them in a
thread pool of the same size (:mod:`connectors.worker.offload`), so a slow database never blocks its
event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
import weakref
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from connectors.store.models import (
    Backlog,
    ConversationRecord,
    InboxItem,
    InboxStatus,
    NewAction,
    OutboxItem,
    OutboxStatus,
)
from connectors.store.protocol import StoreError
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

#: Key of the advisory lock that serialises migrations across replicas starting together.
MIGRATION_LOCK = 0x68616E646F6666  # "handoff"

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE inbox (
        id BIGSERIAL PRIMARY KEY,
        source TEXT NOT NULL,
        dedupe_key TEXT NOT NULL,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        received_at DOUBLE PRECISION NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at DOUBLE PRECISION NOT NULL,
        lease_until DOUBLE PRECISION NOT NULL DEFAULT 0,
        last_error TEXT,
        UNIQUE (source, dedupe_key)
    );
    CREATE INDEX inbox_due ON inbox (status, next_attempt_at);
    CREATE TABLE outbox (
        id BIGSERIAL PRIMARY KEY,
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        dedupe_key TEXT NOT NULL UNIQUE,
        conversation_id TEXT,
        decision_id TEXT,
        payload TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        claims INTEGER NOT NULL DEFAULT 0,
        next_attempt_at DOUBLE PRECISION NOT NULL,
        lease_until DOUBLE PRECISION NOT NULL DEFAULT 0,
        last_error TEXT,
        result TEXT,
        created_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX outbox_lane_due ON outbox (target, status, next_attempt_at);
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
        created_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX conversations_ticket ON conversations (ticket_id);
    CREATE TABLE webchat_replies (
        key TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL,
        reply TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE lanes (
        name TEXT PRIMARY KEY,
        paused_until DOUBLE PRECISION NOT NULL DEFAULT 0,
        window_start DOUBLE PRECISION NOT NULL DEFAULT 0,
        used INTEGER NOT NULL DEFAULT 0
    )
    """,
)


def migrate(conn: psycopg.Connection[Any], component: str, scripts: Sequence[str]) -> int:
    """Apply the scripts of ``component`` not applied yet, once, even when replicas start together."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (component TEXT NOT NULL, version INTEGER NOT NULL,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (component, version))"
        )
        row = conn.execute(
            "SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations WHERE component = %s", (component,)
        ).fetchone()
        current = int(row["v"] if isinstance(row, dict) else row[0]) if row is not None else 0
        for version, script in enumerate(scripts, start=1):
            if version <= current:
                continue
            for statement in (s.strip() for s in script.split(";")):
                if statement:
                    conn.execute(statement)
            conn.execute("INSERT INTO schema_migrations (component, version) VALUES (%s, %s)", (component, version))
            current = version
    return current


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a conversation id."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


class PostgresStore:
    """The worker's durable state in PostgreSQL, shared by every replica."""

    remote = True

    def __init__(self, url: str, *, pool_size: int = 8, connect_timeout: float = 10.0) -> None:
        self.url = url
        try:
            self._pool: ConnectionPool[psycopg.Connection[dict[str, Any]]] = ConnectionPool(
                url,
                min_size=1,
                max_size=pool_size,
                kwargs={"autocommit": True, "row_factory": dict_row},
                timeout=connect_timeout,
                open=False,
            )
            self._pool.open(wait=True, timeout=connect_timeout)
            with self._pool.connection() as conn:
                migrate(conn, "worker", MIGRATIONS)
                migrate(conn, VOLUME_COMPONENT, VOLUME_MIGRATIONS)
        except (psycopg.Error, PoolTimeout) as exc:
            self._pool.close()
            raise StoreError(f"cannot open the PostgreSQL store: {safe_error(exc)}") from exc
        self._lock_conn: psycopg.Connection[Any] | None = None
        self._lock_guard = threading.Lock()
        self._local_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    # ------------------------------------------------------------------ plumbing
    @contextmanager
    def _tx(self) -> Iterator[psycopg.Connection[dict[str, Any]]]:
        try:
            with self._pool.connection() as conn, conn.transaction():
                yield conn
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise StoreError(f"store unavailable: {safe_error(exc)}") from exc

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        try:
            with self._pool.connection() as conn:
                return conn.execute(sql, params).fetchall()
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise StoreError(f"store unavailable: {safe_error(exc)}") from exc

    def ping(self) -> None:
        self._query("SELECT 1")

    def close(self) -> None:
        with self._lock_guard:
            if self._lock_conn is not None:
                self._lock_conn.close()
                self._lock_conn = None
        self._pool.close()

    # ------------------------------------------------------------------ inbox
    def inbox_add(self, source: str, dedupe_key: str, kind: str, payload: dict[str, Any]) -> bool:
        now = time.time()
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT INTO inbox (source, dedupe_key, kind, payload, received_at, next_attempt_at)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (source, dedupe_key) DO NOTHING",
                (source, dedupe_key, kind, json.dumps(payload), now, now),
            )
            return cur.rowcount == 1

    def inbox_claim(self, now: float, lease_seconds: float, limit: int) -> list[InboxItem]:
        with self._tx() as conn:
            rows = conn.execute(
                "UPDATE inbox SET lease_until = %s, attempts = attempts + 1 WHERE id IN ("
                " SELECT id FROM inbox WHERE status = 'pending' AND next_attempt_at <= %s AND lease_until <= %s"
                " ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING *",
                (now + lease_seconds, now, now, limit),
            ).fetchall()
        return sorted((inbox_from(row) for row in rows), key=lambda i: i.id)

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
                "UPDATE inbox SET status = %s, lease_until = 0, last_error = %s WHERE id = %s",
                (status.value, error, item_id),
            )
            if record is not None:
                _upsert_conversation(conn, record)
            _enqueue(conn, actions)

    def inbox_retry_later(self, item_id: int, error: str, next_attempt_at: float, *, dead: bool) -> None:
        status = InboxStatus.DEAD if dead else InboxStatus.PENDING
        with self._tx() as conn:
            conn.execute(
                "UPDATE inbox SET status = %s, lease_until = 0, last_error = %s, next_attempt_at = %s WHERE id = %s",
                (status.value, error[:2000], next_attempt_at, item_id),
            )

    def inbox_list(self, statuses: Sequence[InboxStatus] = (), limit: int = 100) -> list[InboxItem]:
        where, params = status_filter(statuses, "%s")
        rows = self._query(f"SELECT * FROM inbox {where} ORDER BY id DESC LIMIT %s", (*params, limit))  # noqa: S608
        return [inbox_from(row) for row in rows]

    def inbox_extend(self, ids: Sequence[int], until: float) -> None:
        if ids:
            with self._tx() as conn:
                conn.execute(
                    "UPDATE inbox SET lease_until = %s WHERE id = ANY(%s) AND status = 'pending'",
                    (until, list(ids)),
                )

    # ------------------------------------------------------------------ conversations
    @asynccontextmanager
    async def conversation_lock(self, conversation_id: str) -> AsyncIterator[None]:
        local = self._local_locks.get(conversation_id)
        if local is None:
            local = asyncio.Lock()
            self._local_locks[conversation_id] = local
        key = lock_key(conversation_id)
        async with local:
            delay = 0.002
            # Round trips to the database, so off the event loop like every other PostgreSQL call.
            while not await asyncio.to_thread(self._advisory, "SELECT pg_try_advisory_lock(%s) AS ok", key):
                await asyncio.sleep(delay)  # another replica decides this conversation right now
                delay = min(delay * 2, 0.05)
            try:
                yield
            finally:
                await asyncio.to_thread(self._advisory, "SELECT pg_advisory_unlock(%s) AS ok", key)

    def _advisory(self, sql: str, key: int) -> bool:
        """Run a session advisory-lock call on this process's one lock connection (opened on first use)."""
        with self._lock_guard:
            try:
                if self._lock_conn is None or self._lock_conn.closed:
                    self._lock_conn = psycopg.connect(self.url, autocommit=True, row_factory=dict_row)
                row = self._lock_conn.execute(sql, (key,)).fetchone()
            except psycopg.OperationalError as exc:
                self._lock_conn = None
                raise StoreError(f"store unavailable: {safe_error(exc)}") from exc
        return bool(row and row["ok"])

    def conversation_get(self, conversation_id: str) -> ConversationRecord | None:
        rows = self._query("SELECT * FROM conversations WHERE id = %s", (conversation_id,))
        return conversation_from(rows[0]) if rows else None

    def conversation_find_by_ticket(self, ticket_id: str) -> ConversationRecord | None:
        rows = self._query(
            "SELECT * FROM conversations WHERE ticket_id = %s ORDER BY updated_at DESC LIMIT 1", (ticket_id,)
        )
        return conversation_from(rows[0]) if rows else None

    def conversation_set_ticket(self, conversation_id: str, ticket_id: str) -> ConversationRecord | None:
        with self._tx() as conn:
            rows = conn.execute(
                "UPDATE conversations SET ticket_id = %s, updated_at = %s WHERE id = %s RETURNING *",
                (ticket_id, time.time(), conversation_id),
            ).fetchall()
        return conversation_from(rows[0]) if rows else None

    def conversation_set_alert(self, conversation_id: str, channel: str, ts: str) -> ConversationRecord | None:
        with self._tx() as conn:
            rows = conn.execute(
                "UPDATE conversations SET alert_channel = %s, alert_ts = %s, updated_at = %s WHERE id = %s RETURNING *",
                (channel, ts, time.time(), conversation_id),
            ).fetchall()
        return conversation_from(rows[0]) if rows else None

    # ------------------------------------------------------------------ web chat turns
    def reply_get(self, key: str) -> dict[str, Any] | None:
        rows = self._query("SELECT reply FROM webchat_replies WHERE key = %s", (key,))
        return loads(rows[0]["reply"]) if rows else None

    def save_turn(
        self, record: ConversationRecord, reply_key: str, reply: dict[str, Any], actions: Sequence[NewAction]
    ) -> dict[str, Any]:
        with self._tx() as conn:
            inserted = conn.execute(
                "INSERT INTO webchat_replies (key, conversation_id, reply, created_at) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (key) DO NOTHING",
                (reply_key, record.id, json.dumps(reply), time.time()),
            ).rowcount
            if inserted != 1:
                row = conn.execute("SELECT reply FROM webchat_replies WHERE key = %s", (reply_key,)).fetchone()
                return loads(row["reply"]) if row else reply
            _upsert_conversation(conn, record)
            _enqueue(conn, actions)
        return reply

    # ------------------------------------------------------------------ outbox
    def outbox_enqueue(self, actions: Sequence[NewAction]) -> list[int]:
        with self._tx() as conn:
            return _enqueue(conn, actions)

    def outbox_claim(self, now: float, lease_seconds: float, limit: int, lane: str | None = None) -> list[OutboxItem]:
        lane_sql, lane_params = ("AND target = %s", [lane]) if lane is not None else ("", [])
        with self._tx() as conn:
            rows = conn.execute(
                "UPDATE outbox SET lease_until = %s, claims = claims + 1 WHERE id IN ("  # noqa: S608
                " SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= %s AND lease_until <= %s"
                f" {lane_sql} ORDER BY next_attempt_at, id LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING *",
                (now + lease_seconds, now, now, *lane_params, limit),
            ).fetchall()
        return sorted((outbox_from(row) for row in rows), key=lambda i: (i.next_attempt_at, i.id))

    def outbox_done(self, item_id: int, result: dict[str, Any] | None = None) -> None:
        with self._tx() as conn:
            conn.execute(
                OUTBOX_DONE.replace("?", "%s"),
                (json.dumps(result) if result is not None else None, time.time(), item_id),
            )

    def outbox_failed(self, item_id: int, error: str, next_attempt_at: float, *, dead: bool) -> None:
        status = OutboxStatus.DEAD if dead else OutboxStatus.PENDING
        with self._tx() as conn:
            conn.execute(
                OUTBOX_FAILED.replace("?", "%s"),
                (status.value, error[:2000], next_attempt_at, time.time(), item_id),
            )

    def outbox_get(self, item_id: int) -> OutboxItem | None:
        rows = self._query(OUTBOX_BY_ID.replace("?", "%s"), (item_id,))
        return outbox_from(rows[0]) if rows else None

    def outbox_by_key(self, dedupe_key: str) -> OutboxItem | None:
        rows = self._query(OUTBOX_BY_KEY.replace("?", "%s"), (dedupe_key,))
        return outbox_from(rows[0]) if rows else None

    def outbox_extend(self, ids: Sequence[int], until: float) -> None:
        if ids:
            with self._tx() as conn:
                conn.execute(
                    "UPDATE outbox SET lease_until = %s WHERE id = ANY(%s) AND status = 'pending'",
                    (until, list(ids)),
                )

    def outbox_list(self, statuses: Sequence[OutboxStatus] = (), limit: int = 100) -> list[OutboxItem]:
        where, params = status_filter(statuses, "%s")
        rows = self._query(f"SELECT * FROM outbox {where} ORDER BY id DESC LIMIT %s", (*params, limit))  # noqa: S608
        return [outbox_from(row) for row in rows]

    def outbox_retry(self, item_id: int) -> bool:
        now = time.time()
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = %s, lease_until = 0,"
                " updated_at = %s WHERE id = %s AND status = 'dead' AND payload <> %s",
                (now, now, item_id, PURGED_PAYLOAD),
            )
            return cur.rowcount == 1

    def outbox_retry_dead(self) -> int:
        now = time.time()
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = %s, lease_until = 0,"
                " updated_at = %s WHERE status = 'dead' AND payload <> %s",
                (now, now, PURGED_PAYLOAD),
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
        rows = self._query(
            "SELECT MIN(GREATEST(next_attempt_at, lease_until)) AS due FROM outbox WHERE status = 'pending'"
        )
        due = rows[0]["due"] if rows else None
        return float(due) if due is not None else None

    # ------------------------------------------------------------------ retention
    def purge_raw(self, before: float, *, dry_run: bool = False) -> dict[str, int]:
        counts: dict[str, int] = {}
        with self._tx() as conn:
            for table, rows_sql, purge_sql in PURGE_TARGETS:
                if dry_run:
                    row = conn.execute(f"SELECT COUNT(*) AS n {rows_sql.replace('?', '%s')}", (before,)).fetchone()
                    counts[table] = int(row["n"]) if row is not None else 0
                else:
                    counts[table] = conn.execute(purge_sql.replace("?", "%s"), (before,)).rowcount
        return counts

    # ------------------------------------------------------------------ lanes
    def lane_pause(self, lane: str, until: float) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO lanes (name, paused_until) VALUES (%s, %s) ON CONFLICT (name) DO UPDATE"
                " SET paused_until = GREATEST(lanes.paused_until, excluded.paused_until)",
                (lane, until),
            )

    def lane_paused_until(self, lane: str) -> float:
        rows = self._query("SELECT paused_until FROM lanes WHERE name = %s", (lane,))
        return float(rows[0]["paused_until"]) if rows else 0.0

    def lane_take(self, lane: str, now: float, per_minute: int) -> float:
        with self._tx() as conn:
            conn.execute("INSERT INTO lanes (name) VALUES (%s) ON CONFLICT (name) DO NOTHING", (lane,))
            row = conn.execute("SELECT window_start, used FROM lanes WHERE name = %s FOR UPDATE", (lane,)).fetchone()
            assert row is not None
            wait, start, used = budget_step(now, per_minute, float(row["window_start"]), int(row["used"]))
            conn.execute("UPDATE lanes SET window_start = %s, used = %s WHERE name = %s", (start, used, lane))
        return wait


def safe_error(exc: BaseException) -> str:
    """The error without the connection string (it may carry a password)."""
    return str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__


def _enqueue(conn: psycopg.Connection[Any], actions: Sequence[NewAction]) -> list[int]:
    now = time.time()
    ids: list[int] = []
    for action in actions:
        status = OutboxStatus.LOCAL if action.target == "local" else OutboxStatus.PENDING
        row = conn.execute(
            "INSERT INTO outbox (kind, target, dedupe_key, conversation_id, decision_id, payload, status,"
            " next_attempt_at, created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
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
        ).fetchone()
        if row is not None:
            ids.append(int(row["id"] if isinstance(row, dict) else row[0]))
    return ids


def _upsert_conversation(conn: psycopg.Connection[Any], record: ConversationRecord) -> None:
    now = time.time()
    conn.execute(
        "INSERT INTO conversations (id, channel, document, ticket_id, handed_off, handed_off_reason,"
        " handoff_offered, alert_channel, alert_ts, last_decision_id, created_at, updated_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (id) DO UPDATE SET channel = excluded.channel, document = excluded.document,"
        " ticket_id = COALESCE(excluded.ticket_id, conversations.ticket_id),"
        " handed_off = excluded.handed_off, handed_off_reason = excluded.handed_off_reason,"
        " handoff_offered = excluded.handoff_offered,"
        " alert_channel = COALESCE(excluded.alert_channel, conversations.alert_channel),"
        " alert_ts = COALESCE(excluded.alert_ts, conversations.alert_ts),"
        " last_decision_id = excluded.last_decision_id, updated_at = excluded.updated_at",
        (
            record.id,
            record.conversation.channel,
            conversation_document(record),
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

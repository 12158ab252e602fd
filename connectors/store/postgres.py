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

The statements are shared with SQLite (:mod:`connectors.store.sql`); this module holds the schema, the
pool, the row-lock fragments' meaning and the advisory locks. It also lends the audit log its pool
helpers (:func:`open_pool`, :func:`pooled`, :class:`PgConnection`).

Calls are synchronous, like the SQLite store's, on a small connection pool; the worker runs them in a
thread pool of the same size (:mod:`connectors.worker.offload`), so a slow database never blocks its
event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import threading
import weakref
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from connectors.store.protocol import StoreError
from connectors.store.rows import TRANSCRIPT_COMPONENT, VOLUME_COMPONENT, VOLUME_MIGRATIONS, transcript_migrations
from connectors.store.sql import POSTGRESQL, Cursor, Executor, SqlStore
from connectors.store.transcripts import TranscriptCache

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


@functools.lru_cache(maxsize=512)
def psycopg_sql(sql: str) -> str:
    """A shared statement in psycopg's spelling: ``%s`` for ``?`` (and a literal ``%`` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


class PgConnection:
    """A psycopg connection that takes the shared statements' ``?`` placeholders (store and audit log)."""

    def __init__(self, conn: psycopg.Connection[dict[str, Any]]) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = (), /) -> Cursor:
        return self._conn.execute(psycopg_sql(sql), params)


Pool = ConnectionPool[psycopg.Connection[dict[str, Any]]]


def open_pool(url: str, size: int, timeout: float, migrations: Sequence[tuple[str, Sequence[str]]], what: str) -> Pool:
    """A psycopg pool (autocommit, rows as dicts) on ``url``, with ``migrations`` applied once."""
    pool: Pool = ConnectionPool(
        url,
        min_size=1,
        max_size=size,
        kwargs={"autocommit": True, "row_factory": dict_row},
        timeout=timeout,
        open=False,
    )
    try:
        pool.open(wait=True, timeout=timeout)
        with pool.connection() as conn:
            for component, scripts in migrations:
                migrate(conn, component, scripts)
    except (psycopg.Error, PoolTimeout) as exc:
        pool.close()
        raise StoreError(f"cannot open the PostgreSQL {what}: {safe_error(exc)}") from exc
    return pool


@contextmanager
def pooled(pool: Pool, *, transaction: bool, what: str = "store") -> Iterator[Executor]:
    """A pooled connection (in one transaction when asked); connection failures as :class:`StoreError`."""
    try:
        with pool.connection() as conn:
            if transaction:
                with conn.transaction():
                    yield PgConnection(conn)
            else:
                yield PgConnection(conn)
    except (psycopg.OperationalError, PoolTimeout) as exc:
        raise StoreError(f"{what} unavailable: {safe_error(exc)}") from exc


class PostgresStore(SqlStore):
    """The worker's durable state in PostgreSQL, shared by every replica (statements shared: :mod:`.sql`)."""

    remote = True
    dialect = POSTGRESQL

    def __init__(self, url: str, *, pool_size: int = 8, connect_timeout: float = 10.0) -> None:
        self.url = url
        migrations = [
            ("worker", MIGRATIONS),
            (VOLUME_COMPONENT, VOLUME_MIGRATIONS),
            (TRANSCRIPT_COMPONENT, transcript_migrations("")),
        ]
        self._pool = open_pool(url, pool_size, connect_timeout, migrations, "store")
        self.transcripts = TranscriptCache()
        self._lock_conn: psycopg.Connection[Any] | None = None
        self._lock_guard = threading.Lock()
        self._local_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    # ------------------------------------------------------------------ plumbing
    def _tx(self) -> contextlib.AbstractContextManager[Executor]:
        return pooled(self._pool, transaction=True)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with pooled(self._pool, transaction=False) as db:
            return db.execute(sql, params).fetchall()

    def ping(self) -> None:
        self._query("SELECT 1")

    def close(self) -> None:
        with self._lock_guard:
            if self._lock_conn is not None:
                self._lock_conn.close()
                self._lock_conn = None
        self._pool.close()

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


def safe_error(exc: BaseException) -> str:
    """The error without the connection string (it may carry a password)."""
    return str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__

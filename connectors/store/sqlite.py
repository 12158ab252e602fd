"""SQLite implementation of :class:`~connectors.store.protocol.WorkerStore` (the default store).

One file holds every component's tables; this module owns ``inbox``, ``outbox``, ``conversations`` and
``webchat_replies`` and migrates them through :mod:`connectors.sqlite_migrations` under the component
name ``worker``. WAL mode lets the CLI read and retry rows while the worker runs.

Crash safety: a claimed row carries a lease (``lease_until``). A worker that dies mid-action never marks
the row done, so once the lease expires another claim picks it up again. Every multi-row change runs in
one ``BEGIN IMMEDIATE`` transaction.

The statements are shared with PostgreSQL (:mod:`connectors.store.sql`); this module holds the schema,
the connection, ``BEGIN IMMEDIATE`` and the two locks. Calls are short and serialised by a lock, so the
worker runs them inline on its event loop: a write is well under a millisecond with WAL and
``synchronous=NORMAL`` (:mod:`connectors.worker.offload` says why and what was measured).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import threading
import weakref
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from connectors.sqlite_migrations import connect, migrate
from connectors.store.protocol import StoreError, StoreLockedError
from connectors.store.rows import TRANSCRIPT_COMPONENT, VOLUME_COMPONENT, VOLUME_MIGRATIONS, transcript_migrations
from connectors.store.sql import SQLITE, Executor, SqlStore
from connectors.store.transcripts import TranscriptCache

#: RETURNING (3.35) is used by the shared statements; upserts (3.24) before it.
MIN_SQLITE = (3, 35, 0)

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


class SQLiteStore(SqlStore):
    """The worker's durable state in one SQLite file (statements shared with PostgreSQL: :mod:`.sql`)."""

    remote = False
    dialect = SQLITE

    def __init__(self, path: Path, *, exclusive: bool = False) -> None:
        """Open (and migrate) the store. ``exclusive``: this is the worker process; refuse a second one."""
        if sqlite3.sqlite_version_info < MIN_SQLITE:
            raise StoreError(
                f"SQLite {sqlite3.sqlite_version} is too old for the store: it needs "
                f"{'.'.join(map(str, MIN_SQLITE))} or later (or use PostgreSQL)"
            )
        self._process_lock = ProcessLock(path).acquire() if exclusive and str(path) != ":memory:" else None
        try:
            self._conn = connect(path)
            migrate(self._conn, COMPONENT, MIGRATIONS)
            migrate(self._conn, LANES_COMPONENT, LANES_MIGRATIONS)
            migrate(self._conn, VOLUME_COMPONENT, VOLUME_MIGRATIONS)
            migrate(self._conn, TRANSCRIPT_COMPONENT, transcript_migrations(" WITHOUT ROWID"))
        except sqlite3.Error as exc:
            if self._process_lock is not None:
                self._process_lock.release()
            raise StoreError(f"cannot open the store at {path}: {exc}") from exc
        self._lock = threading.RLock()
        self.transcripts = TranscriptCache()
        self._conversation_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self.path = path

    # ------------------------------------------------------------------ plumbing
    @contextmanager
    def _tx(self) -> Iterator[Executor]:
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

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
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

    @asynccontextmanager
    async def conversation_lock(self, conversation_id: str) -> AsyncIterator[None]:
        """An in-process lock: one worker process per file (see :class:`ProcessLock`) makes it enough."""
        lock = self._conversation_locks.get(conversation_id)
        if lock is None:
            lock = asyncio.Lock()
            self._conversation_locks[conversation_id] = lock
        async with lock:
            yield

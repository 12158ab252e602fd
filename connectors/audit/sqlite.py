"""The audit log in the embedded SQLite store file (the default; one worker process per file).

Why one connection behind a lock: SQLite has one writer at a time anyway, and a lock lets the worker call
the log from the event loop and from threads alike. Every write is one short ``BEGIN IMMEDIATE``
transaction; WAL lets ``handoff decisions`` and ``handoff report`` read while the worker writes. The SQL
is shared with PostgreSQL (:mod:`connectors.audit.sql`); only the schema and the connection are here.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from connectors.audit.sql import SQLITE, SqlAuditLog
from connectors.sqlite_migrations import connect, migrate
from connectors.store.sql import Executor

#: Migration scripts both databases run word for word (PostgreSQL's list names them too).
CORE_ID_MIGRATION = """
    ALTER TABLE audit_decisions ADD COLUMN core_id TEXT;
    UPDATE audit_decisions SET core_id = id;
    CREATE INDEX audit_decisions_core_id ON audit_decisions (core_id, decided_at)
    """

COMPONENT = "audit"
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE audit_decisions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        decided_at TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        ticket_id TEXT,
        channel TEXT NOT NULL,
        action TEXT NOT NULL,
        priority TEXT NOT NULL,
        alert INTEGER NOT NULL,
        urgent INTEGER NOT NULL,
        language TEXT NOT NULL,
        policy_version TEXT NOT NULL,
        policy_hash TEXT NOT NULL,
        knowledge_version TEXT,
        route_group TEXT,
        route_tags TEXT NOT NULL,
        signals_json TEXT NOT NULL,
        question TEXT,
        simulated INTEGER NOT NULL,
        redacted INTEGER NOT NULL
    );
    CREATE INDEX audit_decisions_time ON audit_decisions (decided_at);
    CREATE INDEX audit_decisions_conversation ON audit_decisions (conversation_id, decided_at);
    CREATE INDEX audit_decisions_ticket ON audit_decisions (ticket_id, decided_at);
    CREATE TABLE audit_reasons (
        decision_id TEXT NOT NULL REFERENCES audit_decisions (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        trigger TEXT NOT NULL,
        topic TEXT,
        action TEXT NOT NULL,
        score REAL NOT NULL,
        priority TEXT NOT NULL,
        route_group TEXT,
        alert INTEGER NOT NULL,
        detail TEXT NOT NULL,
        evidence_json TEXT NOT NULL,
        PRIMARY KEY (decision_id, position)
    );
    CREATE INDEX audit_reasons_trigger ON audit_reasons (trigger);
    CREATE TABLE audit_deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        decision_id TEXT NOT NULL REFERENCES audit_decisions (id) ON DELETE CASCADE,
        target TEXT NOT NULL CHECK (target IN ('zendesk', 'slack')),
        ok INTEGER NOT NULL,
        detail TEXT,
        at TEXT NOT NULL
    );
    CREATE INDEX audit_deliveries_decision ON audit_deliveries (decision_id);
    CREATE TABLE audit_events (
        id TEXT PRIMARY KEY,
        decision_id TEXT NOT NULL REFERENCES audit_decisions (id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('claimed', 'not_needed', 'handoff_wrong', 'missed_handoff')),
        actor TEXT,
        at TEXT NOT NULL,
        data_json TEXT NOT NULL,
        UNIQUE (kind, decision_id)
    );
    CREATE INDEX audit_events_decision ON audit_events (decision_id)
    """,
    # 2: the core's Decision.id is not unique per decision (it may be the conversation id), so the log
    # keeps its own id and the core's id beside it.
    CORE_ID_MIGRATION,
    # 3: sales leads and business hours, so the review can count leads handed to sales, their value,
    # and out-of-hours handoffs (NULL: the decision had no lead, or the policy has no schedules).
    """
    ALTER TABLE audit_decisions ADD COLUMN lead_value REAL;
    ALTER TABLE audit_decisions ADD COLUMN lead_qualified INTEGER;
    ALTER TABLE audit_decisions ADD COLUMN agents_available INTEGER;
    ALTER TABLE audit_decisions ADD COLUMN expected_reply_by TEXT
    """,
)

#: Indexes for months of traffic, under their own component so that other components' migration lists
#: stay append-only for their owners. ``audit_reasons_decision_trigger``: the correlated ``EXISTS`` of
#: ``--reason`` and of event matching must find a decision's reasons by ``decision_id``; with only the
#: ``(trigger)`` index SQLite walked every reason with that trigger for every decision (quadratic:
#: 142 s for ``handoff decisions --reason low_confidence`` at 10,000 decisions).
#:
#: 2: ``handoff decisions`` finds "the newest N matching" in one index. ``trigger_list`` holds a decision's
#: triggers as `` vip low_confidence `` (written with the decision; NULL on rows recorded before this
#: migration, which a ``--reason`` filter still probes through their reasons), and
#: ``audit_decisions_listing`` carries every column the filters test, in time order, so a filter walks
#: index entries newest first and reads a decision's row only when it matches: a filter nothing passes
#: costs a walk of the period's index entries (~0.2 s of CPU at a million), not of its rows (1.3 s on the
#: live soak's store). It supersedes the plain time index, which is dropped so that no plan prefers it.
#: The column is not back-filled: that rewrites every row (~10 s of CPU at a million) while the worker
#: starts; old rows age out of the listings' periods instead.
VOLUME_COMPONENT = "audit_volume"
VOLUME_MIGRATIONS: tuple[str, ...] = (
    "CREATE INDEX IF NOT EXISTS audit_reasons_decision_trigger ON audit_reasons (decision_id, trigger)",
    """
    ALTER TABLE audit_decisions ADD COLUMN trigger_list TEXT;
    CREATE INDEX IF NOT EXISTS audit_decisions_listing
        ON audit_decisions (decided_at, seq, simulated, channel, action, trigger_list);
    DROP INDEX IF EXISTS audit_decisions_time
    """,
)


class SQLiteAudit(SqlAuditLog):
    """Decision audit log in the SQLite store (own tables, own migrations via connectors.sqlite_migrations)."""

    dialect = SQLITE.name

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = connect(path)
        self._lock = threading.Lock()
        with self._lock:
            migrate(self._conn, COMPONENT, MIGRATIONS)
            migrate(self._conn, VOLUME_COMPONENT, VOLUME_MIGRATIONS)

    @property
    def connection(self) -> sqlite3.Connection:
        """The open connection (query-plan tests trace it; use it under :attr:`lock`)."""
        return self._conn

    @property
    def lock(self) -> threading.Lock:
        return self._lock

    @contextmanager
    def _tx(self) -> Iterator[Executor]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def _reading(self) -> Iterator[Executor]:
        with self._lock:
            yield self._conn

    def close(self) -> None:
        with self._lock:
            self._conn.close()

"""The audit log in PostgreSQL, shared by every worker replica (``HANDOFF_DATABASE_URL=postgresql://...``).

Why native and not SQLite SQL translated on the fly: the schema is written in PostgreSQL's own types
here, the statements both databases run alike are shared (:mod:`connectors.audit.sql`), and the few
that differ are named fragments (:data:`connectors.audit.sql.POSTGRESQL`), so what runs is what is read.

Connections come from a small psycopg pool (autocommit; a write is one ``conn.transaction()``), so the
log can be called from several threads at once. Migrations run under the store's advisory lock
(:func:`connectors.store.postgres.migrate`): replicas starting together apply them once. Versions 1-3
of the ``audit`` component match what earlier releases created, so an existing database stays current.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from connectors.audit.sql import POSTGRESQL, Cursor, Executor, SqlAuditLog
from connectors.store.postgres import migrate, safe_error
from connectors.store.protocol import StoreError

COMPONENT = "audit"
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE audit_decisions (
        seq BIGSERIAL PRIMARY KEY,
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
        score DOUBLE PRECISION NOT NULL,
        priority TEXT NOT NULL,
        route_group TEXT,
        alert INTEGER NOT NULL,
        detail TEXT NOT NULL,
        evidence_json TEXT NOT NULL,
        PRIMARY KEY (decision_id, position)
    );
    CREATE INDEX audit_reasons_trigger ON audit_reasons (trigger);
    CREATE TABLE audit_deliveries (
        id BIGSERIAL PRIMARY KEY,
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
    """
    ALTER TABLE audit_decisions ADD COLUMN core_id TEXT;
    UPDATE audit_decisions SET core_id = id;
    CREATE INDEX audit_decisions_core_id ON audit_decisions (core_id, decided_at)
    """,
    """
    ALTER TABLE audit_decisions ADD COLUMN lead_value DOUBLE PRECISION;
    ALTER TABLE audit_decisions ADD COLUMN lead_qualified INTEGER;
    ALTER TABLE audit_decisions ADD COLUMN agents_available INTEGER;
    ALTER TABLE audit_decisions ADD COLUMN expected_reply_by TEXT
    """,
)
VOLUME_COMPONENT = "audit_volume"
VOLUME_MIGRATIONS: tuple[str, ...] = (
    "CREATE INDEX IF NOT EXISTS audit_reasons_decision_trigger ON audit_reasons (decision_id, trigger)",
)


@functools.lru_cache(maxsize=256)
def psycopg_sql(sql: str) -> str:
    """The shared statement in psycopg's spelling: ``%s`` for ``?`` (and a literal ``%`` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


class _Connection:
    """A pooled psycopg connection that takes the shared statements' ``?`` placeholders."""

    def __init__(self, conn: psycopg.Connection[dict[str, Any]]) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = (), /) -> Cursor:
        return self._conn.execute(psycopg_sql(sql), params)


class PostgresAudit(SqlAuditLog):
    """The decision audit log in PostgreSQL (same tables and records as :class:`SQLiteAudit`)."""

    dialect = POSTGRESQL.name

    def __init__(self, url: str, *, pool_size: int = 4, connect_timeout: float = 10.0) -> None:
        self._pool: ConnectionPool[psycopg.Connection[dict[str, Any]]] = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True, "row_factory": dict_row},
            timeout=connect_timeout,
            open=False,
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
            with self._pool.connection() as conn:
                migrate(conn, COMPONENT, MIGRATIONS)
                migrate(conn, VOLUME_COMPONENT, VOLUME_MIGRATIONS)
        except (psycopg.Error, PoolTimeout) as exc:
            self._pool.close()
            raise StoreError(f"cannot open the PostgreSQL audit log: {safe_error(exc)}") from exc

    @contextmanager
    def _tx(self) -> Iterator[Executor]:
        try:
            with self._pool.connection() as conn, conn.transaction():
                yield _Connection(conn)
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise StoreError(f"audit log unavailable: {safe_error(exc)}") from exc

    @contextmanager
    def _reading(self) -> Iterator[Executor]:
        try:
            with self._pool.connection() as conn:
                yield _Connection(conn)
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise StoreError(f"audit log unavailable: {safe_error(exc)}") from exc

    def close(self) -> None:
        self._pool.close()

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

import contextlib

from connectors.audit.sql import POSTGRESQL, SqlAuditLog
from connectors.audit.sqlite import CORE_ID_MIGRATION, VOLUME_COMPONENT, VOLUME_MIGRATIONS
from connectors.store.postgres import open_pool, pooled
from connectors.store.sql import Executor

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
    CORE_ID_MIGRATION,
    """
    ALTER TABLE audit_decisions ADD COLUMN lead_value DOUBLE PRECISION;
    ALTER TABLE audit_decisions ADD COLUMN lead_qualified INTEGER;
    ALTER TABLE audit_decisions ADD COLUMN agents_available INTEGER;
    ALTER TABLE audit_decisions ADD COLUMN expected_reply_by TEXT
    """,
)


class PostgresAudit(SqlAuditLog):
    """The decision audit log in PostgreSQL (same tables and records as :class:`SQLiteAudit`)."""

    dialect = POSTGRESQL.name

    def __init__(self, url: str, *, pool_size: int = 4, connect_timeout: float = 10.0) -> None:
        self._pool = open_pool(
            url,
            pool_size,
            connect_timeout,
            [(COMPONENT, MIGRATIONS), (VOLUME_COMPONENT, VOLUME_MIGRATIONS)],
            "audit log",
        )

    def _tx(self) -> contextlib.AbstractContextManager[Executor]:
        return pooled(self._pool, transaction=True, what="audit log")

    def _reading(self) -> contextlib.AbstractContextManager[Executor]:
        return pooled(self._pool, transaction=False, what="audit log")

    def close(self) -> None:
        self._pool.close()

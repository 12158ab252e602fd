"""Decision audit log: every decision and what happened to it afterwards, in the worker's store.

Why a log of its own: support leads must be able to prove that the handoff policy helps and find what it
gets wrong. The worker's state tables answer "what must happen next"; this log answers "what was decided,
why, did it reach Zendesk and Slack, and was it right" (claims, "Not needed", ``handoff_wrong``, missed
handoffs). It is written by the worker (live) and by ``handoff simulate --record`` (simulated).

Personal data is always redacted: customer text (the last question, evidence quotes, matched words and
reason details) goes through :func:`handoff_core.redact.redact` before it is stored, with no switch to
turn that off, because the log is kept far longer than the raw-text retention (``RAW_RETENTION_DAYS``).
No customer e-mail, phone or name is stored at all.

Tables (component ``audit``, own migrations in each driver): ``audit_decisions``, ``audit_reasons`` (one
row per reason, so ``--reason`` is an indexed filter), ``audit_deliveries`` and ``audit_events``. The
ports are in :mod:`connectors.audit.port`; the SQL both drivers share in :mod:`connectors.audit.sql`;
:func:`open_audit` opens the driver ``HANDOFF_DATABASE_URL`` names.

Errors::

    AuditError                  base of this layer
    └── UnknownDecisionError    a delivery names a decision that was never recorded (a caller bug)
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connectors.audit.port import AuditLog

EVENT_KINDS: tuple[str, ...] = ("claimed", "not_needed", "handoff_wrong", "missed_handoff")
TARGETS: tuple[str, ...] = ("zendesk", "slack")

#: Longest stored question / delivery detail: enough to read and cluster, not a transcript dump.
MAX_QUESTION_CHARS = 1_000
MAX_DETAIL_CHARS = 500


class AuditError(Exception):
    """Base of the audit layer's errors."""


class UnknownDecisionError(AuditError):
    """A delivery or event names a decision id that was never recorded."""


def to_utc(at: datetime | None) -> datetime:
    """``at`` as an aware UTC datetime (now when None; naive values are taken to be UTC)."""
    if at is None:
        return datetime.now(UTC)
    if at.tzinfo is None:
        return at.replace(tzinfo=UTC)
    return at.astimezone(UTC)


def format_time(at: datetime) -> str:
    """A fixed-width ISO 8601 UTC string, so that text order in SQLite is time order."""
    return to_utc(at).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    """Inverse of :func:`format_time` (``fromisoformat`` reads the fixed format about 20 times faster
    than ``strptime``, which matters when a review reads a million rows)."""
    return datetime.fromisoformat(text).astimezone(UTC)


def open_audit(database_url: str) -> AuditLog:
    """The log in the store named by ``HANDOFF_DATABASE_URL``: the SQLite file or PostgreSQL.

    Raises :class:`connectors.store.StoreError` for another scheme, or when PostgreSQL cannot be reached
    (or psycopg is not installed).
    """
    from connectors.store import MISSING_PSYCOPG, StoreError, parse_database_url

    where = parse_database_url(database_url)
    if isinstance(where, Path):
        from connectors.audit.sqlite import SQLiteAudit

        return SQLiteAudit(where)
    try:
        from connectors.audit.postgres import PostgresAudit
    except ImportError as exc:  # the optional extra is not installed
        raise StoreError(MISSING_PSYCOPG) from exc
    return PostgresAudit(where)

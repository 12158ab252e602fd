"""Durable worker state: webhook inbox, action outbox, remembered conversations.

Each caller depends on a small port (:mod:`connectors.store.protocol`); :class:`SQLiteStore` is the
embedded default, :mod:`connectors.store.postgres` serves several replicas.
"""

from pathlib import Path

from connectors.store.models import (
    ConversationRecord,
    InboxItem,
    InboxStatus,
    NewAction,
    NewDelivery,
    OutboxItem,
    OutboxStatus,
)
from connectors.store.protocol import (
    BacklogStore,
    ConversationStore,
    InboxStore,
    LaneStore,
    OutboxStore,
    RetentionStore,
    StoreError,
    StoreLockedError,
    TurnStore,
    WorkerStore,
)
from connectors.store.sqlite import SQLiteStore


def parse_database_url(database_url: str) -> Path | str:
    """What ``HANDOFF_DATABASE_URL`` names: the SQLite file's path, or the PostgreSQL URL (a ``str``).

    Raises :class:`StoreError` for any other scheme.
    """
    if database_url.startswith(("postgresql://", "postgres://")):
        return database_url
    prefix = "sqlite:///"
    if not database_url.startswith(prefix):
        raise StoreError(
            f"HANDOFF_DATABASE_URL must start with {prefix!r} or 'postgresql://', got {database_url.split(':', 1)[0]!r}"
        )
    return Path(database_url[len(prefix) :])


MISSING_PSYCOPG = (
    "HANDOFF_DATABASE_URL names PostgreSQL but psycopg is not installed: pip install 'handoff-guard[postgres]'"
)


def open_store(database_url: str, *, exclusive: bool = False) -> WorkerStore:
    """The store named by ``HANDOFF_DATABASE_URL``: ``sqlite:///path`` or ``postgresql://...``.

    ``exclusive`` marks the worker process itself: on SQLite it takes the file lock that refuses a second
    worker; PostgreSQL needs none (replicas coordinate through row locks and advisory locks).
    """
    where = parse_database_url(database_url)
    if isinstance(where, Path):
        return SQLiteStore(where, exclusive=exclusive)
    try:
        from connectors.store.postgres import PostgresStore
    except ImportError as exc:  # the optional extra is not installed
        raise StoreError(MISSING_PSYCOPG) from exc
    return PostgresStore(where)


__all__ = [
    "BacklogStore",
    "ConversationRecord",
    "ConversationStore",
    "InboxItem",
    "InboxStatus",
    "InboxStore",
    "LaneStore",
    "NewAction",
    "NewDelivery",
    "OutboxItem",
    "OutboxStatus",
    "OutboxStore",
    "RetentionStore",
    "SQLiteStore",
    "StoreError",
    "StoreLockedError",
    "TurnStore",
    "WorkerStore",
    "open_store",
    "parse_database_url",
]

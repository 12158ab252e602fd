"""Durable worker state: webhook inbox, action outbox, remembered conversations.

The worker depends on :class:`WorkerStore` (a ``Protocol``); :class:`SQLiteStore` is the default.
"""

from connectors.store.models import (
    ConversationRecord,
    InboxItem,
    InboxStatus,
    NewAction,
    OutboxItem,
    OutboxStatus,
)
from connectors.store.protocol import StoreError, WorkerStore
from connectors.store.sqlite import SQLiteStore

__all__ = [
    "ConversationRecord",
    "InboxItem",
    "InboxStatus",
    "NewAction",
    "OutboxItem",
    "OutboxStatus",
    "SQLiteStore",
    "StoreError",
    "WorkerStore",
]

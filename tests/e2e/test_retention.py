"""The worker purges raw customer text past RAW_RETENTION_DAYS by itself: the daily purge runs at start-up."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fakes.fixtures import wait_until

from connectors.store import ConversationRecord, open_store
from handoff_core import Conversation, Message


def test_worker_purges_raw_text_past_the_retention_on_its_own(start_worker, tmp_path: Path) -> None:
    """A 40-day-old conversation and answer are gone soon after the worker starts; a 1-day-old one stays."""
    path = tmp_path / "handoff.sqlite3"
    store = open_store(f"sqlite:///{path}")
    for cid in ("old", "recent"):
        record = ConversationRecord(
            conversation=Conversation(id=cid, messages=(Message(role="customer", text="a@b.example"),))
        )
        store.save_turn(record, f"msg:{cid}", {"answer": cid}, [])
    store.close()
    with sqlite3.connect(path) as conn:
        for cid, days in (("old", 40), ("recent", 1)):
            conn.execute("UPDATE conversations SET updated_at = updated_at - ? WHERE id = ?", (days * 86400, cid))
            conn.execute(
                "UPDATE webchat_replies SET created_at = created_at - ? WHERE conversation_id = ?", (days * 86400, cid)
            )

    worker = start_worker(raw_retention_days=30)
    runtime_store = worker.parts.store
    wait_until(lambda: runtime_store.conversation_get("old") is None, timeout=30)
    assert runtime_store.reply_get("msg:old") is None
    assert runtime_store.conversation_get("recent") is not None and runtime_store.reply_get("msg:recent") == {
        "answer": "recent"
    }

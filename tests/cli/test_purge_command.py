"""`handoff purge` end to end on a SQLite store: the retention setting, the override and the dry run."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from connectors.cli import cli
from connectors.store import ConversationRecord, NewAction, open_store
from handoff_core import Conversation, Message

DAY = 86400.0


def _store_with_ages(url: str, path: Path) -> None:
    """One conversation (with its answer and a local action) 40 days old, one 10 days old, one fresh."""
    store = open_store(url)
    for cid in ("c40", "c10", "c0"):
        record = ConversationRecord(
            conversation=Conversation(id=cid, messages=(Message(role="customer", text=f"{cid} 4111 1111 1111 1111"),))
        )
        action = NewAction(
            kind="zendesk.handoff", target="local", dedupe_key=cid, payload={"note": cid}, conversation_id=cid
        )
        store.save_turn(record, f"msg:{cid}", {"answer": cid}, [action])
    store.close()
    with sqlite3.connect(path) as conn:
        for cid, age in (("c40", 40 * DAY), ("c10", 10 * DAY)):
            conn.execute("UPDATE conversations SET updated_at = updated_at - ? WHERE id = ?", (age, cid))
            conn.execute("UPDATE webchat_replies SET created_at = created_at - ? WHERE conversation_id = ?", (age, cid))
            conn.execute("UPDATE outbox SET updated_at = updated_at - ? WHERE conversation_id = ?", (age, cid))


def _kept(url: str) -> list[str]:
    store = open_store(url)
    try:
        return [cid for cid in ("c40", "c10", "c0") if store.conversation_get(cid) is not None]
    finally:
        store.close()


def test_purge_command_uses_the_retention_its_override_and_dry_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dry run changes nothing; the default 30 days purges 40-day-old text; --older-than-days 5 also 10-day-old."""
    path = tmp_path / "s.db"
    url = f"sqlite:///{path}"
    monkeypatch.setenv("HANDOFF_DATABASE_URL", url)
    monkeypatch.delenv("RAW_RETENTION_DAYS", raising=False)
    _store_with_ages(url, path)
    runner = CliRunner()

    dry = runner.invoke(cli, ["purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would purge raw text older than 30 days" in dry.output
    assert "conversations: 1" in dry.output and "webchat_replies: 1" in dry.output and "outbox: 1" in dry.output
    assert _kept(url) == ["c40", "c10", "c0"]

    done = runner.invoke(cli, ["purge"])
    assert done.exit_code == 0, done.output
    assert "purged raw text older than 30 days" in done.output and "conversations: 1" in done.output
    assert _kept(url) == ["c10", "c0"]

    shorter = runner.invoke(cli, ["purge", "--older-than-days", "5"])
    assert shorter.exit_code == 0 and "conversations: 1" in shorter.output, shorter.output
    assert _kept(url) == ["c0"]
    store = open_store(url)
    payloads = {i.dedupe_key: i.payload for i in store.outbox_list()}
    store.close()
    assert payloads == {"c40": {"purged": True}, "c10": {"purged": True}, "c0": {"note": "c0"}}


def test_purge_command_reads_the_setting_and_refuses_a_missing_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RAW_RETENTION_DAYS sets the default window; a store that does not exist is a clear error, not a new file."""
    path = tmp_path / "s.db"
    url = f"sqlite:///{path}"
    monkeypatch.setenv("HANDOFF_DATABASE_URL", url)
    _store_with_ages(url, path)
    monkeypatch.setenv("RAW_RETENTION_DAYS", "7")
    result = CliRunner().invoke(cli, ["purge"])
    assert result.exit_code == 0 and "older than 7 days" in result.output, result.output
    assert _kept(url) == ["c0"]
    monkeypatch.setenv("HANDOFF_DATABASE_URL", f"sqlite:///{tmp_path}/missing.db")
    missing = CliRunner().invoke(cli, ["purge"])
    assert missing.exit_code == 1 and "no store at" in missing.output
    assert not (tmp_path / "missing.db").exists()

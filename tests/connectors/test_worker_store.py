"""The SQLite store: dedupe, atomic turns, leases, backoff, dead and retry."""

from __future__ import annotations

import time

from connectors.store import ConversationRecord, InboxStatus, NewAction, OutboxStatus, SQLiteStore
from handoff_core import Conversation, ConversationState, Message


def _action(key: str, target: str = "zendesk") -> NewAction:
    return NewAction(
        kind="zendesk.handoff",
        target=target,
        dedupe_key=key,
        payload={"k": key},
        conversation_id="c1",
        decision_id="d1",
    )


def test_inbox_dedupes_by_source_and_key(tmp_path):
    """The same delivery stored twice is kept once; another source with the same key is separate."""
    store = SQLiteStore(tmp_path / "s.db")
    assert store.inbox_add("zendesk", "inv-1", "trigger", {"ticket_id": 1})
    assert not store.inbox_add("zendesk", "inv-1", "trigger", {"ticket_id": 1})
    assert store.inbox_add("other", "inv-1", "trigger", {"ticket_id": 1})
    assert len(store.inbox_list()) == 2


def test_claimed_rows_are_leased_until_expiry_and_survive_reopen(tmp_path):
    """A claimed row is not claimed again while leased; after the lease (a dead worker) it is, even after reopening."""
    path = tmp_path / "s.db"
    store = SQLiteStore(path)
    store.outbox_enqueue([_action("a")])
    now = time.time()
    assert [i.dedupe_key for i in store.outbox_claim(now, 10, 5)] == ["a"]
    assert store.outbox_claim(now + 1, 10, 5) == []
    store.close()
    reopened = SQLiteStore(path)
    assert [i.dedupe_key for i in reopened.outbox_claim(now + 11, 10, 5)] == ["a"]


def test_failed_action_is_rescheduled_then_dead_then_retried(tmp_path):
    """A failure stores its backoff in the row; dead rows are not claimed until retried."""
    store = SQLiteStore(tmp_path / "s.db")
    (row_id,) = store.outbox_enqueue([_action("a")])
    now = time.time()
    store.outbox_failed(row_id, "transient: 503", now + 100, dead=False)
    assert store.outbox_claim(now + 50, 10, 5) == []
    assert store.outbox_next_due() == now + 100
    store.outbox_failed(row_id, "transient: 503", now, dead=True)
    item = store.outbox_get(row_id)
    assert item.status is OutboxStatus.DEAD and item.attempts == 2 and item.last_error == "transient: 503"
    assert store.outbox_claim(now + 1000, 10, 5) == []
    assert store.outbox_retry_dead() == 1
    assert [i.id for i in store.outbox_claim(time.time() + 1, 10, 5)] == [row_id]


def test_local_actions_are_recorded_not_claimed_and_duplicates_ignored(tmp_path):
    """Local-mode actions are stored with status local, never sent; the same dedupe key is enqueued once."""
    store = SQLiteStore(tmp_path / "s.db")
    assert len(store.outbox_enqueue([_action("x", target="local"), _action("x", target="local")])) == 1
    assert store.outbox_claim(time.time() + 1, 10, 5) == []
    assert store.outbox_counts()[OutboxStatus.LOCAL] == 1


def test_save_turn_is_atomic_and_replays_first_answer(tmp_path):
    """A web-chat turn stores conversation, answer and actions at once; a second save with the key changes nothing."""
    store = SQLiteStore(tmp_path / "s.db")
    conv = Conversation(id="c1", messages=(Message(role="customer", text="hi"),))
    record = ConversationRecord(conversation=conv, state=ConversationState(handed_off=True))
    first = store.save_turn(record, "msg:c1:m1", {"answer": 1}, [_action("a")])
    second = store.save_turn(record, "msg:c1:m1", {"answer": 2}, [_action("b")])
    assert first == second == {"answer": 1}
    assert [i.dedupe_key for i in store.outbox_list()] == ["a"]
    stored = store.conversation_get("c1")
    assert stored.state.handed_off and stored.conversation.messages[0].text == "hi"


def test_inbox_finish_marks_and_enqueues_together(tmp_path):
    """Finishing an inbox event records its status and enqueues its actions in one step."""
    store = SQLiteStore(tmp_path / "s.db")
    store.inbox_add("zendesk", "k", "trigger", {})
    (item,) = store.inbox_claim(time.time(), 10, 5)
    store.inbox_finish(item.id, InboxStatus.DONE, actions=[_action("a")])
    assert store.inbox_list()[0].status is InboxStatus.DONE
    assert len(store.outbox_list()) == 1


def test_second_worker_process_on_one_sqlite_file_is_refused(tmp_path):
    """A second exclusive open (a second worker) fails with a clear error naming PostgreSQL; after close it works."""
    import subprocess
    import sys

    from connectors.store import StoreLockedError

    path = tmp_path / "s.db"
    first = SQLiteStore(path, exclusive=True)
    code = (
        "import sys\nfrom pathlib import Path\nfrom connectors.store import SQLiteStore, StoreLockedError\n"
        "try:\n    SQLiteStore(Path(sys.argv[1]), exclusive=True)\nexcept StoreLockedError as e:\n"
        "    print(e); sys.exit(3)\n"
    )
    other = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=False)
    assert other.returncode == 3, other.stderr
    assert "another handoff worker" in other.stdout and "postgresql://" in other.stdout
    try:
        SQLiteStore(path, exclusive=True)
        raise AssertionError("a second exclusive open in the same process must be refused too")
    except StoreLockedError:
        pass
    SQLiteStore(path).close()  # readers (CLI) are never refused
    first.close()
    SQLiteStore(path, exclusive=True).close()


def test_outbox_claims_one_lane_and_counts_claims(tmp_path):
    """A lane claims only its own rows; every claim of a row is counted (a re-claim means: look first)."""
    store = SQLiteStore(tmp_path / "s.db")
    store.outbox_enqueue([_action("z1", "zendesk"), _action("s1", "slack"), _action("z2", "zendesk")])
    now = time.time()
    assert [i.dedupe_key for i in store.outbox_claim(now, 1, 10, lane="slack")] == ["s1"]
    zendesk = store.outbox_claim(now, 1, 10, lane="zendesk")
    assert [i.dedupe_key for i in zendesk] == ["z1", "z2"] and {i.claims for i in zendesk} == {1}
    again = store.outbox_claim(now + 2, 1, 10, lane="zendesk")
    assert {i.claims for i in again} == {2}
    assert store.outbox_get(again[0].id).claims == 2


def test_lane_pause_is_never_shortened_and_budget_is_per_minute(tmp_path):
    """A lane pause only grows; the per-minute budget grants N calls, then says how long to wait."""
    store = SQLiteStore(tmp_path / "s.db")
    assert store.lane_paused_until("zendesk") == 0.0
    store.lane_pause("zendesk", 100.0)
    store.lane_pause("zendesk", 50.0)
    assert store.lane_paused_until("zendesk") == 100.0 and store.lane_paused_until("slack") == 0.0
    grants = [store.lane_take("zendesk", 1000.0, 3) for _ in range(4)]
    assert grants[:3] == [0.0, 0.0, 0.0] and grants[3] == 60.0
    assert store.lane_take("zendesk", 1030.0, 3) == 30.0
    assert store.lane_take("zendesk", 1060.0, 3) == 0.0, "a new window starts after a minute"
    assert store.lane_paused_until("zendesk") == 100.0, "the budget leaves the pause alone"

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

"""Transcripts stored a message per row: message n+1 is one row, on SQLite and on a real PostgreSQL.

Each test runs on both drivers (the ``opener`` fixture: one fresh database per test, several store objects
standing for replicas or a restarted worker). What a store reads back, from its cache or from the rows,
must be the conversation that was written, the same JSON as the one-document format gave; what it writes
for a turn that extends the stored transcript is the new messages only.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from connectors.sqlite_migrations import connect, migrate
from connectors.store import ConversationRecord, SQLiteStore, WorkerStore, open_store
from connectors.store.sqlite import LANES_MIGRATIONS, MIGRATIONS
from connectors.store.transcripts import diff, head_document, spliced
from handoff_core import Context, Conversation, ConversationState, Customer, Message

CID = "web-1"


def _message(i: int, role: str = "customer") -> Message:
    return Message(role=role, text=f"message {i}: where is my order #{1000 + i}?", id=f"m{i}")


def _conversation(messages: tuple[Message, ...], **fields: object) -> Conversation:
    return Conversation(id=CID, messages=messages, **fields)


def _rows(store: WorkerStore) -> list[int]:
    rows = store._query(  # type: ignore[attr-defined]
        "SELECT seq FROM conversation_messages WHERE conversation_id = ? ORDER BY seq", (CID,)
    )
    return [int(r["seq"]) for r in rows]


def _turn(store: WorkerStore, previous: ConversationRecord | None, conversation: Conversation, n: int) -> None:
    """What the worker does per message: the new record keeps the stamp of the one it was built from."""
    record = ConversationRecord(conversation=conversation, stamp=previous.stamp if previous else None)
    store.save_turn(record, f"msg:{CID}:{n}", {"n": n}, [])


def _same(a: Conversation, b: Conversation) -> bool:
    return a.model_dump_json() == b.model_dump_json()


def test_message_n_plus_1_is_one_new_row_and_reads_back_the_same(opener):
    """Each turn adds one message row (same epoch); a cold store object reads the same conversation."""
    store = opener()
    messages: tuple[Message, ...] = ()
    previous = None
    for n in range(12):
        messages = (*messages, _message(n, "assistant" if n % 2 else "customer"))
        _turn(store, previous, _conversation(messages), n)
        previous = store.conversation_get(CID)
        assert previous is not None and previous.stamp is not None
        assert previous.stamp.end == n + 1 and previous.stamp.start == 0
    assert _rows(store) == list(range(12))
    epochs = {store.conversation_get(CID).stamp.epoch}
    cold = opener().conversation_get(CID)
    assert cold is not None and cold.stamp.epoch in epochs
    assert _same(cold.conversation, _conversation(messages))
    assert cold.conversation.state == ConversationState()


def test_a_warm_read_hands_back_the_written_objects(opener):
    """A read at the cached revision parses nothing: the very message objects of the last write come back."""
    store = opener()
    first = _conversation((_message(0),))
    _turn(store, None, first, 0)
    got = store.conversation_get(CID)
    assert got.conversation.messages[0] is first.messages[0]
    assert store.transcripts.hits == 1 and store.transcripts.misses == 0
    longer = _conversation((*got.conversation.messages, _message(1)))
    _turn(store, got, longer, 1)
    again = store.conversation_get(CID)
    assert again.conversation.messages[1] is longer.messages[1] and _same(again.conversation, longer)


def test_sqlite_stores_message_n_plus_1_with_one_row_insert(tmp_path: Path):
    """The statements of a turn at message 50: one message row inserted, no delete, no document of 50."""
    store = SQLiteStore(tmp_path / "s.db")
    messages = tuple(_message(i) for i in range(50))
    _turn(store, None, _conversation(messages), 0)
    previous = store.conversation_get(CID)
    seen: list[str] = []
    store._conn.set_trace_callback(seen.append)
    _turn(store, previous, _conversation((*previous.conversation.messages, _message(50))), 1)
    store._conn.set_trace_callback(None)
    inserts = [s for s in seen if "INSERT INTO conversation_messages" in s]
    assert len(inserts) == 1 and inserts[0].count("message 50") == 1 and "message 49" not in inserts[0]
    assert not [s for s in seen if "DELETE FROM conversation_messages" in s]
    assert all("message 49" not in s for s in seen), "nothing of the earlier transcript is written again"
    store.close()


def test_a_replica_catches_up_with_the_rows_after_its_cached_end(opener):
    """Another store object (a replica) that cached an older revision reads only the rows it lacks."""
    one, two = opener(), opener()
    messages = tuple(_message(i) for i in range(5))
    _turn(one, None, _conversation(messages), 0)
    assert _same(two.conversation_get(CID).conversation, _conversation(messages))
    previous = one.conversation_get(CID)
    longer = _conversation((*messages, _message(5), _message(6)))
    _turn(one, previous, longer, 1)
    got = two.conversation_get(CID)
    assert two.transcripts.extended == 1 and _same(got.conversation, longer)
    assert got.stamp.end == 7


def test_a_stale_stamp_writes_the_transcript_from_scratch(opener):
    """A record built from an older revision than the stored one is written whole, under a new epoch."""
    one, two = opener(), opener()
    _turn(one, None, _conversation((_message(0),)), 0)
    stale = two.conversation_get(CID)
    _turn(one, one.conversation_get(CID), _conversation((_message(0), _message(1))), 1)
    other = _conversation((_message(0), _message(9)))
    _turn(two, stale, other, 2)
    fresh = opener().conversation_get(CID)
    assert _same(fresh.conversation, other) and fresh.stamp.epoch != stale.stamp.epoch
    assert _rows(one) == [0, 1]
    assert _same(one.conversation_get(CID).conversation, other), "the first replica's cache is not trusted"


@pytest.mark.parametrize("change", ["edited", "shortened", "replaced"])
def test_a_transcript_that_does_not_extend_the_stored_one_is_written_whole(opener, change):
    """An edited, shortened or replaced transcript: new epoch, every row rewritten, read back exactly."""
    store = opener()
    messages = tuple(_message(i) for i in range(4))
    _turn(store, None, _conversation(messages), 0)
    previous = store.conversation_get(CID)
    new = {
        "edited": (messages[0], Message(role="customer", text="changed", id="m1"), *messages[2:]),
        "shortened": messages[:2],
        "replaced": (_message(7),),
    }[change]
    _turn(store, previous, _conversation(new), 1)
    got = opener().conversation_get(CID)
    assert got.stamp.epoch != previous.stamp.epoch and _rows(store) == list(range(len(new)))
    assert _same(got.conversation, _conversation(new)) and _same(
        store.conversation_get(CID).conversation, got.conversation
    )


def test_the_window_moving_on_deletes_the_first_rows_only(opener):
    """A transcript kept to its last n messages: the dropped rows are deleted, the rest stay, one row added."""
    store = opener()
    messages = tuple(_message(i) for i in range(6))
    _turn(store, None, _conversation(messages), 0)
    previous = store.conversation_get(CID)
    window = (*previous.conversation.messages, _message(6))[-5:]
    _turn(store, previous, _conversation(window), 1)
    assert _rows(store) == [2, 3, 4, 5, 6]
    got = opener().conversation_get(CID)
    assert (
        got.stamp.start == 2
        and got.stamp.epoch == previous.stamp.epoch
        and _same(got.conversation, _conversation(window))
    )


def test_equal_messages_rebuilt_elsewhere_still_append(opener):
    """A help desk's transcript rebuilt as new objects, equal field by field, stores only its new message."""
    store = opener()
    _turn(store, None, _conversation((_message(0), _message(1))), 0)
    previous = store.conversation_get(CID)
    rebuilt = _conversation((Message(**_message(0).model_dump()), _message(1), _message(2)))
    _turn(store, previous, rebuilt, 1)
    got = opener().conversation_get(CID)
    assert got.stamp.epoch == previous.stamp.epoch and _rows(store) == [0, 1, 2]


def test_a_new_head_is_read_back_with_the_cached_messages(opener):
    """Customer, context and language change without a new epoch; a warm and a cold read both see them."""
    one, two = opener(), opener()
    _turn(one, None, _conversation((_message(0),)), 0)
    two.conversation_get(CID)
    previous = one.conversation_get(CID)
    changed = _conversation(
        (*previous.conversation.messages, _message(1)),
        customer=Customer(email="ann@example.com", tags=("vip",)),
        context=Context(order_id="A1", extras={"messages": []}),
        language="de",
    )
    _turn(one, previous, changed, 1)
    for store in (one, two, opener()):
        assert _same(store.conversation_get(CID).conversation, changed)


def test_state_columns_and_ticket_updates_keep_the_transcript(opener):
    """Ticket and alert updates return the record with its transcript; the state stays in its columns."""
    store = opener()
    record = ConversationRecord(
        conversation=_conversation((_message(0),)), state=ConversationState(handed_off=True, handed_off_reason="vip")
    )
    store.save_turn(record, "k", {}, [])
    updated = store.conversation_set_ticket(CID, "42")
    assert updated.ticket_id == "42" and _same(updated.conversation, record.conversation)
    assert updated.state.handed_off and updated.conversation.state == ConversationState()
    found = opener().conversation_find_by_ticket("42")
    assert found is not None and _same(found.conversation, record.conversation)


def test_purge_deletes_a_conversations_message_rows_with_it(opener):
    """Past the retention, no message text is left: the rows go with their conversation."""
    store = opener()
    _turn(store, None, _conversation((_message(0), _message(1))), 0)
    counts = store.purge_raw(float("inf"))
    assert counts["conversation_messages"] == 2 and counts["conversations"] == 1
    assert _rows(store) == [] and store.conversation_get(CID) is None
    _turn(store, None, _conversation((_message(5),)), 1)
    assert _same(store.conversation_get(CID).conversation, _conversation((_message(5),)))


def test_diff_finds_appends_and_window_moves_and_nothing_else():
    """Table of transcripts: how the new one extends the old (dropped, added), or None."""
    a, b, c, d = (_message(i) for i in range(4))
    cases = [
        ((a, b), (a, b, c), (0, 1)),
        ((a, b), (a, b), (0, 0)),
        ((a, b, c), (b, c, d), (1, 1)),
        ((a, b, c), (c, d), (2, 1)),
        ((a, b), (b,), (1, 0)),
        ((a, b), (a,), None),
        ((a, b), (c, d), None),
        ((a, b, c), (b, d), None),
        ((), (a,), (0, 1)),
    ]
    for old, new, expected in cases:
        assert diff(old, new) == expected, (old, new)


def test_the_head_and_rows_splice_into_the_one_document():
    """Head plus message rows is byte for byte the document the one-document format stored."""
    conversation = _conversation(
        (_message(0), _message(1, "assistant")), customer=Customer(name="Ann"), context=Context(extras={"messages": []})
    )
    whole = conversation.model_dump_json()
    assert spliced(head_document(conversation), [m.model_dump_json() for m in conversation.messages]) == whole


def _old_schema_sqlite(path: Path, document: str) -> None:
    """A store as the previous release left it: its migrations only, a conversation as one document."""
    conn = connect(path)
    migrate(conn, "worker", MIGRATIONS)
    migrate(conn, "worker_lanes", LANES_MIGRATIONS)
    conn.execute(
        "INSERT INTO conversations (id, channel, document, handed_off, handoff_offered, ticket_id, created_at,"
        " updated_at) VALUES (?, 'webchat', ?, 1, 0, '77', 1.0, 1.0)",
        (CID, document),
    )
    conn.close()


def _old_schema_postgres(url: str, document: str) -> None:
    import psycopg
    from psycopg.rows import dict_row

    from connectors.store.postgres import MIGRATIONS as PG_MIGRATIONS
    from connectors.store.postgres import migrate as pg_migrate

    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        pg_migrate(conn, "worker", PG_MIGRATIONS)
        conn.execute(
            "INSERT INTO conversations (id, channel, document, handed_off, handoff_offered, ticket_id, created_at,"
            " updated_at) VALUES (%s, 'webchat', %s, 1, 0, '77', 1.0, 1.0)",
            (CID, document),
        )


@pytest.mark.parametrize("driver", ["sqlite", "postgres"])
def test_an_old_schema_store_migrates_and_its_conversations_read_and_append(tmp_path, request, driver):
    """A database of the one-document format opens, reads its transcript as before, and appends from then on."""
    old = _conversation(tuple(_message(i) for i in range(3)), customer=Customer(name="Ann"))
    document = old.model_copy(update={"state": ConversationState()}).model_dump_json()
    if driver == "sqlite":
        url = f"sqlite:///{tmp_path}/old.db"
        _old_schema_sqlite(tmp_path / "old.db", document)
    else:
        url = request.getfixturevalue("pg_url")
        _old_schema_postgres(url, document)
    store = open_store(url)
    try:
        got = store.conversation_get(CID)
        assert got is not None and got.stamp is None and got.ticket_id == "77" and got.state.handed_off
        assert _same(got.conversation, old)
        longer = _conversation((*got.conversation.messages, _message(3)), customer=Customer(name="Ann"))
        _turn(store, got, longer, 0)
        assert _rows(store) == [0, 1, 2, 3]
        again = open_store(url)
        try:
            reread = again.conversation_get(CID)
            assert reread.stamp is not None and _same(reread.conversation, longer) and reread.ticket_id == "77"
        finally:
            again.close()
    finally:
        store.close()
    if driver == "sqlite":
        with sqlite3.connect(tmp_path / "old.db") as conn:
            versions = dict(conn.execute("SELECT component, MAX(version) FROM schema_migrations GROUP BY 1"))
        assert versions["worker_transcripts"] == 1

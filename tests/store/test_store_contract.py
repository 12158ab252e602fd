"""One contract for every store: the same tests run against SQLite and a real PostgreSQL.

A store that passes these can carry the worker: deliveries deduplicated, rows leased to exactly one
claimer (also when several store objects, standing for replicas, claim at once), lanes, back-off,
dead and retry, atomic web-chat turns, conversation locks, shared lane pause and budget.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from connectors.store import (
    ConversationRecord,
    InboxStatus,
    NewAction,
    NewDelivery,
    OutboxStatus,
    SQLiteStore,
    open_store,
)
from handoff_core import Conversation, ConversationState, Message


def _action(key: str, target: str = "zendesk", kind: str = "zendesk.handoff") -> NewAction:
    return NewAction(
        kind=kind, target=target, dedupe_key=key, payload={"k": key}, conversation_id="c1", decision_id="d1"
    )


def test_inbox_dedupes_and_leases(opener):
    """A delivery is stored once; a claimed row is leased to one claimer until the lease ends."""
    store = opener()
    assert store.inbox_add("zendesk", "inv-1", "trigger", {"ticket_id": 1})
    assert not store.inbox_add("zendesk", "inv-1", "trigger", {"ticket_id": 1})
    now = time.time()
    (item,) = store.inbox_claim(now, 10, 5)
    assert item.attempts == 1 and item.payload == {"ticket_id": 1}
    assert store.inbox_claim(now + 1, 10, 5) == []
    assert [i.id for i in store.inbox_claim(now + 11, 10, 5)] == [item.id]


def test_inbox_group_commit_dedupes_within_and_across_batches(opener):
    """Deliveries stored in one transaction: each new key once, a repeat in the same batch or an earlier
    one reported as already stored, and every stored row claimable."""
    store = opener()
    assert store.inbox_add("zendesk", "k0", "trigger", {"n": 0})
    batch = [NewDelivery("zendesk", key, "trigger", {"key": key}) for key in ("k1", "k0", "k2", "k1")]
    assert store.inbox_add_many(batch) == [True, False, True, False]
    assert store.inbox_add_many([]) == []
    claimed = store.inbox_claim(time.time(), 10, 10)
    assert sorted(i.dedupe_key for i in claimed) == ["k0", "k1", "k2"]
    assert {i.dedupe_key: i.payload for i in claimed}["k1"] == {"key": "k1"}


def test_concurrent_claimers_never_share_a_row(opener):
    """Four store objects claiming at once from four threads: every row is claimed exactly once."""
    first = opener()
    first.outbox_enqueue([_action(f"a{i}") for i in range(120)])
    stores = [first, *(opener() for _ in range(3))]
    claimed: list[list[int]] = [[] for _ in stores]
    start = threading.Barrier(len(stores))

    def claim(n: int) -> None:
        start.wait()
        while True:
            items = stores[n].outbox_claim(time.time(), 60, 7, lane="zendesk")
            if not items:
                return
            claimed[n].extend(i.id for i in items)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    every = [i for ids in claimed for i in ids]
    assert len(every) == 120 and len(set(every)) == 120


def test_lanes_claims_backoff_dead_and_retry(opener):
    """Lanes claim their own rows; claims are counted; back-off, dead and retry behave the same everywhere."""
    store = opener()
    store.outbox_enqueue([_action("z"), _action("s", "slack", "slack.alert"), _action("l", "local")])
    now = time.time()
    (slack,) = store.outbox_claim(now, 1, 10, lane="slack")
    (zendesk,) = store.outbox_claim(now, 1, 10, lane="zendesk")
    assert (slack.dedupe_key, zendesk.dedupe_key, zendesk.claims) == ("s", "z", 1)
    store.outbox_failed(zendesk.id, "transient: 429", now + 100, dead=False)
    assert store.outbox_claim(now + 50, 1, 10, lane="zendesk") == []
    assert store.outbox_next_due() == pytest.approx(now + 1)  # the slack row's lease
    store.outbox_failed(zendesk.id, "permanent: 403", now, dead=True)
    item = store.outbox_get(zendesk.id)
    assert item.status is OutboxStatus.DEAD and item.attempts == 2 and item.last_error == "permanent: 403"
    counts = store.outbox_counts()
    assert (counts[OutboxStatus.DEAD], counts[OutboxStatus.LOCAL], counts[OutboxStatus.PENDING]) == (1, 1, 1)
    assert store.outbox_retry(zendesk.id) and not store.outbox_retry(zendesk.id)
    (again,) = store.outbox_claim(time.time() + 1, 1, 10, lane="zendesk")
    assert again.claims == 2 and again.attempts == 0
    store.outbox_done(again.id, {"ticket_id": 7})
    assert store.outbox_by_key("z").result == {"ticket_id": 7}
    assert store.outbox_enqueue([_action("z")]) == [], "the same effect is enqueued once"


def test_turns_are_atomic_and_replayed(opener):
    """A web-chat turn stores conversation, answer and actions at once; the same key replays the first answer."""
    store = opener()
    conv = Conversation(id="c1", messages=(Message(role="customer", text="hi"),))
    record = ConversationRecord(conversation=conv, state=ConversationState(handed_off=True, handed_off_reason="vip"))
    assert store.save_turn(record, "msg:c1:m1", {"answer": 1}, [_action("a")]) == {"answer": 1}
    assert store.save_turn(record, "msg:c1:m1", {"answer": 2}, [_action("b")]) == {"answer": 1}
    assert store.reply_get("msg:c1:m1") == {"answer": 1}
    assert [i.dedupe_key for i in store.outbox_list()] == ["a"]
    stored = store.conversation_get("c1")
    assert stored.state.handed_off and stored.state.handed_off_reason == "vip"
    assert stored.conversation.state == ConversationState(), "state is stored once, in its own columns"
    assert store.conversation_set_ticket("c1", "42").ticket_id == "42"
    assert store.conversation_set_alert("c1", "C1", "1.2").alert_ts == "1.2"
    assert store.conversation_find_by_ticket("42").id == "c1"
    assert store.conversation_set_ticket("nope", "1") is None


def test_lane_pause_and_budget_are_shared(opener):
    """A pause set through one store object is seen by another; the per-minute budget is one budget."""
    one, two = opener(), opener()
    one.lane_pause("zendesk", 500.0)
    one.lane_pause("zendesk", 100.0)
    assert two.lane_paused_until("zendesk") == 500.0
    grants = [s.lane_take("zendesk", 1000.0, 3) for s in (one, two, one, two)]
    assert grants == [0.0, 0.0, 0.0, 60.0]


def test_conversation_lock_serialises_one_conversation(opener):
    """Two holders of one conversation's lock never overlap; other conversations are not held up."""
    store = opener()
    inside: list[str] = []
    overlaps = 0

    async def hold(cid: str, tag: str) -> None:
        nonlocal overlaps
        async with store.conversation_lock(cid):
            if any(t.startswith(cid) for t in inside):
                overlaps += 1
            inside.append(f"{cid}:{tag}")
            await asyncio.sleep(0.02)
            inside.remove(f"{cid}:{tag}")

    async def main() -> None:
        await asyncio.gather(*(hold("c1", str(n)) for n in range(5)), hold("c2", "x"))

    asyncio.run(main())
    assert overlaps == 0


def test_postgres_lock_holds_across_replicas(pg_url):
    """The advisory lock excludes a second store object (another replica) until the first releases it."""
    one, two = open_store(pg_url), open_store(pg_url)
    order: list[str] = []

    async def main() -> None:
        # Events, not sleeps, order the steps: on a loaded machine the first lock may take longer than any
        # fixed head start. Only the "second must wait" half uses time, and it can only err towards passing.
        one_in, two_trying = asyncio.Event(), asyncio.Event()

        async def first() -> None:
            async with one.conversation_lock("c1"):
                order.append("one-in")
                one_in.set()
                await two_trying.wait()
                await asyncio.sleep(0.3)
                order.append("one-out")

        async def second() -> None:
            await one_in.wait()
            two_trying.set()
            async with two.conversation_lock("c1"):
                order.append("two-in")

        await asyncio.gather(first(), second())

    try:
        asyncio.run(main())
    finally:
        one.close()
        two.close()
    assert order == ["one-in", "one-out", "two-in"]


def test_postgres_migrations_run_once_when_replicas_start_together(pg_url):
    """Six replicas opening a fresh database at once: all start, each migration is recorded once."""
    import psycopg

    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def boot() -> None:
        start.wait()
        try:
            open_store(pg_url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=boot) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT component, version FROM schema_migrations ORDER BY 1, 2").fetchall()
    assert rows == [
        ("worker", 1),
        ("worker_transcripts", 1),
        ("worker_volume", 1),
        ("worker_volume", 2),
        ("worker_volume", 3),
    ]


def test_sqlite_second_worker_is_refused_postgres_is_not(tmp_path, pg_url):
    """SQLite refuses a second worker process on one file; PostgreSQL lets every replica open the store."""
    from connectors.store import StoreLockedError

    first = open_store(f"sqlite:///{tmp_path}/s.db", exclusive=True)
    with pytest.raises(StoreLockedError, match="PostgreSQL"):
        open_store(f"sqlite:///{tmp_path}/s.db", exclusive=True)
    first.close()
    a, b = open_store(pg_url, exclusive=True), open_store(pg_url, exclusive=True)
    a.close()
    b.close()
    assert isinstance(first, SQLiteStore)


def _after(t: float) -> float:
    """A clock reading strictly later than ``t``: separates "older than" from "newer" without sleeping."""
    now = time.time()
    while now <= t:
        now = time.time()
    return now


def test_purge_removes_raw_text_past_the_retention_and_keeps_pending_work(opener):
    """Old conversations, answers and finished payloads are purged; newer rows and pending work are kept."""
    store = opener()
    old = ConversationRecord(
        conversation=Conversation(id="c-old", messages=(Message(role="customer", text="card 4111"),))
    )
    store.save_turn(old, "msg:c-old:1", {"answer": "old"}, [_action("old-done"), _action("old-dead")])
    store.outbox_enqueue([_action("old-pending")])
    store.inbox_add("zendesk", "inv-old-done", "trigger", {"comment": "my email is a@b.c"})
    store.inbox_add("zendesk", "inv-old-pending", "trigger", {"comment": "still to do"})
    now = time.time()
    done, dead, _pending = store.outbox_claim(now, 60, 10, lane="zendesk")
    store.outbox_done(done.id, {"ticket_id": 1})
    store.outbox_failed(dead.id, "permanent: 403", now, dead=True)
    inbox_done = next(i for i in store.inbox_claim(now, 60, 10) if i.dedupe_key == "inv-old-done")
    store.inbox_finish(inbox_done.id, InboxStatus.DONE)
    cutoff = _after(time.time())
    _after(cutoff)
    new = ConversationRecord(conversation=Conversation(id="c-new", messages=(Message(role="customer", text="hi"),)))
    store.save_turn(new, "msg:c-new:1", {"answer": "new"}, [_action("new-done")])
    (new_done,) = store.outbox_claim(time.time(), 60, 10, lane="zendesk")
    store.outbox_done(new_done.id)

    expected = {"conversation_messages": 1, "conversations": 1, "webchat_replies": 1, "inbox": 1, "outbox": 2}
    assert store.purge_raw(cutoff, dry_run=True) == expected
    assert store.conversation_get("c-old") is not None, "a dry run changes nothing"
    assert store.purge_raw(cutoff) == expected
    assert store.purge_raw(cutoff) == dict.fromkeys(expected, 0), "purging again finds nothing"

    assert store.conversation_get("c-old") is None and store.reply_get("msg:c-old:1") is None
    assert store.conversation_get("c-new") is not None and store.reply_get("msg:c-new:1") == {"answer": "new"}
    payloads = {i.dedupe_key: i.payload for i in store.outbox_list()}
    assert payloads["old-done"] == payloads["old-dead"] == {"purged": True}
    assert payloads["old-pending"] == {"k": "old-pending"} and payloads["new-done"] == {"k": "new-done"}
    assert store.outbox_get(done.id).result == {"ticket_id": 1}, "vendor ids are kept (not customer text)"
    assert not store.outbox_retry(dead.id) and store.outbox_retry_dead() == 0, "a purged action is never resent"
    inbox = {i.dedupe_key: i.payload for i in store.inbox_list()}
    assert inbox == {"inv-old-done": {"purged": True}, "inv-old-pending": {"comment": "still to do"}}
    assert not store.inbox_add("zendesk", "inv-old-done", "trigger", {}), "the purged row still deduplicates"


def test_store_says_whether_its_calls_are_round_trips(opener, request):
    """PostgreSQL says its calls are remote (the worker runs them in threads); SQLite says they are local."""
    store = opener()
    assert store.remote is (request.node.callspec.params["opener"] == "postgres")

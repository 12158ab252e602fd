"""Group commit of webhook deliveries: one transaction per turn of the event loop, an answer per delivery."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest

from connectors.store import NewDelivery, SQLiteStore, StoreError
from connectors.worker.group_commit import InboxGroupCommit
from connectors.worker.offload import Inline


def _delivery(key: str) -> NewDelivery:
    return NewDelivery("zendesk", key, "trigger", {"key": key})


def test_concurrent_deliveries_share_one_commit_and_each_gets_its_answer(tmp_path: Path) -> None:
    """50 deliveries arriving in one turn are stored in one transaction; repeats are answered 'seen before'."""
    store = SQLiteStore(tmp_path / "s.sqlite3")
    store.inbox_add("zendesk", "k0", "trigger", {})
    inbox = InboxGroupCommit(store, Inline())

    async def run() -> list[bool]:
        keys = [f"k{n}" for n in range(50)] + ["k7"]
        return await asyncio.gather(*(inbox.add(_delivery(k)) for k in keys))

    answers = asyncio.run(run())
    assert answers == [False] + [True] * 49 + [False]
    assert (inbox.commits, inbox.deliveries) == (1, 51)
    stored = store.inbox_claim(time.time(), 10, 100)
    assert sorted(i.dedupe_key for i in stored) == sorted(f"k{n}" for n in range(50))
    store.close()


def test_a_batch_larger_than_the_bound_is_split(tmp_path: Path) -> None:
    """More deliveries than ``max_batch`` in one turn: several transactions, every delivery stored once."""
    store = SQLiteStore(tmp_path / "s.sqlite3")
    inbox = InboxGroupCommit(store, Inline(), max_batch=8)

    async def run() -> list[bool]:
        return await asyncio.gather(*(inbox.add(_delivery(f"k{n}")) for n in range(20)))

    assert asyncio.run(run()) == [True] * 20
    assert (inbox.commits, inbox.deliveries) == (3, 20)
    assert len(store.inbox_claim(time.time(), 10, 100)) == 20
    store.close()


def test_a_failed_commit_fails_every_delivery_of_the_batch(tmp_path: Path) -> None:
    """If the store cannot be written, no delivery of the batch is reported stored (none may be acked)."""
    store = SQLiteStore(tmp_path / "s.sqlite3")
    inbox = InboxGroupCommit(store, Inline())
    store.close()

    async def run() -> list[bool | BaseException]:
        return await asyncio.gather(*(inbox.add(_delivery(f"k{n}")) for n in range(5)), return_exceptions=True)

    answers = asyncio.run(run())
    assert all(isinstance(a, StoreError) for a in answers), answers
    assert inbox.commits == 0


@pytest.mark.parametrize("batch", [1, 3])
def test_sequential_deliveries_commit_one_by_one(tmp_path: Path, batch: int) -> None:
    """A delivery that arrives alone is committed at the next turn of the loop, not held back for others."""
    store = SQLiteStore(tmp_path / "s.sqlite3")
    inbox = InboxGroupCommit(store, Inline())

    async def run() -> None:
        for n in range(4):
            await asyncio.gather(*(inbox.add(_delivery(f"k{n}-{b}")) for b in range(batch)))

    asyncio.run(run())
    assert (inbox.commits, inbox.deliveries) == (4, 4 * batch)
    store.close()


def test_worker_start_up_shortens_the_gil_switch_interval() -> None:
    """The worker's start-up leaves the event loop waiting at most 0.5 ms for the GIL held by a decision."""
    from connectors.worker.tuning import SWITCH_INTERVAL_SECONDS, shorten_switch_interval

    before = sys.getswitchinterval()
    try:
        shorten_switch_interval()
        assert SWITCH_INTERVAL_SECONDS < 0.005  # CPython's default
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_SECONDS)
    finally:
        sys.setswitchinterval(before)

"""Store calls on the event loop or in a thread pool: what each costs on SQLite and on PostgreSQL.

Why: the worker's store ports are synchronous; :mod:`connectors.worker.offload` runs them inline on
SQLite and in a bounded thread pool on PostgreSQL. This measures that choice on the calls a web-chat
turn and a webhook make (``inbox_add``, ``reply_get``, ``conversation_get``, ``save_turn``), run by
``concurrency`` coroutines at once on one event loop, each way:

- *calls/s*: throughput of the calls themselves;
- *loop lag p99 / max*: how late a 1 ms ticker on the same loop wakes up meanwhile, i.e. how long every
  other request (``/healthz``, another conversation, a Slack ack) waits behind the store. Each unit
  yields once after its four calls, as a request does; inline calls hold the loop for their duration.

PostgreSQL runs in a throw-away cluster (tests/pg.py) on this machine; a database on another host adds a
network round trip to every call, which only makes blocking the loop worse.

    .venv/bin/python bench/bench_store_calls.py [--calls 2000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from pg import start_cluster

from connectors.store import ConversationRecord, WorkerStore, open_store
from connectors.worker.offload import Inline, Offload, StoreCalls
from handoff_core import Conversation, Message


async def _ticker(lags: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(0.001)
        lags.append(time.perf_counter() - started - 0.001)


async def _run(store: WorkerStore, calls: StoreCalls, total: int, concurrency: int) -> tuple[float, list[float]]:
    """Each unit is a webhook insert plus a web-chat turn's reads and write (4 store calls)."""
    tag = uuid.uuid4().hex[:8]
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(total // 4):
        queue.put_nowait(n)

    async def worker() -> None:
        while not queue.empty():
            n = queue.get_nowait()
            cid = f"{tag}-{n}"
            await calls(store.inbox_add, "zendesk", cid, "ticket.updated", {"ticket_id": n})
            await calls(store.reply_get, f"msg:{cid}:m1")
            previous = await calls(store.conversation_get, cid)
            conversation = Conversation(id=cid, messages=(Message(role="customer", text=f"message {n}"),))
            record = ConversationRecord(conversation, ticket_id=None if previous is None else previous.ticket_id)
            await calls(store.save_turn, record, f"msg:{cid}:m1", {"action": "continue"}, [])
            await asyncio.sleep(0)  # a request yields between its calls (body, response); so does this unit

    lags: list[float] = []
    stop = asyncio.Event()
    ticker = asyncio.create_task(_ticker(lags, stop))
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    stop.set()
    await ticker
    return (total // 4) * 4 / elapsed, lags


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cluster = start_cluster()
        urls = [("SQLite", f"sqlite:///{tmp}/calls.sqlite3")]
        if cluster is not None:
            urls.append(("PostgreSQL", cluster.new_database()))
        else:
            print("PostgreSQL not installed: only SQLite measured", file=sys.stderr)
        try:
            for run in range(args.repeat):
                for name, url in urls:
                    store = open_store(url)
                    ways: list[tuple[str, StoreCalls]] = [("inline", Inline()), ("thread pool", Offload(8))]
                    for way, calls in ways if run % 2 == 0 else ways[::-1]:
                        rate, lags = asyncio.run(_run(store, calls, args.calls, args.concurrency))
                        calls.close()
                        rows.setdefault((name, way), []).append((rate, _p(lags, 0.99) * 1000, max(lags) * 1000))
                    store.close()
        finally:
            if cluster is not None:
                cluster.stop()
    print(f"{args.calls} store calls per run, {args.concurrency} coroutines, medians of {args.repeat} runs")
    print(f"{'store':<12}{'calls run':<14}{'calls/s':>10}{'loop lag p99 ms':>18}{'max ms':>9}")
    for (name, way), runs in rows.items():
        rate = statistics.median(r[0] for r in runs)
        p99 = statistics.median(r[1] for r in runs)
        worst = statistics.median(r[2] for r in runs)
        print(f"{name:<12}{way:<14}{rate:>10,.0f}{p99:>18.1f}{worst:>9.1f}")


if __name__ == "__main__":
    main()

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

``--transcript N[,M...]`` measures instead what the store costs one web-chat turn of a conversation that
already holds N messages (read the conversation, append the new message as the web chat does, store the
turn): CPU ms of the worker's process per turn (``time.process_time``: the client side; PostgreSQL's own
server CPU is not in it), median of ``--turns`` turns, on SQLite and PostgreSQL. ``--baseline DIR`` runs
the same turns on another checkout (``git worktree add DIR <commit>``), interleaved, each in a fresh
process: the one-document store before the transcript rows against this one. "cold" is the first read by
a store object that has not seen the conversation (a restarted worker, another replica).
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


#: One checkout's turns, run in a fresh process with that checkout first on ``sys.path``.
TRANSCRIPT_CHILD = r"""
import json, statistics, sys, time
sys.path.insert(0, sys.argv[1])
from connectors.store import ConversationRecord, open_store
from handoff_core import Conversation, ConversationState, Message

url, size, turns = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
cid = f"t-{size}-{time.time_ns()}"
texts = ["Where is my order? It has not arrived and the tracking page shows nothing since Monday.",
         "Thanks, let me check that for you. The parcel left our warehouse yesterday."]
messages = tuple(Message(role="customer" if i % 2 == 0 else "assistant", text=f"{texts[i % 2]} ({i})", id=f"m{i}")
                 for i in range(size))
store = open_store(url)
store.save_turn(ConversationRecord(Conversation(id=cid, messages=messages)), f"msg:{cid}:setup", {"a": 1}, [])
store.close()
store = open_store(url)


def turn(n):
    previous = store.conversation_get(cid)
    before = previous.conversation
    new = Message.model_construct(role="customer", text=f"{texts[0]} ({n})", created_at=None, confidence=None,
                                  fallback=False, id=f"m{n}")
    conversation = Conversation.model_construct(id=cid, channel="webchat", customer=before.customer,
        context=before.context, language=before.language, messages=(*before.messages, new)[-2000:],
        state=ConversationState())
    fields = dict(conversation=conversation, state=previous.state, ticket_id=previous.ticket_id)
    if "stamp" in ConversationRecord.__dataclass_fields__:
        fields["stamp"] = previous.stamp
    store.save_turn(ConversationRecord(**fields), f"msg:{cid}:m{n}", {"action": "continue"}, [])


cpu = time.process_time(); wall = time.perf_counter()
turn(size)
cold = ((time.process_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000)
cpus, walls = [], []
for n in range(size + 1, size + 1 + turns):
    cpu = time.process_time(); wall = time.perf_counter()
    turn(n)
    cpus.append((time.process_time() - cpu) * 1000); walls.append((time.perf_counter() - wall) * 1000)
store.close()
print(json.dumps({"cpu": statistics.median(cpus), "wall": statistics.median(walls), "cold_cpu": cold[0],
                  "cold_wall": cold[1]}))
"""


def transcripts(args: argparse.Namespace) -> None:
    """Per-turn store cost at each transcript size, this checkout against ``--baseline``, interleaved."""
    import json
    import os
    import subprocess

    sizes = [int(x) for x in args.transcript.split(",")]
    checkouts = [("this", Path(__file__).resolve().parents[1])]
    if args.baseline is not None:
        checkouts.insert(0, ("baseline", args.baseline.resolve()))
    results: dict[tuple[str, str, int], list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cluster = None if args.sqlite_only else start_cluster()
        try:
            for run in range(args.repeat):
                for name, root in checkouts if run % 2 == 0 else checkouts[::-1]:
                    urls = [("SQLite", f"sqlite:///{tmp}/{name}-{run}.sqlite3")]
                    if cluster is not None:
                        urls.append(("PostgreSQL", cluster.new_database()))
                    for store_name, url in urls:
                        for size in sizes:
                            out = subprocess.run(
                                [sys.executable, "-c", TRANSCRIPT_CHILD, str(root), url, str(size), str(args.turns)],
                                capture_output=True,
                                text=True,
                                check=True,
                                env={**os.environ, "PYTHONPATH": str(root)},
                            )
                            results.setdefault((store_name, name, size), []).append(json.loads(out.stdout))
        finally:
            if cluster is not None:
                cluster.stop()
    print(f"store cost of one web-chat turn (read, append, store), medians of {args.repeat} runs x {args.turns} turns;")
    print(f"load average {os.getloadavg()[0]:.1f}")
    print(
        f"{'store':<12}{'checkout':<10}{'messages':>9}{'CPU ms':>9}{'wall ms':>9}{'cold CPU ms':>13}{'cold wall':>11}"
    )
    for (store_name, name, size), runs in sorted(results.items(), key=lambda kv: (kv[0][0], kv[0][2], kv[0][1])):
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(
            f"{store_name:<12}{name:<10}{size:>9,}{med['cpu']:>9.3f}{med['wall']:>9.3f}"
            f"{med['cold_cpu']:>13.3f}{med['cold_wall']:>11.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--transcript", help="comma-separated transcript sizes: the per-turn store cost instead")
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--baseline", type=Path, help="with --transcript: another checkout, measured alongside")
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    if args.transcript:
        transcripts(args)
        return
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

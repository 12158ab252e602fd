"""A million decisions through the worker's own decision path, in one process, sampling its memory.

Why in-process and through the ASGI app: the number that matters is the resident memory of a worker that
has decided a million times, with every cache it keeps (the core's token and word caches, the worker's
analysis cache, the store's connections, the audit log) at the size a long run gives them. So this
script builds the real app with :func:`connectors.worker.app.create_app`, runs its lifespan (the same
start-up as ``handoff serve``: runtime, memory bounds, processors) and feeds it web-chat messages through
the route's own turn function (``webchat_routes._message_turn`` and ``_turn``): parsing the body, the
per-conversation lock, the decision pool, the audit record and the stored turn are the worker's; only
the socket and FastAPI's request plumbing are left out (``--http`` posts through httpx's ASGI transport
instead: the same path plus ~1.7 ms of CPU per decision, too slow for a million on a shared machine).

Traffic: multi-turn conversations, every message decided as it arrives (:func:`conversations`). Each
follows one of the benchmark corpus's conversations (``bench/corpus/conversations.jsonl``: real public
support messages in five languages from ``bench/corpus/messages.jsonl``, with the assistant's replies
between them), cut to 5 to 15 messages, with the new words real traffic brings (Heaps' law: a support
stream keeps producing words never seen before): in the customer's messages an order number in half,
a typo (two letters swapped) in 40 %, a never-seen name or word in 30 %: about 1.2 new tokens per
message on top of the corpus vocabulary, more than Heaps' law predicts for a million support messages
(roughly 0.3 to 3 million distinct words in 30 million tokens). A continuing conversation takes the
worker's incremental path (the analysis of the earlier messages is kept), as in production. By default
the customer keeps writing after a handoff, as the corpus conversations go on (the worker still decides
and records every message, and answers ``stay_silent``); ``--stop-at-handoff`` ends the conversation
there instead (more first messages: ~3.3 instead of ~2.0 ms of CPU a decision).

How much of the traffic lands on conversations already handed off matters: the worker keeps no
analysis of those (their turns cost less CPU and hold no cache). With the corpus's complaint-rich
conversations, letting every customer keep writing after the handoff made 73 % of the decisions such
turns. ``--after-handoff P`` lets a customer keep writing after the handoff with probability ``P``
(1 = the corpus conversation goes on, 0 = ``--stop-at-handoff``); the share of decisions made on a
conversation already handed off is printed with every sample (``handed_off_share``), so the mix that was
measured is stated beside its figures (docs/volume.md).

``--live``: the worker runs as a real deployment with Zendesk and Slack configured, so its memory
includes their clients (zenpy with requests, slack_sdk and slack_bolt) and the outbox lanes that use
them: the fake Zendesk and Slack of ``tests/fakes`` serve on 127.0.0.1 in a child process (so their
memory and CPU are not the worker's), zenpy is pointed at the fake as in the end-to-end tests, and every
handoff creates its Zendesk ticket (and a Slack alert when the policy asks) through the worker's outbox.

``--concurrency N``: N customers at once, each posting, waiting for the answer and posting again,
interleaved on the event loop (default 1). A message the worker refuses (503: overloaded or over its
budget) is counted in ``refused`` and posted again after :data:`RETRY_PAUSE`, as a client honouring
``Retry-After`` does. The soak is bound by the worker's CPU (one interpreter), so more streams bring it
closer to production's mix of conversations in flight but do not make it faster (docs/volume.md).

Output: JSON lines on stdout: every ``--every`` decisions the decisions so far, RSS and peak RSS
(``VmHWM``, MB), its anonymous and file-backed parts, decisions per second, CPU per decision, load
average, conversations and turns already handed off, refused messages, and (``--live``) the outbox rows
still pending; a final line with the sizes of the bounded caches.

Run (about 35 minutes of CPU for a million): ``OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/soak_worker.py
--decisions 1000000 --database /tmp/volume_soak/worker.sqlite3`` (add ``--live --after-handoff 0.25`` for
the figures docs/volume.md quotes).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import random
import signal
import socket
import string
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONVERSATIONS = ROOT / "bench" / "corpus" / "conversations.jsonl"
#: Secrets and tokens the fakes accept (tests/fakes), as the end-to-end tests use them.
ZENDESK_SECRET = "zd-webhook-secret"
SLACK_SIGNING_SECRET = "slack-signing-secret"
WEBCHAT_SECRET = "webchat-secret-for-tests"
#: Seconds a stream waits before posting a refused message again (a client honouring ``Retry-After``).
RETRY_PAUSE = 0.2


def status_mb(field: str) -> float:
    """A memory field of ``/proc/self/status`` (``VmRSS``, ``VmHWM``) in MB."""
    return int(Path("/proc/self/status").read_text().split(f"{field}:")[1].split()[0]) / 1024


def rss_mb() -> float:
    return status_mb("VmRSS")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_fakes(zendesk_port: int, slack_port: int) -> None:
    """The fake Zendesk and Slack (tests/fakes) on 127.0.0.1, in their own process."""
    import threading

    import uvicorn

    sys.path.insert(0, str(ROOT / "tests"))
    from fakes.slack import FakeSlack
    from fakes.zendesk import FakeZendesk

    zendesk = FakeZendesk(base_url=f"http://127.0.0.1:{zendesk_port}")
    for name in ("Support", "Billing", "Escalations", "Trust & Safety", "VIP Support", "Sales", "Legal & Compliance"):
        zendesk.add_group(name)

    def run(app: Any, port: int) -> None:
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", access_log=False, lifespan="on")

    threading.Thread(target=run, args=(zendesk, zendesk_port), daemon=True).start()
    run(FakeSlack(), slack_port)


def start_fakes() -> multiprocessing.process.BaseProcess:
    """Start the fakes and point the worker's settings (environment) at them, as a live deployment's."""
    zendesk_port, slack_port = free_port(), free_port()
    fakes = multiprocessing.get_context("spawn").Process(
        target=serve_fakes, args=(zendesk_port, slack_port), daemon=True
    )
    fakes.start()
    for port in (zendesk_port, slack_port):
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the fakes did not start") from None
                time.sleep(0.2)
    # Zendesk's lane at 200 actions a minute (about 600 API requests: Zendesk Enterprise allows 700 a minute):
    # a soak decides a million times in about an hour and hands off tens of conversations a second, which no
    # Zendesk account accepts. The lane works steadily through the whole soak; what waits stays in the store.
    os.environ.setdefault("ZENDESK_ACTIONS_PER_MINUTE", "200")
    os.environ.update(
        {
            "ZENPY_FORCE_SCHEME": "http",
            "ZENPY_FORCE_NETLOC": f"127.0.0.1:{zendesk_port}",
            "ZENDESK_SUBDOMAIN": "acme",
            "ZENDESK_EMAIL": "bot@example.com",
            "ZENDESK_API_TOKEN": "zd-api-token-for-tests",
            "ZENDESK_WEBHOOK_SECRET": ZENDESK_SECRET,
            "SLACK_BOT_TOKEN": "xoxb-test-token-for-tests",
            "SLACK_SIGNING_SECRET": SLACK_SIGNING_SECRET,
            "SLACK_ALERT_CHANNEL": "C0ALERTS",
            "SLACK_API_URL": f"http://127.0.0.1:{slack_port}/api/",
            "WEBCHAT_SECRET": WEBCHAT_SECRET,
        }
    )
    return fakes


def varied(text: str, rnd: random.Random) -> str:
    """``text`` as a customer types it, with the new words of real traffic (see the module docstring)."""
    words = text.split()
    if rnd.random() < 0.4:
        long = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
        if long:
            i = rnd.choice(long)
            w = words[i]
            j = rnd.randrange(len(w) - 1)
            words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    if rnd.random() < 0.3:
        words.append("".join(rnd.choice(string.ascii_lowercase) for _ in range(rnd.randint(5, 9))).capitalize())
    if rnd.random() < 0.5:
        words.append(f"order #{rnd.randrange(10**6, 10**8)}")
    return " ".join(words)[:50_000]


def conversations(rnd: random.Random) -> Iterator[list[tuple[str, str]]]:
    """Endless multi-turn conversations: (role, text) per message, 5 to 15 messages each.

    Each one follows a conversation of the benchmark corpus (``bench/corpus/conversations.jsonl``: real
    customer messages in five languages, the assistant's replies between them) with 5 or more messages,
    cut to a random length of 5 to 15, its customer messages varied as customers type them
    (:func:`varied`), so that no two soak conversations repeat and new words keep coming.
    """
    shapes = [
        [(m["role"], m["text"]) for m in json.loads(line)["messages"]]
        for line in CONVERSATIONS.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    shapes = [shape for shape in shapes if len(shape) >= 5]
    while True:
        shape = rnd.choice(shapes)
        length = min(len(shape), rnd.randint(5, 15))
        yield [(role, varied(text, rnd) if role == "customer" else text) for role, text in shape[:length]]


async def run(
    decisions: int,
    every: int,
    *,
    direct: bool,
    after_handoff: float,
    live: bool,
    concurrency: int = 1,
    trace: Any = None,
) -> None:
    from connectors.settings import Settings
    from connectors.worker.app import create_app
    from connectors.worker.pool import DecisionOverload, DecisionTimeout
    from connectors.worker.webchat_routes import _message_turn, _turn

    settings = Settings()
    app = create_app(settings)
    rnd = random.Random(15)
    stays = random.Random(16)  # its own stream: the conversations are the same whatever --after-handoff says
    started = time.perf_counter()
    cpu0 = time.process_time()
    counts = {"conversations": 0, "handed_off_turns": 0, "refused": 0}

    def pending() -> dict[str, int]:
        if not live:
            return {}
        backlog = app.state.worker.store.backlog()
        return {f"{b.queue}_{b.lane}_pending": b.pending for b in backlog if b.pending or b.dead} | {
            f"{b.queue}_{b.lane}_dead": b.dead for b in backlog if b.dead
        }

    def sample(n: int) -> None:
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu0
        line = {
            "decisions": n,
            "rss_mb": round(rss_mb(), 1),
            "peak_rss_mb": round(status_mb("VmHWM"), 1),
            "anon_mb": round(status_mb("RssAnon"), 1),
            "file_mb": round(status_mb("RssFile"), 1),
            "threads": threading.active_count(),
            "per_second": round(n / wall, 1) if wall else 0.0,
            "cpu_ms_per_decision": round(1000 * cpu / n, 2) if n else 0.0,
            "cpu_s": round(cpu, 1),
            "wall_s": round(wall, 1),
            "load": round(os.getloadavg()[0], 1),
            **counts,
            "handed_off_share": round(counts["handed_off_turns"] / n, 3) if n else 0.0,
            **pending(),
        }
        print(json.dumps(line), flush=True)

    async with app.router.lifespan_context(app), contextlib.AsyncExitStack() as stack:
        client: Any = None
        if not direct:
            # Imported only here: httpx (with the rich, click and pygments its own command line loads when
            # they are installed, ~18 MB of RSS) is the harness's, not the worker's, and a worker never
            # imports it; measured in-process, it would be charged to the worker's memory.
            import httpx

            transport = httpx.ASGITransport(app=app)
            client = await stack.enter_async_context(httpx.AsyncClient(transport=transport, base_url="http://worker"))
        sample(0)
        stream = conversations(rnd)
        done = 0  # decisions made (a refused one is not counted)

        async def decide(body: dict[str, Any]) -> dict[str, Any] | None:
            """One message through the worker: its reply, or None when the worker refused it (503)."""
            if not direct:
                answer = await client.post("/v1/webchat/messages", json=body)
                if answer.status_code == 503:
                    return None
                if answer.status_code != 200:
                    raise SystemExit(f"decision {done + 1}: {answer.status_code} {answer.text[:300]}")
                reply: dict[str, Any] = answer.json()
                return reply
            given = _message_turn(json.dumps(body).encode())
            try:
                reply, _ = await _turn(app.state.webchat, given.seed, given.key, given.message_id, given.build)
            except (DecisionTimeout, DecisionOverload):
                # What the route answers with a 503 (overloaded, or the machine starved the decision of CPU
                # past its budget).
                return None
            return reply

        async def stream_of_conversations() -> None:
            """One customer after another, each writing and waiting for the answer before the next message."""
            nonlocal done
            while done < decisions:
                messages = next(stream)
                counts["conversations"] += 1
                number = counts["conversations"]
                conversation_id = f"soak-{number}"
                # A live widget knows the signed-in customer (Zendesk needs a requester); 5 % VIPs.
                customer = {"email": f"customer{number}@example.com", "tags": ["vip"] if number % 20 == 0 else []}
                for turn, (role, text) in enumerate(messages, start=1):
                    if done >= decisions:
                        return
                    body: dict[str, Any] = {
                        "conversation_id": conversation_id,
                        "message_id": f"m{turn}",
                        "role": role,
                        "text": text,
                    }
                    if live:
                        body["customer"] = customer
                    reply = await decide(body)
                    while reply is None:
                        # Refused (503 overloaded: the decision pool's expected wait passed
                        # DECISION_MAX_WAIT_SECONDS, as it does when several streams share a busy machine):
                        # counted, and posted again after a pause, as a client honouring Retry-After does.
                        counts["refused"] += 1
                        await asyncio.sleep(RETRY_PAUSE)
                        reply = await decide(body)
                    if done >= decisions:
                        return  # another stream made the last decision while this one waited
                    done += 1
                    counts["handed_off_turns"] += bool(reply["stay_silent"])
                    if done % every == 0 or done == decisions:
                        sample(done)
                        if trace is not None:
                            trace(done)
                    if reply["stay_silent"] and stays.random() >= after_handoff:
                        break  # the customer stops writing to the assistant after the handoff

        await asyncio.gather(*(stream_of_conversations() for _ in range(concurrency)))
        caches = cache_sizes(app.state.webchat.handoffs.analyses)
        print(
            json.dumps({"caches": caches, "rss_mb": round(rss_mb(), 1), "peak_rss_mb": round(status_mb("VmHWM"), 1)}),
            flush=True,
        )


def cache_sizes(analyses: Any) -> dict[str, object]:
    """Entries held by the bounded caches at the end (what a long run fills)."""
    from handoff_core.text import messages, normalize, sentences, stem

    sizes: dict[str, object] = {
        name: fn.cache_info().currsize
        for name, fn in (
            ("stem", stem.stem_cache),
            ("fold", normalize.fold_cache),
            ("word_key", sentences.word_key_cache),
        )
    }
    sizes["summary_tokens"] = len(messages._TOKENS)
    for memo in ("scan_message", "message_details_of", "analyze_message"):
        sizes[f"{memo}_bytes"] = getattr(messages, memo).cache.bytes
    sizes["analysis_cache_conversations"] = len(analyses)
    sizes["analysis_cache_messages"] = analyses.messages
    sizes["analysis_cache_bytes"] = analyses.bytes
    return sizes


def tracer(folder: Path) -> Any:
    """Start tracemalloc now (before the worker's imports) and return what dumps a snapshot at a sample."""
    import gc
    import tracemalloc

    folder.mkdir(parents=True, exist_ok=True)
    tracemalloc.start(8)

    def dump(n: int) -> None:
        gc.collect()
        tracemalloc.take_snapshot().dump(str(folder / f"{n}.tracemalloc"))

    dump(0)
    return dump


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--decisions", type=int, default=1_000_000)
    parser.add_argument(
        "--stop-at-handoff",
        action="store_true",
        help="end a conversation when the worker hands it off (the same as --after-handoff 0)",
    )
    parser.add_argument(
        "--after-handoff",
        type=float,
        default=1.0,
        help="probability that the customer keeps writing after the handoff, as the corpus conversation goes on"
        " (default 1: every message of the cut conversation is decided and recorded)",
    )
    parser.add_argument(
        "--live",
        action="store_true",
        help="Zendesk and Slack configured, pointed at the fakes of tests/fakes on 127.0.0.1 (a child process):"
        " the memory of a real deployment, with its vendor clients and outbox lanes",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="conversation streams interleaved on the event loop (default 1: one customer at a time); with more,"
        " the decision pool and the store work while another conversation waits on them, as in production",
    )
    parser.add_argument(
        "--tracemalloc",
        type=Path,
        metavar="DIR",
        help="trace Python allocations (slow: ~2x the CPU) and dump a snapshot at every sample to DIR/N.tracemalloc"
        " (compare two with bench/tracemalloc_diff.py): where the memory a long run adds was allocated",
    )
    parser.add_argument("--every", type=int, default=100_000, help="print RSS and speed every N decisions")
    parser.add_argument("--database", type=Path, required=True, help="a fresh SQLite file for the worker's store")
    parser.add_argument(
        "--http",
        action="store_true",
        help="post through the ASGI app (adds FastAPI's request handling: ~1.7 ms of CPU a decision)",
    )
    args = parser.parse_args()
    if args.database.exists():
        raise SystemExit(f"{args.database} exists: the soak starts from an empty store")
    args.database.parent.mkdir(parents=True, exist_ok=True)
    os.environ["HANDOFF_DATABASE_URL"] = f"sqlite:///{args.database}"
    os.environ.setdefault("LOG_LEVEL", "warning")
    sys.path.insert(0, str(ROOT))
    if args.concurrency < 1:
        raise SystemExit("--concurrency must be 1 or more")
    # ``kill PID`` (SIGTERM) ends the soak through ``finally`` below, so the fakes' process ends with it
    # instead of living on without its parent.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    fakes = start_fakes() if args.live else None
    after_handoff = 0.0 if args.stop_at_handoff else args.after_handoff
    trace = None
    if args.tracemalloc is not None:
        trace = tracer(args.tracemalloc)
    try:
        asyncio.run(
            run(
                args.decisions,
                args.every,
                direct=not args.http,
                after_handoff=after_handoff,
                live=args.live,
                concurrency=args.concurrency,
                trace=trace,
            )
        )
    finally:
        if fakes is not None:
            fakes.terminate()
            fakes.join(10)


if __name__ == "__main__":
    main()

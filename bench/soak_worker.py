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

Traffic: messages from the benchmark corpus (``bench/corpus/messages.jsonl``: real public support
messages in five languages), grouped into conversations of 1 to 6 customer messages, with the new
words real traffic brings (Heaps' law: a support stream keeps producing words never seen before):
an order number in half of the messages, a typo (two letters swapped) in 40 %, a never-seen name or word
in 30 %: about 1.2 new tokens per message on top of the corpus vocabulary, more than Heaps' law predicts
for a million support messages (roughly 0.3 to 3 million distinct words in 30 million tokens).

Output: JSON lines on stdout, one per sample: decisions so far, RSS (MB), decisions per second, and a
final line with the ``tracemalloc``-free breakdown of the largest caches.

Run (about an hour of CPU for a million): ``OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/soak_worker.py
--decisions 1000000 --database /tmp/volume_soak/worker.sqlite3``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import string
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "bench" / "corpus" / "messages.jsonl"


def rss_mb() -> float:
    return int(Path("/proc/self/status").read_text().split("VmRSS:")[1].split()[0]) / 1024


def varied(text: str, rnd: random.Random, n: int) -> str:
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


async def run(decisions: int, samples: int, *, direct: bool) -> None:
    from connectors.settings import Settings
    from connectors.worker.app import create_app
    from connectors.worker.webchat_routes import _message_turn, _turn

    corpus = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines() if line]
    settings = Settings()
    app = create_app(settings)
    rnd = random.Random(15)
    every = max(1, decisions // samples)
    started = time.perf_counter()
    cpu0 = time.process_time()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://worker") as client:
            print(json.dumps({"decisions": 0, "rss_mb": round(rss_mb(), 1)}), flush=True)
            conversation, left, turn = 0, 0, 0
            for n in range(1, decisions + 1):
                if left == 0:
                    conversation += 1
                    left, turn = rnd.randint(1, 6), 0
                left -= 1
                turn += 1
                body = {
                    "conversation_id": f"soak-{conversation}",
                    "message_id": f"m{turn}",
                    "role": "customer",
                    "text": varied(rnd.choice(corpus), rnd, n),
                }
                if direct:
                    given = _message_turn(json.dumps(body).encode())
                    await _turn(app.state.webchat, given.seed, given.key, given.message_id, given.build)
                else:
                    answer = await client.post("/v1/webchat/messages", json=body)
                    if answer.status_code != 200:
                        raise SystemExit(f"decision {n}: {answer.status_code} {answer.text[:300]}")
                if n % every == 0 or n == decisions:
                    wall = time.perf_counter() - started
                    print(
                        json.dumps(
                            {
                                "decisions": n,
                                "rss_mb": round(rss_mb(), 1),
                                "per_second": round(n / wall, 1),
                                "cpu_s": round(time.process_time() - cpu0, 1),
                                "wall_s": round(wall, 1),
                            }
                        ),
                        flush=True,
                    )
            caches = cache_sizes(app.state.webchat.handoffs.analyses)
            print(json.dumps({"caches": caches, "rss_mb": round(rss_mb(), 1)}), flush=True)


def cache_sizes(analyses: Any) -> dict[str, object]:
    """Entries held by the bounded caches at the end (what a long run fills)."""
    from handoff_core.text import messages, normalize, sentences, stem

    sizes: dict[str, object] = {
        name: fn.cache_info().currsize
        for name, fn in (
            ("stem", stem.stem),
            ("fold", normalize.fold),
            ("word_key", sentences.word_key),
            ("summary_token", messages._token),
        )
    }
    sizes["summary_messages_bytes"] = messages.analyze_message.cache.bytes
    sizes["analysis_cache_conversations"] = len(analyses)
    sizes["analysis_cache_messages"] = analyses.messages
    sizes["analysis_cache_bytes"] = analyses.bytes
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--decisions", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=40, help="RSS samples over the run")
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
    asyncio.run(run(args.decisions, args.samples, direct=not args.http))


if __name__ == "__main__":
    main()

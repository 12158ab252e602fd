"""Where the event loop's CPU goes on a web-chat message: cProfile of the worker's own thread.

Why: with decisions in a process (``DECISION_PROCESSES``) the event loop's own work per request (body,
authentication, parsing, store, audit, the answer) is what limits the web chat; ``bench_webhooks.py``
measures its total from /proc, this says where it goes. The worker is built as deployed (local mode,
SQLite, inbox and outbox processors on, one decision process) and driven in-process through its ASGI
entry point (a request handed over as uvicorn does: the path of the bare handlers, without uvicorn's HTTP parsing, which
``bench_webhooks.py`` counts). Only the main thread is profiled: the decisions run in the child process.

    .venv/bin/python bench/profile_webchat.py [--requests 300] [--kind 2kb|continue] [--top 40]

``--kind 2kb``: each request the first 2 KB message of a new conversation (``bench_webhooks.py``'s
``webchat_2kb``); ``continue``: one conversation that grows by one short message per request (the store's
transcript path). Prints CPU ms per request on the loop's thread (``time.thread_time``) and the profile.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: ``--checkout DIR`` (read before the imports below): profile another checkout's worker, same requests.
CHECKOUT = Path(sys.argv[sys.argv.index("--checkout") + 1]).resolve() if "--checkout" in sys.argv else ROOT
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(CHECKOUT))

from bench_webhooks import two_kb_messages  # noqa: E402

from connectors.settings import Settings  # noqa: E402
from connectors.worker.app import create_app  # noqa: E402


def _bodies(kind: str, count: int) -> list[bytes]:
    run = uuid.uuid4().hex[:8]
    if kind == "2kb":
        texts = two_kb_messages()
        return [
            json.dumps(
                {
                    "conversation_id": f"p-{run}-{n}",
                    "message_id": "m1",
                    "role": "customer",
                    "text": texts[n % len(texts)],
                }
            ).encode()
            for n in range(count)
        ]
    return [
        json.dumps(
            {
                "conversation_id": f"p-{run}",
                "message_id": f"m{n}",
                "role": "assistant" if n % 2 else "customer",
                "text": "Thanks, the parcel left the warehouse yesterday." if n % 2 else f"ok, order {n} noted, thanks",
            }
        ).encode()
        for n in range(count)
    ]


async def _post(app: Any, body: bytes) -> None:
    """One request through the app's ASGI entry point, as uvicorn hands it over (no client on this thread)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/webchat/messages",
        "raw_path": b"/v1/webchat/messages",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"w"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    sent = False
    status = 0
    out: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            out.append(message.get("body", b""))

    await app(scope, receive, send)
    if status != 200:
        raise SystemExit(f"{status}: {b''.join(out)[:300]!r}")


async def _run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, handoff_database_url=f"sqlite:///{tmp}/w.db", decision_max_wait_seconds=30)
        app = create_app(settings)
        bodies = _bodies(args.kind, args.warmup + args.requests)
        async with app.router.lifespan_context(app):
            if True:

                async def post(body: bytes) -> None:
                    await _post(app, body)

                for body in bodies[: args.warmup]:
                    await post(body)
                profile = cProfile.Profile(time.thread_time) if args.top else None  # CPU, not wall time
                cpu = time.thread_time()
                wall = time.perf_counter()
                if profile is not None:
                    profile.enable()
                for body in bodies[args.warmup :]:
                    await post(body)
                if profile is not None:
                    profile.disable()
                cpu = time.thread_time() - cpu
                wall = time.perf_counter() - wall
        print(
            f"{args.kind}: {args.requests} requests, loop thread CPU {1000 * cpu / args.requests:.3f} ms/request"
            f" ({'profiled' if profile else 'not profiled'}), wall {1000 * wall / args.requests:.2f} ms/request,"
            f" load average {os.getloadavg()[0]:.1f}, checkout {CHECKOUT}"
        )
        if profile is not None:
            stats = pstats.Stats(profile).sort_stats(args.sort)
            stats.print_stats(args.top)
            if args.callers:
                stats.print_callers(args.callers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--kind", choices=("2kb", "continue"), default="2kb")
    parser.add_argument("--top", type=int, default=40, help="profile rows to print (0: no profile, CPU only)")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--checkout", type=Path, default=ROOT, help="the checkout whose worker is profiled")
    parser.add_argument("--callers", default="", help="print the callers of the functions matching this")
    asyncio.run(_run(parser.parse_args()))


if __name__ == "__main__":
    main()

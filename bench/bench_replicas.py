"""Sizing: handoffs per second with 1 or 3 worker replicas, on SQLite and on PostgreSQL.

Each configuration starts real ``handoff serve`` processes against the fake Zendesk and Slack servers
(run in their own process), then posts N web-chat handoffs (a VIP customer's message: a decision, a
Zendesk ticket with the transcript and a Slack alert each) round-robin over the replicas with C
concurrent connections. Two numbers per configuration:

- *decided/s*: web-chat turns answered per second (the synchronous part: decide, store, answer);
- *delivered/s*: handoffs completed per second, from the first request until every ticket and alert
  is sent (outbox empty): what a support team sees.

SQLite with 3 replicas is not measured: the store refuses a second worker process on one file (that is
the point; replicas need PostgreSQL). PostgreSQL runs in a throw-away cluster (tests/pg.py); without
its binaries only SQLite is measured.

    .venv/bin/python bench/bench_replicas.py [--handoffs 300] [--concurrency 12] [--repeat 1]

``--baseline DIR`` also runs the replicas of another checkout (``git worktree add DIR <commit>``) on the
same load, alternating which goes first, and prints both (medians of ``--repeat`` runs).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fakes.fixtures import SLACK_SIGNING_SECRET, WEBCHAT_SECRET, ZENDESK_SECRET
from fakes.signing import webchat_headers
from pg import start_cluster

HANDOFF = str(Path(sys.executable).with_name("handoff"))


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve_fakes(zendesk_port: int, slack_port: int) -> None:
    """The fakes in their own process, so the load generator does not share their GIL."""
    import threading

    import uvicorn
    from fakes.slack import FakeSlack
    from fakes.zendesk import FakeZendesk

    zendesk = FakeZendesk(base_url=f"http://127.0.0.1:{zendesk_port}")
    slack = FakeSlack()

    def run(app: Any, port: int) -> None:
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", access_log=False, lifespan="on")

    threading.Thread(target=run, args=(zendesk, zendesk_port), daemon=True).start()
    run(slack, slack_port)


def _env(db_url: str, zendesk_port: int, slack_port: int, port: int) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "OPENBLAS_NUM_THREADS": "1",
        "ZENPY_FORCE_SCHEME": "http",
        "ZENPY_FORCE_NETLOC": f"127.0.0.1:{zendesk_port}",
        "ZENDESK_SUBDOMAIN": "acme",
        "ZENDESK_EMAIL": "bot@example.com",
        "ZENDESK_API_TOKEN": "zd-api-token-for-tests",  # what the fake Zendesk accepts
        "ZENDESK_WEBHOOK_SECRET": ZENDESK_SECRET,
        "SLACK_BOT_TOKEN": "xoxb-test-token-for-tests",  # what the fake Slack accepts
        "SLACK_SIGNING_SECRET": SLACK_SIGNING_SECRET,
        "SLACK_ALERT_CHANNEL": "C0ALERTS",
        "SLACK_API_URL": f"http://127.0.0.1:{slack_port}/api/",
        "WEBCHAT_SECRET": WEBCHAT_SECRET,
        "HANDOFF_DATABASE_URL": db_url,
        "OUTBOX_POLL_INTERVAL": "0.05",
        "LOG_LEVEL": "warning",
        "PORT": str(port),
    }


def _command(root: Path | None) -> list[str]:
    """``handoff serve`` of this checkout, or of the checkout at ``root`` (same interpreter and packages)."""
    if root is None:
        return [HANDOFF, "serve"]
    code = (
        f"import sys; sys.path.insert(0, {str(root)!r});"
        " from connectors.cli import cli; cli(['serve'], prog_name='handoff')"
    )
    return [sys.executable, "-c", code]


def _start(
    db_url: str, zendesk_port: int, slack_port: int, n: int, cwd: str, root: Path | None = None
) -> list[tuple[subprocess.Popen[bytes], str]]:
    replicas = []
    for i in range(n):
        port = _free_port()
        log = Path(cwd) / f"replica-{port}-{i}.log"
        proc = subprocess.Popen(
            _command(root),
            env=_env(db_url, zendesk_port, slack_port, port),
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=log.open("wb"),
        )
        replicas.append((proc, f"http://127.0.0.1:{port}"))
    for proc, url in replicas:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                logs = sorted(Path(cwd).glob(f"replica-{url.rsplit(':', 1)[1]}-*.log"))
                tail = logs[0].read_text(errors="replace")[-1500:] if logs else ""
                raise SystemExit(f"replica {url} did not start:\n{tail}")
            time.sleep(0.2)
    return replicas


async def _load(urls: list[str], handoffs: int, concurrency: int, tag: str) -> float:
    """Post ``handoffs`` VIP web-chat messages round-robin; return the seconds it took to answer them all."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(handoffs):
        queue.put_nowait(n)
    async with httpx.AsyncClient(timeout=60) as client:

        async def worker() -> None:
            while not queue.empty():
                n = queue.get_nowait()
                cid = f"{tag}-{n}"
                body = (
                    f'{{"conversation_id":"{cid}","message_id":"m1","role":"customer",'
                    f'"text":"My card was charged twice for order {n}, please help",'
                    f'"customer":{{"name":"Vi {n}","email":"{cid}@example.com","tags":["vip"]}}}}'
                ).encode()
                response = await client.post(
                    f"{urls[n % len(urls)]}/v1/webchat/messages",
                    content=body,
                    headers=webchat_headers(WEBCHAT_SECRET, body),
                )
                if response.status_code != 200 or response.json()["action"] != "handoff":
                    raise SystemExit(f"unexpected answer {response.status_code}: {response.text[:200]}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started


def _measure(
    db_url: str, replicas: int, handoffs: int, concurrency: int, cwd: str, root: Path | None = None
) -> dict[str, float]:
    from connectors.store import OutboxStatus, open_store

    zendesk_port, slack_port = _free_port(), _free_port()
    fakes = multiprocessing.get_context("spawn").Process(
        target=_serve_fakes, args=(zendesk_port, slack_port), daemon=True
    )
    fakes.start()
    procs = _start(db_url, zendesk_port, slack_port, replicas, cwd, root)
    try:
        urls = [url for _, url in procs]
        asyncio.run(_load(urls, 20, concurrency, "warm"))  # warm-up, not counted
        store = open_store(db_url)
        try:
            while store.outbox_counts()[OutboxStatus.PENDING]:
                time.sleep(0.05)
            done_before = store.outbox_counts()[OutboxStatus.DONE]
            started = time.perf_counter()
            answered = asyncio.run(_load(urls, handoffs, concurrency, "run"))
            expected = done_before + 2 * handoffs  # a ticket and an alert per handoff
            while (counts := store.outbox_counts())[OutboxStatus.DONE] < expected:
                if counts[OutboxStatus.DEAD]:  # a dead row never completes: say why instead of waiting
                    dead_rows = store.outbox_list([OutboxStatus.DEAD], limit=1)
                    raise SystemExit(f"an action was parked as dead: {dead_rows[0].last_error}")
                if time.perf_counter() - started > 600:
                    raise SystemExit("deliveries did not finish within 10 minutes")
                time.sleep(0.05)
            delivered = time.perf_counter() - started
            dead = store.outbox_counts()[OutboxStatus.DEAD]
        finally:
            store.close()
    finally:
        for proc, _ in procs:
            proc.send_signal(signal.SIGTERM)
        for proc, _ in procs:
            proc.wait(30)
        fakes.terminate()
        fakes.join(10)
    return {"decided": handoffs / answered, "delivered": handoffs / delivered, "dead": dead}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--handoffs", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--baseline", type=Path, help="a checkout of an earlier commit, measured on the same load")
    args = parser.parse_args()
    codes: list[tuple[str, Path | None]] = [("now", None)] + ([("baseline", args.baseline)] if args.baseline else [])
    results: dict[tuple[str, int, str], list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cluster = start_cluster()
        if cluster is None:
            print("PostgreSQL not installed: only SQLite measured", file=sys.stderr)
        try:
            for run in range(args.repeat):
                order = codes if run % 2 == 0 else codes[::-1]
                for store, n in (("SQLite", 1), ("PostgreSQL", 1), ("PostgreSQL", 3)):
                    if store == "PostgreSQL" and cluster is None:
                        continue
                    for code, root in order:
                        if store == "SQLite":
                            db_url = f"sqlite:///{tmp}/bench-{run}-{code}.sqlite3"
                        else:
                            assert cluster is not None
                            db_url = cluster.new_database()
                        measured = _measure(db_url, n, args.handoffs, args.concurrency, tmp, root)
                        results.setdefault((store, n, code), []).append(measured)
                print(f"run {run + 1}/{args.repeat} done", file=sys.stderr)
        finally:
            if cluster is not None:
                cluster.stop()
    print(
        f"{args.handoffs} web-chat handoffs (ticket + alert each), {args.concurrency} connections,"
        f" {os.cpu_count()} CPUs, medians of {args.repeat} run(s)"
    )
    print(f"{'store':<12}{'replicas':>9}{'code':>10}{'decided/s':>12}{'delivered/s':>13}{'dead':>6}   runs (decided)")
    for store, n in (("SQLite", 1), ("SQLite", 3), ("PostgreSQL", 1), ("PostgreSQL", 3)):
        if (store, n) == ("SQLite", 3):
            print(f"{store:<12}{n:>9}   refused: one worker process per SQLite file")
            continue
        for code, _ in codes:
            runs = results.get((store, n, code))
            if not runs:
                continue
            decided = statistics.median(r["decided"] for r in runs)
            delivered = statistics.median(r["delivered"] for r in runs)
            dead = max(r["dead"] for r in runs)
            each = ", ".join(f"{r['decided']:.1f}" for r in runs)
            print(f"{store:<12}{n:>9}{code:>10}{decided:>12.1f}{delivered:>13.1f}{dead:>6.0f}   {each}")


if __name__ == "__main__":
    main()

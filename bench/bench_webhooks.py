"""Benchmark webhook acknowledgement: the worker's signed Zendesk webhook vs a bare FastAPI endpoint.

Each server runs in its own process (uvicorn, one worker), the load generator in this one, so the
numbers compare like with like on the same machine in the same run:

1. throughput: N signed deliveries with C concurrent connections, requests per second;
2. latency: a paced 200 requests/second for D seconds, p50/p99/max of the acknowledgement.

The worker path does everything a real delivery does before answering 202: bounded body read,
signature check, JSON and payload parsing, durable insert into the SQLite inbox (WAL), wake-up of the
inbox processor (which runs, in local mode, in the same process).

    .venv/bin/python bench/bench_webhooks.py [--requests 3000] [--concurrency 32] [--rate 200] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fakes.signing import zendesk_headers

SECRET = "bench-webhook-secret"
KINDS = ("bare", "worker")
BODY = (
    b'{"handoff_guard": 1, "event": "ticket.updated", "ticket": {"id": "4242", "status": "open",'
    b' "tags": "vip billing", "updated_at": "2025-01-01T00:00:00Z"}}'
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(kind: str, port: int, db: str) -> None:
    import uvicorn
    from fastapi import FastAPI

    if kind == "bare":
        app = FastAPI()

        @app.post("/webhooks/zendesk", status_code=202)
        async def bare() -> dict[str, str]:
            return {"status": "accepted"}
    else:
        from connectors.settings import Settings
        from connectors.worker.app import create_app

        app = create_app(
            Settings(_env_file=None, zendesk_webhook_secret=SECRET, handoff_database_url=f"sqlite:///{db}"),
            processors=kind == "worker",
        )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", access_log=False)


def _wait_up(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.post(url, content=b"{}", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"server at {url} did not start")


def _request() -> tuple[bytes, dict[str, str]]:
    return BODY, zendesk_headers(SECRET, BODY, invocation_id=uuid.uuid4().hex)


async def _throughput(url: str, total: int, concurrency: int) -> float:
    prepared = [_request() for _ in range(total)]
    queue: asyncio.Queue[tuple[bytes, dict[str, str]]] = asyncio.Queue()
    for item in prepared:
        queue.put_nowait(item)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker() -> None:
            while not queue.empty():
                body, headers = queue.get_nowait()
                response = await client.post(url, content=body, headers=headers)
                if response.status_code not in (200, 202):
                    raise SystemExit(f"unexpected {response.status_code}: {response.text}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return total / (time.perf_counter() - started)


async def _paced(url: str, rate: float, seconds: float) -> list[float]:
    total = int(rate * seconds)
    prepared = [_request() for _ in range(total)]
    latencies: list[float] = []
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=64), timeout=30) as client:

        async def one(body: bytes, headers: dict[str, str]) -> None:
            started = time.perf_counter()
            response = await client.post(url, content=body, headers=headers)
            latencies.append(time.perf_counter() - started)
            if response.status_code not in (200, 202):
                raise SystemExit(f"unexpected {response.status_code}: {response.text}")

        start = time.perf_counter()
        tasks = []
        for i, (body, headers) in enumerate(prepared):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(body, headers)))
        await asyncio.gather(*tasks)
    return latencies


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in KINDS:
            port = _free_port()
            proc = multiprocessing.get_context("spawn").Process(
                target=_serve, args=(kind, port, f"{tmp}/bench.sqlite3"), daemon=True
            )
            proc.start()
            url = f"http://127.0.0.1:{port}/webhooks/zendesk"
            try:
                _wait_up(url)
                asyncio.run(_throughput(url, 300, args.concurrency))  # warm-up
                rps = asyncio.run(_throughput(url, args.requests, args.concurrency))
                lat = asyncio.run(_paced(url, args.rate, args.seconds))
            finally:
                proc.terminate()
                proc.join(10)
            results[kind] = {
                "rps": rps,
                "p50": _pct(lat, 0.50),
                "p99": _pct(lat, 0.99),
                "max": max(lat) * 1000,
                "mean": statistics.fmean(lat) * 1000,
            }
    print(f"{'endpoint':<28}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}   (at {args.rate:.0f} req/s)")
    names = {"bare": "bare FastAPI endpoint", "worker": "worker /webhooks/zendesk", "noproc": "worker, no processors"}
    for kind, r in results.items():
        name = names.get(kind, kind)
        print(f"{name:<28}{r['rps']:>10.0f}{r['p50']:>10.2f}{r['p99']:>10.2f}{r['max']:>10.2f}")
    ratio = results["worker"]["rps"] / results.get("bare", results["worker"])["rps"]
    print(
        f"worker/bare throughput: {ratio:.2f} (target >= 0.50); worker p99 at {args.rate:.0f} req/s: "
        f"{results['worker']['p99']:.2f} ms (target < 50 ms)"
    )


if __name__ == "__main__":
    main()

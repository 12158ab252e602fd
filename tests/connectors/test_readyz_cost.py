"""``/readyz`` and ``/healthz`` stay O(1): one store statement per readiness check, plain Starlette routes.

Why these tests: a load balancer calls ``/readyz`` every few seconds for weeks, on a store that grows to
millions of rows. Its cost at any size follows from what it runs per call (the plans of that statement
are checked at a million rows in ``tests/store/test_query_plans.py``) and from the framework work around
it (FastAPI's per-request parameter handling was over half of the call's CPU in-process, docs/volume.md).
No timing is asserted: both facts are counted.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from fastapi.routing import APIRoute
from starlette.routing import Route

from connectors.settings import Settings
from connectors.store.rows import OLDEST_PENDING_SQL
from connectors.worker.app import create_app


def _statements_per_call(tmp_path: Path) -> tuple[list[list[str]], dict[str, object], dict[str, object]]:
    """The SQL each of three ``/readyz`` calls ran on the worker's store, one body, and the OpenAPI paths."""

    async def run() -> tuple[list[list[str]], dict[str, object], dict[str, object]]:
        settings = Settings(handoff_database_url=f"sqlite:///{tmp_path / 'store.sqlite3'}")
        app = create_app(settings, processors=False)
        async with app.router.lifespan_context(app):
            connection = app.state.health.store._conn
            transport = httpx.ASGITransport(app=app)
            per_call: list[list[str]] = []
            async with httpx.AsyncClient(transport=transport, base_url="http://worker") as client:
                body: dict[str, object] = {}
                for _ in range(3):
                    seen: list[str] = []
                    connection.set_trace_callback(seen.append)
                    try:
                        answer = await client.get("/readyz")
                    finally:
                        connection.set_trace_callback(None)
                    assert answer.status_code == 200, answer.text
                    body = answer.json()
                    per_call.append(seen)
                assert (await client.get("/healthz")).json() == {"status": "ok"}
                paths = (await client.get("/openapi.json")).json()["paths"]
            return per_call, body, paths

    return asyncio.run(run())


def test_readyz_runs_one_indexed_statement_per_call(tmp_path: Path) -> None:
    """Every call runs exactly the oldest-pending statement (no COUNT, nothing that grows with the store)."""
    per_call, body, _ = _statements_per_call(tmp_path)
    assert per_call == [[OLDEST_PENDING_SQL]] * 3, per_call
    assert "COUNT" not in OLDEST_PENDING_SQL.upper()
    checks = body["checks"]
    assert isinstance(checks, dict)
    assert checks["store"] == {"ok": True, "inbox_oldest_pending_seconds": 0.0, "outbox_oldest_pending_seconds": 0.0}


def test_health_endpoints_are_plain_routes_matched_before_the_api_and_still_documented(tmp_path: Path) -> None:
    """/healthz, /readyz and /metrics skip FastAPI's per-request handling, are matched before the web-chat
    API, and are still in the OpenAPI document."""
    app = create_app(Settings(handoff_database_url=f"sqlite:///{tmp_path / 'plain.sqlite3'}"), processors=False)
    order = [getattr(route, "path", "") for route in app.router.routes]
    for path in ("/healthz", "/readyz", "/metrics"):
        [route] = [r for r in app.router.routes if getattr(r, "path", None) == path]
        assert type(route) is Route and not isinstance(route, APIRoute), (path, type(route))
        before = order[: order.index(path)]
        assert all(
            p.startswith(("/openapi", "/docs", "/redoc", "/static-offline-docs", "/webhooks/", "/healthz", "/readyz"))
            for p in before
        ), order
    _, _, paths = _statements_per_call(tmp_path)
    assert {"/healthz", "/readyz", "/metrics"} <= set(paths)

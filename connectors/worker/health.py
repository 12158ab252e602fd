"""``GET /healthz`` (the process answers), ``GET /readyz`` (store reachable, configuration valid) and
``GET /metrics`` (Prometheus text format from the app's private registry).

Why readyz reads only the age of the oldest pending row: a load balancer calls it every few seconds,
so it must cost the same on a store with a million rows as on an empty one. Counting the outbox took
16-20 ms at 100,000 rows; the oldest pending arrival is one seek in the ``(status, arrival)`` index.
The per-lane counts are for ``/metrics``, where they cost what the backlog costs, not the table.

The routes use one :class:`Health` (``app.state.health``): the policy's identity, the backlog port,
the start-up problems, the two modes and metrics.

Why plain Starlette routes (:data:`routes`, placed ahead of the FastAPI ones): these endpoints read no
parameters and no body, yet FastAPI's per-request work (matching every route before them, solving the
dependencies of ``request``) was over half of what ``/readyz`` cost in-process. :data:`openapi_router`
only describes them in the OpenAPI document, as the Zendesk acknowledgement route does."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.metrics import Metrics
from connectors.store import BacklogStore, StoreError
from connectors.worker.offload import StoreCalls

#: Describes the endpoints in OpenAPI only; :data:`routes` serves them (see the end of this module).
openapi_router = APIRouter(tags=["operations"])


@dataclass(frozen=True)
class Health:
    """What readiness and metrics read."""

    policy_version: str
    policy_hash: str
    store: BacklogStore
    calls: StoreCalls
    metrics: Metrics
    #: Configuration problems found at start-up (the list may grow while business hours are read).
    problems: list[str]
    ticket_lane: str
    alert_lane: str


_OK = b'{"status":"ok"}'


@openapi_router.get("/healthz", summary="The worker process is alive", response_model=dict[str, str])
async def healthz(request: Request) -> Response:
    return Response(_OK, media_type="application/json")


@openapi_router.get(
    "/readyz",
    summary="Store reachable and configuration valid",
    responses={503: {"description": "not ready; 'checks' says why"}},
)
async def readyz(request: Request) -> JSONResponse:
    health: Health = request.app.state.health
    checks: dict[str, Any] = {"policy": {"ok": True, "version": health.policy_version, "hash": health.policy_hash[:12]}}
    try:
        oldest = await health.calls(health.store.oldest_pending)
        now = time.time()
        checks["store"] = {
            "ok": True,
            **{f"{queue}_oldest_pending_seconds": round(now - at, 3) if at else 0.0 for queue, at in oldest.items()},
        }
    except StoreError as exc:
        checks["store"] = {"ok": False, "error": str(exc)}
    checks["configuration"] = {"ok": not health.problems, "problems": health.problems}
    checks["mode"] = {
        "ok": True,
        "zendesk": "live" if health.ticket_lane != "local" else "local",
        "slack": "live" if health.alert_lane != "local" else "local",
    }
    ready = all(c["ok"] for c in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks}, status_code=200 if ready else 503
    )


@openapi_router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    health: Health = request.app.state.health
    # When the store is down readyz says so; the other series are still worth scraping.
    with contextlib.suppress(StoreError):
        health.metrics.set_backlog(await health.calls(health.store.backlog), time.time())
    body, content_type = health.metrics.render()
    return Response(body, media_type=content_type)


#: The routes that serve the three endpoints.
routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
]

"""``GET /healthz`` (the process answers), ``GET /readyz`` (store reachable, configuration valid) and
``GET /metrics`` (Prometheus text format from the app's private registry)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from connectors.store import OutboxStatus, StoreError
from connectors.worker.runtime import Runtime

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The worker process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Store reachable and configuration valid",
    responses={503: {"description": "not ready; 'checks' says why"}},
)
async def readyz(request: Request) -> JSONResponse:
    rt: Runtime = request.app.state.runtime
    checks: dict[str, Any] = {
        "policy": {"ok": True, "version": rt.policy.version, "hash": rt.policy.hash[:12]}
    }
    try:
        rt.store.ping()
        counts = rt.store.outbox_counts()
        checks["store"] = {
            "ok": True,
            "outbox_pending": counts[OutboxStatus.PENDING],
            "outbox_dead": counts[OutboxStatus.DEAD],
        }
    except StoreError as exc:
        checks["store"] = {"ok": False, "error": str(exc)}
    checks["configuration"] = {"ok": not rt.problems, "problems": rt.problems}
    checks["mode"] = {
        "ok": True,
        "zendesk": "live" if rt.tickets.lane != "local" else "local",
        "slack": "live" if rt.alerts.lane != "local" else "local",
    }
    ready = all(c["ok"] for c in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks}, status_code=200 if ready else 503
    )


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    rt: Runtime = request.app.state.runtime
    body, content_type = rt.metrics.render()
    return Response(body, media_type=content_type)

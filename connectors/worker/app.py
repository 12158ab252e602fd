"""The web worker's app factory and lifespan.

``create_app(settings)`` builds a FastAPI app; its lifespan opens the :class:`Runtime` (policy, store,
audit log, metrics, vendor clients), starts the inbox processor, one outbox lane per destination, the
weekly review schedule (the policy's ``review.weekly``) and the daily purge of raw text past
``RAW_RETENTION_DAYS``, and closes everything on shutdown. Nothing
global: tests build as many apps as they like, each with its own settings and store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from pydantic.json_schema import models_json_schema

from connectors.settings import UNAUTHENTICATED_WARNING, Settings
from connectors.store import StoreError
from connectors.webchat.schemas import WebchatMessageIn
from connectors.worker import health, zendesk_webhook
from connectors.worker.executors import review_action
from connectors.worker.http import (
    MAX_JSON_DEPTH,
    ApiError,
    error_body,
    install_error_handlers,
    read_body,
    replay_request,
)
from connectors.worker.privacy import install_log_redaction
from connectors.worker.processors import LANES, InboxProcessor, OutboxProcessor
from connectors.worker.runtime import Runtime
from connectors.worker.slack_events import build_bolt_app, build_handler
from connectors.worker.slack_verify import SlackRequestError, check_slack_body, verify_slack_signature
from connectors.worker.webchat_routes import router as webchat_router
from handoff_core import Conversation

log = logging.getLogger(__name__)

#: What slack-bolt's 4xx answers mean, as (code, message) of the worker's JSON error shape.
_BOLT_REFUSALS = {
    401: ("bad_signature", "invalid Slack signature"),
    404: ("unhandled_request", "no handler for this Slack event or action; it was ignored"),
}


async def _review_schedule(runtime: Runtime, cron: str, channel: str) -> None:
    """Enqueue the weekly review when it is due; the Slack lane posts it (once, whatever the replicas)."""
    from connectors.report.schedule import next_run

    while True:
        now = datetime.now(UTC)
        due = next_run(cron, now)
        await asyncio.sleep(max((due - now).total_seconds(), 0.0))
        runtime.store.outbox_enqueue([review_action(due, channel)])
        runtime.outbox_wakeup.set()


#: How often the worker purges raw text past the retention (first run at start-up).
PURGE_INTERVAL_SECONDS = 86400.0


async def purge_once(runtime: Runtime, now: float) -> dict[str, int]:
    """Purge raw text older than ``RAW_RETENTION_DAYS`` (off the event loop: it may touch many rows)."""
    before = now - runtime.settings.raw_retention_days * 86400.0
    counts = await asyncio.to_thread(runtime.store.purge_raw, before)
    log.info("purged raw text older than %g days: %s", runtime.settings.raw_retention_days, counts)
    return counts


async def _daily_purge(runtime: Runtime) -> None:
    """Keep raw customer text only as long as the retention says; a failed run is retried the next day."""
    while True:
        try:
            await purge_once(runtime, time.time())
        except StoreError as exc:
            log.warning("raw-text purge failed (retried in a day): %s", exc)
        await asyncio.sleep(PURGE_INTERVAL_SECONDS)


def create_app(settings: Settings, *, processors: bool = True) -> FastAPI:
    """Build the worker app. ``processors=False`` serves requests without background sending (benches)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        install_log_redaction()  # after uvicorn has configured its loggers and every module is imported
        runtime = Runtime.open(settings)
        await runtime.load_zendesk_schedules()
        if settings.unauthenticated:
            log.warning(UNAUTHENTICATED_WARNING)
        app.state.runtime = runtime
        app.state.slack_handler = None
        if runtime.slack_client is not None:
            app.state.slack_handler = build_handler(build_bolt_app(runtime))
        tasks: list[asyncio.Task[None]] = []
        if processors:
            for lane in LANES:
                processor = OutboxProcessor(runtime, runtime.outbox_wakeup, lane)
                tasks.append(asyncio.create_task(processor.run(), name=processor.name))
            tasks.append(
                asyncio.create_task(InboxProcessor(runtime, runtime.inbox_wakeup).run(), name="inbox")
            )
            tasks.append(asyncio.create_task(_daily_purge(runtime), name="purge"))
        weekly = runtime.policy.review.weekly
        channel = weekly.slack_channel or settings.slack_review_channel or settings.slack_alert_channel
        if weekly.enabled and weekly.schedule and runtime.alerts.lane != "local" and channel:
            tasks.append(asyncio.create_task(_review_schedule(runtime, weekly.schedule, channel), name="review"))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await runtime.aclose()

    # Swagger UI and ReDoc from files shipped with fastapi-offline, not a CDN: /docs works offline.
    app = FastAPIOffline(
        title="handoff-guard worker",
        version="0.1.0",
        summary="Decides when the AI assistant must hand a conversation to a person, and makes the handoff.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(webchat_router)
    app.include_router(zendesk_webhook.router)
    app.include_router(health.router)

    @app.post(
        "/slack/events",
        tags=["slack"],
        summary="Slack interactivity (signed; handled by slack-bolt)",
        responses={
            200: {"description": "acknowledged"},
            400: {"description": "signed, but the body or its payload field is not a JSON object"},
            401: {"description": "missing, stale or wrong Slack signature"},
            404: {"description": "Slack is not configured (local mode)"},
            413: {"description": "body larger than MAX_BODY_BYTES"},
        },
    )
    async def slack_events(request: Request) -> Response:
        handler = request.app.state.slack_handler
        rt: Runtime = request.app.state.runtime
        if handler is None:
            rt.metrics.webhook("slack", "bad_request")
            raise ApiError(404, "not_configured", "Slack is not configured (local mode)")
        body = await read_body(request, settings.max_body_bytes)
        assert settings.slack_signing_secret is not None  # a handler exists only with a secret
        try:
            verify_slack_signature(
                settings.slack_signing_secret.get_secret_value(), request.headers, body, now=time.time()
            )
            check_slack_body(request.headers.get("content-type", ""), body, max_depth=MAX_JSON_DEPTH)
        except SlackRequestError as exc:
            rt.metrics.webhook("slack", "unauthorized" if exc.status == 401 else "bad_request")
            raise ApiError(exc.status, exc.code, str(exc)) from exc
        response: Response = await handler.handle(replay_request(request, body))
        if 400 <= response.status_code < 500:
            # bolt's own refusals (404 ``{"error": "unhandled request"}`` for an event or action no
            # listener handles) in the one error shape every other endpoint answers with.
            status = response.status_code
            rt.metrics.webhook("slack", "unauthorized" if status == 401 else "bad_request")
            code, message = _BOLT_REFUSALS.get(status, (f"slack_{status}", "Slack request refused"))
            return JSONResponse(error_body(code, message), status)
        return response

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
        _, defs = models_json_schema(
            [(WebchatMessageIn, "validation"), (Conversation, "validation")],
            ref_template="#/components/schemas/{model}",
        )
        schema.setdefault("components", {}).setdefault("schemas", {}).update(defs.get("$defs", {}))
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app

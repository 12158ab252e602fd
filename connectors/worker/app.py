"""The web worker's app factory and lifespan.

``create_app(settings)`` builds a FastAPI app; its lifespan opens and wires the worker
(:func:`connectors.worker.wiring.open_worker`: policy, store, audit log, metrics, vendor clients), puts
each route family's service on ``app.state`` (``webchat``, ``zendesk``, ``health``, ``slack``), starts the
background loops (the inbox processor, one outbox lane per destination, the weekly review schedule and
the daily purge of raw text) and closes everything on shutdown. Nothing global: tests build as many apps
as they like, each with its own settings and store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from pydantic.json_schema import models_json_schema
from starlette.types import Receive, Scope, Send

from connectors.settings import UNAUTHENTICATED_WARNING, Settings
from connectors.webchat.schemas import WebchatMessageIn
from connectors.worker import health, webchat_routes, zendesk_webhook
from connectors.worker.http import (
    MAX_JSON_DEPTH,
    ApiError,
    error_body,
    install_error_handlers,
    read_body,
    replay_request,
)
from connectors.worker.privacy import install_log_redaction
from connectors.worker.slack_verify import SlackRequestError, check_slack_body, verify_slack_signature
from connectors.worker.tuning import freeze_start_up_heap, shorten_switch_interval, thaw_heap
from connectors.worker.wiring import SlackRoute, open_worker
from connectors.worker.zendesk_webhook import PATH as ZENDESK_PATH
from handoff_core import Conversation

log = logging.getLogger(__name__)

#: What slack-bolt's 4xx answers mean, as (code, message) of the worker's JSON error shape.
_BOLT_REFUSALS = {
    401: ("bad_signature", "invalid Slack signature"),
    404: ("unhandled_request", "no handler for this Slack event or action; it was ignored"),
}


class WorkerApp(FastAPI):
    """The worker's FastAPI app, with its hot endpoints served ahead of the middleware stack.

    A Zendesk delivery (``POST /webhooks/zendesk``) goes straight to :func:`zendesk_webhook.serve` and a
    web-chat post to its handler in :data:`webchat_routes.fast_routes`, which answer exactly as the
    routes behind the stack would; every other request, and one that arrives before the lifespan has
    wired the worker, takes the ordinary way. What is skipped, and why, is
    measured in ``docs/performance.md`` (FastAPI's telemetry is not applied to these routes).
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path = scope["path"]
            if path == ZENDESK_PATH:
                intake = getattr(self.state, "zendesk", None)
                if intake is not None:
                    await zendesk_webhook.serve(intake, scope, receive, send)
                    return
            elif (chat := webchat_routes.fast_routes.get(path)) is not None:
                web = getattr(self.state, "webchat", None)
                if web is not None:
                    await chat(web, scope, receive, send)
                    return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings, *, processors: bool = True) -> FastAPI:
    """Build the worker app. ``processors=False`` serves requests without background sending (benches)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        install_log_redaction()  # after uvicorn has configured its loggers and every module is imported
        shorten_switch_interval()  # the event loop waits at most 0.5 ms for a GIL a decision holds
        async with open_worker(settings, processors=processors) as worker:
            if settings.unauthenticated:
                log.warning(UNAUTHENTICATED_WARNING)
            app.state.webchat = worker.webchat
            app.state.zendesk = worker.zendesk
            app.state.health = worker.health
            app.state.slack = worker.slack
            app.state.worker = worker  # for tests and diagnostics only; no route reads it
            freeze_start_up_heap()  # last: everything loaded so far lives as long as the process
            tasks = [asyncio.create_task(loop(), name=name) for name, loop in worker.loops.items()]
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                thaw_heap()  # a process that goes on (tests build many apps) collects this worker's cycles

    # Swagger UI and ReDoc from files shipped with fastapi-offline, not a CDN: /docs works offline.
    app = FastAPIOffline(
        title="handoff-guard worker",
        version="0.1.0",
        summary="Decides when the AI assistant must hand a conversation to a person, and makes the handoff.",
        lifespan=lifespan,
    )
    # fastapi-offline builds a plain FastAPI (it is a function, not a class): give that object the worker's
    # __call__, which adds nothing but the acknowledgement's way around the middleware stack.
    app.__class__ = WorkerApp
    install_error_handlers(app)
    # The hot paths first (routes are matched in order), as plain Starlette routes; their FastAPI twins
    # only describe them in OpenAPI (see ``openapi`` below).
    app.router.routes.append(zendesk_webhook.route)
    app.router.routes.extend(health.routes)  # plain routes too: a load balancer calls them every few seconds
    app.router.routes.extend(webchat_routes.routes)

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
        slack: SlackRoute = request.app.state.slack
        if slack.handler is None:
            slack.metrics.webhook("slack", "bad_request")
            raise ApiError(404, "not_configured", "Slack is not configured (local mode)")
        body = await read_body(request, slack.max_body_bytes)
        try:
            verify_slack_signature(slack.signing_secret, request.headers, body, now=time.time())
            check_slack_body(request.headers.get("content-type", ""), body, max_depth=MAX_JSON_DEPTH)
        except SlackRequestError as exc:
            slack.metrics.webhook("slack", "unauthorized" if exc.status == 401 else "bad_request")
            raise ApiError(exc.status, exc.code, str(exc)) from exc
        response: Response = await slack.handler.handle(replay_request(request, body))
        if 400 <= response.status_code < 500:
            # bolt's own refusals (404 ``{"error": "unhandled request"}`` for an event or action no
            # listener handles) in the one error shape every other endpoint answers with.
            status = response.status_code
            slack.metrics.webhook("slack", "unauthorized" if status == 401 else "bad_request")
            code, message = _BOLT_REFUSALS.get(status, (f"slack_{status}", "Slack request refused"))
            return JSONResponse(error_body(code, message), status)
        return response

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        # the acknowledgement, web-chat and health routes are Starlette routes: their APIRouter twins describe them
        routes = [
            *app.routes,
            *zendesk_webhook.openapi_router.routes,
            *webchat_routes.router.routes,
            *health.openapi_router.routes,
        ]
        schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=routes)
        _, defs = models_json_schema(
            [(WebchatMessageIn, "validation"), (Conversation, "validation")],
            ref_template="#/components/schemas/{model}",
        )
        schema.setdefault("components", {}).setdefault("schemas", {}).update(defs.get("$defs", {}))
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app

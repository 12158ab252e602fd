"""``POST /webhooks/zendesk``: verify, store durably, answer 202. The work happens in the inbox processor.

Order of checks, each with its own clear answer: size (413), signature (401, nothing stored), media
type (415), JSON (400), payload kind (422). A delivery seen before (same invocation or event id) is
answered 200 ``duplicate`` and has no second effect.

The route uses one :class:`ZendeskIntake` (``app.state.zendesk``): the webhook's settings, the inbox
port, metrics and the inbox's wake-up.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import SecretStr

from connectors.metrics import Metrics
from connectors.store import InboxStore
from connectors.worker.http import ApiError, parse_json, read_body, require_json
from connectors.worker.offload import StoreCalls
from connectors.zendesk.signature import INVOCATION_HEADER, TIMESTAMP_HEADER, SignatureError, verify_zendesk_signature
from connectors.zendesk.webhooks import PayloadError, parse_notification

router = APIRouter()


@dataclass(frozen=True)
class ZendeskIntake:
    """What acknowledging a Zendesk delivery uses, and nothing else."""

    max_body_bytes: int
    secret: SecretStr | None
    signature_max_age: int
    inbox: InboxStore
    calls: StoreCalls
    metrics: Metrics
    wakeup: asyncio.Event


@router.post(
    "/webhooks/zendesk",
    status_code=202,
    tags=["zendesk"],
    summary="Zendesk trigger webhook or event subscription (signed)",
    responses={
        200: {"description": "duplicate delivery (same invocation, event, or signed content)"},
        400: {"description": "malformed or too deeply nested JSON"},
        401: {"description": "missing, stale or wrong signature"},
        413: {"description": "body larger than MAX_BODY_BYTES"},
        415: {"description": "not application/json"},
        422: {"description": "JSON, but not a Zendesk payload we understand"},
        503: {"description": "ZENDESK_WEBHOOK_SECRET is not set; deliveries are refused"},
    },
)
async def zendesk_webhook(request: Request) -> JSONResponse:
    intake: ZendeskIntake = request.app.state.zendesk
    outcome = "error"
    try:
        body = await read_body(request, intake.max_body_bytes)
        secret = intake.secret
        if secret is None:
            raise ApiError(503, "not_configured", "ZENDESK_WEBHOOK_SECRET is not set; deliveries are refused")
        try:
            verify_zendesk_signature(
                secret.get_secret_value(),
                request.headers,
                body,
                now=datetime.now(UTC),
                max_age=intake.signature_max_age,
            )
        except SignatureError as exc:
            raise ApiError(401, exc.code, str(exc)) from exc
        require_json(request)
        try:
            note = parse_notification(
                parse_json(body),
                invocation_id=request.headers.get(INVOCATION_HEADER),
                raw=body,
                signed_at=request.headers.get(TIMESTAMP_HEADER, ""),
            )
        except PayloadError as exc:
            raise ApiError(422, exc.code, str(exc)) from exc
        stored = await intake.calls(
            intake.inbox.inbox_add, "zendesk", note.dedupe_key, note.event, note.model_dump(mode="json")
        )
        outcome = "accepted" if stored else "duplicate"
        if stored:
            intake.wakeup.set()
            return JSONResponse({"status": "accepted", "ticket_id": note.ticket_id}, status_code=202)
        return JSONResponse({"status": "duplicate", "ticket_id": note.ticket_id}, status_code=200)
    except ApiError as exc:
        outcome = {401: "unauthorized", 413: "too_large"}.get(exc.status, "bad_request")
        raise
    finally:
        intake.metrics.webhook("zendesk", outcome)

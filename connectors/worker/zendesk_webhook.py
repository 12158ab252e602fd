"""``POST /webhooks/zendesk``: verify, store durably, answer 202. The work happens in the inbox processor.

Order of checks, each with its own clear answer: size (413), signature (401, nothing stored), media
type (415), JSON (400), payload kind (422). A delivery seen before (same invocation or event id) is
answered 200 ``duplicate`` and has no second effect.

The 202 is sent only once the delivery's row is committed; deliveries arriving together share one
commit (:mod:`connectors.worker.group_commit`). If the store cannot be written the answer is 503 with
``Retry-After`` (nothing acknowledged: Zendesk delivers it again).

The route uses one :class:`ZendeskIntake` (``app.state.zendesk``): the webhook's settings, the inbox
(through its group commit), metrics and the inbox's wake-up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from pydantic import SecretStr
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from connectors.metrics import Metrics
from connectors.store import NewDelivery, StoreError
from connectors.worker.group_commit import InboxGroupCommit
from connectors.worker.http import (
    ApiError,
    asgi_headers,
    check_json_type,
    parse_json,
    read_body,
    receive_body,
    serve_raw,
)
from connectors.zendesk.signature import INVOCATION_HEADER, TIMESTAMP_HEADER, SignatureError, verify_zendesk_signature
from connectors.zendesk.webhooks import PayloadError, parse_notification

PATH = "/webhooks/zendesk"
#: Describes the endpoint in OpenAPI only; :data:`route` serves it (see the end of this module).
openapi_router = APIRouter()
_OUTCOMES = {401: "unauthorized", 413: "too_large"}


@dataclass(frozen=True)
class ZendeskIntake:
    """What acknowledging a Zendesk delivery uses, and nothing else."""

    max_body_bytes: int
    secret: SecretStr | None
    signature_max_age: int
    inbox: InboxGroupCommit
    metrics: Metrics
    wakeup: asyncio.Event


@openapi_router.post(
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
        503: {"description": "ZENDESK_WEBHOOK_SECRET is not set, or the store cannot be written; not accepted"},
    },
)
async def zendesk_webhook(request: Request) -> Response:
    """The endpoint as a Starlette route: reached only when :func:`serve` is not (e.g. under a root path)."""
    intake: ZendeskIntake = request.app.state.zendesk
    try:
        body = await read_body(request, intake.max_body_bytes)
    except ApiError as exc:
        intake.metrics.webhook("zendesk", _OUTCOMES.get(exc.status, "bad_request"))
        raise
    status, answer = await acknowledge(intake, request.headers, body)
    return Response(answer, status_code=status, media_type="application/json")


async def acknowledge(intake: ZendeskIntake, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
    """Check, store and answer one delivery: (status, JSON body), or :class:`ApiError` for a refusal.

    The one implementation behind both ways in (:func:`serve` and :func:`zendesk_webhook`); it counts the
    outcome in the metrics whatever happens.
    """
    outcome = "error"
    try:
        secret = intake.secret
        if secret is None:
            raise ApiError(503, "not_configured", "ZENDESK_WEBHOOK_SECRET is not set; deliveries are refused")
        try:
            verify_zendesk_signature(
                secret.get_secret_value(),
                headers,
                body,
                now=datetime.now(UTC),
                max_age=intake.signature_max_age,
            )
        except SignatureError as exc:
            raise ApiError(401, exc.code, str(exc)) from exc
        check_json_type(headers.get("content-type"))
        try:
            note = parse_notification(
                parse_json(body),
                invocation_id=headers.get(INVOCATION_HEADER),
                raw=body,
                signed_at=headers.get(TIMESTAMP_HEADER, ""),
            )
        except PayloadError as exc:
            raise ApiError(422, exc.code, str(exc)) from exc
        delivery = NewDelivery("zendesk", note.dedupe_key, note.event, note.model_dump(mode="json"))
        try:
            stored = await intake.inbox.add(delivery)
        except StoreError as exc:
            raise ApiError(
                503,
                "store_unavailable",
                f"the delivery could not be stored ({exc}); it was not accepted",
                headers={"Retry-After": "5"},
            ) from exc
        outcome = "accepted" if stored else "duplicate"
        if stored:
            intake.wakeup.set()
            return 202, b'{"status":"accepted","ticket_id":%d}' % note.ticket_id
        return 200, b'{"status":"duplicate","ticket_id":%d}' % note.ticket_id
    except ApiError as exc:
        outcome = "error" if exc.code == "store_unavailable" else _OUTCOMES.get(exc.status, "bad_request")
        raise
    finally:
        intake.metrics.webhook("zendesk", outcome)


async def serve(intake: ZendeskIntake, scope: Scope, receive: Receive, send: Send) -> None:
    """The acknowledgement as a bare ASGI endpoint, called by the app before its middleware stack.

    Why: the request path of an acknowledgement is a few tens of microseconds of our own work (signature,
    parse, hand over to the group commit), and the framework around it cost several times that: FastAPI's
    per-request telemetry check, five middlewares, the exception-handler wrappers and a ``Request``
    object (``docs/performance.md``). The answers are the same bytes and statuses as through the app's
    error handlers; an unexpected bug is a 500 with the same shape and no traceback, logged.
    """
    headers = asgi_headers(scope)

    async def answer() -> tuple[int, bytes] | None:
        try:
            body = await receive_body(receive, headers, intake.max_body_bytes)
        except ApiError as exc:  # refused before acknowledge() could count it
            intake.metrics.webhook("zendesk", _OUTCOMES.get(exc.status, "bad_request"))
            raise
        if body is None:  # the client went away before sending the body: nothing to store or answer
            intake.metrics.webhook("zendesk", "bad_request")
            return None
        return await acknowledge(intake, headers, body)

    await serve_raw(send, answer)


#: The route behind the middleware stack, for deliveries :func:`serve` does not take (the app hands it every
#: ``POST /webhooks/zendesk`` once wired): a plain Starlette route, not a FastAPI one, since the endpoint
#: reads the raw body itself (the signature covers the bytes). Errors go through the app's handlers.
route = Route(PATH, zendesk_webhook, methods=["POST"])

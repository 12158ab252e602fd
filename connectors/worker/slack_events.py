"""``POST /slack/events``: the alert's buttons, through slack-bolt (signature verified by bolt).

The handlers only make the click durable and acknowledge it within Slack's 3 seconds: "Claim" enqueues
a ``slack.claim`` action (Slack user -> email -> Zendesk agent -> assign, then update the alert) and
"Not needed" records the feedback in the audit log and enqueues the message update. Both are keyed by
the alert message, so a click delivered twice, or a second click, has one effect.

The listeners close over exactly what they use (:class:`SlackButtons`): the outbox, the audit log's
write side, metrics and the outbox's wake-up.

Why bolt's synchronous ``App`` and not ``AsyncApp``: ``AsyncApp`` needs ``slack_sdk``'s aiohttp client,
about 11 MB of resident memory in every live worker for a few clicks an hour (docs/volume.md). The
sync app dispatches in a worker thread (:class:`BoltHandler`, ``anyio.to_thread``) with
``process_before_response``, so each listener runs in that thread and hands its work to the event loop
(``anyio.from_thread.run``): the store calls, metrics and wake-up run on the loop exactly as before,
and the acknowledgement is sent once the click is durable.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio.from_thread
import anyio.to_thread
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.requests import Request
from starlette.responses import Response

from connectors.audit import AuditWriter
from connectors.metrics import Metrics
from connectors.slack.alerts import CLAIM_ACTION, NOT_NEEDED_ACTION, resolved_blocks
from connectors.store import NewAction, OutboxStore
from connectors.worker.offload import StoreCalls

if TYPE_CHECKING:
    from slack_sdk.web import WebClient

log = logging.getLogger(__name__)


def _button(body: dict[str, Any], action: dict[str, Any]) -> dict[str, Any]:
    try:
        value = json.loads(action.get("value") or "{}")
    except ValueError:
        value = {}
    if not isinstance(value, dict):  # a signed but odd button value is ignored, not a 500
        value = {}
    value = {k: v for k, v in value.items() if isinstance(v, str)}
    container = body.get("container") or {}
    return {
        "user_id": (body.get("user") or {}).get("id"),
        "channel": container.get("channel_id") or (body.get("channel") or {}).get("id"),
        "ts": container.get("message_ts") or (body.get("message") or {}).get("ts"),
        "blocks": (body.get("message") or {}).get("blocks") or [],
        "decision_id": value.get("d"),
        "conversation_id": value.get("c"),
        "ticket_id": value.get("t"),
    }


@dataclass(frozen=True)
class SlackButtons:
    """What the button listeners use."""

    outbox: OutboxStore
    audit: AuditWriter
    calls: StoreCalls
    metrics: Metrics
    outbox_wakeup: asyncio.Event


def build_bolt_app(client: WebClient, signing_secret: str, buttons: SlackButtons) -> App:
    """The bolt app sharing the worker's Slack client; its listeners close over ``buttons`` only.

    ``token_verification_enabled=False``: bolt checks the token with ``auth.test`` on the first click
    instead of while the worker starts (as ``AsyncApp`` did), so a slow Slack never delays start-up.
    ``name``: without it bolt names the app after its caller's file with ``inspect.stack()``, which reads
    the source of every file on the stack into ``linecache`` for the life of the process (0.5 MB in a
    worker: asyncio, contextlib, bolt's app module, the lifespan's modules).
    """
    app = App(
        name="handoff-guard",
        client=client,
        signing_secret=signing_secret,
        raise_error_for_unhandled_request=False,
        process_before_response=True,
        token_verification_enabled=False,
    )
    calls = buttons.calls

    async def claim(button: dict[str, Any]) -> None:
        ids = await calls(
            buttons.outbox.outbox_enqueue,
            [
                NewAction(
                    kind="slack.claim",
                    target="slack",
                    dedupe_key=f"claim:{button['channel']}:{button['ts']}",
                    payload=button,
                    conversation_id=button["conversation_id"],
                    decision_id=button["decision_id"],
                )
            ],
        )
        buttons.metrics.webhook("slack", "accepted" if ids else "duplicate")
        buttons.outbox_wakeup.set()

    async def not_needed(button: dict[str, Any]) -> None:
        await calls(
            buttons.audit.record_event,
            "not_needed",
            decision_id=button["decision_id"],
            conversation_id=button["conversation_id"],
            ticket_id=button["ticket_id"],
            actor=button["user_id"],
        )
        text = f":heavy_minus_sign: <@{button['user_id']}> marked this handoff as not needed"
        ids = await calls(
            buttons.outbox.outbox_enqueue,
            [
                NewAction(
                    kind="slack.update",
                    target="slack",
                    dedupe_key=f"not_needed:{button['channel']}:{button['ts']}",
                    payload={
                        "channel": button["channel"],
                        "ts": button["ts"],
                        "text": text,
                        "blocks": resolved_blocks(button["blocks"], text),
                    },
                    conversation_id=button["conversation_id"],
                    decision_id=button["decision_id"],
                )
            ],
        )
        buttons.metrics.webhook("slack", "accepted" if ids else "duplicate")
        buttons.outbox_wakeup.set()

    @app.action(CLAIM_ACTION)
    def on_claim(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        anyio.from_thread.run(claim, _button(body, action))
        ack()

    @app.action(NOT_NEEDED_ACTION)
    def on_not_needed(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        anyio.from_thread.run(not_needed, _button(body, action))
        ack()

    return app


class BoltHandler:
    """Runs bolt's synchronous dispatch in a worker thread, so the event loop never waits on it."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def handle(self, request: Request) -> Response:
        bolt_request = to_bolt_request(request, await request.body())
        bolt_response = await anyio.to_thread.run_sync(self.app.dispatch, bolt_request)
        return to_starlette_response(bolt_response)


def build_handler(app: App) -> BoltHandler:
    return BoltHandler(app)

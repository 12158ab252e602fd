"""``POST /slack/events``: the alert's buttons, through slack-bolt (signature verified by bolt).

The handlers only make the click durable and acknowledge it within Slack's 3 seconds: "Claim" enqueues
a ``slack.claim`` action (Slack user -> email -> Zendesk agent -> assign, then update the alert) and
"Not needed" records the feedback in the audit log and enqueues the message update. Both are keyed by
the alert message, so a click delivered twice, or a second click, has one effect.

The listeners close over exactly what they use (:class:`SlackButtons`): the outbox, the audit log's
write side, metrics and the outbox's wake-up.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp

from connectors.audit import AuditWriter
from connectors.metrics import Metrics
from connectors.slack.alerts import CLAIM_ACTION, NOT_NEEDED_ACTION, resolved_blocks
from connectors.store import NewAction, OutboxStore
from connectors.worker.offload import StoreCalls

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

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


def build_bolt_app(client: AsyncWebClient, signing_secret: str, buttons: SlackButtons) -> AsyncApp:
    """The bolt app sharing the worker's Slack client; its listeners close over ``buttons`` only."""
    app = AsyncApp(client=client, signing_secret=signing_secret, raise_error_for_unhandled_request=False)
    calls = buttons.calls

    @app.action(CLAIM_ACTION)
    async def claim(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        button = _button(body, action)
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
        await ack()

    @app.action(NOT_NEEDED_ACTION)
    async def not_needed(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        button = _button(body, action)
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
        await ack()

    return app


def build_handler(app: AsyncApp) -> AsyncSlackRequestHandler:
    return AsyncSlackRequestHandler(app)

"""What each outbox action does when it runs. Small functions, one per kind, same signature.

Each executor is idempotent, because a row can run twice (a crash after the vendor call, before the row
was marked done): the Zendesk note carries the decision marker and is not added twice, the web-chat
ticket is looked up by ``external_id`` before it is created, a Slack alert carries its outbox key in the
message metadata and a row claimed again first looks for it, Slack updates rewrite the same message,
audit events are idempotent per decision. Executors raise :class:`~connectors.errors.TransientError`
or :class:`~connectors.errors.PermanentError`; the processor decides what to do with them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from connectors.errors import TransientError
from connectors.report.schedule import build_review, review_blocks
from connectors.slack.alerts import AlertContent, alert_blocks, fallback_text, resolved_blocks
from connectors.store import NewAction, OutboxItem
from connectors.worker.handoffs import (
    SLACK_ALERT,
    SLACK_CLAIM,
    SLACK_RELINK,
    SLACK_REVIEW,
    SLACK_UPDATE,
    ZENDESK_CREATE,
    ZENDESK_HANDOFF,
)
from connectors.worker.runtime import Runtime
from connectors.zendesk.models import HandoffUpdate, NewTicket

Executor = Callable[[Runtime, OutboxItem], Awaitable[dict[str, Any]]]


def _ticket_url(runtime: Runtime, ticket_id: str | None) -> str | None:
    return runtime.tickets.ticket_url(ticket_id)


async def zendesk_handoff(runtime: Runtime, item: OutboxItem) -> dict[str, Any]:
    return await runtime.tickets.apply_handoff(HandoffUpdate.model_validate(item.payload))


async def zendesk_create(runtime: Runtime, item: OutboxItem) -> dict[str, Any]:
    result = await runtime.tickets.create_ticket(NewTicket.model_validate(item.payload))
    if item.conversation_id is not None:
        record = runtime.store.conversation_set_ticket(item.conversation_id, str(result["ticket_id"]))
        if record is not None and record.alert_ts and item.decision_id:
            _enqueue_relink(runtime, item)
    return result


async def slack_alert(runtime: Runtime, item: OutboxItem) -> dict[str, Any]:
    content = AlertContent.model_validate(item.payload["content"])
    record = runtime.store.conversation_get(content.conversation_id)
    if content.ticket_id is None and record is not None and record.ticket_id is not None:
        content = content.model_copy(update={"ticket_id": record.ticket_id})
    blocks = alert_blocks(content, ticket_url=_ticket_url(runtime, content.ticket_id))
    slack = runtime.alerts
    channel = str(item.payload["channel"])
    posted = None
    if item.claims > 1:  # an earlier run may have posted and died before recording it: look first
        posted = await slack.find(channel, item.dedupe_key, oldest=item.created_at - 60)
    if posted is None:
        posted = await slack.post(channel, fallback_text(content), blocks, key=item.dedupe_key)
    linked = content.ticket_id is not None
    record = runtime.store.conversation_set_alert(content.conversation_id, posted["channel"], posted["ts"])
    if not linked and record is not None and record.ticket_id is not None:
        _enqueue_relink(runtime, item)
    return {**posted, "linked": linked}


def _enqueue_relink(runtime: Runtime, item: OutboxItem) -> None:
    """The web-chat ticket and the alert were made concurrently; add the ticket link to the alert."""
    runtime.store.outbox_enqueue(
        [
            NewAction(
                kind=SLACK_RELINK,
                target="slack",
                dedupe_key=f"{item.decision_id}:{SLACK_RELINK}",
                payload={"decision_id": item.decision_id},
                conversation_id=item.conversation_id,
                decision_id=item.decision_id,
            )
        ]
    )
    runtime.outbox_wakeup.set()


async def slack_relink(runtime: Runtime, item: OutboxItem) -> dict[str, Any]:
    alert = runtime.store.outbox_by_key(f"{item.decision_id}:{SLACK_ALERT}")
    if alert is None or alert.result is None:
        raise TransientError("the alert has not been posted yet", vendor="slack")
    record = runtime.store.conversation_get(alert.conversation_id or "")
    if record is None or record.ticket_id is None:
        raise TransientError("the ticket has not been created yet", vendor="zendesk")
    content = AlertContent.model_validate(alert.payload["content"]).model_copy(
        update={"ticket_id": record.ticket_id}
    )
    blocks = alert_blocks(content, ticket_url=_ticket_url(runtime, record.ticket_id))
    await runtime.alerts.update(
        str(alert.result["channel"]), str(alert.result["ts"]), fallback_text(content), blocks
    )
    return {"ticket_id": record.ticket_id}


def review_action(due: datetime, channel: str) -> NewAction:
    """The weekly review due at ``due``: keyed by the run time, so every replica enqueues the same row."""
    stamp = due.astimezone(UTC).isoformat()
    return NewAction(
        kind=SLACK_REVIEW, target="slack", dedupe_key=f"review:{stamp}", payload={"channel": channel, "due": stamp}
    )


async def slack_review(runtime: Runtime, item: OutboxItem) -> dict[str, Any]:
    """Compute the week's review (in a thread: it reads the whole week) and post it like an alert."""
    due = datetime.fromisoformat(str(item.payload["due"]))
    review = await asyncio.to_thread(build_review, runtime.audit, runtime.policy, now=due)
    text, blocks = review_blocks(review)
    slack = runtime.alerts
    channel = str(item.payload["channel"])
    if item.claims > 1:
        found = await slack.find(channel, item.dedupe_key, oldest=item.created_at - 60)
        if found is not None:
            return found
    return await slack.post(channel, text, blocks, key=item.dedupe_key)


async def slack_claim(runtime: Runtime, item: OutboxItem) -> dict[str, Any]:
    """Claim: Slack user -> email -> Zendesk agent -> assign; then update the alert and audit it."""
    p = item.payload
    email = await runtime.alerts.user_email(str(p["user_id"]))
    ticket_id = p.get("ticket_id")
    if not ticket_id and item.conversation_id:
        record = runtime.store.conversation_get(item.conversation_id)
        ticket_id = record.ticket_id if record else None
    assigned = await runtime.tickets.assign(int(ticket_id) if ticket_id else None, email)
    where = f"ticket #{ticket_id}" if ticket_id else "the conversation"
    note = f":raising_hand: Claimed by <@{p['user_id']}>, {where} assigned to {email}"
    await runtime.alerts.update(
        str(p["channel"]), str(p["ts"]), note, resolved_blocks(p.get("blocks", []), note)
    )
    runtime.audit.record_event(
        "claimed",
        decision_id=item.decision_id,
        conversation_id=item.conversation_id,
        ticket_id=str(ticket_id) if ticket_id else None,
        actor=email,
    )
    return {"ticket_id": ticket_id, "agent": email, **assigned}


async def slack_update(runtime: Runtime, item: OutboxItem) -> dict[str, Any]:
    p = item.payload
    await runtime.alerts.update(str(p["channel"]), str(p["ts"]), str(p["text"]), p.get("blocks", []))
    return {"updated": True}


EXECUTORS: dict[str, Executor] = {
    ZENDESK_HANDOFF: zendesk_handoff,
    ZENDESK_CREATE: zendesk_create,
    SLACK_ALERT: slack_alert,
    SLACK_RELINK: slack_relink,
    SLACK_CLAIM: slack_claim,
    SLACK_UPDATE: slack_update,
    SLACK_REVIEW: slack_review,
}

"""What each outbox action does when it runs. Small callables, one per kind, same signature.

Each executor is built once at start-up with exactly the ports its kind needs (:func:`build_executors`):
the alert executor gets the alert sink, the conversation store and the relink step, the claim executor
the sinks and the audit log's write side, and so on; none of them sees the settings or the whole store.

Each executor is idempotent, because a row can run twice (a crash after the vendor call, before the row
was marked done): the Zendesk note carries the decision marker and is not added twice, the web-chat
ticket is looked up by ``external_id`` before it is created, a Slack alert carries its outbox key in the
message metadata and a row claimed again first looks for it, Slack updates rewrite the same message,
audit events are idempotent per decision. Executors raise :class:`~connectors.errors.TransientError`
or :class:`~connectors.errors.PermanentError`; the processor decides what to do with them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from connectors.audit import AuditWriter
from connectors.errors import TransientError
from connectors.slack.alerts import AlertContent, alert_blocks, fallback_text, resolved_blocks
from connectors.store import ConversationStore, NewAction, OutboxItem, OutboxStore
from connectors.worker.handoffs import (
    SLACK_ALERT,
    SLACK_CLAIM,
    SLACK_RELINK,
    SLACK_REVIEW,
    SLACK_UPDATE,
    ZENDESK_CREATE,
    ZENDESK_HANDOFF,
)
from connectors.worker.offload import StoreCalls
from connectors.worker.ports import AlertSink, TicketSink
from connectors.zendesk.models import HandoffUpdate, NewTicket

if TYPE_CHECKING:
    from connectors.report.data import Review

Executor = Callable[[OutboxItem], Awaitable[dict[str, Any]]]
#: The weekly review due at a time (reads the audit log; run in a thread).
ReviewBuilder = Callable[[datetime], "Review"]


@dataclass(frozen=True)
class ZendeskHandoff:
    tickets: TicketSink

    async def __call__(self, item: OutboxItem) -> dict[str, Any]:
        return await self.tickets.apply_handoff(HandoffUpdate.model_validate(item.payload))


@dataclass(frozen=True)
class Relink:
    """The web-chat ticket and the alert were made concurrently: enqueue adding the ticket link to the alert."""

    outbox: OutboxStore
    calls: StoreCalls
    wakeup: asyncio.Event

    async def __call__(self, item: OutboxItem) -> None:
        action = NewAction(
            kind=SLACK_RELINK,
            target="slack",
            dedupe_key=f"{item.decision_id}:{SLACK_RELINK}",
            payload={"decision_id": item.decision_id},
            conversation_id=item.conversation_id,
            decision_id=item.decision_id,
        )
        await self.calls(self.outbox.outbox_enqueue, [action])
        self.wakeup.set()


@dataclass(frozen=True)
class ZendeskCreate:
    tickets: TicketSink
    conversations: ConversationStore
    calls: StoreCalls
    relink: Relink

    async def __call__(self, item: OutboxItem) -> dict[str, Any]:
        result = await self.tickets.create_ticket(NewTicket.model_validate(item.payload))
        if item.conversation_id is not None:
            record = await self.calls(
                self.conversations.conversation_set_ticket, item.conversation_id, str(result["ticket_id"])
            )
            if record is not None and record.alert_ts and item.decision_id:
                await self.relink(item)
        return result


@dataclass(frozen=True)
class SlackAlert:
    alerts: AlertSink
    tickets: TicketSink
    conversations: ConversationStore
    calls: StoreCalls
    relink: Relink

    async def __call__(self, item: OutboxItem) -> dict[str, Any]:
        content = AlertContent.model_validate(item.payload["content"])
        record = await self.calls(self.conversations.conversation_get, content.conversation_id)
        if content.ticket_id is None and record is not None and record.ticket_id is not None:
            content = content.model_copy(update={"ticket_id": record.ticket_id})
        blocks = alert_blocks(content, ticket_url=self.tickets.ticket_url(content.ticket_id))
        channel = str(item.payload["channel"])
        posted = None
        if item.claims > 1:  # an earlier run may have posted and died before recording it: look first
            posted = await self.alerts.find(channel, item.dedupe_key, oldest=item.created_at - 60)
        if posted is None:
            posted = await self.alerts.post(channel, fallback_text(content), blocks, key=item.dedupe_key)
        linked = content.ticket_id is not None
        record = await self.calls(
            self.conversations.conversation_set_alert, content.conversation_id, posted["channel"], posted["ts"]
        )
        if not linked and record is not None and record.ticket_id is not None:
            await self.relink(item)
        return {**posted, "linked": linked}


@dataclass(frozen=True)
class SlackRelink:
    alerts: AlertSink
    tickets: TicketSink
    conversations: ConversationStore
    outbox: OutboxStore
    calls: StoreCalls

    async def __call__(self, item: OutboxItem) -> dict[str, Any]:
        alert = await self.calls(self.outbox.outbox_by_key, f"{item.decision_id}:{SLACK_ALERT}")
        if alert is None or alert.result is None:
            raise TransientError("the alert has not been posted yet", vendor="slack")
        record = await self.calls(self.conversations.conversation_get, alert.conversation_id or "")
        if record is None or record.ticket_id is None:
            raise TransientError("the ticket has not been created yet", vendor="zendesk")
        content = AlertContent.model_validate(alert.payload["content"]).model_copy(
            update={"ticket_id": record.ticket_id}
        )
        blocks = alert_blocks(content, ticket_url=self.tickets.ticket_url(record.ticket_id))
        await self.alerts.update(str(alert.result["channel"]), str(alert.result["ts"]), fallback_text(content), blocks)
        return {"ticket_id": record.ticket_id}


def review_action(due: datetime, channel: str) -> NewAction:
    """The weekly review due at ``due``: keyed by the run time, so every replica enqueues the same row."""
    stamp = due.astimezone(UTC).isoformat()
    return NewAction(
        kind=SLACK_REVIEW, target="slack", dedupe_key=f"review:{stamp}", payload={"channel": channel, "due": stamp}
    )


@dataclass(frozen=True)
class SlackReview:
    """Compute the week's review (in a thread: it reads the whole week) and post it like an alert."""

    alerts: AlertSink
    review: ReviewBuilder

    async def __call__(self, item: OutboxItem) -> dict[str, Any]:
        due = datetime.fromisoformat(str(item.payload["due"]))
        review = await asyncio.to_thread(self.review, due)
        # The review's modules (numpy grouping, figures, cron) are loaded when a review is first due, not
        # at start-up: ~2.7 MB that a worker with no weekly review never needs (docs/volume.md).
        from connectors.report.schedule import review_blocks

        text, blocks = review_blocks(review)
        channel = str(item.payload["channel"])
        if item.claims > 1:
            found = await self.alerts.find(channel, item.dedupe_key, oldest=item.created_at - 60)
            if found is not None:
                return found
        return await self.alerts.post(channel, text, blocks, key=item.dedupe_key)


@dataclass(frozen=True)
class SlackClaim:
    """Claim: Slack user -> email -> Zendesk agent -> assign; then update the alert and audit it."""

    alerts: AlertSink
    tickets: TicketSink
    conversations: ConversationStore
    audit: AuditWriter
    calls: StoreCalls

    async def __call__(self, item: OutboxItem) -> dict[str, Any]:
        p = item.payload
        email = await self.alerts.user_email(str(p["user_id"]))
        ticket_id = p.get("ticket_id")
        if not ticket_id and item.conversation_id:
            record = await self.calls(self.conversations.conversation_get, item.conversation_id)
            ticket_id = record.ticket_id if record else None
        assigned = await self.tickets.assign(int(ticket_id) if ticket_id else None, email)
        where = f"ticket #{ticket_id}" if ticket_id else "the conversation"
        note = f":raising_hand: Claimed by <@{p['user_id']}>, {where} assigned to {email}"
        await self.alerts.update(str(p["channel"]), str(p["ts"]), note, resolved_blocks(p.get("blocks", []), note))
        await self.calls(
            self.audit.record_event,
            "claimed",
            decision_id=item.decision_id,
            conversation_id=item.conversation_id,
            ticket_id=str(ticket_id) if ticket_id else None,
            actor=email,
        )
        return {"ticket_id": ticket_id, "agent": email, **assigned}


@dataclass(frozen=True)
class SlackUpdate:
    alerts: AlertSink

    async def __call__(self, item: OutboxItem) -> dict[str, Any]:
        p = item.payload
        await self.alerts.update(str(p["channel"]), str(p["ts"]), str(p["text"]), p.get("blocks", []))
        return {"updated": True}


def build_executors(
    *,
    tickets: TicketSink,
    alerts: AlertSink,
    conversations: ConversationStore,
    outbox: OutboxStore,
    audit: AuditWriter,
    calls: StoreCalls,
    wakeup: asyncio.Event,
    review: ReviewBuilder,
) -> Mapping[str, Executor]:
    """One executor per action kind, each holding only the ports it uses."""
    relink = Relink(outbox, calls, wakeup)
    return {
        ZENDESK_HANDOFF: ZendeskHandoff(tickets),
        ZENDESK_CREATE: ZendeskCreate(tickets, conversations, calls, relink),
        SLACK_ALERT: SlackAlert(alerts, tickets, conversations, calls, relink),
        SLACK_RELINK: SlackRelink(alerts, tickets, conversations, outbox, calls),
        SLACK_CLAIM: SlackClaim(alerts, tickets, conversations, audit, calls),
        SLACK_UPDATE: SlackUpdate(alerts),
        SLACK_REVIEW: SlackReview(alerts, review),
    }

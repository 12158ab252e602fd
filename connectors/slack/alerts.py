"""Block Kit for handoff alerts, built from the decision (pure functions, no I/O).

The alert is rendered at send time from an :class:`AlertContent` stored in the outbox row, so a
retried alert looks the same and can pick up the ticket link once the web-chat ticket exists. It is
read on a phone, so it shows the decision's short summary (the customer's issue and why, at most
``SHORT_MAX_CHARS``) rather than the full note, which is on the ticket. Personal
data is redacted when the policy says so (``privacy.redact_slack``): the customer's name and email are
replaced and the summary and reasons pass through the shared redaction rules.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from handoff_core import Conversation, Decision, TriggerName
from handoff_core.redact import redact as redact_text
from handoff_core.summary import SHORT_MAX_CHARS

CLAIM_ACTION = "handoff_claim"
NOT_NEEDED_ACTION = "handoff_not_needed"
_TEXT_LIMIT = 2900


class AlertContent(BaseModel):
    """Everything an alert shows, already redacted where required."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    decision_id: str
    conversation_id: str
    channel: str
    ticket_id: str | None = None
    customer: str
    organization: str | None = None
    vip: bool
    angry: bool
    priority: str
    reasons: tuple[str, ...]
    #: The short summary: ``Issue: …`` and ``Why …: …`` (≤ SHORT_MAX_CHARS).
    summary: str


def alert_content(decision: Decision, decision_id: str, conversation: Conversation, *, redact: bool) -> AlertContent:
    customer = conversation.customer
    vip = any(r.trigger is TriggerName.VIP for r in decision.reasons)
    if redact:
        label = f"customer {customer.id}" if customer.id else "customer (redacted)"
    else:
        label = " ".join(x for x in (customer.name, f"<{customer.email}>" if customer.email else None) if x) or (
            customer.id or "unknown customer"
        )
    clean = redact_text if redact else (lambda s: s)
    reasons = tuple(
        clean(f"{r.trigger.value}{f' ({r.topic})' if r.topic else ''}: {r.detail}") for r in decision.reasons
    )
    return AlertContent(
        decision_id=decision_id,
        conversation_id=conversation.id,
        channel=conversation.channel,
        ticket_id=conversation.context.ticket_id,
        customer=label,
        organization=customer.organization,
        vip=vip,
        angry=decision.signals.angry,
        priority=decision.priority.value,
        reasons=reasons,
        summary=_short(clean(decision.summary_short or decision.summary or "(no summary)")),
    )


def _short(text: str) -> str:
    return text if len(text) <= SHORT_MAX_CHARS else text[: SHORT_MAX_CHARS - 1] + "…"


def _cut(text: str) -> str:
    return text if len(text) <= _TEXT_LIMIT else text[: _TEXT_LIMIT - 1] + "…"


def fallback_text(content: AlertContent) -> str:
    kind = "VIP" if content.vip else "angry" if content.angry else "priority"
    return f"Handoff: {kind} customer, {content.priority} priority ({content.channel})"


def alert_blocks(content: AlertContent, *, ticket_url: str | None) -> list[dict[str, Any]]:
    title = (
        ":star: VIP customer needs a person"
        if content.vip
        else (":rage: Angry customer needs a person" if content.angry else ":bell: Customer needs a person")
    )
    who = content.customer + (f" ({content.organization})" if content.organization else "")
    ticket = (
        f"<{ticket_url}|Zendesk ticket #{content.ticket_id}>"
        if ticket_url and content.ticket_id
        else "Zendesk ticket: being created"
    )
    value = json.dumps({"d": content.decision_id, "c": content.conversation_id, "t": content.ticket_id})
    return [
        {"type": "header", "text": {"type": "plain_text", "text": title}},
        # Plain text: the customer's words can neither ping a channel nor render as a link.
        {"type": "section", "text": {"type": "plain_text", "text": _short(content.summary), "emoji": False}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*Customer*\n{_cut(who)}"},
                {"type": "mrkdwn", "text": f"*VIP*\n{'yes' if content.vip else 'no'}"},
                {"type": "mrkdwn", "text": f"*Priority*\n{content.priority}"},
                {"type": "mrkdwn", "text": f"*Channel*\n{content.channel}"},
            ],
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": ticket}]},
        {
            "type": "actions",
            "block_id": "handoff_actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": CLAIM_ACTION,
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Claim"},
                    "value": value,
                },
                {
                    "type": "button",
                    "action_id": NOT_NEEDED_ACTION,
                    "text": {"type": "plain_text", "text": "Not needed"},
                    "value": value,
                },
            ],
        },
    ]


def resolved_blocks(blocks: Sequence[dict[str, Any]], note: str) -> list[dict[str, Any]]:
    """The alert with its buttons replaced by a line saying who did what."""
    kept = [b for b in blocks if b.get("type") != "actions"]
    return [*kept, {"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(note)}]}]

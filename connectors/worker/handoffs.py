"""From a conversation to a decision and the actions that make a handoff happen.

Shared by the web-chat route and the Zendesk inbox processor: decide, record the decision in the audit
log, update the remembered state, and plan the outbox actions (a Zendesk write and, when the decision
asks for it, a Slack alert: two rows, so the processor sends them concurrently). Actions are planned
only for a *new* handoff; a conversation already handed over stays silent and plans nothing, which also
stops a webhook caused by our own update from acting twice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from connectors.redaction import known_values, scrub
from connectors.slack.alerts import alert_content
from connectors.store import ConversationRecord, NewAction
from connectors.worker.runtime import Runtime
from connectors.zendesk.models import HandoffUpdate, NewTicket
from connectors.zendesk.notes import handoff_note, marker, transcript_note
from handoff_core import Conversation, Decision, TriggerName
from handoff_core.state import advance, carry, is_new_handoff

ZENDESK_HANDOFF = "zendesk.handoff"
ZENDESK_CREATE = "zendesk.create_ticket"
SLACK_ALERT = "slack.alert"
SLACK_RELINK = "slack.relink"
SLACK_CLAIM = "slack.claim"
SLACK_UPDATE = "slack.update"
SLACK_REVIEW = "slack.review"

DELIVERY_TARGETS = {ZENDESK_HANDOFF: "zendesk", ZENDESK_CREATE: "zendesk", SLACK_ALERT: "slack"}


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    #: The decision's id in the audit log (unique per decision; the core's id is per conversation).
    decision_id: str
    record: ConversationRecord
    actions: list[NewAction]
    new_handoff: bool


async def decide(
    runtime: Runtime,
    conversation: Conversation,
    previous: ConversationRecord | None,
    now: datetime | None = None,
) -> Outcome:
    """Run the core, audit the decision, and plan the actions of a new handoff.

    The core owns the state: :func:`handoff_core.state.carry` joins what the store remembers with what
    the channel shows, the engine decides (``already_handed_off`` included), and
    :func:`~handoff_core.state.advance` gives the state stored once, in the conversation's row. The core
    never reads the clock either: the worker passes ``now`` (its clock by default), so business hours are
    judged at the moment the message is processed.
    """
    state = carry(previous.state if previous else None, conversation.state)
    conversation = conversation.model_copy(update={"state": state})
    started = time.perf_counter()
    decision, analysis = await runtime.decisions.step(
        conversation, runtime.analyses.get(conversation.id), now=now or runtime.clock()
    )
    runtime.analyses.put(conversation.id, analysis)
    runtime.metrics.observe_decision(decision, conversation.channel, time.perf_counter() - started)
    ticket_id = conversation.context.ticket_id or (previous.ticket_id if previous else None)
    decision_id = runtime.audit.record_decision(decision, conversation, ticket_id=ticket_id)
    new_handoff = is_new_handoff(state, decision)
    new_state = advance(state, decision)
    record = ConversationRecord(
        conversation=conversation.model_copy(update={"state": new_state}),
        state=new_state,
        ticket_id=ticket_id,
        alert_channel=previous.alert_channel if previous else None,
        alert_ts=previous.alert_ts if previous else None,
        last_decision_id=decision_id,
    )
    actions = plan_actions(runtime, decision, decision_id, conversation) if new_handoff else []
    return Outcome(decision, decision_id, record, actions, new_handoff)


def plan_actions(runtime: Runtime, decision: Decision, decision_id: str, conversation: Conversation) -> list[NewAction]:
    """A Zendesk write (update the ticket, or create one for web chat) and, if asked for, a Slack alert."""
    tags = decision.route.tags  # from the core only (ai_handoff and handoff_<trigger> included)
    zendesk_target = runtime.tickets.lane
    ticket_id = conversation.context.ticket_id
    actions: list[NewAction] = []
    known = known_values(conversation)  # every text below leaves through the redaction edge
    if ticket_id is not None and ticket_id.isdigit():
        update = HandoffUpdate(
            ticket_id=int(ticket_id),
            tags=tags,
            priority=decision.priority,
            group=decision.route.group,
            note=scrub(handoff_note(decision, decision_id), known),
            marker=marker(decision_id),
        )
        actions.append(
            NewAction(
                kind=ZENDESK_HANDOFF,
                target=zendesk_target,
                dedupe_key=f"{decision_id}:{ZENDESK_HANDOFF}",
                payload=update.model_dump(mode="json"),
                conversation_id=conversation.id,
                decision_id=decision_id,
            )
        )
    else:
        customer = conversation.customer
        new = NewTicket(
            external_id=f"handoff-guard:{conversation.id}"[:255],
            subject=scrub(_subject(decision, conversation), known),
            requester_name=customer.name or customer.email or f"Web chat visitor {conversation.id}"[:100],
            requester_email=customer.email,
            tags=tags,
            priority=decision.priority,
            group=decision.route.group,
            note=scrub(transcript_note(decision, decision_id, conversation), known),
        )
        actions.append(
            NewAction(
                kind=ZENDESK_CREATE,
                target=zendesk_target,
                dedupe_key=f"{decision_id}:{ZENDESK_CREATE}",
                payload=new.model_dump(mode="json"),
                conversation_id=conversation.id,
                decision_id=decision_id,
            )
        )
    if decision.alert:
        # Slack is always redacted (no name, address, email, phone or card), whatever the policy says.
        content = alert_content(decision, decision_id, conversation, redact=True)
        content = content.model_copy(
            update={
                "summary": scrub(content.summary, known),
                "reasons": tuple(scrub(r, known) for r in content.reasons),
            }
        )
        # The route's own channel (sales, on-call out of hours) before the worker's default alert channel.
        channel = decision.route.slack_channel or runtime.settings.slack_alert_channel
        actions.append(
            NewAction(
                kind=SLACK_ALERT,
                target=runtime.alerts.lane if channel else "local",
                dedupe_key=f"{decision_id}:{SLACK_ALERT}",
                payload={
                    "channel": channel,
                    "content": content.model_dump(mode="json"),
                },
                conversation_id=conversation.id,
                decision_id=decision_id,
            )
        )
    return actions


def _subject(decision: Decision, conversation: Conversation) -> str:
    first = next((m.text for m in conversation.messages if m.role.value == "customer"), "")
    first = " ".join(first.split())
    # A topic, never a sentiment label: the customer can read the subject ("[angry]" must not show).
    topic = next(
        (r.topic for r in decision.reasons if r.topic and r.trigger is not TriggerName.SENTIMENT), None
    )
    head = f"[{topic}] " if topic else ""
    return (head + (first[:80] or "Web chat handoff")).strip()

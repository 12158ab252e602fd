"""From a conversation to a decision and the actions that make a handoff happen.

Shared by the web-chat route and the Zendesk inbox processor (:class:`Handoffs`, built once at start-up
with exactly what it needs): decide, record the decision in the audit log, update the remembered state,
and plan the outbox actions (a Zendesk write and, when the decision asks for it, a Slack alert: two
rows, so the processor sends them concurrently). Actions are planned only for a *new* handoff; a
conversation already handed over stays silent and plans nothing, which also stops a webhook caused by
our own update from acting twice.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectors.audit import AuditWriter
from connectors.audit.port import Target
from connectors.metrics import Metrics
from connectors.redaction import known_values, scrub
from connectors.slack.alerts import alert_content
from connectors.store import ConversationRecord, NewAction
from connectors.worker.analyses import AnalysisCache
from connectors.worker.offload import StoreCalls
from connectors.worker.pool import DecisionPool
from connectors.worker.processes import DecisionProcesses
from connectors.zendesk.models import HandoffUpdate, NewTicket
from connectors.zendesk.notes import handoff_note, marker, transcript_note
from handoff_core import Conversation, Decision, TriggerName
from handoff_core.state import advance, carry, is_new_handoff
from handoff_core.text.sentences import clip

ZENDESK_HANDOFF = "zendesk.handoff"
ZENDESK_CREATE = "zendesk.create_ticket"
SLACK_ALERT = "slack.alert"
SLACK_RELINK = "slack.relink"
SLACK_CLAIM = "slack.claim"
SLACK_UPDATE = "slack.update"
SLACK_REVIEW = "slack.review"

DELIVERY_TARGETS: dict[str, Target] = {ZENDESK_HANDOFF: "zendesk", ZENDESK_CREATE: "zendesk", SLACK_ALERT: "slack"}


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    #: The decision's id in the audit log (unique per decision; the core's id is per conversation).
    decision_id: str
    record: ConversationRecord
    actions: list[NewAction]
    new_handoff: bool
    #: The decision as the web chat shows it (redacted, JSON-ready), when a decision process made it.
    answer: dict[str, Any] | None = None


@dataclass(frozen=True)
class ActionPlanner:
    """Where a new handoff's actions go: the ticket and alert lanes (``local`` in local mode) and the
    worker's default alert channel."""

    ticket_lane: str
    alert_lane: str
    alert_channel: str | None

    def plan(self, decision: Decision, decision_id: str, conversation: Conversation) -> list[NewAction]:
        """A Zendesk write (update the ticket, or create one for web chat) and, if asked for, a Slack alert."""
        tags = decision.route.tags  # from the core only (ai_handoff and handoff_<trigger> included)
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
                    target=self.ticket_lane,
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
                subject=_subject(decision, conversation, known),
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
                    target=self.ticket_lane,
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
            channel = decision.route.slack_channel or self.alert_channel
            actions.append(
                NewAction(
                    kind=SLACK_ALERT,
                    target=self.alert_lane if channel else "local",
                    dedupe_key=f"{decision_id}:{SLACK_ALERT}",
                    payload={"channel": channel, "content": content.model_dump(mode="json")},
                    conversation_id=conversation.id,
                    decision_id=decision_id,
                )
            )
        return actions


def to_send(actions: Iterable[NewAction]) -> bool:
    """Whether any action is for a lane the outbox sends on: ``local`` actions are stored as recorded,
    never claimed, so waking the outbox's processors for them only makes every lane claim nothing (in
    local mode that was ~10 % of the event loop's CPU per web-chat handoff)."""
    return any(action.target != "local" for action in actions)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Handoffs:
    """Decides a conversation and plans its handoff: the one path of web chat and the Zendesk inbox.

    Holds only what that needs: the decision pool (the engine off the event loop), the kept per-message
    analyses, the audit log's write side, metrics, the action planner and the clock (a test may fix it).
    """

    decisions: DecisionPool
    analyses: AnalysisCache
    audit: AuditWriter
    calls: StoreCalls
    metrics: Metrics
    planner: ActionPlanner
    #: The current time given to the core (business hours); the clock, unless a test fixes it.
    clock: Callable[[], datetime] = field(default=_now)
    #: Decision processes (``DECISION_PROCESSES`` > 0): used instead of ``decisions``, and each keeps the
    #: analyses of its own conversations (``analyses`` then stays empty).
    processes: DecisionProcesses | None = None

    def admit(self) -> None:
        """Raise :class:`~connectors.worker.pool.DecisionOverload` now if a sheddable decision would be shed."""
        if self.processes is not None:
            self.processes.admit()
        else:
            self.decisions.admit()

    async def decide(
        self,
        conversation: Conversation,
        previous: ConversationRecord | None,
        now: datetime | None = None,
        *,
        may_shed: bool = False,
        answer: bool = False,
    ) -> Outcome:
        """Run the core, audit the decision, and plan the actions of a new handoff.

        The core owns the state: :func:`handoff_core.state.carry` joins what the store remembers with what
        the channel shows, the engine decides (``already_handed_off`` included), and
        :func:`~handoff_core.state.advance` gives the state stored once, in the conversation's row. The
        core never reads the clock either: the worker passes ``now`` (its clock by default), so business
        hours are judged at the moment the message is processed. ``may_shed``: a caller that must answer
        quickly is turned away (:class:`~connectors.worker.pool.DecisionOverload`) rather than queued
        behind a full decision queue; nothing is recorded then. ``answer``: a decision process also makes
        the web chat's redacted answer (:attr:`Outcome.answer`; in threads the route makes it).
        """
        state = carry(previous.state if previous else None, conversation.state)
        conversation = conversation.model_copy(update={"state": state})
        started = time.perf_counter()
        shown = texts = planned = chosen = None
        if self.processes is not None:  # the process keeps the analysis, by the rule below
            # The process also redacts the answer and the audit's texts and plans a new handoff's actions,
            # for an audit id chosen here: pure work off the event loop (module docstring of processes).
            chosen = uuid.uuid4().hex
            decision, prepared = await self.processes.step(
                conversation, now or self.clock(), may_shed=may_shed, answer=answer, plan=(self.planner, chosen)
            )
            shown, texts, planned = prepared.answer, prepared.texts, prepared.actions
            new_state = advance(state, decision)
        else:
            decision, analysis = await self.decisions.step(
                conversation, self.analyses.get(conversation.id), now=now or self.clock(), may_shed=may_shed
            )
            new_state = advance(state, decision)
            # A conversation with a person is decided without its analysis (the engine answers "already
            # handed off" first), so keeping it would only hold memory; should the state ever be reset, the
            # next decision re-reads the transcript, as after any eviction.
            self.analyses.put(conversation.id, None if new_state.handed_off else analysis)
        self.metrics.observe_decision(decision, conversation.channel, time.perf_counter() - started)
        ticket_id = conversation.context.ticket_id or (previous.ticket_id if previous else None)
        decision_id = await self.calls(
            self.audit.record_decision, decision, conversation, ticket_id=ticket_id, audit_id=chosen, redacted=texts
        )
        new_handoff = is_new_handoff(state, decision)
        record = ConversationRecord(
            conversation=conversation.model_copy(update={"state": new_state}),
            state=new_state,
            ticket_id=ticket_id,
            alert_channel=previous.alert_channel if previous else None,
            alert_ts=previous.alert_ts if previous else None,
            last_decision_id=decision_id,
            # The revision the transcript was read at: the store then writes only the new messages.
            stamp=previous.stamp if previous else None,
        )
        if not new_handoff:
            actions = []
        elif planned is not None and decision_id == chosen:
            actions = planned
        else:  # in threads, or the log already held this decision (a replay) under another id
            actions = self.planner.plan(decision, decision_id, conversation)
        return Outcome(decision, decision_id, record, actions, new_handoff, shown)


def _subject(decision: Decision, conversation: Conversation, known: Iterable[str]) -> str:
    first = next((m.text for m in conversation.messages if m.role.value == "customer"), "")
    # Redacted whole, then cut: cut first, an e-mail or card number split at the cut no longer has the
    # shape the redaction edge knows, and its first half went out in the subject ("mail ann@").
    first = scrub(" ".join(first.split()), known)
    # A topic, never a sentiment label: the customer can read the subject ("[angry]" must not show).
    topic = next((r.topic for r in decision.reasons if r.topic and r.trigger is not TriggerName.SENTIMENT), None)
    head = f"[{topic}] " if topic else ""
    # Cut at a word, so the subject never ends in half a word or half a placeholder ("mail [e").
    return (head + (clip(first, 80) or "Web chat handoff")).strip()

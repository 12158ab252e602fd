"""Render the private note an agent reads on a handed-over ticket, from the decision itself.

The note starts with :data:`~connectors.zendesk.transcript.NOTE_MARKER` and names the decision's audit id, so
the worker recognises its own update when Zendesk calls back (no loops) and a retried action can see that
its note is already there (one note per decision).
"""

from __future__ import annotations

from connectors.zendesk.transcript import NOTE_MARKER
from handoff_core import Conversation, Decision, Reason


def marker(decision_id: str) -> str:
    return f"{NOTE_MARKER} decision {decision_id}"


def _reason_lines(reason: Reason) -> list[str]:
    topic = f" ({reason.topic})" if reason.topic else ""
    lines = [f"- {reason.trigger.value}{topic}: {reason.detail} [score {reason.score:.2f}]"]
    for ev in reason.evidence:
        parts = []
        if ev.message_index is not None:
            parts.append(f"message #{ev.message_index + 1}")
        if ev.field:
            parts.append(ev.field)
        if ev.matched:
            parts.append("matched " + ", ".join(repr(m) for m in ev.matched))
        if ev.quote:
            parts.append(f'"{ev.quote}"')
        if parts:
            lines.append("    evidence: " + "; ".join(parts))
    return lines


def handoff_note(decision: Decision, decision_id: str) -> str:
    """The full summary (issue first), then each reason with its evidence, for an existing ticket.

    Private, never a public reply. The summary already says why and what is still missing; the reasons
    below it are the audit trail an agent opens when they doubt the handoff.
    """
    lines = [
        marker(decision_id),
        f"The AI assistant handed this conversation over (priority {decision.priority.value}).",
        *_hours_and_lead_lines(decision),
        "",
        decision.summary or "Summary: (none; summaries are switched off in the policy)",
        "",
        "Evidence:",
    ]
    for reason in decision.reasons:
        lines.extend(_reason_lines(reason))
    if decision.missing_fields and not decision.summary:
        lines += ["", "Still to collect: " + ", ".join(decision.missing_fields)]
    if decision.collected:
        lines += ["", "Collected: " + ", ".join(f"{k}={v}" for k, v in decision.collected.items())]
    lines += ["", f"Policy {decision.policy.version} ({decision.policy.hash[:12]})"]
    return "\n".join(lines)


def _hours_and_lead_lines(decision: Decision) -> list[str]:
    """What the customer was promised out of hours, and the lead's value, so the agent sees both first."""
    lines = []
    if decision.agents_available is False and decision.expected_reply_by is not None:
        who = "the on-call channel was paged" if decision.on_call else "nobody was at work"
        lines.append(
            f"Out of hours ({who}): the customer was told a person replies by "
            f"{decision.expected_reply_by:%Y-%m-%d %H:%M} UTC."
        )
    if decision.lead is not None and decision.lead.qualified:
        currency = f" {decision.lead.currency}" if decision.lead.currency else ""
        basis = f" ({'; '.join(decision.lead.basis)})" if decision.lead.basis else ""
        lines.append(f"Sales lead worth {decision.lead.value}{currency}{basis}.")
    return lines


def transcript_note(decision: Decision, decision_id: str, conversation: Conversation) -> str:
    """The handoff note plus the full web-chat transcript, for a newly created ticket."""
    lines = [handoff_note(decision, decision_id), "", "Transcript:"]
    for message in conversation.messages:
        when = f"{message.created_at:%Y-%m-%d %H:%M} " if message.created_at else ""
        lines.append(f"{when}{message.role.value}: {message.text}")
    return "\n".join(lines)

"""The transcript summary the human agent reads first: deterministic, short, and in a fixed order.

Agents triage from this note, so it answers their questions in the order they ask them: who is this,
what do they want, what do we already know, how do they feel, what did the bot already say, why am I
getting this, and what did they say last. It never exceeds the policy's ``max_chars`` and personal data
is redacted when the policy says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from handoff_core.decision import Action, Reason
from handoff_core.facts import Facts
from handoff_core.models import Conversation, Role
from handoff_core.redact import mask_email, redact
from handoff_core.sentiment import MessageSentiment


@dataclass(frozen=True, slots=True)
class SummaryInput:
    conversation: Conversation
    action: Action
    reasons: Sequence[Reason]
    sentiments: Sequence[MessageSentiment]
    facts: Facts
    collected: dict[str, str]
    missing: Sequence[str]
    language: str
    #: Index of the customer message that best says what they want.
    want_index: int | None
    vip: bool


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _mood(sentiments: Sequence[MessageSentiment]) -> str:
    if not sentiments:
        return "unknown"
    worst = min(s.score for s in sentiments)
    last = sentiments[-1].score
    label = (
        "angry"
        if worst <= -0.6
        else "negative"
        if worst <= -0.3
        else "neutral"
        if worst < 0.3
        else "positive"
    )
    trend = ""
    if len(sentiments) >= 2:
        first = sentiments[0].score
        if last - first <= -0.3:
            trend = f", getting worse ({first:+.2f} → {last:+.2f})"
        elif last - first >= 0.3:
            trend = f", improving ({first:+.2f} → {last:+.2f})"
    return f"{label} (worst {worst:+.2f}, last {last:+.2f}){trend}"


def build_summary(data: SummaryInput, max_chars: int, redact_pii: bool) -> str:
    conv = data.conversation
    customer = conv.customer
    who = customer.name or customer.id or "unknown customer"
    if customer.email:
        who += f" <{mask_email(customer.email) if redact_pii else customer.email}>"
    extras = [p for p in (customer.plan and f"plan {customer.plan}", customer.organization) if p]
    vip = "VIP" if data.vip else "not VIP"
    lines = [
        f"Customer: {who} · {vip}"
        + (f" · {', '.join(extras)}" if extras else "")
        + f" · lang {data.language}"
    ]

    customer_messages = [m for m in conv.messages if m.role is Role.CUSTOMER]
    if data.want_index is not None:
        want = conv.messages[data.want_index].text
    elif customer_messages:
        want = customer_messages[0].text
    else:
        want = "(no customer message)"
    lines.append(f"Wants: {_clip(want, 160)}")

    facts: list[str] = []
    ctx = conv.context
    order_ids = ([ctx.order_id] if ctx.order_id else []) + [
        o for o in data.facts.order_ids if o != ctx.order_id
    ]
    if order_ids:
        facts.append("order " + ", ".join(order_ids[:3]))
    if ctx.product:
        facts.append(f"product {ctx.product}")
    currency = f" {ctx.currency}" if ctx.currency else ""
    if ctx.order_total is not None:
        facts.append(f"order total {ctx.order_total}{currency}")
    if ctx.refund_amount is not None:
        facts.append(f"refund asked {ctx.refund_amount}{currency}")
    if data.facts.amounts:
        facts.append("amounts mentioned " + ", ".join(data.facts.amounts[:3]))
    if ctx.purchase_date is not None:
        facts.append(f"purchased {ctx.purchase_date.date().isoformat()}")
    if data.facts.dates:
        facts.append("dates mentioned " + ", ".join(data.facts.dates[:3]))
    if facts:
        lines.append("Facts: " + "; ".join(facts))

    lines.append(f"Sentiment: {_mood(data.sentiments)}")
    answered = [m for m in conv.messages if m.role is Role.ASSISTANT]
    if answered:
        lines.append(f"Assistant said ({len(answered)} replies), last: {_clip(answered[-1].text, 140)}")
    else:
        lines.append("Assistant said: nothing yet")
    why = "; ".join(r.detail for r in data.reasons[:3]) or "no trigger"
    lines.append(f"Why {data.action.value.replace('_', ' ')}: {_clip(why, 220)}")
    if data.collected:
        lines.append("Collected: " + ", ".join(f"{k} {v}" for k, v in data.collected.items()))
    if data.missing:
        lines.append("Still missing: " + ", ".join(data.missing))
    last = customer_messages[-1].text if customer_messages else ""
    head = "\n".join(lines)
    room = max_chars - len(head) - len('\nLast message: ""')
    summary = head + f'\nLast message: "{_clip(last, max(40, room))}"'
    if redact_pii:
        summary = redact(summary)
    return summary if len(summary) <= max_chars else summary[: max_chars - 1] + "…"

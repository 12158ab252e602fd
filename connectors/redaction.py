"""The redaction edge's text rule, below every connector layer so the audit log and the worker share it.

The core's :func:`handoff_core.redact.redact` knows shapes (emails, Luhn-valid cards, IBANs, phones);
this adds what only the conversation knows (the customer's own name, email and phone as given in its
fields) and street addresses, and cleans a cut-off tail ("+1 415 55…") that a shortened text may end
with, so a phone number is never half-shown because it was truncated before it was redacted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from handoff_core import Conversation, Decision, Reason
from handoff_core.redact import redact

# Both start with the digit they need and look behind it afterwards (``\d(?<!\w\d)`` is ``\b\d``), so the
# regex engine skips to digits instead of trying every position (see handoff_core.redact).
_STREET = re.compile(
    r"\d(?<!\w\d)\d{0,4}[A-Za-z]?\s+(?:[A-Z][\w'.-]*\s+){1,4}"
    r"(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Boulevard|Blvd|Drive|Dr|Way|Court|Ct|Place|Pl|Square|Sq"
    r"|Terrace|Close|Crescent|Parkway|Pkwy|Highway|Hwy)\b\.?",
)
#: Dates and times ("2026-11-30 14:00") look like phone numbers to the shape rules; they are not personal.
_DATETIME = re.compile(r"\d(?<!\w\d)\d{3}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?\b")
_CUT_TAIL = re.compile(r"[+(]?\d[\d\s().-]*…$")


def known_values(conversation: Conversation) -> tuple[str, ...]:
    """The customer's own identifiers, longest first (a full name before its parts)."""
    c = conversation.customer
    values = [v.strip() for v in (c.name, c.email, c.phone) if v and len(v.strip()) >= 3]
    if c.name:
        values += [part for part in c.name.split() if len(part) >= 3]
    return tuple(sorted(set(values), key=len, reverse=True))


#: Every shape rule (emails, cards, phones, IBANs, dates kept, street numbers, cut-off tails) needs a digit
#: or an "@" to match: a text with neither (most evidence quotes and reason details) skips them all.
_SHAPE_HINT = re.compile(r"[\d@]")


def scrub(text: str, known: Iterable[str] = ()) -> str:
    """Redact shapes, street addresses and the given known values; clean a truncated numeric tail."""
    shaped = _SHAPE_HINT.search(text) is not None
    if shaped:
        kept: list[str] = []

        def keep(match: re.Match[str]) -> str:
            kept.append(match.group(0))
            return f"\x00{len(kept) - 1}\x00"

        text = redact(_DATETIME.sub(keep, text))
        text = re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], text)
    for value in known:
        text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", "[customer]", text, flags=re.IGNORECASE)
    if not shaped:  # "[customer]" brings no digit: the rules below still cannot match
        return text
    text = _STREET.sub("[address]", text)
    # The tail rule is anchored at the end ($: the very end, or before one final newline): only a text
    # ending in "…" can match, and scanning a 4 KB note for it from every position cost ~0.1 ms.
    return _CUT_TAIL.sub("[…]", text) if text.endswith(("…", "…\n")) else text


def scrub_decision(decision: Decision, known: Iterable[str] = ()) -> Decision:
    """The decision as it may leave the worker to a caller: every text that quotes the customer scrubbed.

    Why: the web-chat answer carries reasons whose evidence quotes the customer's message, and it is
    stored to be replayed to duplicates; a card number typed into the chat must not travel back out in
    it, nor sit in ``webchat_replies``. Scores, routes, the action and the names of the collected fields are
    untouched.
    """
    known = tuple(known)
    update: dict[str, object] = {
        "reasons": tuple(scrub_reason(r, known) for r in decision.reasons),
        # The caller needs which fields were collected, not the customer's values echoed back and stored.
        "collected": {name: scrub(value, known) for name, value in decision.collected.items()},
    }
    for field in ("summary", "summary_short"):
        value = getattr(decision, field)
        if value is not None:
            update[field] = scrub(value, known)
    return decision.model_copy(update=update)


def scrub_reason(reason: Reason, known: Iterable[str] = ()) -> Reason:
    """A reason with every text that quotes the customer scrubbed: its detail and its evidence's matched
    words, quote and nearest example. The audit log and the web-chat answer both store reasons; one
    function keeps them from drifting when evidence gains a text field."""
    known = tuple(known)
    evidence = tuple(
        item.model_copy(
            update={
                "matched": tuple(scrub(m, known) for m in item.matched),
                "quote": scrub(item.quote, known) if item.quote is not None else None,
                "example": scrub(item.example, known) if item.example is not None else None,
            }
        )
        for item in reason.evidence
    )
    return reason.model_copy(update={"detail": scrub(reason.detail, known), "evidence": evidence})

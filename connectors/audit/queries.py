"""Read side of the audit log: decisions with their reasons, deliveries and later events.

Why plain frozen dataclasses rather than the core's ``Decision``: a stored record is a different thing
from a decision. It holds what happened afterwards (deliveries, claims, feedback), it may come from an
older policy whose decision model had other fields, and its customer text is already redacted. Rows are
parsed once (:mod:`connectors.audit.sql`) so that the CLI, the exports and the weekly report never
handle a driver's rows.

Errors: none of its own; a malformed filter is a ``ValueError`` raised by the caller's parsing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from connectors.audit.log import format_time

if TYPE_CHECKING:
    from connectors.audit.port import AuditReader

#: Triggers whose ``Reason.topic`` names the subject of the conversation.
TOPIC_TRIGGERS = frozenset({"restricted_topic", "refund_exception"})


@dataclass(frozen=True)
class ReasonRecord:
    trigger: str
    topic: str | None
    action: str
    score: float
    priority: str
    group: str | None
    alert: bool
    detail: str
    evidence: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class DeliveryRecord:
    target: str
    ok: bool
    detail: str | None
    at: datetime


@dataclass(frozen=True)
class EventRecord:
    id: str
    kind: str
    actor: str | None
    at: datetime
    data: dict[str, Any]


@dataclass(frozen=True)
class DecisionRecord:
    """One recorded decision and everything that happened to it afterwards."""

    id: str
    decided_at: datetime
    conversation_id: str
    ticket_id: str | None
    channel: str
    action: str
    priority: str
    alert: bool
    urgent: bool
    language: str
    policy_version: str
    policy_hash: str
    knowledge_version: str | None
    route_group: str | None
    route_tags: tuple[str, ...]
    signals: dict[str, Any]
    question: str | None
    simulated: bool
    redacted: bool
    reasons: tuple[ReasonRecord, ...] = ()
    deliveries: tuple[DeliveryRecord, ...] = ()
    events: tuple[EventRecord, ...] = ()
    #: The sales lead's value and whether it was handed to sales (None: no lead in this decision).
    lead_value: float | None = None
    lead_qualified: bool | None = None
    #: People at work on the route's schedule when decided (None: no schedules in the policy).
    agents_available: bool | None = None
    expected_reply_by: datetime | None = None

    @property
    def triggers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.trigger for r in self.reasons))

    @property
    def topics(self) -> tuple[str, ...]:
        """Subject topics (``refund``, ``legal``...): the ``topic`` of restricted-topic and refund reasons.

        Other triggers use ``Reason.topic`` for a sub-kind (``angry``, ``no_source``, ``fallbacks``),
        which is kept on the reason but is not what a support lead means by a topic.
        """
        return tuple(dict.fromkeys(r.topic for r in self.reasons if r.topic and r.trigger in TOPIC_TRIGGERS))

    @property
    def is_handoff(self) -> bool:
        return self.action == "handoff"

    @property
    def angry(self) -> bool:
        return bool(self.signals.get("angry", False))

    @property
    def vip(self) -> bool:
        return "vip" in self.triggers

    def event(self, kind: str) -> EventRecord | None:
        for item in self.events:
            if item.kind == kind:
                return item
        return None

    def reached(self, target: str) -> bool | None:
        """True when any attempt reached ``target``, False when all failed, None when none was made."""
        attempts = [d.ok for d in self.deliveries if d.target == target]
        if not attempts:
            return None
        return any(attempts)

    def claim_seconds(self) -> float | None:
        """Seconds from this decision to the first Slack "Claim", or None when nobody claimed it."""
        claim = self.event("claimed")
        if claim is None:
            return None
        return max(0.0, (claim.at - self.decided_at).total_seconds())


@dataclass(frozen=True)
class DecisionFilter:
    """Which decisions to read. ``simulated``: True only simulated, False only live, None both."""

    since: datetime | None = None
    until: datetime | None = None
    trigger: str | None = None
    action: str | None = None
    channel: str | None = None
    simulated: bool | None = False
    conversation_id: str | None = None
    #: How ``trigger`` is looked up: True starts from the trigger's reasons (few of them in the whole
    #: log), False probes each decision's own reasons newest first; None: the reader decides (a listing
    #: with a limit counts up to :data:`RARE_TRIGGER_REASONS` of them first; an export probes).
    rare_trigger: bool | None = None

    def where(self) -> tuple[str, list[object]]:
        """The SQL condition on ``audit_decisions AS d`` and its parameters."""
        clauses: list[str] = []
        params: list[object] = []
        if self.since is not None:
            clauses.append("d.decided_at >= ?")
            params.append(format_time(self.since))
        if self.until is not None:
            clauses.append("d.decided_at < ?")
            params.append(format_time(self.until))
        if self.action is not None:
            clauses.append("d.action = ?")
            params.append(self.action)
        if self.channel is not None:
            clauses.append("d.channel = ?")
            params.append(self.channel)
        if self.conversation_id is not None:
            clauses.append("d.conversation_id = ?")
            params.append(self.conversation_id)
        if self.simulated is not None:
            clauses.append("d.simulated = ?")
            params.append(int(self.simulated))
        if self.trigger is not None and self.rare_trigger:
            # A trigger with few reasons: its reasons (the trigger index) name the decisions. Walking the
            # decisions newest first instead would probe every one of them in the period when nothing
            # matches (3.6 s of CPU for ``--since 90d --reason sales_lead`` on a million decisions).
            clauses.append("d.id IN (SELECT r.decision_id FROM audit_reasons r WHERE r.trigger = ?)")
            params.append(self.trigger)
        elif self.trigger is not None:
            # The decision's own list of triggers, which the listing index carries: tested on index entries,
            # so walking the decisions newest first reads a row only when it matches. Rows recorded before
            # that column existed (NULL) probe their reasons instead: ``LIMIT 1 OFFSET 0`` keeps PostgreSQL
            # from turning the EXISTS into a semi-join that reads every reason with this trigger ever
            # recorded (a Bitmap Index Scan on the trigger, then a hash), so a decision's reasons are one
            # (decision_id, trigger) seek (tests/store/test_query_plans*.py).
            clauses.append(
                "(d.trigger_list LIKE ? ESCAPE '!' OR (d.trigger_list IS NULL AND EXISTS (SELECT 1 FROM"
                " audit_reasons r WHERE r.decision_id = d.id AND r.trigger = ? LIMIT 1 OFFSET 0)))"
            )
            params += [trigger_pattern(self.trigger), self.trigger]
        return (" AND ".join(clauses) or "1 = 1"), params


def trigger_list(triggers: Sequence[str]) -> str:
    """A decision's triggers as stored in ``audit_decisions.trigger_list``: `` vip low_confidence ``.

    Spaces at both ends, so that one trigger is matched whole (:func:`trigger_pattern`); a decision without
    reasons stores a single space (known to have none, unlike NULL: recorded before the column existed).
    """
    return " " + "".join(f"{name} " for name in dict.fromkeys(triggers))


def trigger_pattern(trigger: str) -> str:
    """The ``LIKE ... ESCAPE '!'`` pattern that finds ``trigger`` in a :func:`trigger_list` (``_`` literal)."""
    escaped = trigger.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"% {escaped} %"


#: Decisions read per page when streaming (and ids per ``IN (...)`` list of related rows).
PAGE = 500
#: A trigger with fewer reasons than this in the whole log is listed from its reasons (see
#: :attr:`DecisionFilter.rare_trigger`): at most this many index entries are read to find out, and a
#: listing driven by them sorts at most this many decisions (~25 µs each, so ≤ 50 ms). A commoner trigger
#: is found by walking the listing index newest first, testing each entry's trigger list (~0.13 µs an
#: entry: a whole million in ~0.15 s of CPU), which stops at the limit. It was 50,000 when the walk
#: probed each decision's reasons instead: ``--reason vip`` with 40,000 reasons then cost ~1 s of CPU
#: on a million decisions, sorting 40,000 rows to show 200.
RARE_TRIGGER_REASONS = 2_000
#: Decisions per page of the review's lean read: large enough that per-query overhead vanishes, small
#: enough to stay a few MB.
REVIEW_PAGE = 2_000


def fetch_decisions(
    log: AuditReader, flt: DecisionFilter | None = None, *, limit: int | None = None
) -> list[DecisionRecord]:
    """Decisions matching ``flt`` in time order, with their reasons, deliveries and events.

    ``limit``: only the newest ``limit`` matches (still returned oldest first), read backwards through
    the listing index (time order), so a listing costs the same on a month of decisions as on a day.
    """
    return list(log.decisions(flt, limit=limit))


def iter_decisions(log: AuditReader, flt: DecisionFilter | None = None) -> Iterator[DecisionRecord]:
    """Like :func:`fetch_decisions`, a page at a time (keyset on ``decided_at, seq``), so an export of a
    month holds one page in memory."""
    return log.decisions(flt)


@dataclass(frozen=True, slots=True)
class ReviewRow:
    """The facts of one decision that the review counts (see :mod:`connectors.report.data`).

    Why not a :class:`DecisionRecord`: it builds every reason's evidence, every delivery and every event;
    a 100,000-decision week read that way held a gigabyte. The review needs a handful of facts, most of
    them worked out by the database where the rows are (:meth:`AuditReader.review_rows`).
    """

    decided_at: datetime
    conversation_id: str
    channel: str
    action: str
    alert: bool
    simulated: bool
    policy_version: str
    policy_hash: str
    question: str | None
    angry: bool
    knowledge_status: str | None
    triggers: tuple[str, ...]
    topics: tuple[str, ...]
    claim_seconds: float | None
    not_needed: bool
    handoff_wrong: bool
    missed: bool
    #: True when a delivery reached the target, False when every attempt failed, None when none was made.
    zendesk: bool | None
    slack: bool | None
    #: The sales lead's value and whether it went to sales (None: no lead); people at work when decided.
    lead_value: float | None = None
    lead_qualified: bool | None = None
    agents_available: bool | None = None

    @property
    def vip(self) -> bool:
        return "vip" in self.triggers

    @classmethod
    def from_record(cls, record: DecisionRecord) -> ReviewRow:
        """The same facts taken from a full record (for callers that already hold records)."""
        status = record.signals.get("knowledge_status")
        return cls(
            decided_at=record.decided_at,
            conversation_id=record.conversation_id,
            channel=record.channel,
            action=record.action,
            alert=record.alert,
            simulated=record.simulated,
            policy_version=record.policy_version,
            policy_hash=record.policy_hash,
            question=record.question,
            angry=record.angry,
            knowledge_status=status if isinstance(status, str) else None,
            triggers=record.triggers,
            topics=record.topics,
            claim_seconds=record.claim_seconds(),
            not_needed=record.event("not_needed") is not None,
            handoff_wrong=record.event("handoff_wrong") is not None,
            missed=record.event("missed_handoff") is not None,
            zendesk=record.reached("zendesk"),
            slack=record.reached("slack"),
            lead_value=record.lead_value,
            lead_qualified=record.lead_qualified,
            agents_available=record.agents_available,
        )


def triggers_of(records: Sequence[DecisionRecord]) -> list[str]:
    """Every trigger that appears in ``records``, most frequent first."""
    counts: dict[str, int] = {}
    for record in records:
        for trigger in record.triggers:
            counts[trigger] = counts.get(trigger, 0) + 1
    return sorted(counts, key=lambda t: (-counts[t], t))

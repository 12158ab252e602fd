"""Read side of the audit log: decisions with their reasons, deliveries and later events.

Why plain frozen dataclasses rather than the core's ``Decision``: a stored record is a different thing
from a decision. It holds what happened afterwards (deliveries, claims, feedback), it may come from an
older policy whose decision model had other fields, and its customer text is already redacted. Rows are
parsed once here so that the CLI, the exports and the weekly report never handle ``sqlite3.Row``.

Errors: none of its own; a malformed filter is a ``ValueError`` raised by the caller's parsing.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.audit.log import AuditLog, format_time, parse_time

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
        if self.trigger is not None:
            clauses.append("EXISTS (SELECT 1 FROM audit_reasons r WHERE r.decision_id = d.id AND r.trigger = ?)")
            params.append(self.trigger)
        return (" AND ".join(clauses) or "1 = 1"), params


#: Decisions read per page when streaming (and ids per ``IN (...)`` list of related rows).
PAGE = 500


def fetch_decisions(
    log: AuditLog, flt: DecisionFilter | None = None, *, limit: int | None = None
) -> list[DecisionRecord]:
    """Decisions matching ``flt`` in time order, with their reasons, deliveries and events.

    ``limit``: only the newest ``limit`` matches (still returned oldest first), read backwards through
    the time index, so a listing costs the same on a month of decisions as on a day.
    """
    if limit is None:
        return list(iter_decisions(log, flt))
    flt = flt or DecisionFilter()
    where, params = flt.where()
    with log.lock:
        rows = log.connection.execute(
            f"SELECT * FROM audit_decisions d WHERE {where} ORDER BY d.decided_at DESC, d.seq DESC LIMIT ?",  # noqa: S608
            (*params, limit),
        ).fetchall()
    rows.reverse()
    return [record for start in range(0, len(rows), PAGE) for record in _with_related(log, rows[start : start + PAGE])]


def iter_decisions(log: AuditLog, flt: DecisionFilter | None = None) -> Iterator[DecisionRecord]:
    """Like :func:`fetch_decisions`, a page at a time (keyset on ``decided_at, seq``), so an export of a
    month holds one page in memory, and the store's lock is held for one page at a time."""
    flt = flt or DecisionFilter()
    page_filter = flt
    after_time, after_seq = "", -1
    while True:
        # Each page's range starts at the last row read, so a page is an index seek, not a rescan.
        where, params = page_filter.where()
        with log.lock:
            rows = log.connection.execute(
                f"SELECT * FROM audit_decisions d WHERE {where}"  # noqa: S608 (clauses are fixed text)
                " AND (d.decided_at > ? OR (d.decided_at = ? AND d.seq > ?))"
                " ORDER BY d.decided_at, d.seq LIMIT ?",
                (*params, after_time, after_time, after_seq, PAGE),
            ).fetchall()
        yield from _with_related(log, rows)
        if len(rows) < PAGE:
            return
        after_time, after_seq = rows[-1]["decided_at"], int(rows[-1]["seq"])
        last = parse_time(after_time)
        page_filter = dataclasses.replace(flt, since=max(flt.since, last) if flt.since else last)


def _with_related(log: AuditLog, rows: Sequence[Any]) -> list[DecisionRecord]:
    """Records for ``rows`` with their reasons, deliveries and events, looked up by decision id."""
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    marks = ", ".join("?" for _ in ids)
    conn = log.connection
    with log.lock:
        reason_rows = conn.execute(
            f"SELECT * FROM audit_reasons WHERE decision_id IN ({marks}) ORDER BY decision_id, position",  # noqa: S608
            ids,
        ).fetchall()
        delivery_rows = conn.execute(
            f"SELECT * FROM audit_deliveries WHERE decision_id IN ({marks}) ORDER BY at, id",  # noqa: S608
            ids,
        ).fetchall()
        event_rows = conn.execute(
            f"SELECT * FROM audit_events WHERE decision_id IN ({marks}) ORDER BY at, id",  # noqa: S608
            ids,
        ).fetchall()
    reasons: dict[str, list[ReasonRecord]] = {}
    for r in reason_rows:
        reasons.setdefault(r["decision_id"], []).append(
            ReasonRecord(
                trigger=r["trigger"],
                topic=r["topic"],
                action=r["action"],
                score=float(r["score"]),
                priority=r["priority"],
                group=r["route_group"],
                alert=bool(r["alert"]),
                detail=r["detail"],
                evidence=tuple(json.loads(r["evidence_json"])),
            )
        )
    deliveries: dict[str, list[DeliveryRecord]] = {}
    for r in delivery_rows:
        deliveries.setdefault(r["decision_id"], []).append(
            DeliveryRecord(target=r["target"], ok=bool(r["ok"]), detail=r["detail"], at=parse_time(r["at"]))
        )
    events: dict[str, list[EventRecord]] = {}
    for r in event_rows:
        events.setdefault(r["decision_id"], []).append(
            EventRecord(
                id=r["id"],
                kind=r["kind"],
                actor=r["actor"],
                at=parse_time(r["at"]),
                data=json.loads(r["data_json"]),
            )
        )
    return [_record(row, reasons, deliveries, events) for row in rows]


def _record(
    row: Any,
    reasons: dict[str, list[ReasonRecord]],
    deliveries: dict[str, list[DeliveryRecord]],
    events: dict[str, list[EventRecord]],
) -> DecisionRecord:
    decision_id = row["id"]
    return DecisionRecord(
        id=decision_id,
        decided_at=parse_time(row["decided_at"]),
        conversation_id=row["conversation_id"],
        ticket_id=row["ticket_id"],
        channel=row["channel"],
        action=row["action"],
        priority=row["priority"],
        alert=bool(row["alert"]),
        urgent=bool(row["urgent"]),
        language=row["language"],
        policy_version=row["policy_version"],
        policy_hash=row["policy_hash"],
        knowledge_version=row["knowledge_version"],
        route_group=row["route_group"],
        route_tags=tuple(json.loads(row["route_tags"])),
        signals=json.loads(row["signals_json"]),
        question=row["question"],
        simulated=bool(row["simulated"]),
        redacted=bool(row["redacted"]),
        reasons=tuple(reasons.get(decision_id, ())),
        deliveries=tuple(deliveries.get(decision_id, ())),
        events=tuple(events.get(decision_id, ())),
        lead_value=row["lead_value"],
        lead_qualified=None if row["lead_qualified"] is None else bool(row["lead_qualified"]),
        agents_available=None if row["agents_available"] is None else bool(row["agents_available"]),
        expected_reply_by=parse_time(row["expected_reply_by"]) if row["expected_reply_by"] else None,
    )


def triggers_of(records: Sequence[DecisionRecord]) -> list[str]:
    """Every trigger that appears in ``records``, most frequent first."""
    counts: dict[str, int] = {}
    for record in records:
        for trigger in record.triggers:
            counts[trigger] = counts.get(trigger, 0) + 1
    return sorted(counts, key=lambda t: (-counts[t], t))

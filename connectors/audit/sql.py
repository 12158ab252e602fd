"""The audit log's SQL and logic, shared by the SQLite and PostgreSQL drivers.

Why one module for both: the statements that record a decision, find the decision an event is about
and page through decisions are the same SQL in both databases (``INSERT ... ON CONFLICT DO NOTHING``,
correlated ``EXISTS``, keyset paging on ``(decided_at, seq)``), so they are written once here, with
``?`` placeholders, and the two drivers cannot drift apart. What really differs is small and explicit:

- the schema (native types: ``INTEGER PRIMARY KEY AUTOINCREMENT``/``REAL`` against
  ``BIGSERIAL``/``DOUBLE PRECISION``) lives in each driver's own migrations;
- how a transaction starts and a connection is held (:meth:`SqlAuditLog._tx`, :meth:`SqlAuditLog._reading`):
  one serialised SQLite connection and ``BEGIN IMMEDIATE``, or a psycopg pool;
- the placeholder: psycopg spells ``?`` as ``%s`` (:class:`connectors.store.postgres.PgConnection`, the
  same adapter the store uses);
- three fragments of the review's read (:class:`Dialect`): a field of the signals JSON and the
  aggregation of a decision's reasons into one string.

Rows are read by column name (``sqlite3.Row`` and psycopg's ``dict_row`` both are) and mapped to the
records of :mod:`connectors.audit.queries` here, once.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.audit import queries
from connectors.audit.log import (
    EVENT_KINDS,
    MAX_DETAIL_CHARS,
    MAX_QUESTION_CHARS,
    TARGETS,
    UnknownDecisionError,
    format_time,
    parse_time,
    to_utc,
)
from connectors.audit.port import EventKind, Target
from connectors.audit.queries import (
    TOPIC_TRIGGERS,
    DecisionFilter,
    DecisionRecord,
    DeliveryRecord,
    EventRecord,
    ReasonRecord,
    ReviewRow,
)
from connectors.redaction import known_values, scrub, scrub_reason
from connectors.store.sql import Executor, Row
from handoff_core import Action, Conversation, Decision, Reason, TriggerName


@dataclass(frozen=True)
class Dialect:
    """The fragments of the review's read that differ between the databases."""

    name: str
    #: ``signals.angry`` as a truth value, and ``signals.knowledge_status`` as text.
    angry: str
    status: str
    #: A decision's reasons as ``position<US>trigger<US>topic`` joined by ``<RS>`` (order restored in Python).
    reasons: str


SQLITE = Dialect(
    "sqlite",
    angry="json_extract(d.signals_json, '$.angry')",
    status="json_extract(d.signals_json, '$.knowledge_status')",
    reasons="(SELECT group_concat(CAST(r.position AS TEXT) || char(31) || r.trigger || char(31)"
    " || COALESCE(r.topic, ''), char(30)) FROM audit_reasons r WHERE r.decision_id = d.id)",
)
POSTGRESQL = Dialect(
    "postgresql",
    angry="((d.signals_json::jsonb -> 'angry') = 'true'::jsonb)",
    status="(d.signals_json::jsonb ->> 'knowledge_status')",
    reasons="(SELECT string_agg(CAST(r.position AS TEXT) || chr(31) || r.trigger || chr(31)"
    " || COALESCE(r.topic, ''), chr(30)) FROM audit_reasons r WHERE r.decision_id = d.id)",
)
DIALECTS = {d.name: d for d in (SQLITE, POSTGRESQL)}

_UNIT = "\x1f"  # between a reason's position, trigger and topic (char(31) in the SQL)
_ROW = "\x1e"  # between reasons (char(30))

#: A decision that only repeats that the conversation is with a person already (no new handoff).
#: ``LIMIT 1 OFFSET 0``: a decision's own reasons, one index seek each, on PostgreSQL too, which otherwise
#: hashes every ``already_handed_off`` reason ever recorded (see ``DecisionFilter.where`` in
#: :mod:`connectors.audit.queries`; tests/store/test_query_plans_pg.py).
_ONLY_ALREADY_HANDED_OFF = (
    "EXISTS (SELECT 1 FROM audit_reasons r WHERE r.decision_id = d.id AND r.trigger = 'already_handed_off'"
    " LIMIT 1 OFFSET 0)"
    " AND NOT EXISTS (SELECT 1 FROM audit_reasons r WHERE r.decision_id = d.id"
    " AND r.trigger != 'already_handed_off' LIMIT 1 OFFSET 0)"
)

SAME_DECISION = (
    "SELECT id FROM audit_decisions WHERE core_id = ? AND conversation_id = ?"
    " AND decided_at = ? AND simulated = ? AND action = ?"
)
PREVIOUS_DECISION = (
    "SELECT id, action FROM audit_decisions WHERE conversation_id = ? AND simulated = ?"
    " AND decided_at <= ? ORDER BY decided_at DESC, seq DESC LIMIT 1"
)
INSERT_DECISION = (
    "INSERT INTO audit_decisions (id, core_id, decided_at, conversation_id, ticket_id, channel,"
    " action, priority, alert, urgent, language, policy_version, policy_hash, knowledge_version,"
    " route_group, route_tags, signals_json, question, simulated, redacted,"
    " lead_value, lead_qualified, agents_available, expected_reply_by, trigger_list)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_REASON = (
    "INSERT INTO audit_reasons (decision_id, position, trigger, topic, action, score, priority,"
    " route_group, alert, detail, evidence_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_EVENT = (
    "INSERT INTO audit_events (id, decision_id, kind, actor, at, data_json) VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT DO NOTHING"
)
EVENT_OF_KIND = "SELECT id FROM audit_events WHERE kind = ? AND decision_id = ?"
INSERT_DELIVERY = "INSERT INTO audit_deliveries (decision_id, target, ok, detail, at) VALUES (?, ?, ?, ?, ?)"
DECISION_BY_ID = "SELECT id, action FROM audit_decisions WHERE id = ?"


def latest_decision_sql(column: str) -> str:
    """The latest decision an event by ``column`` lands on (live before simulated, handoffs first)."""
    if column not in ("core_id", "conversation_id", "ticket_id"):
        raise ValueError(f"not a lookup column: {column!r}")
    return (
        f"SELECT id, action FROM audit_decisions d WHERE {column} = ?"  # noqa: S608 (a fixed column name)
        " AND NOT (" + _ONLY_ALREADY_HANDED_OFF + ")"
        " ORDER BY simulated ASC, action = 'handoff' DESC, action = 'offer_handoff' DESC,"
        " decided_at DESC, seq DESC LIMIT 1"
    )


def review_rows_sql(dialect: Dialect | str, *, simulated: bool | None) -> str:
    """Everything the review reads about each decision of a page (parameters: from, until, after time,
    after time, after seq, [simulated,] page size)."""
    parts = DIALECTS[dialect] if isinstance(dialect, str) else dialect
    only = "" if simulated is None else " AND d.simulated = ?"
    # Fixed fragments only; every value is a parameter.
    return (
        "SELECT d.seq, d.decided_at, d.conversation_id, d.channel, d.action, d.alert, d.simulated,"  # noqa: S608
        " d.policy_version, d.policy_hash, d.question, d.lead_value, d.lead_qualified, d.agents_available,"
        f" {parts.angry} AS angry, {parts.status} AS knowledge_status, {parts.reasons} AS reasons,"
        " (SELECT e.at FROM audit_events e WHERE e.decision_id = d.id AND e.kind = 'claimed') AS claimed_at,"
        " EXISTS (SELECT 1 FROM audit_events e WHERE e.decision_id = d.id AND e.kind = 'not_needed') AS not_needed,"
        " EXISTS (SELECT 1 FROM audit_events e WHERE e.decision_id = d.id AND e.kind = 'handoff_wrong')"
        " AS handoff_wrong,"
        " EXISTS (SELECT 1 FROM audit_events e WHERE e.decision_id = d.id AND e.kind = 'missed_handoff') AS missed,"
        " (SELECT MAX(v.ok) FROM audit_deliveries v WHERE v.decision_id = d.id AND v.target = 'zendesk') AS zendesk,"
        " (SELECT MAX(v.ok) FROM audit_deliveries v WHERE v.decision_id = d.id AND v.target = 'slack') AS slack"
        " FROM audit_decisions d"
        " WHERE d.decided_at >= ? AND d.decided_at < ? AND (d.decided_at > ? OR (d.decided_at = ? AND d.seq > ?))"
        f"{only} ORDER BY d.decided_at, d.seq LIMIT ?"
    )


class SqlAuditLog:
    """The audit log over any :class:`Executor`; a driver supplies transactions, reads and the dialect.

    Implements :class:`connectors.audit.port.AuditLog` (writes and reads); see the driver modules for
    how connections are held.
    """

    dialect: str = "sqlite"

    def _tx(self) -> AbstractContextManager[Executor]:
        """One write transaction (serialised against other writers of the same decision)."""
        raise NotImplementedError

    def _reading(self) -> AbstractContextManager[Executor]:
        """A connection for a few reads (one page), held no longer than that."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> SqlAuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writes ---------------------------------------------------------------------------------------

    def record_decision(
        self,
        decision: Decision,
        conversation: Conversation,
        *,
        ticket_id: str | None = None,
        simulated: bool = False,
        at: datetime | None = None,
        audit_id: str | None = None,
        redacted: RedactedTexts | None = None,
    ) -> str:
        """Store ``decision``; return the id it has in the log (the ``decision_id`` of the other calls).

        ``audit_id``: the id to give the record (a new random one by default), so a caller may plan what
        names it before it is stored. ``redacted``: :func:`redacted_texts` of this decision and
        conversation, made elsewhere (the worker's decision process), so they are not redacted again here.

        The log gives every record its own id, because the core may reuse ``Decision.id`` for every
        decision of one conversation; the core's id is kept beside it. The same decision of the same
        conversation recorded twice at the same time (a replay, a redelivery) is stored once.

        When the previous decision recorded for the same conversation (and the same live/simulated
        kind) was ``continue`` and this one hands off, the earlier one was a missed handoff: a
        ``missed_handoff`` event is attached to it.
        """
        stamp = format_time(to_utc(at))
        ticket = ticket_id or conversation.context.ticket_id
        texts = redacted if redacted is not None else redacted_texts(decision, conversation)
        question = texts.question
        with self._tx() as db:
            same = db.execute(
                SAME_DECISION, (decision.id, conversation.id, stamp, int(simulated), decision.action.value)
            ).fetchone()
            if same is not None:
                return str(same["id"])
            audit_id = audit_id or uuid.uuid4().hex
            previous = db.execute(PREVIOUS_DECISION, (conversation.id, int(simulated), stamp)).fetchone()
            db.execute(
                INSERT_DECISION, _decision_row(decision, audit_id, conversation, ticket, question, simulated, stamp)
            )
            for values in texts.reasons:
                db.execute(INSERT_REASON, (audit_id, *values))
            if (
                previous is not None
                and previous["action"] == Action.CONTINUE.value
                and decision.action is Action.HANDOFF
                and set(decision.triggers) != {TriggerName.ALREADY_HANDED_OFF.value}
            ):
                data = {"handoff_decision_id": audit_id, "triggers": list(decision.triggers)}
                db.execute(
                    INSERT_EVENT,
                    (uuid.uuid4().hex, previous["id"], "missed_handoff", None, stamp, json.dumps(data)),
                )
        return audit_id

    def record_delivery(
        self,
        decision_id: str,
        target: Target,
        ok: bool,
        detail: str | None = None,
        at: datetime | None = None,
    ) -> None:
        """Record one attempt to apply a decision in Zendesk or Slack (every attempt is kept).

        ``decision_id`` is the id :meth:`record_decision` returned; the core's ``Decision.id`` is also
        accepted and means the latest decision recorded with it.
        """
        if target not in TARGETS:
            raise ValueError(f"delivery target must be one of {TARGETS}, got {target!r}")
        text = detail[:MAX_DETAIL_CHARS] if detail is not None else None
        with self._tx() as db:
            audit_id = _find_decision(db, decision_id, None, None)
            if audit_id is None:
                raise UnknownDecisionError(f"no recorded decision with id {decision_id!r}")
            db.execute(INSERT_DELIVERY, (audit_id, target, int(ok), text, format_time(to_utc(at))))

    def record_event(
        self,
        kind: EventKind,
        *,
        decision_id: str | None = None,
        conversation_id: str | None = None,
        ticket_id: str | None = None,
        actor: str | None = None,
        at: datetime | None = None,
        data: Mapping[str, object] | None = None,
    ) -> str | None:
        """Attach a later event to a decision; return the event id, or None when no decision matches.

        The decision is ``decision_id`` when given (the id :meth:`record_decision` returned, or the
        core's ``Decision.id``: then the latest decision recorded with it), else the latest handoff of
        ``conversation_id`` or ``ticket_id`` (live decisions before simulated ones, ``handoff`` before
        ``offer_handoff``; a decision that only says the conversation is with a person already is
        skipped, so a "Not needed" clicked after the customer wrote again still lands on the handoff).
        An event kind is recorded at most once per decision (``UNIQUE (kind, decision_id)``): Slack and
        Zendesk deliver twice at times, and an agent may click "Claim" twice; the first one counts and
        its id is returned again.
        """
        if kind not in EVENT_KINDS:
            raise ValueError(f"event kind must be one of {EVENT_KINDS}, got {kind!r}")
        payload = json.dumps(dict(data or {}), default=str, sort_keys=True)
        stamp = format_time(to_utc(at))
        with self._tx() as db:
            target = _find_decision(db, decision_id, conversation_id, ticket_id)
            if target is None:
                return None
            db.execute(INSERT_EVENT, (uuid.uuid4().hex, target, kind, actor, stamp, payload))
            row = db.execute(EVENT_OF_KIND, (kind, target)).fetchone()
        return str(row["id"])

    # -- reads ----------------------------------------------------------------------------------------

    def decisions(
        self, flt: DecisionFilter | None = None, *, limit: int | None = None, page: int | None = None
    ) -> Iterator[DecisionRecord]:
        """Decisions matching ``flt`` in time order, with their reasons, deliveries and events.

        Read a page at a time by keyset on ``(decided_at, seq)`` (each page an index seek, not a rescan),
        so an export of a month holds one page in memory and a connection is held for one page. With
        ``limit``: only the newest ``limit`` matches, read backwards through the listing index (time order).
        """
        flt = flt or DecisionFilter()
        size = page or queries.PAGE
        if limit is not None:
            if flt.trigger is not None and flt.rare_trigger is None:
                flt = dataclasses.replace(flt, rare_trigger=self._rare_trigger(flt.trigger))
            where, params = flt.where()
            with self._reading() as db:
                rows = db.execute(
                    f"SELECT * FROM audit_decisions d WHERE {where}"  # noqa: S608 (clauses are fixed text)
                    " ORDER BY d.decided_at DESC, d.seq DESC LIMIT ?",
                    (*params, limit),
                ).fetchall()
            rows.reverse()
            for start in range(0, len(rows), size):
                yield from self._with_related(rows[start : start + size])
            return
        page_filter = flt
        after_time, after_seq = "", -1
        while True:
            where, params = page_filter.where()
            with self._reading() as db:
                rows = db.execute(
                    f"SELECT * FROM audit_decisions d WHERE {where}"  # noqa: S608 (clauses are fixed text)
                    " AND (d.decided_at > ? OR (d.decided_at = ? AND d.seq > ?))"
                    " ORDER BY d.decided_at, d.seq LIMIT ?",
                    (*params, after_time, after_time, after_seq, size),
                ).fetchall()
            yield from self._with_related(rows)
            if len(rows) < size:
                return
            after_time, after_seq = rows[-1]["decided_at"], int(rows[-1]["seq"])
            last = parse_time(after_time)
            # Each page's range starts at the last row read, so a page is an index seek, not a rescan.
            page_filter = dataclasses.replace(flt, since=max(flt.since, last) if flt.since else last)

    def _rare_trigger(self, trigger: str) -> bool:
        """Whether fewer than ``RARE_TRIGGER_REASONS`` reasons carry ``trigger`` (reads at most that many)."""
        with self._reading() as db:
            row = db.execute(
                "SELECT COUNT(*) AS n FROM (SELECT 1 FROM audit_reasons WHERE trigger = ? LIMIT ?) AS t",
                (trigger, queries.RARE_TRIGGER_REASONS),
            ).fetchone()
        return int(row["n"]) < queries.RARE_TRIGGER_REASONS

    def review_rows(
        self, since: datetime, until: datetime, simulated: bool | None, *, page: int | None = None
    ) -> Iterator[ReviewRow]:
        """Decisions in ``[since, until)`` (live, simulated or both when ``simulated`` is None), in time
        order, as the review's lean rows: deliveries and events are summed up in SQL where the rows are."""
        size = page or queries.REVIEW_PAGE
        low, high = format_time(since), format_time(until)
        sql = review_rows_sql(self.dialect, simulated=simulated)
        only = () if simulated is None else (int(simulated),)
        after_time, after_seq = "", -1
        while True:
            params = (max(low, after_time), high, after_time, after_time, after_seq, *only, size)
            with self._reading() as db:
                rows = db.execute(sql, params).fetchall()
            yield from (_review_row(row) for row in rows)
            if len(rows) < size:
                return
            after_time, after_seq = rows[-1]["decided_at"], int(rows[-1]["seq"])

    def _with_related(self, rows: Sequence[Row]) -> list[DecisionRecord]:
        """Records for ``rows`` with their reasons, deliveries and events, looked up by decision id."""
        if not rows:
            return []
        ids = [row["id"] for row in rows]
        marks = ", ".join("?" for _ in ids)
        with self._reading() as db:
            reason_rows = db.execute(
                f"SELECT * FROM audit_reasons WHERE decision_id IN ({marks}) ORDER BY decision_id, position",  # noqa: S608
                ids,
            ).fetchall()
            delivery_rows = db.execute(
                f"SELECT * FROM audit_deliveries WHERE decision_id IN ({marks}) ORDER BY at, id",  # noqa: S608
                ids,
            ).fetchall()
            event_rows = db.execute(
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


# -- row writing and mapping -------------------------------------------------------------------------


def _find_decision(
    db: Executor, decision_id: str | None, conversation_id: str | None, ticket_id: str | None
) -> str | None:
    """The audit id of the decision an event or delivery is about (see :meth:`SqlAuditLog.record_event`)."""
    if decision_id is not None:
        row = db.execute(DECISION_BY_ID, (decision_id,)).fetchone()
        if row is not None:
            return str(row["id"])
    for column, value in (("core_id", decision_id), ("conversation_id", conversation_id), ("ticket_id", ticket_id)):
        if value is None:
            continue
        row = db.execute(latest_decision_sql(column), (value,)).fetchone()
        escalated = row is not None and row["action"] in (Action.HANDOFF.value, Action.OFFER_HANDOFF.value)
        if row is not None and (column == "core_id" or escalated):
            return str(row["id"])
    return None


def _decision_row(
    decision: Decision,
    audit_id: str,
    conversation: Conversation,
    ticket_id: str | None,
    question: str | None,
    simulated: bool,
    stamp: str,
) -> tuple[Any, ...]:
    return (
        audit_id,
        decision.id,
        stamp,
        conversation.id,
        ticket_id,
        conversation.channel,
        decision.action.value,
        decision.priority.value,
        int(decision.alert),
        int(decision.urgent),
        decision.language,
        decision.policy.version,
        decision.policy.hash,
        decision.knowledge_version,
        decision.route.group,
        json.dumps(list(decision.route.tags)),
        decision.signals.model_dump_json(),
        question,
        int(simulated),
        1,  # redacted: always (the column stays for rows written before that was so)
        float(decision.lead.value) if decision.lead else None,
        int(decision.lead.qualified) if decision.lead else None,
        None if decision.agents_available is None else int(decision.agents_available),
        format_time(decision.expected_reply_by) if decision.expected_reply_by else None,
        queries.trigger_list(decision.triggers),
    )


@dataclass(frozen=True)
class RedactedTexts:
    """What the log stores of a decision's texts, redacted: the customer's last message (the question) and
    each reason's column values. Pure work on the decision and its conversation, so the worker makes it
    in the decision process beside the web chat's redacted answer (whose reasons are the same scrubbed
    reasons) instead of redacting the same texts again on its event loop."""

    question: str | None
    #: Per reason, its ``audit_reasons`` values after the decision id (position first).
    reasons: tuple[tuple[Any, ...], ...]


def redacted_texts(
    decision: Decision, conversation: Conversation, scrubbed_reasons: Sequence[Reason] | None = None
) -> RedactedTexts:
    """The decision's texts as the log stores them. ``scrubbed_reasons``: ``decision.reasons`` already
    passed through :func:`~connectors.redaction.scrub_reason` with this conversation's known values (as
    :func:`~connectors.redaction.scrub_decision` does), so they are not scrubbed twice."""
    last = conversation.last_customer_message
    known = known_values(conversation)  # the customer's name has no shape: redact it by value
    # Redacted whole, then cut: a cut e-mail or card number would no longer be recognised.
    question = scrub(last.text, known)[:MAX_QUESTION_CHARS] if last is not None else None
    if scrubbed_reasons is None:
        scrubbed_reasons = [scrub_reason(reason, known) for reason in decision.reasons]
    return RedactedTexts(question, tuple(_reason_values(p, r) for p, r in enumerate(scrubbed_reasons)))


def _reason_values(position: int, reason: Reason) -> tuple[Any, ...]:
    """A reason's ``audit_reasons`` values after the decision id; ``reason`` is already redacted."""
    evidence = [
        {"message_index": item.message_index, "matched": list(item.matched), "quote": item.quote, "field": item.field}
        for item in reason.evidence
    ]
    return (
        position,
        reason.trigger.value,
        reason.topic,
        reason.action.value,
        reason.score,
        reason.priority.value,
        reason.group,
        int(reason.alert),
        reason.detail,
        json.dumps(evidence),
    )


def _record(
    row: Row,
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


def _reasons(packed: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if not packed:
        return (), ()
    parts = sorted((item.split(_UNIT, 2) for item in packed.split(_ROW)), key=lambda p: int(p[0]))
    pairs = [(trigger, topic) for _, trigger, topic in parts]
    triggers = tuple(dict.fromkeys(trigger for trigger, _ in pairs))
    topics = tuple(dict.fromkeys(topic for trigger, topic in pairs if topic and trigger in TOPIC_TRIGGERS))
    return triggers, topics


def _maybe_bool(value: object) -> bool | None:
    return None if value is None else bool(value)


def _review_row(row: Row) -> ReviewRow:
    decided_at = parse_time(row["decided_at"])
    claimed = row["claimed_at"]
    triggers, topics = _reasons(row["reasons"])
    status = row["knowledge_status"]
    return ReviewRow(
        decided_at=decided_at,
        conversation_id=row["conversation_id"],
        channel=row["channel"],
        action=row["action"],
        alert=bool(row["alert"]),
        simulated=bool(row["simulated"]),
        policy_version=row["policy_version"],
        policy_hash=row["policy_hash"],
        question=row["question"],
        angry=bool(row["angry"]),
        knowledge_status=status if isinstance(status, str) else None,
        triggers=triggers,
        topics=topics,
        claim_seconds=max(0.0, (parse_time(claimed) - decided_at).total_seconds()) if claimed is not None else None,
        not_needed=bool(row["not_needed"]),
        handoff_wrong=bool(row["handoff_wrong"]),
        missed=bool(row["missed"]),
        zendesk=_maybe_bool(row["zendesk"]),
        slack=_maybe_bool(row["slack"]),
        lead_value=float(row["lead_value"]) if row["lead_value"] is not None else None,
        lead_qualified=_maybe_bool(row["lead_qualified"]),
        agents_available=_maybe_bool(row["agents_available"]),
    )

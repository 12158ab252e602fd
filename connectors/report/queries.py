"""The review's read of the audit log: one lean row per decision, streamed in pages, summed up in SQL.

Why not :func:`connectors.audit.queries.fetch_decisions`: it builds every record with every reason's
evidence, every delivery and every event, all in memory at once. A 100,000-decision week read that way
held a gigabyte. The review needs a handful of facts per decision, and SQLite can work most of them out
where the rows are: whether a delivery to Zendesk or Slack ever succeeded (``MAX(ok)``), whether an
event of a kind exists, when the claim happened, two fields of the signals (``json_extract``, or
``->>`` on PostgreSQL). Decisions are read in pages by keyset (``decided_at, seq``) through the
``audit_decisions_time`` index, so memory does not grow with the period and the store's lock is held
for one page at a time.

Errors: none of its own; database errors propagate (the CLI turns them into one line).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from connectors.audit.log import AuditLog, format_time, parse_time
from connectors.audit.queries import TOPIC_TRIGGERS, DecisionRecord

#: Decisions per page: large enough that per-query overhead vanishes, small enough to stay a few MB.
PAGE = 2_000

_UNIT = "\x1f"  # between a reason's position, trigger and topic (char(31) in the SQL)
_ROW = "\x1e"  # between reasons (char(30))

#: The three things that differ between SQLite and PostgreSQL (the audit log runs on both): reading a
#: field of the signals JSON and joining a decision's reasons into one string. Reasons carry their
#: position, so their order never depends on how the database aggregates.
_DIALECTS: dict[str, dict[str, str]] = {
    "sqlite": {
        "angry": "json_extract(d.signals_json, '$.angry')",
        "status": "json_extract(d.signals_json, '$.knowledge_status')",
        "reasons": "(SELECT group_concat(CAST(r.position AS TEXT) || char(31) || r.trigger || char(31)"
        " || COALESCE(r.topic, ''), char(30)) FROM audit_reasons r WHERE r.decision_id = d.id)",
    },
    "postgresql": {
        "angry": "((d.signals_json::jsonb -> 'angry') = 'true'::jsonb)",
        "status": "(d.signals_json::jsonb ->> 'knowledge_status')",
        "reasons": "(SELECT string_agg(CAST(r.position AS TEXT) || chr(31) || r.trigger || chr(31)"
        " || COALESCE(r.topic, ''), chr(30)) FROM audit_reasons r WHERE r.decision_id = d.id)",
    },
}


def review_rows_sql(dialect: str, *, simulated: bool | None) -> str:
    """Everything the review reads about each decision of a page (parameters: from, until, after time,
    after time, after seq, [simulated,] page size)."""
    parts = _DIALECTS[dialect]
    only = "" if simulated is None else " AND d.simulated = ?"
    # Fixed fragments only; every value is a parameter.
    sql = (
        "SELECT d.seq, d.decided_at, d.conversation_id, d.channel, d.action, d.alert, d.simulated,"  # noqa: S608
        " d.policy_version, d.policy_hash, d.question, d.lead_value, d.lead_qualified, d.agents_available,"
        f" {parts['angry']} AS angry, {parts['status']} AS knowledge_status, {parts['reasons']} AS reasons,"
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
    return sql


def dialect_of(log: AuditLog) -> str:
    """``sqlite`` for the default store, ``postgresql`` when the log runs on PostgreSQL."""
    return "sqlite" if isinstance(log.connection, sqlite3.Connection) else "postgresql"


@dataclass(frozen=True, slots=True)
class ReviewRow:
    """The facts of one decision that the review counts (see :mod:`connectors.report.data`)."""

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


def iter_review_rows(log: AuditLog, since: datetime, until: datetime, simulated: bool | None) -> Iterator[ReviewRow]:
    """Decisions in ``[since, until)`` (live, simulated or both when ``simulated`` is None), in time order."""
    low, high = format_time(since), format_time(until)
    sql = review_rows_sql(dialect_of(log), simulated=simulated)
    only = () if simulated is None else (int(simulated),)
    after_time, after_seq = "", -1
    while True:
        # The range starts at the last row read, so every page is an index seek, not a rescan.
        params = (max(low, after_time), high, after_time, after_time, after_seq, *only, PAGE)
        with log.lock:
            rows = log.connection.execute(sql, params).fetchall()
        for row in rows:
            decided_at = parse_time(row["decided_at"])
            claimed = row["claimed_at"]
            triggers, topics = _reasons(row["reasons"])
            status = row["knowledge_status"]
            yield ReviewRow(
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
                claim_seconds=(
                    max(0.0, (parse_time(claimed) - decided_at).total_seconds()) if claimed is not None else None
                ),
                not_needed=bool(row["not_needed"]),
                handoff_wrong=bool(row["handoff_wrong"]),
                missed=bool(row["missed"]),
                zendesk=_maybe_bool(row["zendesk"]),
                slack=_maybe_bool(row["slack"]),
                lead_value=float(row["lead_value"]) if row["lead_value"] is not None else None,
                lead_qualified=_maybe_bool(row["lead_qualified"]),
                agents_available=_maybe_bool(row["agents_available"]),
            )
        if len(rows) < PAGE:
            return
        after_time, after_seq = rows[-1]["decided_at"], int(rows[-1]["seq"])

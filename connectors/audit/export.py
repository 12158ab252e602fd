"""Exports of audit records: CSV for spreadsheets, JSON Lines for scripts and data tools.

Why two shapes: a support lead opens the CSV in a spreadsheet, so it is one flat row per decision with
the few columns people filter on (reason, action, claim time, feedback). The JSON Lines export keeps
everything (every reason with its evidence, every delivery attempt and event) for re-analysis.

CSV cells that start with ``=``, ``+``, ``-``, ``@``, tab or carriage return are prefixed with ``'``:
customer questions are untrusted text, and a spreadsheet would otherwise run them as formulas.

Errors: none of its own; I/O errors of the stream propagate.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import Any, TextIO

from connectors.audit.queries import DecisionRecord

CSV_COLUMNS: tuple[str, ...] = (
    "decision_id",
    "decided_at",
    "conversation_id",
    "ticket_id",
    "channel",
    "action",
    "triggers",
    "topics",
    "max_score",
    "priority",
    "alert",
    "angry",
    "sentiment",
    "language",
    "policy_version",
    "policy_hash",
    "knowledge_version",
    "simulated",
    "reached_zendesk",
    "reached_slack",
    "claimed_by",
    "claim_seconds",
    "not_needed",
    "handoff_wrong",
    "missed_handoff",
    "question",
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _reached(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_row(record: DecisionRecord) -> dict[str, object]:
    """The flat CSV row of one record (formula-looking text neutralised)."""
    claim = record.event("claimed")
    seconds = record.claim_seconds()
    row: dict[str, object] = {
        "decision_id": record.id,
        "decided_at": record.decided_at.isoformat(),
        "conversation_id": record.conversation_id,
        "ticket_id": record.ticket_id or "",
        "channel": record.channel,
        "action": record.action,
        "triggers": ";".join(record.triggers),
        "topics": ";".join(record.topics),
        "max_score": max((r.score for r in record.reasons), default=""),
        "priority": record.priority,
        "alert": "yes" if record.alert else "no",
        "angry": "yes" if record.angry else "no",
        "sentiment": record.signals.get("sentiment", ""),
        "language": record.language,
        "policy_version": record.policy_version,
        "policy_hash": record.policy_hash,
        "knowledge_version": record.knowledge_version or "",
        "simulated": "yes" if record.simulated else "no",
        "reached_zendesk": _reached(record.reached("zendesk")),
        "reached_slack": _reached(record.reached("slack")),
        "claimed_by": (claim.actor or "") if claim else "",
        "claim_seconds": "" if seconds is None else round(seconds, 1),
        "not_needed": "yes" if record.event("not_needed") else "no",
        "handoff_wrong": "yes" if record.event("handoff_wrong") else "no",
        "missed_handoff": "yes" if record.event("missed_handoff") else "no",
        "question": record.question or "",
    }
    return {key: _cell(value) for key, value in row.items()}


def write_csv(records: Iterable[DecisionRecord], out: TextIO) -> int:
    """Write a header and one row per record; return the number of rows."""
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for record in records:
        writer.writerow(csv_row(record))
        count += 1
    return count


def json_record(record: DecisionRecord) -> dict[str, Any]:
    """The full record as JSON-ready data (times in ISO 8601 UTC)."""
    return {
        "decision_id": record.id,
        "decided_at": record.decided_at.isoformat(),
        "conversation_id": record.conversation_id,
        "ticket_id": record.ticket_id,
        "channel": record.channel,
        "action": record.action,
        "priority": record.priority,
        "alert": record.alert,
        "urgent": record.urgent,
        "language": record.language,
        "policy": {"version": record.policy_version, "hash": record.policy_hash},
        "knowledge_version": record.knowledge_version,
        "route": {"group": record.route_group, "tags": list(record.route_tags)},
        "signals": record.signals,
        "question": record.question,
        "simulated": record.simulated,
        "redacted": record.redacted,
        "reasons": [
            {
                "trigger": r.trigger,
                "topic": r.topic,
                "action": r.action,
                "score": r.score,
                "priority": r.priority,
                "group": r.group,
                "alert": r.alert,
                "detail": r.detail,
                "evidence": list(r.evidence),
            }
            for r in record.reasons
        ],
        "deliveries": [
            {"target": d.target, "ok": d.ok, "detail": d.detail, "at": d.at.isoformat()} for d in record.deliveries
        ],
        "events": [
            {"id": e.id, "kind": e.kind, "actor": e.actor, "at": e.at.isoformat(), "data": e.data}
            for e in record.events
        ],
    }


def write_jsonl(records: Iterable[DecisionRecord], out: TextIO) -> int:
    """Write one JSON object per line; return the number of lines."""
    count = 0
    for record in records:
        out.write(json.dumps(json_record(record), ensure_ascii=False, sort_keys=True))
        out.write("\n")
        count += 1
    return count

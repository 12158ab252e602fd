"""A store full of realistic support traffic, written fast, for the review and soak benchmarks.

Why bulk SQL and not ``AuditLog.record_decision``: the benchmarks measure what *reads* cost on a store
that months of traffic have grown (100,000 to 1,000,000 decisions); writing that many through the
core and the audit log one at a time would take longer than the benchmark itself. The rows go into
the schema the real migrations create (``AuditLog`` opens the file first), with the shapes the worker
writes: about three decisions per conversation, reasons with triggers and topics, Zendesk and Slack
deliveries (a few failing), claims after realistic delays, some "Not needed" and missed handoffs.

Unanswered questions are the point of the review benchmark, so about a quarter of the decisions carry
``low_confidence`` or the ``no_source`` knowledge status, and their questions are real crowd-written
and support requests (HWU64 and Bitext from ``/work/shared/datasets``; 15,550 texts), and more than
half of them are varied the way customers type (an order number, a greeting, two letters swapped), so
that most of them are distinct strings, as in life.
"""

from __future__ import annotations

import csv
import json
import random
import zlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from connectors.audit import SQLiteAudit

DATASETS = Path("/work/shared/datasets")
FALLBACK_QUESTIONS = (
    "where is my parcel",
    "how do I change my delivery address",
    "can I pay with paypal",
    "do you ship to norway",
    "what are your opening hours on sunday",
    "how do I delete my account",
)
CHANNELS = ("webchat", "zendesk", "webchat", "webchat", "email")
TOPICS = ("refund", "billing", "account", "legal", "delivery")
CLAIM_DELAYS = (20, 45, 70, 150, 240, 420, 900, 1500, 2700, 5400, 9000)


def format_time(at: datetime) -> str:
    """:func:`connectors.audit.log.format_time` for aware UTC datetimes, several times faster (isoformat)."""
    return at.isoformat(timespec="microseconds")[:-6] + "Z"


def _hex(rnd: random.Random) -> str:
    return f"{rnd.getrandbits(128):032x}"


def question_pool() -> list[str]:
    """Real questions: HWU64 requests and Bitext support requests (or a few fixed ones without them)."""
    pool: list[str] = []
    hwu = DATASETS / "hwu64_nlu_evaluation_data" / "hwu64.tsv"
    bitext = DATASETS / "bitext_customer_support" / "bitext_customer_support_4514.csv"
    if hwu.exists():
        with hwu.open(encoding="utf-8") as handle:
            pool += [row["text_original"].strip("<> ") for row in csv.DictReader(handle, delimiter="\t")]
    if bitext.exists():
        with bitext.open(encoding="utf-8") as handle:
            pool += [row["instruction"] for row in csv.DictReader(handle)]
    return pool or list(FALLBACK_QUESTIONS)


_SIGNALS = {
    (angry, status): json.dumps({"angry": angry, "knowledge_status": status, "language": "en", "fallbacks": 0})
    for angry in (False, True)
    for status in ("answered", "no_source")
}
GREETINGS = ("hi, ", "hello ", "hey there, ", "good morning. ", "quick question: ")


def _vary(rnd: random.Random, question: str) -> str:
    """Questions as customers type them: an order number, a greeting, a typo, or as they are."""
    roll = rnd.random()
    if roll < 0.25:
        return f"{question} (order {rnd.randrange(10_000, 99_999)})"
    if roll < 0.40:
        return rnd.choice(GREETINGS) + question
    if roll < 0.55 and len(question) > 4:
        i = rnd.randrange(len(question) - 2)
        return question[:i] + question[i + 1] + question[i] + question[i + 2 :]  # two letters swapped
    return question


def _decisions(
    rnd: random.Random, count: int, start: datetime, span: timedelta, pool: list[str], prefix: str
) -> Iterator[tuple[tuple[object, ...], list[tuple[object, ...]], list[tuple[object, ...]], list[tuple[object, ...]]]]:
    seconds = span.total_seconds()
    conversations = max(1, count // 3)
    for n in range(count):
        at = start + timedelta(seconds=seconds * n / count + rnd.random())
        conv = f"{prefix}c{rnd.randrange(conversations)}"
        channel = CHANNELS[zlib.crc32(conv.encode()) % len(CHANNELS)]
        roll = rnd.random()
        reasons: list[tuple[str, str | None, str]] = []
        status = "answered"
        question = _vary(rnd, rnd.choice(pool))
        if roll < 0.55:
            action = "continue"
        elif roll < 0.70:
            action = "offer_handoff"
            reasons.append(("low_confidence", "fallbacks", "offer_handoff"))
        elif roll < 0.80:
            action = "continue"
            status = "no_source"
        else:
            action = "handoff"
            trigger = rnd.choice(("restricted_topic", "sentiment", "human_request", "vip", "refund_exception"))
            topic = rnd.choice(TOPICS) if trigger in ("restricted_topic", "refund_exception") else None
            reasons.append((trigger, topic, "handoff"))
            if rnd.random() < 0.2:
                reasons.append(("low_confidence", "fallbacks", "offer_handoff"))
        alert = action == "handoff" and (rnd.random() < 0.25 or any(r[0] == "vip" for r in reasons))
        angry = any(r[0] == "sentiment" for r in reasons)
        audit_id = _hex(rnd)
        signals = _SIGNALS[(angry, status)]
        decision = (
            audit_id,
            audit_id,
            format_time(at),
            conv,
            None,
            channel,
            action,
            "normal",
            int(alert),
            0,
            "en",
            "2",
            "abc123",
            None,
            None,
            "[]",
            signals,
            question,
            0,
            1,
        )
        reason_rows = [
            (audit_id, i, trig, topic, act, 0.8, "normal", None, int(alert), "detail", "[]")
            for i, (trig, topic, act) in enumerate(reasons)
        ]
        deliveries: list[tuple[object, ...]] = []
        events: list[tuple[object, ...]] = []
        if action == "handoff":
            deliveries.append((audit_id, "zendesk", int(rnd.random() > 0.02), None, format_time(at)))
            if rnd.random() < 0.8:
                claimed = at + timedelta(seconds=rnd.choice(CLAIM_DELAYS) + rnd.random())
                events.append((_hex(rnd), audit_id, "claimed", "U1", format_time(claimed), "{}"))
            if rnd.random() < 0.05:
                events.append((_hex(rnd), audit_id, "not_needed", "U2", format_time(at), "{}"))
        elif action == "continue" and rnd.random() < 0.01:
            events.append((_hex(rnd), audit_id, "missed_handoff", None, format_time(at), "{}"))
        if alert:
            deliveries.append((audit_id, "slack", int(rnd.random() > 0.02), None, format_time(at)))
        yield decision, reason_rows, deliveries, events


def fill(
    path: Path, count: int, start: datetime, span: timedelta, *, seed: int = 1, prefix: str = "", batch: int = 20_000
) -> None:
    """Add ``count`` decisions spread over ``[start, start + span)`` to the store at ``path``."""
    rnd = random.Random(seed)
    pool = question_pool()
    with SQLiteAudit(path) as log:
        conn = log.connection
        rows: list[tuple[object, ...]] = []
        reasons: list[tuple[object, ...]] = []
        deliveries: list[tuple[object, ...]] = []
        events: list[tuple[object, ...]] = []

        def flush() -> None:
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO audit_decisions (id, core_id, decided_at, conversation_id, ticket_id, channel, action,"
                " priority, alert, urgent, language, policy_version, policy_hash, knowledge_version, route_group,"
                " route_tags, signals_json, question, simulated, redacted)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            conn.executemany(
                "INSERT INTO audit_reasons (decision_id, position, trigger, topic, action, score, priority,"
                " route_group, alert, detail, evidence_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                reasons,
            )
            conn.executemany(
                "INSERT INTO audit_deliveries (decision_id, target, ok, detail, at) VALUES (?, ?, ?, ?, ?)", deliveries
            )
            conn.executemany(
                "INSERT INTO audit_events (id, decision_id, kind, actor, at, data_json) VALUES (?, ?, ?, ?, ?, ?)",
                events,
            )
            conn.execute("COMMIT")
            for items in (rows, reasons, deliveries, events):
                items.clear()

        for decision, reason_rows, delivery_rows, event_rows in _decisions(rnd, count, start, span, pool, prefix):
            rows.append(decision)
            reasons += reason_rows
            deliveries += delivery_rows
            events += event_rows
            if len(rows) >= batch:
                flush()
        flush()

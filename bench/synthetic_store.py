"""A store full of realistic support traffic, written fast, for the review and soak benchmarks.

Why bulk SQL and not ``AuditLog.record_decision``: the benchmarks measure what *reads* cost on a store
that months of traffic have grown (100,000 to 1,000,000 decisions); writing that many through the
core and the audit log one at a time would take longer than the benchmark itself. The rows go into
the schema the real migrations create (``AuditLog`` opens the file first), with the shapes the worker
writes: about three decisions per conversation, reasons with triggers and topics, Zendesk and Slack
deliveries (a few failing), claims after realistic delays, some "Not needed" and missed handoffs.

Unanswered questions are the point of the review benchmark, so about a quarter of the decisions carry
``low_confidence`` or the ``no_source`` knowledge status, and their questions are real crowd-written
and support requests (HWU64 and Bitext from ``../shared/datasets``; 15,550 texts), and more than
half of them are varied the way customers type (an order number, a greeting, two letters swapped), so
that most of them are distinct strings, as in life.

Two mixes. ``review`` (the review benchmark's, the default): a quarter unanswered, a fifth of decisions
on email, short rows. ``live`` (the soak's store, :mod:`bench_soak`): the rows the worker writes, measured
on a store :mod:`soak_worker` filled through the real core (3,000 decisions, ``--stop-at-handoff``):
signals ~150 bytes, questions ~150 characters (up to 1,000), a reason's detail ~40 and evidence ~175
bytes, ``sha256:`` policy hashes; and the shares a deployment sees, which are what makes a filter cheap
or dear (the newest 200 matches of a filter that 0.2 % of decisions pass lie 100,000 decisions back):

- channels: web chat 60 %, Zendesk 39.8 %, email 0.2 % (the worker itself writes only ``webchat`` and
  ``zendesk``; email comes from replayed imports), SMS never;
- actions: continue 55 %, offer_handoff 12 %, handoff 33 % (the live soak handed off 30 %); low_confidence
  on 19 % of decisions (every offer, a fifth of handoffs);
- triggers of a handoff: restricted_topic 35 %, sentiment 28 %, human_request 12 %, already_handed_off
  12 %, vip 6 % (VIP customers are a few per cent of conversations), refund_exception 4 %, sales_lead
  2 %, bot_loop 1 %; a fifth of handoffs carry low_confidence too;
- simulated: 1 % of decisions (``handoff simulate --record``), in bursts of a day every nine days.
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
from connectors.audit.queries import trigger_list
from connectors.training.data import default_datasets

DATASETS = default_datasets()
FALLBACK_QUESTIONS = (
    "where is my parcel",
    "how do I change my delivery address",
    "can I pay with paypal",
    "do you ship to norway",
    "what are your opening hours on sunday",
    "how do I delete my account",
)
CHANNELS = ("webchat", "zendesk", "webchat", "webchat", "email")
#: The ``live`` mix (see the module docstring): cumulative shares, first match wins.
LIVE_CHANNELS = ((0.002, "email"), (0.40, "zendesk"), (1.0, "webchat"))
LIVE_TRIGGERS = (
    (0.35, "restricted_topic"),
    (0.63, "sentiment"),
    (0.75, "human_request"),
    (0.87, "already_handed_off"),
    (0.93, "vip"),
    (0.97, "refund_exception"),
    (0.99, "sales_lead"),
    (1.0, "bot_loop"),
)
LIVE_DETAILS = {
    "restricted_topic": "restricted topic: {topic} request",
    "sentiment": "customer is upset (sentiment -0.62, trend -0.21)",
    "human_request": "customer asked for a person",
    "already_handed_off": "conversation is with a person already",
    "vip": "VIP customer (tag vip)",
    "refund_exception": "refund above the limit: {topic}",
    "sales_lead": "sales lead worth 12,000 (qualified)",
    "bot_loop": "assistant repeated itself 3 times",
    "low_confidence": "assistant confidence 0.31 below 0.5 (2 fallbacks)",
}
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


def _pick(rnd: random.Random, shares: tuple[tuple[float, str], ...]) -> str:
    roll = rnd.random()
    return next(name for share, name in shares if roll < share)


def _live_decisions(
    rnd: random.Random, count: int, start: datetime, span: timedelta, pool: list[str], prefix: str
) -> Iterator[tuple[tuple[object, ...], list[tuple[object, ...]], list[tuple[object, ...]], list[tuple[object, ...]]]]:
    """The ``live`` mix: the shapes and shares of the rows the worker writes (module docstring)."""
    seconds = span.total_seconds()
    conversations = max(1, count // 3)
    for n in range(count):
        at = start + timedelta(seconds=seconds * n / count + rnd.random())
        conv = f"{prefix}c{rnd.randrange(conversations)}"
        channel = _pick(random.Random(zlib.crc32(conv.encode())), LIVE_CHANNELS)
        # Simulated decisions come in bursts: a replay of old conversations, one day in nine.
        simulated = int((at - start).days % 9 == 4 and rnd.random() < 0.09)
        question = _vary(rnd, rnd.choice(pool))
        while len(question) < rnd.choice((40, 80, 120, 160, 240, 400)):  # customers write more than one line
            question += ". " + _vary(rnd, rnd.choice(pool))
        question = question[:1000]
        roll = rnd.random()
        reasons: list[tuple[str, str | None, str]] = []
        status = None
        if roll < 0.55:
            action = "continue"
            status = "answered" if rnd.random() < 0.7 else "no_source"
        elif roll < 0.67:
            action = "offer_handoff"
            reasons.append(("low_confidence", "fallbacks", "offer_handoff"))
        else:
            action = "handoff"
            trigger = _pick(rnd, LIVE_TRIGGERS)
            topic = rnd.choice(TOPICS) if trigger in ("restricted_topic", "refund_exception") else None
            reasons.append((trigger, topic, "handoff"))
            if rnd.random() < 0.2:
                reasons.append(("low_confidence", "fallbacks", "offer_handoff"))
        alert = action == "handoff" and (rnd.random() < 0.25 or any(r[0] == "vip" for r in reasons))
        angry = any(r[0] == "sentiment" for r in reasons)
        sentiment = round(-rnd.random() if angry else rnd.uniform(-0.3, 0.6), 4)
        signals = json.dumps(
            {
                "sentiment": sentiment,
                "last_sentiment": sentiment,
                "sentiment_trend": round(rnd.uniform(-0.3, 0.1), 4),
                "angry": angry,
                "knowledge_coverage": round(rnd.random(), 4) if status else None,
                "knowledge_status": status,
                "confidence": None,
            },
            separators=(",", ":"),
        )
        tags = ["ai_handoff", *(f"handoff_{r[0]}" for r in reasons)] if action != "continue" else []
        audit_id = _hex(rnd)
        decision = (
            audit_id,
            audit_id,
            format_time(at),
            conv,
            f"{zlib.crc32(conv.encode()) % 9_000_000}" if channel == "zendesk" else None,
            channel,
            action,
            "urgent" if angry else "normal",
            int(alert),
            int(angry),
            rnd.choice(("en", "en", "en", "de", "es", "fr", "nl")),
            "2026.11.1",
            "sha256:2c43519b63f8f09d",
            None,
            "Billing" if action == "handoff" else None,
            json.dumps(tags),
            signals,
            question,
            simulated,
            1,
        )
        quote = question[:160]
        reason_rows = [
            (
                audit_id,
                i,
                trig,
                topic,
                act,
                round(rnd.uniform(0.5, 1.0), 4),
                "normal",
                "Billing" if act == "handoff" else None,
                int(alert),
                LIVE_DETAILS[trig].format(topic=topic),
                json.dumps([{"message_index": 0, "matched": quote.split()[:2], "quote": quote, "field": None}]),
            )
            for i, (trig, topic, act) in enumerate(reasons)
        ]
        deliveries: list[tuple[object, ...]] = []
        events: list[tuple[object, ...]] = []
        if action == "handoff" and not simulated:
            deliveries.append((audit_id, "zendesk", int(rnd.random() > 0.02), None, format_time(at)))
            if rnd.random() < 0.8:
                claimed = at + timedelta(seconds=rnd.choice(CLAIM_DELAYS) + rnd.random())
                events.append((_hex(rnd), audit_id, "claimed", "U1", format_time(claimed), "{}"))
            if rnd.random() < 0.05:
                events.append((_hex(rnd), audit_id, "not_needed", "U2", format_time(at), "{}"))
        elif action == "continue" and rnd.random() < 0.01:
            events.append((_hex(rnd), audit_id, "missed_handoff", None, format_time(at), "{}"))
        if alert and not simulated:
            deliveries.append((audit_id, "slack", int(rnd.random() > 0.02), None, format_time(at)))
        yield decision, reason_rows, deliveries, events


MIXES = {"review": _decisions, "live": _live_decisions}


def fill(
    path: Path,
    count: int,
    start: datetime,
    span: timedelta,
    *,
    seed: int = 1,
    prefix: str = "",
    batch: int = 20_000,
    mix: str = "review",
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
                " route_tags, signals_json, question, simulated, redacted, trigger_list)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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

        for decision, reason_rows, delivery_rows, event_rows in MIXES[mix](rnd, count, start, span, pool, prefix):
            rows.append((*decision, trigger_list([str(r[2]) for r in reason_rows])))
            reasons += reason_rows
            deliveries += delivery_rows
            events += event_rows
            if len(rows) >= batch:
                flush()
        flush()

"""Decision audit log: every decision and what happened to it afterwards, in the shared SQLite store.

Why a log of its own: support leads must be able to prove that the handoff policy helps and find what it
gets wrong. The worker's state tables answer "what must happen next"; this log answers "what was decided,
why, did it reach Zendesk and Slack, and was it right" (claims, "Not needed", ``handoff_wrong``, missed
handoffs). It is written by the worker (live) and by ``handoff simulate --record`` (simulated).

Personal data is always redacted: customer text (the last question, evidence quotes, matched words and
reason details) goes through :func:`handoff_core.redact.redact` before it is stored, with no switch to
turn that off, because the log is kept far longer than the raw-text retention (``RAW_RETENTION_DAYS``).
No customer e-mail, phone or name is stored at all.

Tables (component ``audit``, own migrations): ``audit_decisions``, ``audit_reasons`` (one row per
reason, so ``--reason`` is an indexed filter), ``audit_deliveries`` and ``audit_events``.

Errors::

    AuditError                  base of this layer
    └── UnknownDecisionError    a delivery names a decision that was never recorded (a caller bug)
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from connectors.redaction import known_values, scrub
from connectors.sqlite_migrations import connect, migrate
from handoff_core import Action, Conversation, Decision, Reason, TriggerName

EventKind = Literal["claimed", "not_needed", "handoff_wrong", "missed_handoff"]
Target = Literal["zendesk", "slack"]

EVENT_KINDS: tuple[str, ...] = ("claimed", "not_needed", "handoff_wrong", "missed_handoff")
TARGETS: tuple[str, ...] = ("zendesk", "slack")

#: Longest stored question / delivery detail: enough to read and cluster, not a transcript dump.
MAX_QUESTION_CHARS = 1_000
MAX_DETAIL_CHARS = 500

COMPONENT = "audit"
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE audit_decisions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        decided_at TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        ticket_id TEXT,
        channel TEXT NOT NULL,
        action TEXT NOT NULL,
        priority TEXT NOT NULL,
        alert INTEGER NOT NULL,
        urgent INTEGER NOT NULL,
        language TEXT NOT NULL,
        policy_version TEXT NOT NULL,
        policy_hash TEXT NOT NULL,
        knowledge_version TEXT,
        route_group TEXT,
        route_tags TEXT NOT NULL,
        signals_json TEXT NOT NULL,
        question TEXT,
        simulated INTEGER NOT NULL,
        redacted INTEGER NOT NULL
    );
    CREATE INDEX audit_decisions_time ON audit_decisions (decided_at);
    CREATE INDEX audit_decisions_conversation ON audit_decisions (conversation_id, decided_at);
    CREATE INDEX audit_decisions_ticket ON audit_decisions (ticket_id, decided_at);
    CREATE TABLE audit_reasons (
        decision_id TEXT NOT NULL REFERENCES audit_decisions (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        trigger TEXT NOT NULL,
        topic TEXT,
        action TEXT NOT NULL,
        score REAL NOT NULL,
        priority TEXT NOT NULL,
        route_group TEXT,
        alert INTEGER NOT NULL,
        detail TEXT NOT NULL,
        evidence_json TEXT NOT NULL,
        PRIMARY KEY (decision_id, position)
    );
    CREATE INDEX audit_reasons_trigger ON audit_reasons (trigger);
    CREATE TABLE audit_deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        decision_id TEXT NOT NULL REFERENCES audit_decisions (id) ON DELETE CASCADE,
        target TEXT NOT NULL CHECK (target IN ('zendesk', 'slack')),
        ok INTEGER NOT NULL,
        detail TEXT,
        at TEXT NOT NULL
    );
    CREATE INDEX audit_deliveries_decision ON audit_deliveries (decision_id);
    CREATE TABLE audit_events (
        id TEXT PRIMARY KEY,
        decision_id TEXT NOT NULL REFERENCES audit_decisions (id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('claimed', 'not_needed', 'handoff_wrong', 'missed_handoff')),
        actor TEXT,
        at TEXT NOT NULL,
        data_json TEXT NOT NULL,
        UNIQUE (kind, decision_id)
    );
    CREATE INDEX audit_events_decision ON audit_events (decision_id)
    """,
    # 2: the core's Decision.id is not unique per decision (it may be the conversation id), so the log
    # keeps its own id and the core's id beside it.
    """
    ALTER TABLE audit_decisions ADD COLUMN core_id TEXT;
    UPDATE audit_decisions SET core_id = id;
    CREATE INDEX audit_decisions_core_id ON audit_decisions (core_id, decided_at)
    """,
    # 3: sales leads and business hours, so the review can count leads handed to sales, their value,
    # and out-of-hours handoffs (NULL: the decision had no lead, or the policy has no schedules).
    """
    ALTER TABLE audit_decisions ADD COLUMN lead_value REAL;
    ALTER TABLE audit_decisions ADD COLUMN lead_qualified INTEGER;
    ALTER TABLE audit_decisions ADD COLUMN agents_available INTEGER;
    ALTER TABLE audit_decisions ADD COLUMN expected_reply_by TEXT
    """,
)

#: Indexes for months of traffic, under their own component so that other components' migration lists
#: stay append-only for their owners. ``audit_reasons_decision_trigger``: the correlated ``EXISTS`` of
#: ``--reason`` and of event matching must find a decision's reasons by ``decision_id``; with only the
#: ``(trigger)`` index SQLite walked every reason with that trigger for every decision (quadratic:
#: 142 s for ``handoff decisions --reason low_confidence`` at 10,000 decisions).
VOLUME_COMPONENT = "audit_volume"
VOLUME_MIGRATIONS: tuple[str, ...] = (
    "CREATE INDEX IF NOT EXISTS audit_reasons_decision_trigger ON audit_reasons (decision_id, trigger)",
)


#: A decision that only repeats that the conversation is with a person already (no new handoff).
_ONLY_ALREADY_HANDED_OFF = (
    "EXISTS (SELECT 1 FROM audit_reasons r WHERE r.decision_id = d.id AND r.trigger = 'already_handed_off')"
    " AND NOT EXISTS (SELECT 1 FROM audit_reasons r WHERE r.decision_id = d.id"
    " AND r.trigger != 'already_handed_off')"
)


class AuditError(Exception):
    """Base of the audit layer's errors."""


class UnknownDecisionError(AuditError):
    """A delivery or event names a decision id that was never recorded."""


def to_utc(at: datetime | None) -> datetime:
    """``at`` as an aware UTC datetime (now when None; naive values are taken to be UTC)."""
    if at is None:
        return datetime.now(UTC)
    if at.tzinfo is None:
        return at.replace(tzinfo=UTC)
    return at.astimezone(UTC)


def format_time(at: datetime) -> str:
    """A fixed-width ISO 8601 UTC string, so that text order in SQLite is time order."""
    return to_utc(at).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    """Inverse of :func:`format_time` (``fromisoformat`` reads the fixed format about 20 times faster
    than ``strptime``, which matters when a review reads a million rows)."""
    return datetime.fromisoformat(text).astimezone(UTC)


class AuditLog:
    """Decision audit log in the SQLite store (own tables, own migrations via connectors.sqlite_migrations).

    One connection per instance, serialised by a lock, so the worker may call it from the event loop and
    from worker threads alike. Every write is one short transaction.
    """

    def __init__(self, path: Path, *, connection: Any = None) -> None:
        """Open the log in the SQLite file ``path``, or on ``connection`` (see :meth:`open`)."""
        self.path = path
        self._conn = connection if connection is not None else connect(path)
        self._lock = threading.Lock()
        if connection is None:
            with self._lock:
                migrate(self._conn, COMPONENT, MIGRATIONS)
                migrate(self._conn, VOLUME_COMPONENT, VOLUME_MIGRATIONS)

    @classmethod
    def open(cls, database_url: str) -> AuditLog:
        """The log in the store named by ``HANDOFF_DATABASE_URL``: the SQLite file or PostgreSQL.

        On PostgreSQL the same SQL runs through :class:`connectors.store.postgres.SqliteDialectConnection`,
        so replicas share one log and every read and report works unchanged.
        """
        if database_url.startswith(("postgresql://", "postgres://")):
            from connectors.store.postgres import SqliteDialectConnection

            conn = SqliteDialectConnection(
                database_url, [(COMPONENT, MIGRATIONS), (VOLUME_COMPONENT, VOLUME_MIGRATIONS)]
            )
            return cls(Path(":postgresql:"), connection=conn)
        prefix = "sqlite:///"
        if not database_url.startswith(prefix):
            raise ValueError(f"HANDOFF_DATABASE_URL must start with {prefix!r} or 'postgresql://'")
        return cls(Path(database_url[len(prefix) :]))

    @property
    def connection(self) -> Any:
        """The open connection, for the read-side queries in :mod:`connectors.audit.queries`."""
        return self._conn

    @property
    def lock(self) -> threading.Lock:
        """The lock that serialises use of :attr:`connection`."""
        return self._lock

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> AuditLog:
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
    ) -> str:
        """Store ``decision``; return the id it has in the log (the ``decision_id`` of the other calls).

        The log gives every record its own id, because the core may reuse ``Decision.id`` for every
        decision of one conversation; the core's id is kept beside it. The same decision of the same
        conversation recorded twice at the same time (a replay, a redelivery) is stored once.

        When the previous decision recorded for the same conversation (and the same live/simulated
        kind) was ``continue`` and this one hands off, the earlier one was a missed handoff: a
        ``missed_handoff`` event is attached to it.
        """
        when = to_utc(at)
        stamp = format_time(when)
        ticket = ticket_id or conversation.context.ticket_id
        last = conversation.last_customer_message
        known = known_values(conversation)  # the customer's name has no shape: redact it by value
        question = None
        if last is not None:
            question = scrub(last.text[:MAX_QUESTION_CHARS], known)
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                same = self._conn.execute(
                    "SELECT id FROM audit_decisions WHERE core_id = ? AND conversation_id = ?"
                    " AND decided_at = ? AND simulated = ? AND action = ?",
                    (decision.id, conversation.id, stamp, int(simulated), decision.action.value),
                ).fetchone()
                if same is not None:
                    self._conn.execute("COMMIT")
                    return str(same["id"])
                audit_id = uuid.uuid4().hex
                previous = self._conn.execute(
                    "SELECT id, action FROM audit_decisions WHERE conversation_id = ? AND simulated = ?"
                    " AND decided_at <= ? ORDER BY decided_at DESC, seq DESC LIMIT 1",
                    (conversation.id, int(simulated), stamp),
                ).fetchone()
                self._insert_decision(
                    decision,
                    audit_id=audit_id,
                    conversation=conversation,
                    ticket_id=ticket,
                    question=question,
                    simulated=simulated,
                    stamp=stamp,
                )
                for position, reason in enumerate(decision.reasons):
                    self._insert_reason(audit_id, position, reason, known)
                if (
                    previous is not None
                    and previous["action"] == Action.CONTINUE.value
                    and decision.action is Action.HANDOFF
                    and set(decision.triggers) != {TriggerName.ALREADY_HANDED_OFF.value}
                ):
                    data = {"handoff_decision_id": audit_id, "triggers": list(decision.triggers)}
                    self._conn.execute(
                        "INSERT OR IGNORE INTO audit_events (id, decision_id, kind, actor, at, data_json)"
                        " VALUES (?, ?, 'missed_handoff', NULL, ?, ?)",
                        (uuid.uuid4().hex, previous["id"], stamp, json.dumps(data)),
                    )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
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
        with self._lock:
            audit_id = self._find_decision(decision_id, None, None)
            if audit_id is None:
                raise UnknownDecisionError(f"no recorded decision with id {decision_id!r}")
            self._conn.execute(
                "INSERT INTO audit_deliveries (decision_id, target, ok, detail, at) VALUES (?, ?, ?, ?, ?)",
                (audit_id, target, int(ok), text, format_time(to_utc(at))),
            )

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
        ``conversation_id`` or
        ``ticket_id`` (live decisions before simulated ones, ``handoff`` before ``offer_handoff``; a
        decision that only says the conversation is with a person already is skipped, so a "Not needed"
        clicked after the customer wrote again still lands on the handoff itself).
        An event kind is recorded at most once per decision: Slack and Zendesk deliver twice at times,
        and an agent may click "Claim" twice; the first one counts and its id is returned again.
        """
        if kind not in EVENT_KINDS:
            raise ValueError(f"event kind must be one of {EVENT_KINDS}, got {kind!r}")
        payload = json.dumps(dict(data or {}), default=str, sort_keys=True)
        stamp = format_time(to_utc(at))
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                target = self._find_decision(decision_id, conversation_id, ticket_id)
                if target is None:
                    self._conn.execute("COMMIT")
                    return None
                existing = self._conn.execute(
                    "SELECT id FROM audit_events WHERE kind = ? AND decision_id = ?", (kind, target)
                ).fetchone()
                if existing is not None:
                    self._conn.execute("COMMIT")
                    return str(existing["id"])
                event_id = uuid.uuid4().hex
                self._conn.execute(
                    "INSERT INTO audit_events (id, decision_id, kind, actor, at, data_json) VALUES (?, ?, ?, ?, ?, ?)",
                    (event_id, target, kind, actor, stamp, payload),
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return event_id

    # -- helpers --------------------------------------------------------------------------------------

    def _find_decision(self, decision_id: str | None, conversation_id: str | None, ticket_id: str | None) -> str | None:
        """The audit id of the decision an event or delivery is about (see :meth:`record_event`)."""
        if decision_id is not None:
            row = self._conn.execute("SELECT id FROM audit_decisions WHERE id = ?", (decision_id,)).fetchone()
            if row is not None:
                return str(row["id"])
        for column, value in (
            ("core_id", decision_id),
            ("conversation_id", conversation_id),
            ("ticket_id", ticket_id),
        ):
            if value is None:
                continue
            row = self._conn.execute(
                f"SELECT id FROM audit_decisions d WHERE {column} = ?"  # noqa: S608 (column is a fixed name)
                " AND NOT (" + _ONLY_ALREADY_HANDED_OFF + ")"
                " ORDER BY simulated ASC, action = 'handoff' DESC, action = 'offer_handoff' DESC,"
                " decided_at DESC, seq DESC LIMIT 1",
                (value,),
            ).fetchone()
            if row is not None and (column == "core_id" or self._escalated(str(row["id"]))):
                return str(row["id"])
        return None

    def _escalated(self, audit_id: str) -> bool:
        row = self._conn.execute("SELECT action FROM audit_decisions WHERE id = ?", (audit_id,)).fetchone()
        return row is not None and row["action"] in (Action.HANDOFF.value, Action.OFFER_HANDOFF.value)

    def _insert_decision(
        self,
        decision: Decision,
        *,
        audit_id: str,
        conversation: Conversation,
        ticket_id: str | None,
        question: str | None,
        simulated: bool,
        stamp: str,
    ) -> None:
        self._conn.execute(
            "INSERT INTO audit_decisions (id, core_id, decided_at, conversation_id, ticket_id, channel,"
            " action, priority, alert, urgent, language, policy_version, policy_hash, knowledge_version,"
            " route_group, route_tags, signals_json, question, simulated, redacted,"
            " lead_value, lead_qualified, agents_available, expected_reply_by)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
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
            ),
        )

    def _insert_reason(self, decision_id: str, position: int, reason: Reason, known: tuple[str, ...]) -> None:
        evidence = []
        for item in reason.evidence:
            quote = item.quote
            matched = list(item.matched)
            quote = scrub(quote, known) if quote is not None else None
            matched = [scrub(m, known) for m in matched]
            evidence.append(
                {"message_index": item.message_index, "matched": matched, "quote": quote, "field": item.field}
            )
        detail = scrub(reason.detail, known)
        self._conn.execute(
            "INSERT INTO audit_reasons (decision_id, position, trigger, topic, action, score, priority,"
            " route_group, alert, detail, evidence_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                decision_id,
                position,
                reason.trigger.value,
                reason.topic,
                reason.action.value,
                reason.score,
                reason.priority.value,
                reason.group,
                int(reason.alert),
                detail,
                json.dumps(evidence),
            ),
        )

"""The store's statements and logic, shared by the SQLite and PostgreSQL drivers.

Why one module: the inbox, outbox, conversation, turn, lane, backlog and retention statements are the
same SQL in both databases (``INSERT ... ON CONFLICT DO NOTHING RETURNING id``, ``UPDATE ... RETURNING *``,
upserts, ``id IN (...)`` lists; SQLite has all of them since 3.35), so they are written once, with ``?``
placeholders, and the two stores cannot drift apart. What differs is small and named:

- how a connection is held and a transaction begins (:meth:`SqlStore._tx`, :meth:`SqlStore._query`): one
  SQLite connection behind a lock with ``BEGIN IMMEDIATE``, or a psycopg pool;
- the placeholder: psycopg spells ``?`` as ``%s`` (:class:`connectors.store.postgres.PgConnection`);
- three fragments (:class:`Dialect`): ``MAX``/``GREATEST`` of two values, and the row locks PostgreSQL
  needs because several replicas claim at once (``FOR UPDATE SKIP LOCKED``; SQLite's ``BEGIN IMMEDIATE``
  already serialises every writer of the one process that may use the file);
- the schema, migrations, the conversation lock and the process lock, which live in each driver.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from connectors.store.models import (
    Backlog,
    ConversationRecord,
    InboxItem,
    InboxStatus,
    NewAction,
    NewDelivery,
    OutboxItem,
    OutboxStatus,
)
from connectors.store.rows import (
    BACKLOG_SQL,
    OLDEST_PENDING_SQL,
    OUTBOX_BY_ID,
    OUTBOX_BY_KEY,
    OUTBOX_DONE,
    OUTBOX_FAILED,
    PURGE_TARGETS,
    PURGED_PAYLOAD,
    Row,
    backlog_from_rows,
    budget_step,
    inbox_from,
    loads,
    outbox_from,
    record_from,
    status_filter,
)
from connectors.store.transcripts import (
    Stamp,
    TranscriptCache,
    diff,
    head_document,
    message_document,
    new_epoch,
    spliced,
)
from handoff_core import Conversation, Message


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Executor(Protocol):
    """A connection (in a transaction, or for a read) that takes ``?`` placeholders."""

    def execute(self, sql: str, params: Sequence[Any] = (), /) -> Cursor: ...


@dataclass(frozen=True)
class Dialect:
    name: str
    #: The larger of two values: ``MAX(a, b)`` in SQLite, ``GREATEST(a, b)`` in PostgreSQL.
    greatest: str
    #: After a claim's inner ``SELECT``: skip rows another replica is claiming right now.
    skip_locked: str
    #: After reading a lane's budget row: hold it until the transaction ends.
    for_update: str


SQLITE = Dialect("sqlite", greatest="MAX", skip_locked="", for_update="")
POSTGRESQL = Dialect("postgresql", greatest="GREATEST", skip_locked=" FOR UPDATE SKIP LOCKED", for_update=" FOR UPDATE")

UPSERT_CONVERSATION = (
    "INSERT INTO conversations (id, channel, document, ticket_id, handed_off, handed_off_reason,"
    " handoff_offered, alert_channel, alert_ts, last_decision_id, created_at, updated_at,"
    " transcript_epoch, msg_start, msg_end)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (id) DO UPDATE SET channel = excluded.channel, document = excluded.document,"
    " ticket_id = COALESCE(excluded.ticket_id, conversations.ticket_id),"
    " handed_off = excluded.handed_off, handed_off_reason = excluded.handed_off_reason,"
    " handoff_offered = excluded.handoff_offered,"
    " alert_channel = COALESCE(excluded.alert_channel, conversations.alert_channel),"
    " alert_ts = COALESCE(excluded.alert_ts, conversations.alert_ts),"
    " last_decision_id = excluded.last_decision_id, updated_at = excluded.updated_at,"
    " transcript_epoch = excluded.transcript_epoch, msg_start = excluded.msg_start, msg_end = excluded.msg_end"
)
#: Message n+1: the conversation's row moves to its new revision only if it is still at the one the
#: record was read at (the check and the write in one statement: no extra round trip to PostgreSQL).
APPEND_CONVERSATION = (
    "UPDATE conversations SET channel = ?, document = ?, ticket_id = COALESCE(?, ticket_id),"
    " handed_off = ?, handed_off_reason = ?, handoff_offered = ?,"
    " alert_channel = COALESCE(?, alert_channel), alert_ts = COALESCE(?, alert_ts),"
    " last_decision_id = ?, updated_at = ?, msg_start = ?, msg_end = ?"
    " WHERE id = ? AND transcript_epoch = ? AND msg_start = ? AND msg_end = ?"
)
#: The conversation row's columns a record is read from.
CONVERSATION_COLUMNS = (
    "id",
    "channel",
    "document",
    "ticket_id",
    "handed_off",
    "handed_off_reason",
    "handoff_offered",
    "alert_channel",
    "alert_ts",
    "last_decision_id",
    "transcript_epoch",
    "msg_start",
    "msg_end",
)
#: A conversation's row, then its message rows from ``seq`` on, in one statement (one snapshot: a replica
#: appending meanwhile is seen whole or not at all). The message rows carry NULLs where the conversation's
#: columns are, so a transcript of 1,000 rows does not copy the conversation's row 1,000 times.
READ_CONVERSATION = (
    "SELECT "  # noqa: S608 (constant column names)
    + ", ".join(f"c.{name}" for name in CONVERSATION_COLUMNS)
    + ", NULL AS m_seq, NULL AS m_message FROM conversations c WHERE c.id = ?"
    " UNION ALL SELECT "
    + ", ".join(f"NULL AS {name}" for name in CONVERSATION_COLUMNS)
    + ", m.seq AS m_seq, m.message AS m_message FROM conversation_messages m"
    " JOIN conversations c ON c.id = m.conversation_id"
    " WHERE m.conversation_id = ? AND m.seq >= ? AND m.seq >= c.msg_start AND m.seq < c.msg_end"
    " ORDER BY m_seq NULLS FIRST"
)
INSERT_MESSAGES_ROW = "(?, ?, ?)"
#: Message rows per INSERT when a transcript is written from scratch (3 parameters each, far below
#: SQLite's 32,766 and PostgreSQL's 65,535).
INSERT_CHUNK = 200
ENQUEUE = (
    "INSERT INTO outbox (kind, target, dedupe_key, conversation_id, decision_id, payload, status,"
    " next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id"
)
RETRY_DEAD = (
    "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, lease_until = 0,"
    " updated_at = ? WHERE status = 'dead' AND payload <> ?"
)


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" for _ in values)


class SqlStore:
    """The worker store over any :class:`Executor`; a driver supplies connections, locks and the schema.

    Implements every port of :mod:`connectors.store.protocol` but ``conversation_lock``, ``ping`` and
    ``close``, which are the drivers' own.
    """

    dialect: Dialect = SQLITE
    #: The last transcript read or written per conversation, at its revision (the drivers make one each).
    transcripts: TranscriptCache

    def _tx(self) -> AbstractContextManager[Executor]:
        """One transaction: everything in it is written, or nothing."""
        raise NotImplementedError

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Rows of one read outside a transaction."""
        raise NotImplementedError

    # ------------------------------------------------------------------ inbox
    def inbox_add(self, source: str, dedupe_key: str, kind: str, payload: dict[str, Any]) -> bool:
        return self.inbox_add_many([NewDelivery(source, dedupe_key, kind, payload)])[0]

    def inbox_add_many(self, deliveries: Sequence[NewDelivery]) -> list[bool]:
        if not deliveries:
            return []
        now = time.time()
        stored: list[bool] = []
        with self._tx() as db:
            for d in deliveries:
                cur = db.execute(
                    "INSERT INTO inbox (source, dedupe_key, kind, payload, received_at, next_attempt_at)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (source, dedupe_key) DO NOTHING",
                    (d.source, d.dedupe_key, d.kind, json.dumps(d.payload), now, now),
                )
                stored.append(cur.rowcount == 1)
        return stored

    def inbox_claim(self, now: float, lease_seconds: float, limit: int) -> list[InboxItem]:
        with self._tx() as db:
            rows = db.execute(
                "UPDATE inbox SET lease_until = ?, attempts = attempts + 1 WHERE id IN ("  # noqa: S608
                # ``+next_attempt_at``: not an index term, so the pending rows are read in id order through
                # ``inbox_claim_order`` and the walk stops after ``limit`` due ones, instead of sorting them all
                " SELECT id FROM inbox WHERE status = 'pending' AND +next_attempt_at <= ? AND lease_until <= ?"
                f" ORDER BY id LIMIT ?{self.dialect.skip_locked}) RETURNING *",
                (now + lease_seconds, now, now, limit),
            ).fetchall()
        return sorted((inbox_from(row) for row in rows), key=lambda i: i.id)

    def inbox_finish(
        self,
        item_id: int,
        status: InboxStatus,
        *,
        record: ConversationRecord | None = None,
        actions: Sequence[NewAction] = (),
        error: str | None = None,
    ) -> None:
        written = None
        with self._tx() as db:
            db.execute(
                "UPDATE inbox SET status = ?, lease_until = 0, last_error = ? WHERE id = ?",
                (status.value, error, item_id),
            )
            if record is not None:
                written = _write_conversation(db, record)
            _enqueue(db, actions)
        if record is not None and written is not None:
            self.transcripts.put(record.id, *written, record.conversation)

    def inbox_retry_later(self, item_id: int, error: str, next_attempt_at: float, *, dead: bool) -> None:
        status = InboxStatus.DEAD if dead else InboxStatus.PENDING
        with self._tx() as db:
            db.execute(
                "UPDATE inbox SET status = ?, lease_until = 0, last_error = ?, next_attempt_at = ? WHERE id = ?",
                (status.value, error[:2000], next_attempt_at, item_id),
            )

    def inbox_list(self, statuses: Sequence[InboxStatus] = (), limit: int = 100) -> list[InboxItem]:
        where, params = status_filter(statuses)
        rows = self._query(f"SELECT * FROM inbox {where} ORDER BY id DESC LIMIT ?", (*params, limit))  # noqa: S608
        return [inbox_from(row) for row in rows]

    def inbox_extend(self, ids: Sequence[int], until: float) -> None:
        self._extend("inbox", ids, until)

    def _extend(self, table: str, ids: Sequence[int], until: float) -> None:
        if ids:
            with self._tx() as db:
                db.execute(
                    f"UPDATE {table} SET lease_until = ? WHERE id IN ({_marks(ids)}) AND status = 'pending'",  # noqa: S608
                    (until, *ids),
                )

    # ------------------------------------------------------------------ conversations
    def conversation_get(self, conversation_id: str) -> ConversationRecord | None:
        return self._read_conversation(conversation_id, self._query)

    def conversation_find_by_ticket(self, ticket_id: str) -> ConversationRecord | None:
        rows = self._query(
            "SELECT id FROM conversations WHERE ticket_id = ? ORDER BY updated_at DESC LIMIT 1", (ticket_id,)
        )
        return self.conversation_get(rows[0]["id"]) if rows else None

    def conversation_set_ticket(self, conversation_id: str, ticket_id: str) -> ConversationRecord | None:
        return self._conversation_update("ticket_id = ?", (ticket_id,), conversation_id)

    def conversation_set_alert(self, conversation_id: str, channel: str, ts: str) -> ConversationRecord | None:
        return self._conversation_update("alert_channel = ?, alert_ts = ?", (channel, ts), conversation_id)

    def _conversation_update(
        self, assignments: str, values: tuple[str, ...], conversation_id: str
    ) -> ConversationRecord | None:
        with self._tx() as db:
            updated = db.execute(
                f"UPDATE conversations SET {assignments}, updated_at = ? WHERE id = ?",  # noqa: S608
                (*values, time.time(), conversation_id),
            ).rowcount
            if updated != 1:
                return None
            return self._read_conversation(conversation_id, lambda sql, params: db.execute(sql, params).fetchall())

    def _read_conversation(
        self, conversation_id: str, query: Callable[[str, Sequence[Any]], list[Any]]
    ) -> ConversationRecord | None:
        """The record with its transcript: the cached one when the row is at its revision, extended by the
        rows after it when the row is ahead, else parsed whole (:mod:`connectors.store.transcripts`)."""
        cache = self.transcripts
        kept = cache.get(conversation_id)
        since = kept.stamp.end if kept is not None else 0
        rows = query(READ_CONVERSATION, (conversation_id, conversation_id, since))
        if not rows:
            cache.forget(conversation_id)
            return None
        row = rows[0]
        epoch = row["transcript_epoch"]
        if epoch is None:  # a row of the one-document format: every message is in its document
            return record_from(row, Conversation.model_validate_json(row["document"]), None)
        head, start, end = row["document"], int(row["msg_start"]), int(row["msg_end"])
        fresh = rows[1:]
        if kept is not None and kept.stamp.epoch == epoch and kept.stamp.start <= start and kept.stamp.end <= end:
            old = kept.stamp
            if not fresh and start == old.start and head == kept.head:
                cache.hits += 1
                return record_from(row, kept.conversation, old)
            cache.extended += 1
            added = tuple(Message.model_validate_json(r["m_message"]) for r in fresh)
            messages = old.messages[start - old.start :] + added
            if head == kept.head:
                conversation = kept.conversation.model_copy(update={"messages": messages})
            else:  # a new head (customer, context, language): parsed with one message, then the rest joined
                one = fresh[0]["m_message"] if fresh else message_document(messages[0])
                conversation = Conversation.model_validate_json(spliced(head, [one]))
                conversation = conversation.model_copy(update={"messages": messages})
        else:
            if since:  # the cached transcript is of another epoch (replaced): read every row
                rows = query(READ_CONVERSATION, (conversation_id, conversation_id, 0))
                if not rows:
                    cache.forget(conversation_id)
                    return None
                row = rows[0]
                if row["transcript_epoch"] != epoch:  # replaced again meanwhile: read it as it is now
                    return self._read_conversation(conversation_id, query)
                fresh = rows[1:]
            cache.misses += 1
            conversation = Conversation.model_validate_json(spliced(head, [r["m_message"] for r in fresh]))
            messages = conversation.messages
        stamp = Stamp(epoch, start, end, messages)
        cache.put(conversation_id, stamp, head, conversation)
        return record_from(row, conversation, stamp)

    # ------------------------------------------------------------------ web chat turns
    def reply_get(self, key: str) -> dict[str, Any] | None:
        rows = self._query("SELECT reply FROM webchat_replies WHERE key = ?", (key,))
        return loads(rows[0]["reply"]) if rows else None

    def save_turn(
        self, record: ConversationRecord, reply_key: str, reply: dict[str, Any], actions: Sequence[NewAction]
    ) -> dict[str, Any]:
        with self._tx() as db:
            inserted = db.execute(
                "INSERT INTO webchat_replies (key, conversation_id, reply, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (key) DO NOTHING",
                (reply_key, record.id, json.dumps(reply), time.time()),
            ).rowcount
            if inserted != 1:  # a concurrent duplicate stored its answer first: that answer stands
                row = db.execute("SELECT reply FROM webchat_replies WHERE key = ?", (reply_key,)).fetchone()
                return loads(row["reply"]) if row else reply
            written = _write_conversation(db, record)
            _enqueue(db, actions)
        self.transcripts.put(record.id, *written, record.conversation)
        return reply

    # ------------------------------------------------------------------ outbox
    def outbox_enqueue(self, actions: Sequence[NewAction]) -> list[int]:
        with self._tx() as db:
            return _enqueue(db, actions)

    def outbox_claim(self, now: float, lease_seconds: float, limit: int, lane: str | None = None) -> list[OutboxItem]:
        lane_sql, lane_params = ("AND target = ?", [lane]) if lane is not None else ("", [])
        with self._tx() as db:
            rows = db.execute(
                "UPDATE outbox SET lease_until = ?, claims = claims + 1 WHERE id IN ("  # noqa: S608
                " SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? AND lease_until <= ?"
                f" {lane_sql} ORDER BY next_attempt_at, id LIMIT ?{self.dialect.skip_locked}) RETURNING *",
                (now + lease_seconds, now, now, *lane_params, limit),
            ).fetchall()
        return sorted((outbox_from(row) for row in rows), key=lambda i: (i.next_attempt_at, i.id))

    def outbox_done(self, item_id: int, result: dict[str, Any] | None = None) -> None:
        with self._tx() as db:
            db.execute(OUTBOX_DONE, (json.dumps(result) if result is not None else None, time.time(), item_id))

    def outbox_failed(self, item_id: int, error: str, next_attempt_at: float, *, dead: bool) -> None:
        status = OutboxStatus.DEAD if dead else OutboxStatus.PENDING
        with self._tx() as db:
            db.execute(OUTBOX_FAILED, (status.value, error[:2000], next_attempt_at, time.time(), item_id))

    def outbox_get(self, item_id: int) -> OutboxItem | None:
        rows = self._query(OUTBOX_BY_ID, (item_id,))
        return outbox_from(rows[0]) if rows else None

    def outbox_by_key(self, dedupe_key: str) -> OutboxItem | None:
        rows = self._query(OUTBOX_BY_KEY, (dedupe_key,))
        return outbox_from(rows[0]) if rows else None

    def outbox_extend(self, ids: Sequence[int], until: float) -> None:
        self._extend("outbox", ids, until)

    def outbox_list(self, statuses: Sequence[OutboxStatus] = (), limit: int = 100) -> list[OutboxItem]:
        where, params = status_filter(statuses)
        rows = self._query(f"SELECT * FROM outbox {where} ORDER BY id DESC LIMIT ?", (*params, limit))  # noqa: S608
        return [outbox_from(row) for row in rows]

    def outbox_retry(self, item_id: int) -> bool:
        """Put a dead action back in the queue with a fresh attempt budget (never one whose text was purged)."""
        now = time.time()
        with self._tx() as db:
            return db.execute(RETRY_DEAD + " AND id = ?", (now, now, PURGED_PAYLOAD, item_id)).rowcount == 1

    def outbox_retry_dead(self) -> int:
        now = time.time()
        with self._tx() as db:
            return db.execute(RETRY_DEAD, (now, now, PURGED_PAYLOAD)).rowcount

    def outbox_counts(self) -> dict[OutboxStatus, int]:
        rows = self._query("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
        counts = dict.fromkeys(OutboxStatus, 0)
        for row in rows:
            counts[OutboxStatus(row["status"])] = int(row["n"])
        return counts

    def outbox_next_due(self) -> float | None:
        rows = self._query(
            f"SELECT MIN({self.dialect.greatest}(next_attempt_at, lease_until)) AS due"  # noqa: S608
            " FROM outbox WHERE status = 'pending'"
        )
        due = rows[0]["due"] if rows else None
        return float(due) if due is not None else None

    # ------------------------------------------------------------------ backlog
    def backlog(self) -> list[Backlog]:
        return backlog_from_rows([row for sql in BACKLOG_SQL for row in self._query(sql)])

    def oldest_pending(self) -> dict[str, float | None]:
        row = self._query(OLDEST_PENDING_SQL)[0]
        return {q: (float(row[q]) if row[q] is not None else None) for q in ("inbox", "outbox")}

    # ------------------------------------------------------------------ retention
    def purge_raw(self, before: float, *, dry_run: bool = False) -> dict[str, int]:
        counts: dict[str, int] = {}
        with self._tx() as db:
            for table, rows_sql, purge_sql in PURGE_TARGETS:
                if dry_run:
                    row = db.execute(f"SELECT COUNT(*) AS n {rows_sql}", (before,)).fetchone()
                    counts[table] = int(row["n"]) if row is not None else 0
                else:
                    counts[table] = db.execute(purge_sql, (before,)).rowcount
        return counts

    # ------------------------------------------------------------------ lanes (shared back-off and budget)
    def lane_pause(self, lane: str, until: float) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO lanes (name, paused_until) VALUES (?, ?) ON CONFLICT (name) DO UPDATE"  # noqa: S608
                f" SET paused_until = {self.dialect.greatest}(lanes.paused_until, excluded.paused_until)",
                (lane, until),
            )

    def lane_paused_until(self, lane: str) -> float:
        rows = self._query("SELECT paused_until FROM lanes WHERE name = ?", (lane,))
        return float(rows[0]["paused_until"]) if rows else 0.0

    def lane_take(self, lane: str, now: float, per_minute: int) -> float:
        with self._tx() as db:
            db.execute("INSERT INTO lanes (name) VALUES (?) ON CONFLICT (name) DO NOTHING", (lane,))
            row = db.execute(
                f"SELECT window_start, used FROM lanes WHERE name = ?{self.dialect.for_update}",  # noqa: S608
                (lane,),
            ).fetchone()
            wait, start, used = budget_step(now, per_minute, float(row["window_start"]), int(row["used"]))
            db.execute("UPDATE lanes SET window_start = ?, used = ? WHERE name = ?", (start, used, lane))
        return wait


def _enqueue(db: Executor, actions: Sequence[NewAction]) -> list[int]:
    now = time.time()
    ids: list[int] = []
    for action in actions:
        status = OutboxStatus.LOCAL if action.target == "local" else OutboxStatus.PENDING
        row = db.execute(
            ENQUEUE,
            (
                action.kind,
                action.target,
                action.dedupe_key,
                action.conversation_id,
                action.decision_id,
                json.dumps(action.payload),
                status.value,
                now,
                now,
                now,
            ),
        ).fetchone()
        if row is not None:
            ids.append(int(row["id"]))
    return ids


def _write_conversation(db: Executor, record: ConversationRecord) -> tuple[Stamp, str]:
    """Store the record: only its new messages when it extends the transcript stored at its stamp's
    revision (and the row is still at that revision), else every message under a new epoch. Returns the
    new stamp and the head as stored."""
    conversation = record.conversation
    messages = conversation.messages
    head = head_document(conversation)
    state = record.state
    now = time.time()
    # The columns both statements write, in the order both name them.
    columns = (
        conversation.channel,
        head,
        record.ticket_id,
        int(state.handed_off),
        state.handed_off_reason,
        int(state.handoff_offered),
        record.alert_channel,
        record.alert_ts,
        record.last_decision_id,
    )
    prior = record.stamp
    plan = diff(prior.messages, messages) if prior is not None else None
    if prior is not None and plan is not None:
        dropped, added = plan
        start, end = prior.start + dropped, prior.end + added
        moved = db.execute(
            APPEND_CONVERSATION, (*columns, now, start, end, record.id, prior.epoch, prior.start, prior.end)
        ).rowcount
        if moved == 1:
            if dropped:  # the 2,000-message window moved on
                db.execute(
                    "DELETE FROM conversation_messages WHERE conversation_id = ? AND seq < ?", (record.id, start)
                )
            _insert_messages(db, record.id, prior.end, messages[len(messages) - added :])
            return Stamp(prior.epoch, start, end, messages), head
    # Not an extension of what the record was read at, or the row moved on meanwhile: from scratch.
    epoch = new_epoch()
    db.execute("DELETE FROM conversation_messages WHERE conversation_id = ?", (record.id,))
    _insert_messages(db, record.id, 0, messages)
    db.execute(UPSERT_CONVERSATION, (record.id, *columns, now, now, epoch, 0, len(messages)))
    return Stamp(epoch, 0, len(messages), messages), head


def _insert_messages(db: Executor, conversation_id: str, first_seq: int, messages: Sequence[Message]) -> None:
    for at in range(0, len(messages), INSERT_CHUNK):
        chunk = messages[at : at + INSERT_CHUNK]
        params: list[object] = []
        for offset, message in enumerate(chunk, start=first_seq + at):
            params += (conversation_id, offset, message_document(message))
        db.execute(
            "INSERT INTO conversation_messages (conversation_id, seq, message) VALUES "  # noqa: S608
            + ", ".join(INSERT_MESSAGES_ROW for _ in chunk),
            params,
        )


__all__ = ["POSTGRESQL", "SQLITE", "Cursor", "Dialect", "Executor", "Row", "SqlStore"]

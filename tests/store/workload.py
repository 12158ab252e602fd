"""What the worker, ``handoff decisions``, ``handoff report`` and ``handoff outbox`` run against a store.

Shared by the query-plan tests of both stores (:mod:`tests.store.test_query_plans` for SQLite,
:mod:`tests.store.test_query_plans_pg` for PostgreSQL): each captures the statements this runs in its
own way (sqlite3 trace callbacks; PostgreSQL's statement log) and checks their plans.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from audit.builders import conversation, decision

from connectors.audit import AuditLog
from connectors.audit.queries import DecisionFilter, fetch_decisions, iter_decisions
from connectors.report.period import Period
from connectors.report.weekly import review_from_store
from connectors.store import InboxStatus, NewAction, OutboxStatus
from connectors.store.models import ConversationRecord
from handoff_core import Action, TriggerName

#: The tables that grow with traffic: a plan that scans one of them whole is a finding in both stores.
BIG_TABLES = (
    "audit_decisions",
    "audit_reasons",
    "audit_deliveries",
    "audit_events",
    "outbox",
    "inbox",
    "conversations",
    "conversation_messages",
)

#: Every filter ``handoff decisions`` offers (each option of the command), as the command builds them.
FILTERS: tuple[dict[str, Any], ...] = (
    {},
    {"trigger": "low_confidence"},  # on a small log every trigger is rare: listed from its reasons
    {"trigger": "sales_lead"},  # a trigger no decision carries: the probe that decides so must not scan
    {"trigger": "vip", "rare_trigger": False},  # a common trigger: each decision's reasons probed
    {"trigger": "vip", "rare_trigger": True},
    {"action": "handoff"},
    {"channel": "webchat"},
    {"simulated": None},
    {"simulated": True},
    {"conversation_id": "c1"},
    {"channel": "email", "action": "offer_handoff", "trigger": "low_confidence", "rare_trigger": False},
)


def run_workload(log: AuditLog, store: Any) -> None:
    """Run every store and audit call of the worker, the CLI and the review once (on an empty store)."""
    now = datetime.now(UTC)
    # Worker: webhook in, decision recorded, actions out, feedback and deliveries attached.
    store.inbox_add("zendesk", "key-1", "ticket", {"ticket_id": "T1"})
    [item] = store.inbox_claim(time.time(), 30, 10)
    store.inbox_extend([item.id], time.time() + 30)
    record = ConversationRecord(conversation("c1", ticket_id="T1"), ticket_id="T1")
    action = NewAction("zendesk.handoff", "zendesk", "a-1", {"ticket_id": "T1"}, "c1", None)
    store.inbox_finish(item.id, InboxStatus.DONE, record=record, actions=[action])
    store.inbox_add("zendesk", "key-2", "ticket", {})
    [again] = store.inbox_claim(time.time(), 30, 10)
    store.inbox_retry_later(again.id, "boom", time.time() + 5, dead=False)
    audit_id = log.record_decision(decision(Action.HANDOFF, TriggerName.LOW_CONFIDENCE), record.conversation, at=now)
    log.record_decision(decision(Action.CONTINUE, None), conversation("c2"), at=now)
    store.save_turn(record, "turn-1", {"reply": "ok"}, [NewAction("slack.alert", "slack", "s-1", {}, "c1", audit_id)])
    store.reply_get("turn-1")
    for lane in ("zendesk", "slack", None):
        for out in store.outbox_claim(time.time(), 30, 10, lane=lane):
            store.outbox_extend([out.id], time.time() + 30)
            if out.target == "zendesk":
                store.outbox_done(out.id, {"ok": True})
            else:
                store.outbox_failed(out.id, "down", time.time() + 5, dead=True)
    store.outbox_enqueue([NewAction("slack.review", "slack", "r-1", {}, None, None)])
    store.outbox_get(1)
    store.outbox_by_key("a-1")
    store.outbox_next_due()
    # A web-chat turn that appends (message n+1 is one row), then one past the window (the first rows go);
    # a second store object reads the rows after its cached end (a replica), and the whole transcript.
    got = store.conversation_get("c1")
    assert got is not None and got.stamp is not None
    grown = got.conversation.messages + conversation("c1").messages
    appended = ConversationRecord(
        got.conversation.model_copy(update={"messages": grown}), ticket_id="T1", stamp=got.stamp
    )
    store.save_turn(appended, "turn-2", {"reply": "ok"}, [])
    got = store.conversation_get("c1")
    assert got is not None
    window = got.conversation.messages[1:] + conversation("c1").messages
    moved = ConversationRecord(
        got.conversation.model_copy(update={"messages": window}), ticket_id="T1", stamp=got.stamp
    )
    store.save_turn(moved, "turn-3", {"reply": "ok"}, [])
    store.transcripts.forget("c1")
    store.conversation_get("c1")
    store.conversation_find_by_ticket("T1")
    store.conversation_set_ticket("c1", "T1")
    store.conversation_set_alert("c1", "C1", "1.2")
    store.lane_pause("zendesk", time.time() + 1)
    store.lane_paused_until("zendesk")
    store.lane_take("zendesk", time.time(), 60)
    log.record_delivery(audit_id, "zendesk", True)
    log.record_event("claimed", decision_id=audit_id)
    log.record_event("not_needed", conversation_id="c1")
    log.record_event("handoff_wrong", ticket_id="T1")
    # Health and lag: /readyz and /metrics.
    store.ping()
    store.oldest_pending()
    store.backlog()
    # handoff outbox list | lag | retry.
    store.outbox_list([OutboxStatus.PENDING, OutboxStatus.DEAD, OutboxStatus.LOCAL], limit=50)
    store.outbox_list([], limit=50)
    store.inbox_list([InboxStatus.PENDING], limit=50)
    store.outbox_retry(2)
    store.outbox_retry_dead()
    # The worker's daily raw-text purge, and `handoff purge --dry-run`.
    store.purge_raw(time.time() - 30 * 86400.0, dry_run=True)
    store.purge_raw(time.time() - 30 * 86400.0)
    # handoff decisions with every filter: the table (newest 200) and the export (streamed pages).
    since = now - timedelta(days=7)
    for extra in FILTERS:
        flt = DecisionFilter(since=since, **extra)
        assert fetch_decisions(log, flt, limit=200) is not None
        assert list(iter_decisions(log, flt)) is not None
    # The review with its comparison period, live and with simulated decisions.
    review_from_store(log, Period(since, now + timedelta(seconds=1)), compare_previous=True)
    review_from_store(log, Period(since, now + timedelta(seconds=1)), include_simulated=True)

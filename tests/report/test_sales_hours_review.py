"""The review's sales-lead and out-of-hours numbers, from decisions recorded in the audit log."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from audit.builders import conversation, decision

from connectors.audit import AuditLog, SQLiteAudit
from connectors.audit.queries import fetch_decisions
from connectors.report.data import build_review
from connectors.report.figures import sales_hours_rows
from connectors.report.markdown import render_markdown
from connectors.report.period import Period
from handoff_core import Action, Decision, TriggerName
from handoff_core.decision import Lead

START = datetime(2026, 11, 23, tzinfo=UTC)
WEEK = Period(START, START + timedelta(days=7))


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    audit = SQLiteAudit(tmp_path / "s.sqlite3")
    yield audit  # type: ignore[misc]
    audit.close()


def lead(action: Action, value: int, qualified: bool, **extra: object) -> Decision:
    lead = Lead(value=Decimal(value), threshold=Decimal(10000), qualified=qualified, currency="EUR")
    return decision(action, TriggerName.SALES_LEAD).model_copy(update={"lead": lead, **extra})


def test_leads_to_sales_and_their_value(log: AuditLog) -> None:
    """Leads handed to sales count once per conversation with their value; smaller leads are counted apart."""
    at = START + timedelta(days=2, hours=10)
    log.record_decision(lead(Action.HANDOFF, 12000, True), conversation("big-1"), at=at)
    log.record_decision(lead(Action.HANDOFF, 30000, True), conversation("big-2"), at=at)
    log.record_decision(lead(Action.HANDOFF, 30000, True), conversation("big-2"), at=at + timedelta(minutes=1))
    log.record_decision(lead(Action.CONTINUE, 1600, False), conversation("small"), at=at)
    log.record_decision(decision(Action.HANDOFF), conversation("support"), at=at)
    s = build_review(fetch_decisions(log), WEEK).sales_hours
    assert (s.leads_to_sales, s.lead_value_total, s.lead_value_median, s.smaller_leads) == (2, 42000, 21000, 1)
    assert s.with_schedule == 0
    rows = dict(sales_hours_rows(build_review(fetch_decisions(log), WEEK)))
    assert rows["Handoffs out of hours"].startswith("–")


def test_out_of_hours_handoffs_and_time_to_claim(log: AuditLog) -> None:
    """Out-of-hours handoffs are counted with their claim times; in-hours handoffs are not among them."""
    sunday = START + timedelta(days=6, hours=3)
    monday = sunday + timedelta(hours=29)
    closed = {"agents_available": False, "expected_reply_by": monday}
    delays = [5 * 3600, 30 * 3600]
    for i, delay in enumerate(delays):
        d = decision(Action.HANDOFF).model_copy(update=closed)
        log.record_decision(d, conversation(f"night-{i}"), at=sunday)
        log.record_event("claimed", decision_id=d.id, actor="a@x", at=sunday + timedelta(seconds=delay))
    log.record_decision(decision(Action.HANDOFF).model_copy(update=closed), conversation("night-x"), at=sunday)
    day = decision(Action.HANDOFF).model_copy(update={"agents_available": True})
    log.record_decision(day, conversation("day"), at=START + timedelta(hours=10))
    log.record_event("claimed", decision_id=day.id, actor="a@x", at=START + timedelta(hours=10, seconds=60))
    records = fetch_decisions(log)
    assert sum(1 for r in records if r.expected_reply_by == monday) == 3, "stored and read back"
    s = build_review(records, WEEK).sales_hours
    assert (s.out_of_hours, s.with_schedule) == (3, 4)
    assert (s.out_of_hours_claims.total, s.out_of_hours_claims.claimed) == (3, 2)
    assert s.out_of_hours_claims.median_seconds == pytest.approx(statistics.median(delays))
    markdown = render_markdown(build_review(records, WEEK))
    assert "## Sales leads and business hours" in markdown
    assert "| Handoffs out of hours | 3 of 4 with a schedule |" in markdown

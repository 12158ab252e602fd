"""The streamed, one-pass review gives exactly the figures of the review it replaced, on the same store."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.audit import AuditLog, SQLiteAudit, open_audit, queries
from connectors.audit.queries import DecisionFilter, fetch_decisions
from connectors.report.data import Review
from connectors.report.period import Period
from connectors.report.weekly import review_from_store
from report import legacy_review
from report.week import build_week

START = datetime(2026, 11, 2, tzinfo=UTC)
WEEK = Period(START, START + timedelta(days=7))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two weeks from the example conversations, with deliveries that fail at random, some simulated."""
    path = tmp_path_factory.mktemp("figures") / "store.sqlite3"
    with SQLiteAudit(path) as log:
        build_week(log, START - timedelta(days=7), seed=3, days=14)
        rnd = random.Random(5)
        for record in fetch_decisions(log, DecisionFilter(simulated=None)):
            for target in ("zendesk", "slack"):
                wanted = record.is_handoff if target == "zendesk" else record.alert
                for _ in range(rnd.choice((1, 2) if wanted else (0, 0, 1))):
                    log.record_delivery(record.id, target, rnd.random() < 0.5, at=record.decided_at)  # type: ignore[arg-type]
        # Leads and business hours as the sales-lead trigger and schedules record them (issue 13 columns).
        ids = [r.id for r in fetch_decisions(log, DecisionFilter(simulated=None))]
        log.connection.executemany(
            "UPDATE audit_decisions SET lead_value = ?, lead_qualified = ?, agents_available = ? WHERE id = ?",
            [(float(100 * (n % 7)), (n // 2) % 2, (n // 3) % 2, i) for n, i in enumerate(ids) if n % 2 == 0],
        )
        # Every third conversation as if recorded by `handoff simulate --record`.
        conversations = sorted({r.conversation_id for r in fetch_decisions(log, DecisionFilter(simulated=None))})
        log.connection.executemany(
            "UPDATE audit_decisions SET simulated = 1 WHERE conversation_id = ?", [(c,) for c in conversations[::3]]
        )
    return path


def legacy(log: AuditLog, period: Period, simulated: bool | None, *, compare: bool) -> Review:
    """The old path: every record loaded with fetch_decisions, counted by the old code."""
    include = simulated is None
    previous = None
    if compare:
        before = period.previous()
        records = fetch_decisions(log, DecisionFilter(since=before.start, until=before.end, simulated=simulated))
        previous = legacy_review.build_review(records, before, include_simulated=include, group_questions=False)
    records = fetch_decisions(log, DecisionFilter(since=period.start, until=period.end, simulated=simulated))
    return legacy_review.build_review(records, period, include_simulated=include, previous=previous)


def without_groups(review: Review | None) -> Review | None:
    if review is None:
        return None
    return dataclasses.replace(review, unanswered=(), previous=without_groups(review.previous))


@pytest.mark.parametrize(
    ("period", "simulated"),
    [
        (WEEK, False),
        (WEEK, None),
        (Period(START + timedelta(days=2, hours=3), START + timedelta(days=4, hours=20)), False),
        (Period(START - timedelta(days=30), START + timedelta(days=30)), None),
    ],
)
def test_streamed_review_has_the_old_figures(
    store: Path, period: Period, simulated: bool | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Volumes, rates, daily rows, quality, claim times, alerts and policies equal the old computation."""
    monkeypatch.setattr(queries, "REVIEW_PAGE", 7)  # many pages, so page boundaries are crossed everywhere
    with SQLiteAudit(store) as log:
        old = legacy(log, period, simulated, compare=True)
        new = review_from_store(log, period, include_simulated=simulated is None, compare_previous=True)
    assert new.decisions > 0
    assert new.quality.claims.claimed > 0
    assert without_groups(new) == without_groups(old)
    assert new.previous is not None and old.previous is not None
    assert dataclasses.astuple(without_groups(new.previous)) == dataclasses.astuple(without_groups(old.previous))  # type: ignore[arg-type]
    assert sum(g.size for g in new.unanswered) == new.unanswered_total


def test_figures_cover_every_part_of_the_review(store: Path) -> None:
    """The compared store exercises failed deliveries, alerts, feedback and unanswered questions."""
    with SQLiteAudit(store) as log:
        review = review_from_store(log, WEEK)
    q = review.quality
    assert q.zendesk_failed + q.slack_failed > 0
    assert q.alerts[0].stats.total > 0 and q.unnecessary > 0 and q.missed > 0
    assert review.unanswered_total > 0 and review.by_topic and len(review.by_channel) >= 2
    assert review.sales_hours.leads_to_sales > 0 and review.sales_hours.out_of_hours > 0


def test_postgresql_log_gives_the_same_review(store: Path, pg_url: str) -> None:
    """The review read from an audit log on PostgreSQL (replicas) equals the one read from SQLite."""
    tables = ("audit_decisions", "audit_reasons", "audit_deliveries", "audit_events")
    with SQLiteAudit(store) as source:
        rows = {t: [dict(r) for r in source.connection.execute(f"SELECT * FROM {t}").fetchall()] for t in tables}
        expected = review_from_store(source, WEEK, include_simulated=True, compare_previous=True)
    import psycopg

    target = open_audit(pg_url)  # creates the PostgreSQL schema
    try:
        with psycopg.connect(pg_url) as conn:
            for table in tables:
                for row in rows[table]:
                    columns = ", ".join(row)
                    marks = ", ".join("%s" for _ in row)
                    conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(row.values()))
        assert target.dialect == "postgresql"
        got = review_from_store(target, WEEK, include_simulated=True, compare_previous=True)
    finally:
        target.close()
    assert got == expected
    assert [g.label for g in got.unanswered] == [g.label for g in expected.unanswered]

"""Decisions are read a page at a time without losing or repeating any, and --limit keeps the newest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from audit.builders import conversation, decision
from connectors.audit import AuditLog, SQLiteAudit, queries
from connectors.audit.queries import DecisionFilter, fetch_decisions, iter_decisions
from handoff_core import Action, TriggerName

START = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    audit = SQLiteAudit(tmp_path / "s.sqlite3")
    for n in range(11):
        at = START + timedelta(minutes=n // 3)  # three decisions share each timestamp
        trigger = TriggerName.LOW_CONFIDENCE if n % 2 else TriggerName.SENTIMENT
        audit.record_decision(decision(Action.HANDOFF, trigger), conversation(f"c{n}"), at=at)
    yield audit  # type: ignore[misc]
    audit.close()


def stored_order(log: AuditLog, trigger: str | None = None) -> list[str]:
    sql = "SELECT d.id FROM audit_decisions d"
    if trigger:
        sql += " WHERE EXISTS (SELECT 1 FROM audit_reasons r WHERE r.decision_id = d.id AND r.trigger = ?)"
    rows = log.connection.execute(sql + " ORDER BY d.decided_at, d.seq", (trigger,) if trigger else ()).fetchall()
    return [r["id"] for r in rows]


@pytest.mark.parametrize("page", [1, 2, 3, 500])
def test_pages_cover_every_decision_once_in_time_order(
    log: AuditLog, page: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any page size, with equal timestamps across page boundaries, yields each decision once, in order."""
    monkeypatch.setattr(queries, "PAGE", page)
    assert [r.id for r in iter_decisions(log)] == stored_order(log)
    low = DecisionFilter(since=START, trigger="low_confidence")
    assert [r.id for r in iter_decisions(log, low)] == stored_order(log, "low_confidence")
    assert all(r.triggers == ("low_confidence",) for r in iter_decisions(log, low))


def test_limit_returns_the_newest_oldest_first(log: AuditLog) -> None:
    """--limit N gives the N newest matches, still in time order, with their reasons attached."""
    newest = fetch_decisions(log, DecisionFilter(), limit=4)
    assert [r.id for r in newest] == stored_order(log)[-4:]
    assert all(r.reasons for r in newest)
    assert fetch_decisions(log, DecisionFilter(), limit=0) == []


@pytest.mark.parametrize("rare", [None, True, False])
def test_reason_filter_finds_the_same_decisions_whichever_way_and_on_old_rows(log: AuditLog, rare: bool | None) -> None:
    """``--reason`` gives exactly the decisions whose reasons carry the trigger, whether it reads the stored
    trigger list, the reasons (rare triggers) or, for rows recorded before the list existed, probes them."""
    log.connection.execute("UPDATE audit_decisions SET trigger_list = NULL WHERE seq % 3 = 0")  # older rows
    for trigger in ("low_confidence", "sentiment", "vip"):
        expected = stored_order(log, trigger)
        flt = DecisionFilter(since=START, trigger=trigger, rare_trigger=rare)
        assert [r.id for r in fetch_decisions(log, flt, limit=100)] == expected
        assert [r.id for r in fetch_decisions(log, flt, limit=2)] == expected[-2:]
        assert [r.id for r in iter_decisions(log, flt)] == expected


def test_trigger_list_matches_whole_trigger_names() -> None:
    """The stored list and its pattern match one trigger whole: ``_`` is literal, a prefix is no match."""
    stored = queries.trigger_list(["low_confidence", "vip", "vip"])
    assert stored == " low_confidence vip "
    assert queries.trigger_list([]) == " "
    assert queries.trigger_pattern("low_confidence") == "% low!_confidence %"

"""The review's numbers follow the documented definitions on small, explicit scenarios."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from audit.builders import conversation, decision

from connectors.audit import AuditLog, SQLiteAudit
from connectors.audit.queries import DecisionFilter, fetch_decisions
from connectors.report.data import build_review, percentile
from connectors.report.figures import headline
from connectors.report.period import Period
from connectors.report.weekly import review_from_store
from handoff_core import Action, TriggerName

START = datetime(2024, 6, 3, tzinfo=UTC)
WEEK = Period(START, START + timedelta(days=7))


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    audit = SQLiteAudit(tmp_path / "s.sqlite3")
    yield audit  # type: ignore[misc]
    audit.close()


@pytest.mark.parametrize("values", [[5.0], [1.0, 2.0], [3.0, 1.0, 2.0, 10.0], list(range(1, 38))])
def test_percentile_matches_inclusive_quantiles(values: list[float]) -> None:
    """Our p50/p90 equal the standard library's inclusive (linear) quantiles."""
    expected = statistics.quantiles(values, n=10, method="inclusive") if len(values) > 1 else [values[0]] * 9
    assert percentile(values, 0.9) == pytest.approx(expected[8])
    assert percentile(values, 0.5) == pytest.approx(statistics.median(values))
    assert percentile([], 0.5) is None


def test_rates_by_trigger_channel_and_day(log: AuditLog) -> None:
    """Handoff rate counts conversations; by channel it divides by that channel's conversations."""
    at = START + timedelta(hours=10)
    log.record_decision(decision(Action.HANDOFF, TriggerName.SENTIMENT), conversation("a"), at=at)
    log.record_decision(decision(Action.HANDOFF, TriggerName.VIP), conversation("b", channel="zendesk"), at=at)
    log.record_decision(decision(Action.CONTINUE, None), conversation("c", channel="zendesk"), at=at)
    log.record_decision(decision(Action.CONTINUE, None), conversation("d"), at=at + timedelta(days=1))
    log.record_decision(
        decision(Action.OFFER_HANDOFF, TriggerName.LOW_CONFIDENCE),
        conversation("d"),
        at=at + timedelta(days=1),
    )
    review = build_review(fetch_decisions(log, DecisionFilter()), WEEK)
    assert (review.conversations, review.decisions, review.handed_off, review.offered) == (4, 5, 2, 1)
    assert review.handoff_rate == pytest.approx(0.5)
    triggers = {r.key: r for r in review.by_trigger}
    assert triggers["sentiment"].rate == pytest.approx(0.25)
    assert triggers["low_confidence"].offered == 1
    channels = {r.key: r for r in review.by_channel}
    assert channels["zendesk"].rate == pytest.approx(0.5)
    assert channels["webchat"].conversations == 2
    assert [(d.day.day, d.conversations, d.handed_off) for d in review.daily[:2]] == [(3, 3, 2), (4, 1, 0)]
    assert len(review.daily) == 7


def test_quality_feedback_missed_and_claims(log: AuditLog) -> None:
    """Unnecessary share, missed handoffs and claim median/p90 come from the recorded events."""
    at = START + timedelta(hours=9)
    delays = [30, 90, 600, 1800]
    ids = []
    for i, delay in enumerate(delays):
        d = decision(Action.HANDOFF, TriggerName.SENTIMENT, alert=i < 2, angry=i == 0)
        ids.append(log.record_decision(d, conversation(f"h{i}"), at=at))
        log.record_event("claimed", decision_id=d.id, actor="a@x", at=at + timedelta(seconds=delay))
    log.record_decision(decision(Action.HANDOFF), conversation("unclaimed"), at=at)
    log.record_event("not_needed", decision_id=ids[0])
    log.record_event("handoff_wrong", decision_id=ids[0])
    log.record_event("handoff_wrong", decision_id=ids[1])
    log.record_decision(decision(Action.CONTINUE, None), conversation("late"), at=at)
    log.record_decision(decision(Action.HANDOFF), conversation("late"), at=at + timedelta(minutes=3))
    q = build_review(fetch_decisions(log), WEEK).quality
    assert (q.handoffs, q.not_needed, q.handoff_wrong, q.unnecessary, q.missed) == (6, 1, 2, 2, 1)
    assert q.unnecessary_share == pytest.approx(2 / 6)
    assert (q.claims.total, q.claims.claimed) == (6, 4)
    assert q.claims.median_seconds == pytest.approx(statistics.median(delays))
    assert q.claims.p90_seconds == pytest.approx(statistics.quantiles(delays, n=10, method="inclusive")[8])
    assert dict(q.claim_histogram) == {
        "≤ 1 min": 1,
        "1–5 min": 1,
        "5–15 min": 1,
        "15–60 min": 1,
        "1–4 h": 0,
        "> 4 h": 0,
    }
    alerts = {a.label: a.stats for a in q.alerts}
    assert (alerts["All Slack alerts"].total, alerts["Angry"].total, alerts["VIP"].total) == (2, 1, 0)
    assert alerts["All Slack alerts"].median_seconds == pytest.approx(60.0)


def test_already_handed_off_is_not_a_new_handoff(log: AuditLog) -> None:
    """A decision whose only reason is already_handed_off does not count as a handoff."""
    at = START + timedelta(hours=9)
    log.record_decision(decision(Action.HANDOFF, TriggerName.ALREADY_HANDED_OFF), conversation("x"), at=at)
    review = build_review(fetch_decisions(log), WEEK)
    assert (review.handed_off, review.quality.handoffs, review.by_trigger) == (0, 0, ())


def test_unanswered_questions_grouped_largest_first(log: AuditLog) -> None:
    """Low-confidence questions are grouped by similarity, the biggest group first, repeats counted once."""
    at = START + timedelta(hours=9)
    questions = [
        ("g1", "Can I pay with a gift card online?"),
        ("g2", "can i pay online using gift cards"),
        ("g3", "Do you accept gift cards for online payment?"),
        ("n1", "Do you ship to Norway?"),
        ("n2", "shipping to norway possible?"),
        ("o1", "What are your opening hours on Sunday?"),
    ]
    for conv_id, text in questions:
        log.record_decision(
            decision(Action.OFFER_HANDOFF, TriggerName.LOW_CONFIDENCE),
            conversation(conv_id, text=text),
            at=at,
        )
    log.record_decision(
        decision(Action.OFFER_HANDOFF, TriggerName.LOW_CONFIDENCE),
        conversation("g1", text=questions[0][1]),
        at=at,
    )
    log.record_decision(decision(Action.HANDOFF, TriggerName.SENTIMENT), conversation("s", text="useless bot"), at=at)
    review = build_review(fetch_decisions(log), WEEK)
    assert review.unanswered_total == 6
    assert [g.size for g in review.unanswered] == [3, 2, 1]
    assert "gift" in review.unanswered[0].label
    assert "norway" in review.unanswered[1].label
    assert all("useless" not in e for g in review.unanswered for e in g.examples)


def test_compare_previous_gives_deltas(log: AuditLog) -> None:
    """With a previous period, headline figures carry the difference and its direction."""
    log.record_decision(decision(Action.HANDOFF), conversation("p1"), at=START - timedelta(days=2))
    log.record_decision(decision(Action.CONTINUE, None), conversation("p2"), at=START - timedelta(days=2))
    for i in range(4):
        log.record_decision(decision(Action.CONTINUE, None), conversation(f"n{i}"), at=START + timedelta(days=1))
    review = review_from_store(log, WEEK, compare_previous=True)
    figures = {f.name: f for f in headline(review)}
    assert figures["Conversations"].delta == 2
    assert figures["Conversations"].delta_text == "▲ +2"
    assert figures["Handoff rate"].delta == pytest.approx(-0.5)
    assert figures["Handoff rate"].delta_text == "▼ -50.0 pp"


def test_simulated_only_on_request(log: AuditLog) -> None:
    """Simulated decisions are left out unless asked for."""
    at = START + timedelta(hours=1)
    log.record_decision(decision(Action.HANDOFF), conversation("s"), simulated=True, at=at)
    log.record_decision(decision(Action.CONTINUE, None), conversation("l"), at=at)
    assert review_from_store(log, WEEK).conversations == 1
    both = review_from_store(log, WEEK, include_simulated=True)
    assert (both.conversations, both.simulated_decisions, both.handed_off) == (2, 1, 1)

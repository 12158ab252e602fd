"""The weekly review of a realistic week (the core run on the example conversations) has the right figures.

Expected values are computed here from the plain record of what was generated (``week.Truth``), by the
definitions in the README (Measurement), never read back through the report code.
"""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from connectors.audit import SQLiteAudit
from connectors.cli import cli
from connectors.report.data import Review
from connectors.report.period import Period
from connectors.report.weekly import review_from_store
from handoff_core.redact import redact
from report.week import POLICY, Recorded, Truth, build_week

START = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
WEEK = Period(START, START + timedelta(days=7))
CHROMIUM = "/usr/bin/chromium"


@dataclass
class World:
    path: Path
    truth: Truth
    before: Truth
    review: Review


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    path = tmp_path_factory.mktemp("week") / "store.sqlite3"
    with SQLiteAudit(path) as log:
        before = build_week(log, START - timedelta(days=7), seed=3, prefix="prev-")
        truth = build_week(log, START, seed=7)
        review = review_from_store(log, WEEK, compare_previous=True)
    return World(path, truth, before, review)


def real_handoff(d: Recorded) -> bool:
    return d.action == "handoff" and set(d.triggers) != {"already_handed_off"}


def test_volume_and_rates(world: World) -> None:
    """Conversations, decisions, handoff and offer rates match the generated week."""
    decisions = world.truth.decisions
    conversations = {d.conversation_id for d in decisions}
    handed = {d.conversation_id for d in decisions if real_handoff(d)}
    offered = {d.conversation_id for d in decisions if d.action == "offer_handoff"}
    r = world.review
    assert (r.decisions, r.conversations) == (len(decisions), len(conversations))
    assert (r.handed_off, r.offered) == (len(handed), len(offered))
    assert r.handoff_rate == pytest.approx(len(handed) / len(conversations))
    assert 0 < r.handed_off < r.conversations


def test_rates_by_trigger_topic_and_channel(world: World) -> None:
    """Every trigger, topic and channel row counts the conversations it sent to a person."""
    decisions = world.truth.decisions
    total = len({d.conversation_id for d in decisions})
    expected_trigger: dict[str, set[str]] = {}
    expected_topic: dict[str, set[str]] = {}
    for d in filter(real_handoff, decisions):
        for t in d.triggers:
            if t != "already_handed_off":
                expected_trigger.setdefault(t, set()).add(d.conversation_id)
        for t in d.topics or ("(no topic)",):
            expected_topic.setdefault(t, set()).add(d.conversation_id)
    got = {row.key: row for row in world.review.by_trigger}
    assert {k: row.handed_off for k, row in got.items() if row.handed_off} == {
        k: len(v) for k, v in expected_trigger.items()
    }
    for key, ids in expected_trigger.items():
        assert got[key].rate == pytest.approx(len(ids) / total)
    topics = {row.key: row.handed_off for row in world.review.by_topic if row.handed_off}
    assert topics == {k: len(v) for k, v in expected_topic.items()}
    for row in world.review.by_channel:
        in_channel = {d.conversation_id for d in decisions if d.channel == row.key}
        handed = {d.conversation_id for d in decisions if d.channel == row.key and real_handoff(d)}
        assert (row.conversations, row.handed_off) == (len(in_channel), len(handed))
    assert {row.key for row in world.review.by_channel} == {d.channel for d in decisions}


def test_day_by_day(world: World) -> None:
    """Each UTC day shows its own conversations and handoffs."""
    assert len(world.review.daily) == 7
    for row in world.review.daily:
        todays = [d for d in world.truth.decisions if d.at.date() == row.day]
        assert row.decisions == len(todays)
        assert row.conversations == len({d.conversation_id for d in todays})
        assert row.handed_off == len({d.conversation_id for d in todays if real_handoff(d)})


def test_handoff_quality(world: World) -> None:
    """Unnecessary share, missed handoffs and time to claim (median, p90) match the generated feedback."""
    truth, q = world.truth, world.review.quality
    handoffs = [d for d in truth.decisions if real_handoff(d)]
    unnecessary = truth.not_needed | truth.handoff_wrong
    by_conversation: dict[str, list[Recorded]] = {}
    for d in truth.decisions:
        by_conversation.setdefault(d.conversation_id, []).append(d)
    missed = sum(
        1
        for seq in by_conversation.values()
        for before, after in itertools.pairwise(seq)
        if before.action == "continue" and real_handoff(after)
    )
    delays = list(truth.claim_delays.values())
    assert q.handoffs == len(handoffs)
    assert (q.not_needed, q.handoff_wrong, q.unnecessary) == (
        len(truth.not_needed),
        len(truth.handoff_wrong),
        len(unnecessary),
    )
    assert q.unnecessary_share == pytest.approx(len(unnecessary) / len(handoffs))
    assert q.missed == missed
    assert missed > 0, "the replayed week should contain conversations that were handed off late"
    assert q.claims.claimed == len(delays)
    assert q.claims.median_seconds == pytest.approx(statistics.median(delays))
    assert q.claims.p90_seconds == pytest.approx(statistics.quantiles(delays, n=10, method="inclusive")[8])
    assert sum(n for _, n in q.claim_histogram) == len(delays)


def test_vip_and_angry_alerts(world: World) -> None:
    """Alert counts and their claim times split into VIP and angry as generated."""
    alerts = [d for d in world.truth.decisions if d.alert]
    rows = {a.label: a.stats for a in world.review.quality.alerts}
    for label, subset in (
        ("All Slack alerts", alerts),
        ("VIP", [d for d in alerts if "vip" in d.triggers]),
        ("Angry", [d for d in alerts if d.angry]),
    ):
        delays = [world.truth.claim_delays[d.decision_id] for d in subset if d.decision_id in world.truth.claim_delays]
        assert (rows[label].total, rows[label].claimed) == (len(subset), len(delays))
        assert rows[label].median_seconds == (pytest.approx(statistics.median(delays)) if delays else None)
    assert rows["All Slack alerts"].total > 0


def test_unanswered_questions(world: World) -> None:
    """Low-confidence questions are all grouped (largest group first), redacted, repeats counted once."""
    keys = {
        (d.conversation_id, redact(d.question).strip().lower())
        for d in world.truth.decisions
        if "low_confidence" in d.triggers or d.knowledge_status == "no_source"
    }
    groups = world.review.unanswered
    assert world.review.unanswered_total == len(keys)
    assert sum(g.size for g in groups) == len(keys)
    assert [g.size for g in groups] == sorted((g.size for g in groups), reverse=True)
    assert all(g.examples and g.label for g in groups)
    assert not any("@" in e for g in groups for e in g.examples)


def test_comparison_with_previous_week(world: World) -> None:
    """The previous week is reviewed too, so deltas can be shown."""
    previous = world.review.previous
    assert previous is not None
    assert previous.conversations == len({d.conversation_id for d in world.before.decisions})
    assert previous.period == WEEK.previous()


def test_report_command_writes_markdown(world: World, tmp_path: Path) -> None:
    """`handoff report --from --to --format md` writes the figures of the week with deltas."""
    out = tmp_path / "review.md"
    result = CliRunner().invoke(
        cli,
        [
            "report",
            "--database",
            str(world.path),
            "--policy",
            str(POLICY),
            "--from",
            "2026-11-02",
            "--to",
            "2026-11-08",
            "--compare-previous",
            "--output",
            str(out),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    md = out.read_text(encoding="utf-8")
    rate = world.review.handed_off / world.review.conversations
    assert f"| Handoff rate | {rate * 100:.1f}% |" in md
    assert f"| Conversations | {world.review.conversations} |" in md
    assert "## Launch checklist" in md


@pytest.mark.browser
def test_report_page_renders_in_chromium(world: World, tmp_path: Path) -> None:
    """The HTML review of the week opens offline in headless Chromium: charts drawn, no console errors."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    out = tmp_path / "review.html"
    result = CliRunner().invoke(
        cli,
        [
            "report",
            "--database",
            str(world.path),
            "--policy",
            str(POLICY),
            "--from",
            "2026-11-02",
            "--to",
            "2026-11-08",
            "--compare-previous",
            "--output",
            str(out),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url) if not r.url.startswith("file:") else None)
            page.goto(out.as_uri())
            assert page.locator("svg.chart").count() == 5
            assert page.locator("svg.chart rect.bar").count() > 20
            assert page.locator("svg.chart polyline.rate").count() == 1
            text = page.locator("body").inner_text()
            assert "Unanswered questions" in text
            assert "Launch checklist" in text
        finally:
            browser.close()
    assert errors == []
    assert requests == []

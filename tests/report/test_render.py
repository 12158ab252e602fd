"""The review renders to self-contained HTML (checked in headless Chromium) and to Markdown."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from audit.builders import conversation, decision

from connectors.audit import SQLiteAudit
from connectors.report.data import Checklist, ChecklistEntry
from connectors.report.html import render_html
from connectors.report.markdown import render_markdown
from connectors.report.period import Period
from connectors.report.weekly import review_from_store
from handoff_core import Action, TriggerName

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START = datetime(2024, 6, 3, tzinfo=UTC)
WEEK = Period(START, START + timedelta(days=7))
HOSTILE = "<script>alert(1)</script> | pipe & more"


@pytest.fixture
def review(tmp_path: Path):  # type: ignore[no-untyped-def]
    with SQLiteAudit(tmp_path / "s.sqlite3") as log:
        for day in range(7):
            at = START + timedelta(days=day, hours=10)
            h = decision(Action.HANDOFF, TriggerName.SENTIMENT, alert=day % 2 == 0, angry=True, topic="refund")
            log.record_decision(h, conversation(f"h{day}", channel="zendesk"), at=at)
            log.record_event("claimed", decision_id=h.id, actor="a@x", at=at + timedelta(minutes=day + 1))
            log.record_decision(decision(Action.CONTINUE, None), conversation(f"c{day}"), at=at)
            log.record_decision(
                decision(Action.OFFER_HANDOFF, TriggerName.LOW_CONFIDENCE),
                conversation(f"q{day}", text=HOSTILE if day == 0 else f"Do you deliver to island {day}?"),
                at=at,
            )
        log.record_decision(decision(Action.HANDOFF), conversation("prev"), at=START - timedelta(days=1))
        checklist = Checklist(
            entries=(
                ChecklistEntry("Policy loads", True, ""),
                ChecklistEntry("Slack channel set", False, "set X"),
            )
        )
        return review_from_store(log, WEEK, compare_previous=True, checklist=checklist)


def test_html_is_self_contained_and_escaped(review) -> None:  # type: ignore[no-untyped-def]
    """No scripts, no external resources, five inline charts, and customer text escaped."""
    page = render_html(review)
    assert "<script" not in page.replace("&lt;script", "")
    assert not re.search(r"(src|href)\s*=\s*['\"]?https?:", page)
    assert "@import" not in page
    assert page.count("<svg") == 5
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Slack channel set" in page
    assert "1 of 2 checks pass" in page


def test_html_shows_the_figures(review) -> None:  # type: ignore[no-untyped-def]
    """Headline numbers and the comparison arrows appear on the page."""
    page = render_html(review)
    assert ">21<" in page  # conversations
    assert "33.3%" in page  # handoff rate: 7 of 21
    assert "▲ +20" in page  # conversations vs the 1 of the week before
    assert "4.0 min" in page  # median claim (1..7 minutes)


def test_markdown_has_the_sections_and_escapes_pipes(review) -> None:  # type: ignore[no-untyped-def]
    """Markdown carries every section; a pipe in customer text does not break the table."""
    md = render_markdown(review)
    for heading in (
        "## Headline",
        "## Volume and handoff rate, day by day",
        "### By trigger",
        "### By topic",
        "### By channel",
        "## Handoff quality",
        "### VIP and angry-customer alerts",
        "## Unanswered questions",
        "## Launch checklist",
    ):
        assert heading in md
    assert "\\| pipe" in md
    assert "| Handoff rate | 33.3% |" in md
    assert "- [ ] Slack channel set — set X" in md


@pytest.mark.browser
def test_html_renders_in_chromium_without_errors(review, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Headless Chromium opens the page offline: charts are drawn, no console errors, no network requests."""
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "review.html"
    page_file.write_text(render_html(review), encoding="utf-8")
    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url) if not r.url.startswith("file:") else None)
            page.goto(page_file.as_uri())
            charts = page.locator("svg.chart")
            assert charts.count() == 5
            for i in range(charts.count()):
                box = charts.nth(i).bounding_box()
                assert box is not None
                assert box["width"] > 100
                assert box["height"] > 20
            assert page.locator("svg.chart rect.bar").count() > 20
            assert page.locator("h1").inner_text() == "Handoff-quality review"
        finally:
            browser.close()
    assert errors == []
    assert requests == []

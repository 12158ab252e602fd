"""The weekly review as one self-contained HTML page (inline CSS and SVG, no scripts, no external URLs).

Why no template engine: the page is a handful of sections rendered from one :class:`Review`; small
functions with ``html.escape`` on every value keep it dependency-free and easy to test. Customer text
(the unanswered questions) is escaped like everything else, and was redacted when it was recorded.

Errors: none.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Literal

from connectors.report import charts
from connectors.report.data import RateRow, Review
from connectors.report.figures import Figure, fmt_rate, fmt_seconds, headline, sales_hours_rows, trigger_delta

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#1f2937;max-width:960px;margin:2rem auto;
padding:0 1rem;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}
h2{margin-top:2.2rem;border-bottom:1px solid #e5e7eb;padding-bottom:.3rem}
.muted{color:#6b7280}.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:.8rem}
.card{border:1px solid #e5e7eb;border-radius:8px;padding:.7rem .9rem}
.card .v{font-size:1.5rem;font-weight:600}
.better{color:#15803d}.worse{color:#b91c1c}.same{color:#6b7280}
table{border-collapse:collapse;width:100%;margin:.6rem 0}th,td{text-align:left;padding:.3rem .5rem;
border-bottom:1px solid #f1f5f9}th{background:#f8fafc}td.n{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#15803d}.fail{color:#b91c1c}li.example{color:#374151}svg.chart{width:100%;max-width:960px;height:auto}
"""


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric_from: int = 1) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=n' if i >= numeric_from else ''}>{escape(c)}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _card(figure: Figure) -> str:
    delta = ""
    if figure.compared:
        delta = f"<div class='delta {figure.judgement}'>{escape(figure.delta_text)} vs previous</div>"
    return (
        f"<div class='card'><div class='muted'>{escape(figure.name)}</div>"
        f"<div class='v'>{escape(figure.text)}</div>{delta}</div>"
    )


def _rate_section(
    review: Review,
    title: str,
    rows: Sequence[RateRow],
    kind: Literal["trigger", "topic", "channel"],
    denominator: str,
) -> str:
    chart = charts.bar_chart(f"Handoff rate by {kind}", [(r.key, r.rate or 0.0) for r in rows])
    headers = [kind.capitalize(), "Handed off", "Offered", f"Handoff rate ({denominator})"]
    if review.previous is not None:
        headers.append("Change")
    table_rows = []
    for r in rows:
        cells = [r.key, str(r.handed_off), str(r.offered), fmt_rate(r.rate)]
        if review.previous is not None:
            cells.append(trigger_delta(review, r.key, kind).delta_text)
        table_rows.append(cells)
    return f"<h3>{escape(title)}</h3>{chart}{_table(headers, table_rows)}"


def _daily(review: Review) -> str:
    chart = charts.daily_chart("Conversations and handoffs per day", review.daily)
    rows = [
        [
            d.day.isoformat(),
            str(d.decisions),
            str(d.conversations),
            str(d.handed_off),
            str(d.offered),
            fmt_rate(d.rate),
        ]
        for d in review.daily
        if d.decisions
    ]
    quiet = sum(1 for d in review.daily if not d.decisions)
    note = f"<p class='note'>{quiet} day(s) without decisions are not listed.</p>" if quiet else ""
    headers = ["Day (UTC)", "Decisions", "Conversations", "Handed off", "Offered", "Handoff rate"]
    return f"<h2>Volume and handoff rate, day by day</h2>{chart}{_table(headers, rows)}{note}"


def _quality(review: Review) -> str:
    q = review.quality
    summary = _table(
        ["Measure", "Value"],
        [
            ["Handoffs (decisions)", str(q.handoffs)],
            ["Marked “Not needed” in Slack", str(q.not_needed)],
            ["Tagged handoff_wrong in Zendesk", str(q.handoff_wrong)],
            ["Unnecessary handoffs (either)", f"{q.unnecessary} ({fmt_rate(q.unnecessary_share)})"],
            [
                "Missed handoffs (handoff after the assistant carried on)",
                f"{q.missed} ({fmt_rate(q.missed_share)})",
            ],
            [
                "Claimed in Slack",
                f"{q.claims.claimed} of {q.claims.total} ({fmt_rate(q.claims.claimed_share)})",
            ],
            ["Time to claim, median", fmt_seconds(q.claims.median_seconds)],
            ["Time to claim, p90", fmt_seconds(q.claims.p90_seconds)],
            ["Handoffs that did not reach Zendesk", str(q.zendesk_failed)],
            ["Alerts that did not reach Slack", str(q.slack_failed)],
        ],
    )
    histogram = charts.bar_chart(
        "Time from handoff to claim",
        list(q.claim_histogram),
        value_text=lambda v: f"{v:.0f}",
        colour=charts.HANDOFF_COLOUR,
    )
    alerts = _table(
        ["Alerts", "Raised", "Claimed", "Median to claim", "p90 to claim"],
        [
            [
                a.label,
                str(a.stats.total),
                str(a.stats.claimed),
                fmt_seconds(a.stats.median_seconds),
                fmt_seconds(a.stats.p90_seconds),
            ]
            for a in q.alerts
        ],
    )
    return (
        f"<h2>Handoff quality</h2>{summary}<h3>Time from handoff to claim</h3>{histogram}"
        f"<h3>VIP and angry-customer alerts</h3>{alerts}"
    )


def _unanswered(review: Review) -> str:
    if not review.unanswered:
        return "<h2>Unanswered questions</h2><p>No low-confidence questions in this period.</p>"
    items = []
    for group in review.unanswered:
        examples = "".join(f"<li class='example'>{escape(e)}</li>" for e in group.examples)
        topics = f" <span class='muted'>topics: {escape(', '.join(group.topics))}</span>" if group.topics else ""
        items.append(
            f"<li><strong>{escape(group.label)}</strong> — {group.size} question(s){topics}<ul>{examples}</ul></li>"
        )
    return (
        f"<h2>Unanswered questions</h2><p>{review.unanswered_total} question(s) the assistant had"
        " no confident, approved answer for, grouped by similarity, largest group first:"
        " the FAQ entries, policy notes"
        f" or page sections to write next.</p><ol class='questions'>{''.join(items)}</ol>"
    )


def _checklist(review: Review) -> str:
    checklist = review.checklist
    if checklist is None:
        return ""
    if checklist.error is not None:
        reason = escape(checklist.error)
        return f"<h2>Launch checklist</h2><p class='fail'>Could not run the checklist: {reason}</p>"
    rows = "".join(
        f"<li class='{'pass' if e.passed else 'fail'}'>{'✔' if e.passed else '✘'} {escape(e.name)}"
        + ("" if e.passed else f" — <span class='muted'>{escape(e.fix)}</span>")
        + "</li>"
        for e in checklist.entries
    )
    return (
        f"<h2>Launch checklist</h2><p>{checklist.passed} of {len(checklist.entries)} checks pass.</p>"
        f"<ul class='checklist'>{rows}</ul>"
    )


def render_html(review: Review) -> str:
    """The whole page as a string."""
    scope = "live and simulated decisions" if review.include_simulated else "live decisions only"
    policies = ", ".join(f"{v} ({h[:12]}): {n}" for v, h, n in review.policies) or "none"
    compare = ""
    if review.previous is not None:
        compare = f"<p class='muted'>Compared with {escape(review.previous.period.label())}.</p>"
    cards = "".join(_card(f) for f in headline(review))
    sections = [
        _daily(review),
        "<h2>Handoff rate by trigger, topic and channel</h2>",
        _rate_section(review, "By trigger", review.by_trigger, "trigger", "of all conversations"),
        _rate_section(review, "By topic", review.by_topic, "topic", "of all conversations"),
        _rate_section(review, "By channel", review.by_channel, "channel", "of the channel's conversations"),
        _quality(review),
        "<h2>Sales leads and business hours</h2>" + _table(["Measure", "Value"], sales_hours_rows(review)),
        _unanswered(review),
        _checklist(review),
    ]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>Handoff review {escape(review.period.label())}</title><style>{CSS}</style></head><body>"
        f"<h1>Handoff-quality review</h1><p class='muted'>{escape(review.period.label())} · {scope} ·"
        f" {review.decisions} decisions ({review.simulated_decisions} simulated) · policy versions: "
        f"{escape(policies)}</p>{compare}<div class='cards'>{cards}</div>{''.join(sections)}"
        "</body></html>\n"
    )

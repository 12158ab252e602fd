"""The weekly review as Markdown, for wikis, pull requests and chat tools that render it.

Why a second rendering: support leads paste the review into Confluence, Notion or a GitHub issue; those
do not take an HTML page with SVG, but they all take Markdown tables. The figures are the same
:class:`Review` as the HTML page; charts become small text bars.

Errors: none.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from connectors.report.data import RateRow, Review
from connectors.report.figures import fmt_rate, fmt_seconds, headline, sales_hours_rows, trigger_delta

BAR_WIDTH = 20


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(_cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def _bar(value: float | None, top: float) -> str:
    if value is None or top <= 0:
        return ""
    filled = round(value / top * BAR_WIDTH)
    return "█" * filled + "·" * (BAR_WIDTH - filled)


def _rates(
    review: Review, title: str, rows: Sequence[RateRow], kind: Literal["trigger", "topic", "channel"]
) -> list[str]:
    headers = [kind.capitalize(), "Handed off", "Offered", "Handoff rate", ""]
    if review.previous is not None:
        headers.append("Change")
    top = max((r.rate or 0.0 for r in rows), default=0.0)
    out = []
    for r in rows:
        cells = [r.key, str(r.handed_off), str(r.offered), fmt_rate(r.rate), _bar(r.rate, top)]
        if review.previous is not None:
            cells.append(trigger_delta(review, r.key, kind).delta_text)
        out.append(cells)
    return [f"### {title}", "", *_table(headers, out)]


def render_markdown(review: Review) -> str:
    """The whole review as a Markdown document."""
    scope = "live and simulated decisions" if review.include_simulated else "live decisions only"
    lines = [
        "# Handoff-quality review",
        "",
        f"{review.period.label()} · {scope} · {review.decisions} decisions ({review.simulated_decisions} simulated)",
        "",
    ]
    if review.policies:
        lines += [
            "Policy versions: " + ", ".join(f"`{v}` ({h[:12]}): {n}" for v, h, n in review.policies),
            "",
        ]
    if review.previous is not None:
        lines += [f"Compared with {review.previous.period.label()}.", ""]
    figures = headline(review)
    headers = ["Measure", "Value"] + (["Change"] if review.previous is not None else [])
    rows = [
        [f.name, f.text] + ([f.delta_text + (f" ({f.judgement})" if f.judgement else "")] if f.compared else [])
        for f in figures
    ]
    lines += ["## Headline", "", *_table(headers, rows)]

    top = max((d.conversations for d in review.daily), default=0)
    lines += ["## Volume and handoff rate, day by day", ""]
    lines += _table(
        ["Day (UTC)", "Decisions", "Conversations", "Handed off", "Offered", "Handoff rate", ""],
        [
            [
                d.day.isoformat(),
                str(d.decisions),
                str(d.conversations),
                str(d.handed_off),
                str(d.offered),
                fmt_rate(d.rate),
                _bar(d.conversations, top),
            ]
            for d in review.daily
        ],
    )
    lines += ["## Handoff rate by trigger, topic and channel", ""]
    lines += _rates(review, "By trigger (share of all conversations)", review.by_trigger, "trigger")
    lines += _rates(review, "By topic (share of all conversations)", review.by_topic, "topic")
    lines += _rates(review, "By channel (share of the channel's conversations)", review.by_channel, "channel")

    q = review.quality
    lines += ["## Handoff quality", ""]
    lines += _table(
        ["Measure", "Value"],
        [
            ["Handoffs (decisions)", str(q.handoffs)],
            ["Marked “Not needed” in Slack", str(q.not_needed)],
            ["Tagged handoff_wrong in Zendesk", str(q.handoff_wrong)],
            ["Unnecessary handoffs (either)", f"{q.unnecessary} ({fmt_rate(q.unnecessary_share)})"],
            ["Missed handoffs", f"{q.missed} ({fmt_rate(q.missed_share)})"],
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
    peak = max((n for _, n in q.claim_histogram), default=0)
    lines += ["### Time from handoff to claim", ""]
    lines += _table(["Claimed after", "Handoffs", ""], [[b, str(n), _bar(n, peak)] for b, n in q.claim_histogram])
    lines += ["### VIP and angry-customer alerts", ""]
    lines += _table(
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

    lines += ["## Sales leads and business hours", ""]
    lines += _table(["Measure", "Value"], [list(row) for row in sales_hours_rows(review)])

    lines += ["## Unanswered questions", ""]
    if not review.unanswered:
        lines += ["No low-confidence questions in this period.", ""]
    else:
        lines += [
            f"{review.unanswered_total} question(s) without a confident, approved answer, grouped by"
            " similarity, largest group first: the FAQ entries, policy notes or page sections to write next.",
            "",
        ]
        for i, group in enumerate(review.unanswered, start=1):
            topics = f" (topics: {', '.join(group.topics)})" if group.topics else ""
            lines.append(f"{i}. **{_cell(group.label)}** — {group.size} question(s){topics}")
            lines += [f"    - {_cell(e)}" for e in group.examples]
        lines.append("")

    checklist = review.checklist
    if checklist is not None:
        lines += ["## Launch checklist", ""]
        if checklist.error is not None:
            lines += [f"Could not run the checklist: {checklist.error}", ""]
        else:
            lines += [f"{checklist.passed} of {len(checklist.entries)} checks pass.", ""]
            lines += [
                f"- [{'x' if e.passed else ' '}] {_cell(e.name)}" + ("" if e.passed else f" — {_cell(e.fix)}")
                for e in checklist.entries
            ]
            lines.append("")
    return "\n".join(lines)

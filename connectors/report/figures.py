"""Headline figures of a review, their formatting, and the change against the previous period.

Why one module: the HTML page, the Markdown file and the Slack post show the same headline numbers
with the same units and arrows; formatting them in three places would let them drift apart.

An arrow shows the direction of change (▲ up, ▼ down, ▶ no change); whether that is good is a separate
judgement (``better``), because a falling handoff rate is good only if unnecessary handoffs fall too
and missed handoffs do not rise. Rates change in percentage points, durations in seconds.

Errors: none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from connectors.report.data import Review

Kind = Literal["count", "rate", "seconds"]
Better = Literal["up", "down", "neither"]


def fmt_rate(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def fmt_seconds(value: float | None) -> str:
    """A duration for people: ``45 s``, ``12.5 min``, ``3.2 h``."""
    if value is None:
        return "–"
    if value < 90:
        return f"{value:.0f} s"
    if value < 5400:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.1f} h"


def fmt_value(value: float | None, kind: Kind) -> str:
    if kind == "rate":
        return fmt_rate(value)
    if kind == "seconds":
        return fmt_seconds(value)
    return "–" if value is None else f"{value:.0f}"


@dataclass(frozen=True)
class Figure:
    name: str
    value: float | None
    kind: Kind
    better: Better
    previous: float | None = None
    compared: bool = False

    @property
    def text(self) -> str:
        return fmt_value(self.value, self.kind)

    @property
    def delta(self) -> float | None:
        if not self.compared or self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def arrow(self) -> str:
        delta = self.delta
        if delta is None:
            return ""
        if abs(delta) < 1e-9:
            return "▶"
        return "▲" if delta > 0 else "▼"

    @property
    def delta_text(self) -> str:
        """``▲ +2.5 pp``, ``▼ -30 s``, ``▶ 0``; ``n/a`` when there is nothing to compare."""
        delta = self.delta
        if delta is None:
            return "n/a" if self.compared else ""
        if self.kind == "rate":
            amount = f"{delta * 100:+.1f} pp"
        elif self.kind == "seconds":
            amount = ("+" if delta >= 0 else "-") + fmt_seconds(abs(delta))
        else:
            amount = f"{delta:+.0f}"
        return f"{self.arrow} {amount}"

    @property
    def judgement(self) -> Literal["better", "worse", "same", ""]:
        delta = self.delta
        if delta is None or self.better == "neither":
            return ""
        if abs(delta) < 1e-9:
            return "same"
        return "better" if (delta > 0) == (self.better == "up") else "worse"


def headline(review: Review) -> list[Figure]:
    """The figures at the top of every rendering, with deltas when a previous period is attached."""
    prev = review.previous
    q, pq = review.quality, prev.quality if prev else None

    def fig(name: str, value: float | None, old: float | None, kind: Kind, better: Better) -> Figure:
        return Figure(name, value, kind, better, old, prev is not None)

    return [
        fig("Conversations", review.conversations, prev.conversations if prev else None, "count", "neither"),
        fig("Decisions", review.decisions, prev.decisions if prev else None, "count", "neither"),
        fig("Handoff rate", review.handoff_rate, prev.handoff_rate if prev else None, "rate", "neither"),
        fig("Offer rate", review.offer_rate, prev.offer_rate if prev else None, "rate", "neither"),
        fig(
            "Unnecessary handoffs",
            q.unnecessary_share,
            pq.unnecessary_share if pq else None,
            "rate",
            "down",
        ),
        fig("Missed handoffs", q.missed, pq.missed if pq else None, "count", "down"),
        fig(
            "Time to claim (median)",
            q.claims.median_seconds,
            pq.claims.median_seconds if pq else None,
            "seconds",
            "down",
        ),
        fig(
            "Time to claim (p90)",
            q.claims.p90_seconds,
            pq.claims.p90_seconds if pq else None,
            "seconds",
            "down",
        ),
        fig(
            "Unanswered questions",
            review.unanswered_total,
            prev.unanswered_total if prev else None,
            "count",
            "down",
        ),
    ]


def trigger_delta(review: Review, key: str, kind: Literal["trigger", "topic", "channel"]) -> Figure:
    """The handoff rate of one trigger/topic/channel with its change against the previous period."""

    def rate(r: Review | None) -> float | None:
        if r is None:
            return None
        rows = {"trigger": r.by_trigger, "topic": r.by_topic, "channel": r.by_channel}[kind]
        for row in rows:
            if row.key == key:
                return row.rate
        return 0.0 if r.conversations else None

    return Figure(key, rate(review), "rate", "neither", rate(review.previous), review.previous is not None)


def sales_hours_rows(review: Review) -> list[tuple[str, str]]:
    """The "Sales leads and business hours" table, shared by the Markdown and HTML reviews."""
    s = review.sales_hours
    median = "–" if s.lead_value_median is None else f"{s.lead_value_median:,.0f}"
    claims = s.out_of_hours_claims
    if s.with_schedule:
        hours = [
            ("Handoffs out of hours", f"{s.out_of_hours} of {s.with_schedule} with a schedule"),
            (
                "Out-of-hours handoffs claimed in Slack",
                f"{claims.claimed} of {claims.total} ({fmt_rate(claims.claimed_share)})",
            ),
            ("Out of hours: time to claim, median", fmt_seconds(claims.median_seconds)),
            ("Out of hours: time to claim, p90", fmt_seconds(claims.p90_seconds)),
        ]
    else:
        hours = [("Handoffs out of hours", "– (no business hours in the policy)")]
    return [
        ("Leads handed to sales (conversations)", str(s.leads_to_sales)),
        ("Lead value handed to sales, total", f"{s.lead_value_total:,.0f}"),
        ("Lead value handed to sales, median", median),
        ("Smaller leads kept by the assistant", str(s.smaller_leads)),
        *hours,
    ]

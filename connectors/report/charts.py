"""Charts as inline SVG strings, so the review is one self-contained file that opens offline.

Why hand-written SVG and not a plotting library: the charts are simple (horizontal bars, daily bars
with a rate line), inline SVG needs no image encoding or JavaScript, scales on any screen, and its text
can be read by screen readers and searched in the page. Every chart has a ``<title>`` and ``role="img"``.
All text is escaped: trigger, topic and channel names come from configuration and stores.

Errors: none; empty data renders a chart that says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from connectors.report.data import DayRow
from connectors.report.figures import fmt_rate

HANDOFF_COLOUR = "#c2410c"
OFFER_COLOUR = "#f59e0b"
VOLUME_COLOUR = "#94a3b8"
BAR_COLOUR = "#2563eb"
TEXT_COLOUR = "#1f2937"
GRID_COLOUR = "#e5e7eb"
FONT = "font-family='system-ui, sans-serif' font-size='12'"


def _svg(width: int, height: int, title: str, body: str) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' class='chart' role='img' width='{width}' height='{height}'"
        f" viewBox='0 0 {width} {height}'><title>{escape(title)}</title>{body}</svg>"
    )


def _empty(title: str, width: int = 640) -> str:
    text = f"<text x='{width // 2}' y='30' text-anchor='middle' {FONT} fill='{TEXT_COLOUR}'>No data</text>"
    return _svg(width, 50, title, text)


def bar_chart(
    title: str,
    items: Sequence[tuple[str, float]],
    *,
    value_text: Callable[[float], str] = fmt_rate,
    maximum: float | None = None,
    colour: str = BAR_COLOUR,
    width: int = 640,
) -> str:
    """Horizontal bars, one per (label, value), labels on the left and values on the right."""
    if not items:
        return _empty(title, width)
    row, label_w, value_w = 24, 180, 80
    top = max(maximum or 0.0, *(v for _, v in items)) or 1.0
    plot = width - label_w - value_w
    parts = []
    for i, (label, value) in enumerate(items):
        y = i * row + 4
        bar = max(0.0, value) / top * plot
        parts.append(
            f"<text x='{label_w - 8}' y='{y + 14}' text-anchor='end' {FONT} fill='{TEXT_COLOUR}'>"
            f"{escape(label[:28])}</text>"
            f"<rect class='bar' x='{label_w}' y='{y}' width='{bar:.1f}' height='{row - 8}' fill='{colour}'>"
            f"<title>{escape(label)}: {escape(value_text(value))}</title></rect>"
            f"<text x='{label_w + bar + 6:.1f}' y='{y + 14}' {FONT} fill='{TEXT_COLOUR}'>"
            f"{escape(value_text(value))}</text>"
        )
    return _svg(width, len(items) * row + 8, title, "".join(parts))


def daily_chart(title: str, days: Sequence[DayRow], *, width: int = 640, height: int = 220) -> str:
    """Per UTC day: conversations (grey), handed off (dark) and offered (amber) bars, plus the handoff
    rate as a line on its own 0-100 % scale (right axis)."""
    if not days or not any(d.conversations for d in days):
        return _empty(title, width)
    left, right, top, bottom = 40, 48, 16, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(d.conversations for d in days) or 1
    slot = plot_w / len(days)
    bar_w = max(2.0, slot * 0.7)
    parts = [
        f"<line x1='{left}' y1='{top + plot_h}' x2='{left + plot_w}' y2='{top + plot_h}' stroke='{GRID_COLOUR}'/>",
        f"<text x='{left - 6}' y='{top + 10}' text-anchor='end' {FONT} fill='{TEXT_COLOUR}'>{peak}</text>",
        f"<text x='{left - 6}' y='{top + plot_h}' text-anchor='end' {FONT} fill='{TEXT_COLOUR}'>0</text>",
        f"<text x='{left + plot_w + 6}' y='{top + 10}' {FONT} fill='{HANDOFF_COLOUR}'>100%</text>",
        f"<text x='{left + plot_w + 6}' y='{top + plot_h}' {FONT} fill='{HANDOFF_COLOUR}'>0%</text>",
    ]
    points: list[str] = []
    segments: list[list[str]] = []
    label_every = max(1, len(days) // 10)
    for i, day in enumerate(days):
        x = left + i * slot + (slot - bar_w) / 2
        for value, colour, offset in (
            (day.conversations, VOLUME_COLOUR, 0.0),
            (day.handed_off, HANDOFF_COLOUR, 0.0),
            (day.offered, OFFER_COLOUR, day.handed_off),
        ):
            h = value / peak * plot_h
            base = top + plot_h - offset / peak * plot_h
            parts.append(
                f"<rect class='bar' x='{x:.1f}' y='{base - h:.1f}' width='{bar_w:.1f}' height='{h:.1f}'"
                f" fill='{colour}'/>"
            )
        parts.append(
            f"<title>{day.day.isoformat()}: {day.conversations} conversations, {day.handed_off} handed off,"
            f" {day.offered} offered</title>"
        )
        if i % label_every == 0:
            parts.append(
                f"<text x='{x + bar_w / 2:.1f}' y='{top + plot_h + 16}' text-anchor='middle' {FONT}"
                f" fill='{TEXT_COLOUR}'>{day.day:%m-%d}</text>"
            )
        if day.rate is not None:
            points.append(f"{x + bar_w / 2:.1f},{top + plot_h - day.rate * plot_h:.1f}")
        else:
            segments.append(points)
            points = []
    # A day without conversations has no rate: the line breaks there instead of bridging the gap.
    for segment in [*segments, points]:
        if segment:
            parts.append(
                f"<polyline class='rate' points='{' '.join(segment)}' fill='none' stroke='{HANDOFF_COLOUR}'"
                " stroke-width='2' stroke-dasharray='4 3'/>"
            )
    legend_y = height - 8
    for j, (name, colour) in enumerate(
        (("conversations", VOLUME_COLOUR), ("handed off", HANDOFF_COLOUR), ("offered", OFFER_COLOUR))
    ):
        x = left + j * 130
        parts.append(
            f"<rect x='{x}' y='{legend_y - 9}' width='10' height='10' fill='{colour}'/>"
            f"<text x='{x + 14}' y='{legend_y}' {FONT} fill='{TEXT_COLOUR}'>{name}</text>"
        )
    parts.append(f"<text x='{left + 3 * 130}' y='{legend_y}' {FONT} fill='{HANDOFF_COLOUR}'>- - handoff rate</text>")
    return _svg(width, height, title, "".join(parts))

"""What the weekly review posted to Slack says, and when it is due (the policy's ``review.weekly``).

Why here and not in the worker: what the summary says is the review's business and must match
``handoff report`` (the same :func:`~connectors.report.weekly.review_from_store`, last 7 days against
the 7 before). *Posting* is not: the worker enqueues a ``slack.review`` outbox action when
:func:`next_run` comes, keyed by the run time, so N replicas post it once, and the Slack lane sends it
through the one Slack gateway (same error mapping, retries, back-off and crash dedupe as alerts).
The schedule has one home, ``review.weekly`` in the policy; cron expressions are read in UTC.

The post is Block Kit: headline figures with arrows, the triggers that hand off most, the largest
groups of unanswered questions (examples redacted again, whatever the store holds) and the launch
checklist status of the running policy. The full page is ``handoff report``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from connectors.audit.port import AuditReader
from connectors.report.cron import next_run
from connectors.report.data import Checklist, ChecklistEntry, Review
from connectors.report.figures import fmt_rate, headline
from connectors.report.period import Period
from connectors.report.weekly import review_from_store
from handoff_core.checklist import run_checklist
from handoff_core.policy import Policy
from handoff_core.redact import redact as redact_text

__all__ = ["build_review", "next_run", "review_blocks"]

REVIEW_WINDOW = timedelta(days=7)
TOP_TRIGGERS = 5
TOP_GROUPS = 3


def build_review(audit: AuditReader, policy: Policy, *, now: datetime) -> Review:
    """The review of the 7 days before ``now`` against the 7 before, with the running policy's checklist."""
    checklist = Checklist(entries=tuple(ChecklistEntry(i.name, i.passed, i.fix) for i in run_checklist(policy)))
    return review_from_store(audit, Period.last(REVIEW_WINDOW, now), compare_previous=True, checklist=checklist)


def _mrkdwn(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def review_blocks(review: Review) -> tuple[str, list[dict[str, Any]]]:
    """(fallback text, Block Kit blocks) summarising ``review``."""
    figures = headline(review)
    fields = [
        {"type": "mrkdwn", "text": f"*{f.name}*\n{f.text}" + (f"  {f.delta_text}" if f.compared else "")}
        for f in figures[:10]
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Weekly handoff-quality review"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": _mrkdwn(review.period.label())}]},
        {"type": "section", "fields": fields},
    ]
    if review.by_trigger:
        lines = [
            f"• `{_mrkdwn(r.key)}`: {r.handed_off} handed off, {r.offered} offered ({fmt_rate(r.rate)})"
            for r in review.by_trigger[:TOP_TRIGGERS]
        ]
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "*Top triggers*\n" + "\n".join(lines)}})
    if review.unanswered:
        lines = []
        for group in review.unanswered[:TOP_GROUPS]:
            example = redact_text(group.examples[0]) if group.examples else ""
            lines.append(f"• *{_mrkdwn(group.label)}* ({group.size}): _{_mrkdwn(example[:150])}_")
        text = f"*Unanswered questions* ({review.unanswered_total})\n" + "\n".join(lines)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    checklist = review.checklist
    if checklist is not None:
        status = (
            f"could not run: {checklist.error}"
            if checklist.error
            else f"{checklist.passed} of {len(checklist.entries)} checks pass"
        )
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": _mrkdwn(f"Launch checklist: {status}")}],
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "Full review: `handoff report --compare-previous`"}],
        }
    )
    q = review.quality
    text = (
        f"Weekly handoff review: {review.conversations} conversations,"
        f" handoff rate {fmt_rate(review.handoff_rate)}, unnecessary {fmt_rate(q.unnecessary_share)},"
        f" missed {q.missed}, unanswered {review.unanswered_total}"
    )
    return text, blocks

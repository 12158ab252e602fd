"""Post the weekly review summary to a Slack channel on a cron schedule (``HANDOFF``'s ``review_schedule``).

Why here and not in the worker: the worker only owns the loop (sleep until :func:`next_run`, then call
:func:`post_weekly_review`); what the summary says is the review's business and must match
``handoff report``. The review is computed in a thread (SQLite work must not block the event loop) from
the same :func:`~connectors.report.weekly.review_from_store`, comparing the last 7 days with the 7
before. Cron expressions are read in UTC, like every time in the review.

The post is Block Kit: headline figures with arrows, the triggers that hand off most, the largest
groups of unanswered questions (examples redacted again, whatever the store holds) and the launch
checklist status. The full page is ``handoff report``.

Errors::

    ReviewPostError              the summary did not reach Slack
    ├── ReviewPostTransient      429, 5xx, network: retried here (bounded, honouring Retry-After), then raised
    └── ReviewPostPermanent      invalid_auth, channel_not_found, ...: fix the settings; not retried
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from croniter import croniter
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_base, wait_exponential_jitter

from connectors.audit.log import AuditLog
from connectors.report.checklist import load_checklist
from connectors.report.data import Review
from connectors.report.figures import fmt_rate, headline
from connectors.report.period import Period
from connectors.report.weekly import review_from_store
from connectors.settings import Settings
from handoff_core.redact import redact as redact_text

REVIEW_WINDOW = timedelta(days=7)
MAX_ATTEMPTS = 4
MAX_RETRY_AFTER = 60.0
TOP_TRIGGERS = 5
TOP_GROUPS = 3


class ReviewPostError(Exception):
    """The weekly summary did not reach Slack."""


class ReviewPostTransient(ReviewPostError):
    """Slack was down, slow or rate limiting; the next attempt may work."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ReviewPostPermanent(ReviewPostError):
    """Slack refused the post for a reason retrying cannot fix (token, channel, payload)."""


def next_run(cron: str, after: datetime) -> datetime:
    """The first time strictly after ``after`` that matches ``cron`` (UTC; naive ``after`` is UTC)."""
    if not croniter.is_valid(cron):
        raise ValueError(f"not a valid cron expression: {cron!r} (example: '0 9 * * MON')")
    start = after.replace(tzinfo=UTC) if after.tzinfo is None else after.astimezone(UTC)
    result: datetime = croniter(cron, start).get_next(datetime)
    return result.astimezone(UTC)


class _wait_retry_after(wait_base):
    """Slack's Retry-After when it sent one (capped), else exponential backoff with jitter."""

    def __init__(self) -> None:
        self._fallback = wait_exponential_jitter(multiplier=1, max=30)

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, ReviewPostTransient) and exc.retry_after is not None:
            return min(exc.retry_after, MAX_RETRY_AFTER)
        return float(self._fallback(retry_state))


def _map_error(exc: Exception) -> ReviewPostError:
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 0)
        headers = getattr(exc.response, "headers", {}) or {}
        retry_after = headers.get("Retry-After") or headers.get("retry-after")
        if status == 429 or status >= 500:
            seconds = float(retry_after) if retry_after is not None else None
            return ReviewPostTransient(f"Slack answered {status}", seconds)
        error = exc.response.get("error") if hasattr(exc.response, "get") else None
        return ReviewPostPermanent(f"Slack refused the review post: {error or status}")
    return ReviewPostTransient(f"Slack unreachable: {type(exc).__name__}")


async def _post_once(client: AsyncWebClient, channel: str, text: str, blocks: list[dict[str, Any]]) -> None:
    try:
        await client.chat_postMessage(channel=channel, text=text, blocks=blocks)
    except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
        raise _map_error(exc) from exc


def _build(audit_db: Path, period: Period, policy: Path) -> Review:
    checklist = load_checklist(policy)
    with AuditLog(audit_db) as log:
        return review_from_store(log, period, compare_previous=True, checklist=checklist)


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


async def post_weekly_review(
    settings: Settings,
    audit_db: Path,
    client: AsyncWebClient,
    channel: str,
    *,
    now: datetime | None = None,
) -> None:
    """Compute the review of the last 7 days (against the 7 before) and post its summary to ``channel``."""
    end = now or datetime.now(UTC)
    period = Period.last(REVIEW_WINDOW, end)
    review = await asyncio.to_thread(_build, audit_db, period, settings.handoff_policy)
    text, blocks = review_blocks(review)
    async for attempt in AsyncRetrying(
        retry=retry_if_exception_type(ReviewPostTransient),
        stop=stop_after_attempt(MAX_ATTEMPTS),
        wait=_wait_retry_after(),
        reraise=True,
    ):
        with attempt:
            await _post_once(client, channel, text, blocks)

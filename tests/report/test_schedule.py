"""The weekly summary is posted to a fake Slack Web API over real HTTP; the cron schedule is honoured."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from audit.builders import conversation, decision
from fakes.server import ServerThread, serve
from fakes.slack import FakeSlack
from slack_sdk.web.async_client import AsyncWebClient

from connectors.audit import AuditLog
from connectors.report.schedule import ReviewPostPermanent, ReviewPostTransient, next_run, post_weekly_review
from connectors.settings import Settings
from handoff_core import Action, TriggerName

NOW = datetime(2024, 6, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def slack() -> Iterator[tuple[FakeSlack, ServerThread]]:
    fake = FakeSlack()
    with serve(fake) as server:
        yield fake, server


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "store.sqlite3"
    with AuditLog(path) as log:
        for i in range(4):
            log.record_decision(
                decision(Action.HANDOFF, TriggerName.SENTIMENT),
                conversation(f"h{i}"),
                at=NOW - timedelta(days=1, hours=i),
            )
        log.record_decision(
            decision(Action.OFFER_HANDOFF, TriggerName.LOW_CONFIDENCE),
            conversation("q1", text="Can I pay with crypto? Mail me at bob@example.com"),
            at=NOW - timedelta(days=2),
        )
        log.record_decision(decision(Action.CONTINUE, None), conversation("c1"), at=NOW - timedelta(days=3))
        log.record_decision(decision(Action.HANDOFF), conversation("old"), at=NOW - timedelta(days=9))
    return path


def client(server: ServerThread, token: str = "xoxb-test-token") -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=f"{server.url}/api/")


@pytest.mark.anyio
async def test_weekly_review_reaches_slack(slack: tuple[FakeSlack, ServerThread], store: Path) -> None:
    """The post goes to the channel with the week's figures, the week-before delta and redacted examples."""
    fake, server = slack
    await post_weekly_review(Settings(), store, client(server), "C0REVIEW", now=NOW)
    [call] = fake.calls_to("chat.postMessage")
    assert call.args["channel"] == "C0REVIEW"
    assert "6 conversations" in call.args["text"]
    assert "handoff rate 66.7%" in call.args["text"]
    flat = str(call.args["blocks"])
    assert "*Conversations*\\n6  ▲ +5" in flat
    assert "sentiment" in flat
    assert "crypto" in flat
    assert "bob@example.com" not in flat


@pytest.mark.anyio
async def test_rate_limit_is_retried_after_retry_after(slack: tuple[FakeSlack, ServerThread], store: Path) -> None:
    """A 429 with Retry-After is waited out and the post is retried once it is allowed."""
    fake, server = slack
    fake.fail_next(429, times=1, method="chat.postMessage", retry_after=0)
    await post_weekly_review(Settings(), store, client(server), "C0REVIEW", now=NOW)
    assert len(fake.calls_to("chat.postMessage")) == 2
    assert len(fake.messages) == 1


@pytest.mark.anyio
async def test_slack_down_is_transient_and_bounded(slack: tuple[FakeSlack, ServerThread], store: Path) -> None:
    """When Slack answers 503 every time, it is retried a bounded number of times, then fails as transient."""
    fake, server = slack
    fake.fail_next(503, times=10, method="chat.postMessage", retry_after=0)
    with pytest.raises(ReviewPostTransient):
        await post_weekly_review(Settings(), store, client(server), "C0REVIEW", now=NOW)
    assert len(fake.calls_to("chat.postMessage")) == 4


@pytest.mark.anyio
async def test_unknown_channel_is_permanent(slack: tuple[FakeSlack, ServerThread], store: Path) -> None:
    """channel_not_found is not retried and names the cause."""
    fake, server = slack
    with pytest.raises(ReviewPostPermanent, match="channel_not_found"):
        await post_weekly_review(Settings(), store, client(server), "C0NOPE", now=NOW)
    assert len(fake.calls_to("chat.postMessage")) == 1


@pytest.mark.anyio
async def test_bad_token_is_permanent(slack: tuple[FakeSlack, ServerThread], store: Path) -> None:
    """invalid_auth is a settings problem, reported once."""
    fake, server = slack
    with pytest.raises(ReviewPostPermanent, match="invalid_auth"):
        await post_weekly_review(Settings(), store, client(server, token="xoxb-wrong"), "C0REVIEW", now=NOW)
    assert len(fake.calls_to("chat.postMessage")) == 1


@pytest.mark.parametrize(
    ("cron", "after", "expected"),
    [
        ("0 9 * * MON", datetime(2024, 6, 10, 9, 0, tzinfo=UTC), datetime(2024, 6, 17, 9, 0, tzinfo=UTC)),
        ("0 9 * * MON", datetime(2024, 6, 10, 8, 59, tzinfo=UTC), datetime(2024, 6, 10, 9, 0, tzinfo=UTC)),
        ("30 7 * * *", datetime(2024, 6, 10, 8, 0), datetime(2024, 6, 11, 7, 30, tzinfo=UTC)),
        ("0 9 1 * *", datetime(2024, 6, 10, 12, 0, tzinfo=UTC), datetime(2024, 7, 1, 9, 0, tzinfo=UTC)),
    ],
)
def test_next_run(cron: str, after: datetime, expected: datetime) -> None:
    """next_run returns the next matching UTC time strictly after `after` (naive taken as UTC)."""
    assert next_run(cron, after) == expected


def test_next_run_rejects_nonsense() -> None:
    """An invalid cron expression is a ValueError that shows an example."""
    with pytest.raises(ValueError, match="0 9"):
        next_run("every monday", NOW)

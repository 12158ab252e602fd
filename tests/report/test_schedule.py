"""The weekly summary is posted to a fake Slack Web API over real HTTP; the cron schedule is honoured."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from audit.builders import conversation, decision
from fakes.server import ServerThread, serve
from fakes.slack import FakeSlack

from connectors.audit import SQLiteAudit
from connectors.errors import PermanentError, TransientError
from connectors.report.schedule import build_review, next_run
from connectors.settings import DEFAULT_POLICY
from connectors.slack.gateway import SlackGateway, build_client
from connectors.store import SQLiteStore
from connectors.worker.executors import SlackReview, review_action
from handoff_core import Action, TriggerName
from handoff_core.policy import load_policy

NOW = datetime(2024, 6, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def slack() -> Iterator[tuple[FakeSlack, ServerThread]]:
    fake = FakeSlack()
    with serve(fake) as server:
        yield fake, server


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "store.sqlite3"
    with SQLiteAudit(path) as log:
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


async def _run_review(server: ServerThread, store: Path, *, channel: str = "C0REVIEW", claims: int = 1, **kw):
    """Run the ``slack.review`` outbox action as the Slack lane would, wired as the worker wires it."""
    policy = load_policy(DEFAULT_POLICY)
    outbox, audit = SQLiteStore(store), SQLiteAudit(store)
    alerts = SlackGateway(build_client(kw.get("token", "xoxb-test-token-for-tests"), f"{server.url}/api/", retries=2))
    review = SlackReview(alerts, lambda due: build_review(audit, policy, now=due))
    outbox.outbox_enqueue([review_action(NOW, channel)])
    item = outbox.outbox_by_key(f"review:{NOW.isoformat()}")
    try:
        return await review(replace(item, claims=claims, payload={**item.payload, "channel": channel}))
    finally:
        await alerts.aclose()
        audit.close()
        outbox.close()


@pytest.mark.anyio
async def test_weekly_review_reaches_slack(slack: tuple[FakeSlack, ServerThread], store: Path) -> None:
    """The post goes to the channel with the week's figures, the week-before delta and redacted examples."""
    fake, server = slack
    await _run_review(server, store)
    [call] = fake.calls_to("chat.postMessage")
    assert call.args["channel"] == "C0REVIEW"
    assert "6 conversations" in call.args["text"]
    assert "handoff rate 66.7%" in call.args["text"]
    flat = str(call.args["blocks"])
    assert "*Conversations*\\n6  ▲ +5" in flat
    assert "sentiment" in flat
    assert "crypto" in flat
    assert "bob@example.com" not in flat
    assert "Launch checklist" in flat, "the running policy's checklist, not a policy re-read from disk"


@pytest.mark.anyio
async def test_rate_limit_is_retried_by_the_one_slack_client(
    slack: tuple[FakeSlack, ServerThread], store: Path
) -> None:
    """A 429 with Retry-After is waited out by the Slack gateway's client, as for alerts: one message."""
    fake, server = slack
    fake.fail_next(429, times=1, method="chat.postMessage", retry_after=0)
    await _run_review(server, store)
    assert len(fake.calls_to("chat.postMessage")) == 2
    assert len(fake.messages) == 1


@pytest.mark.anyio
async def test_slack_errors_are_the_gateway_errors(slack: tuple[FakeSlack, ServerThread], store: Path) -> None:
    """Slack down is transient (the lane retries with back-off); unknown channel and bad token are permanent."""
    fake, server = slack
    fake.fail_next(503, times=10, method="chat.postMessage", retry_after=0)
    with pytest.raises(TransientError):
        await _run_review(server, store)
    fake.faults.clear()
    with pytest.raises(PermanentError, match="channel_not_found"):
        await _run_review(server, store, channel="C0NOPE")
    with pytest.raises(PermanentError, match="invalid_auth"):
        await _run_review(server, store, token="xoxb-wrong")


@pytest.mark.anyio
async def test_review_is_enqueued_once_and_not_reposted(slack: tuple[FakeSlack, ServerThread], store: Path) -> None:
    """Replicas enqueue the same review row once; a re-claimed review finds its post instead of posting again."""
    fake, server = slack
    first = await _run_review(server, store)
    again = await _run_review(server, store, claims=2)
    assert again["ts"] == first["ts"] and len(fake.messages) == 1
    assert len(SQLiteStore(store).outbox_list()) == 1


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

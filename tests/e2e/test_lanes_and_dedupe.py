"""Lanes and crash-safe alerts: a Zendesk outage never holds Slack back; a re-claimed alert is not re-posted."""

from __future__ import annotations

import asyncio
import time

import pytest
from fakes.fixtures import wait_until

from connectors.store import NewAction, OutboxStatus
from connectors.worker.handoffs import SLACK_ALERT
from e2e.helpers import webchat_post

pytestmark = pytest.mark.e2e
VIP = {"name": "Vi P", "email": "vip@example.com", "tags": ["vip"]}


def _vip_handoff(worker, conversation_id: str) -> None:
    body, headers = webchat_post(
        {
            "conversation_id": conversation_id,
            "message_id": "m1",
            "role": "customer",
            "text": "Hello, my card was charged twice",
            "customer": VIP,
        }
    )
    response = worker.http.post("/v1/webchat/messages", content=body, headers=headers)
    assert response.status_code == 200 and response.json()["action"] == "handoff", response.text


def test_zendesk_rate_limit_pauses_its_lane_and_slack_goes_on(fakes, start_worker):
    """During a Zendesk 429 (Retry-After 60) every Slack alert is posted; new Zendesk rows wait for the pause."""
    fakes.zendesk.fail_next(429, times=10_000, path_contains="/tickets", retry_after=60)
    worker = start_worker(outbox_concurrency=1)
    _vip_handoff(worker, "lane-1")
    store = worker.parts.store
    wait_until(lambda: store.lane_paused_until("zendesk") > time.time() + 30)
    asked = len(fakes.zendesk.requests)
    assert asked >= 1
    for n in range(2, 5):
        _vip_handoff(worker, f"lane-{n}")
    wait_until(lambda: len(fakes.slack.messages) == 4, timeout=20)
    time.sleep(0.5)
    assert len(fakes.zendesk.requests) == asked, "the paused Zendesk lane sent nothing more"
    pending = store.outbox_list([OutboxStatus.PENDING])
    assert sorted(i.kind for i in pending) == ["zendesk.create_ticket"] * 4
    assert fakes.zendesk.tickets == {}


def test_reclaimed_alert_finds_its_message_instead_of_posting_again(fakes, worker_settings):
    """An alert posted by a run that died before recording it is found by its metadata key, not posted twice."""
    asyncio.run(_reclaimed_alert(fakes, worker_settings()))


async def _reclaimed_alert(fakes, settings) -> None:
    from connectors.worker.wiring import open_worker

    async with open_worker(settings, processors=False) as worker:
        slack_alert = worker.executors[SLACK_ALERT]
        content = {
            "conversation_id": "crash-1",
            "decision_id": "d-crash",
            "channel": "webchat",
            "customer": "Vi P",
            "vip": True,
            "angry": False,
            "priority": "high",
            "summary": "charged twice",
            "reasons": ["vip"],
        }
        action = NewAction(
            kind="slack.alert",
            target="slack",
            dedupe_key="d-crash:slack.alert",
            payload={"channel": "C0ALERTS", "content": content},
            conversation_id="crash-1",
            decision_id="d-crash",
        )
        worker.store.outbox_enqueue([action])
        for _ in range(15):  # other alerts in the channel, so the lookup must follow history pages
            await worker.alerts.post("C0ALERTS", "other", [], key=f"other-{_}")
        (first,) = worker.store.outbox_claim(time.time(), 0.01, 1, lane="slack")
        posted = await slack_alert(first)  # ... and the worker "dies" here: the row is not done
        time.sleep(0.02)
        (second,) = worker.store.outbox_claim(time.time(), 5, 1, lane="slack")
        assert second.claims == 2
        again = await slack_alert(second)
        assert again["ts"] == posted["ts"]
        ours = [
            m
            for m in fakes.slack.messages.values()
            if (m.get("metadata") or {}).get("event_payload", {}).get("key") == "d-crash:slack.alert"
        ]
        assert len(ours) == 1
        assert len(fakes.slack.calls_to("conversations.history")) >= 1

"""Sales leads and business hours end to end: the worker reads Zendesk's schedules at start-up, and an
out-of-hours handoff still creates the ticket and the alert while telling the customer when to expect a
reply."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from fakes.fixtures import wait_until

from connectors.store import OutboxStatus
from e2e.helpers import webchat_post
from handoff_core.policy.loader import _PolicyLoader, default_policy_path

pytestmark = pytest.mark.e2e

MON_TO_FRI_9_TO_17 = [(day * 1440 + 540, day * 1440 + 1020) for day in range(1, 6)]
#: Sunday 29 November 2026, 03:00 UTC: closed in Madrid and in New York.
SUNDAY_NIGHT = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)


def _policy(tmp_path: Path) -> Path:
    """The default policy, with every route on a Zendesk schedule and an on-call channel."""
    data = yaml.load(default_policy_path().read_text(encoding="utf-8"), Loader=_PolicyLoader)
    # The copy lives elsewhere: its lexicon folder is named where the default's is.
    data["lexicons"] = [str(default_policy_path().parent / "lexicons")]
    data["business_hours"] = {
        "schedules": {"support": {"zendesk": "Support EMEA"}, "sales": {"zendesk": "Sales US"}},
        "on_call": {"slack_channel": "C0ONCALL", "topics": ["account_security"]},
    }
    data["defaults"]["route"]["schedule"] = "support"
    data["routes"]["sales"].update(schedule="sales", slack_channel="C0SALES")
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _say(worker, conversation_id, text, **extra):
    body, headers = webchat_post(
        {"conversation_id": conversation_id, "message_id": "m1", "role": "customer", "text": text, **extra}
    )
    response = worker.http.post("/v1/webchat/messages", content=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_out_of_hours_lead_reaches_sales_and_customer_knows_when(fakes, start_worker, tmp_path):
    """A big lead on Sunday night: Sales ticket and alert in the sales channel, reply promised Monday 09:00 EST."""
    fakes.zendesk.add_schedule(
        "Support EMEA", "Madrid", MON_TO_FRI_9_TO_17, [("Christmas", "2026-12-25", "2026-12-25")]
    )
    fakes.zendesk.add_schedule("Sales US", "Eastern Time (US & Canada)", MON_TO_FRI_9_TO_17)
    fakes.zendesk.add_schedule("Unused", "UTC", [(0, 60)])
    fakes.zendesk.add_group("Sales")
    fakes.slack.channels |= {"C0SALES", "C0ONCALL"}
    worker = start_worker(handoff_policy=_policy(tmp_path))
    assert worker.parts.health.problems == []
    assert len(fakes.zendesk.requests_to("GET", "/business_hours/schedules.json")) == 2, "two pages"
    worker.parts.handoffs.clock = lambda: SUNDAY_NIGHT

    lead = _say(
        worker,
        "lead-1",
        "We're evaluating you for 300 seats, can someone walk us through enterprise pricing?",
        customer={"name": "Ada", "email": "ada@bigco.example"},
    )
    assert lead["action"] == "handoff" and lead["lead"]["qualified"] is True
    assert lead["agents_available"] is False
    assert lead["expected_reply_by"] == "2026-11-30T14:00:00Z"
    assert "Monday 09:00 EST" in lead["customer_message"]

    ticket = wait_until(
        lambda: [t for t in fakes.zendesk.tickets.values() if t["external_id"] == "handoff-guard:lead-1"]
    )[0]
    assert "sales_lead" in ticket["tags"] and ticket["priority"] == "high"
    assert fakes.zendesk.groups[ticket["group_id"]]["name"] == "Sales"
    note = fakes.zendesk.private_notes(ticket["id"])[0]["body"]
    assert "the customer was told a person replies by 2026-11-30 14:00 UTC" in note
    assert "Sales lead worth 26000 EUR" in note
    wait_until(lambda: [k for k in fakes.slack.messages if k[0] == "C0SALES"])

    urgent = _say(
        worker,
        "sec-1",
        "Someone hacked my account and is moving my money, urgent!",
        customer={"name": "Bo", "email": "bo@example.com"},
    )
    assert urgent["action"] == "handoff" and urgent["on_call"] is True
    assert urgent["agents_available"] is False
    wait_until(lambda: [t for t in fakes.zendesk.tickets.values() if t["external_id"] == "handoff-guard:sec-1"])
    wait_until(lambda: [k for k in fakes.slack.messages if k[0] == "C0ONCALL"])
    wait_until(lambda: worker.parts.store.outbox_counts()[OutboxStatus.PENDING] == 0)


def test_unknown_zendesk_schedule_makes_the_worker_unready(fakes, start_worker, tmp_path):
    """A schedule the policy names but Zendesk lacks is reported by /readyz, not guessed."""
    fakes.zendesk.add_schedule("Support EMEA", "Madrid", MON_TO_FRI_9_TO_17)
    worker = start_worker(handoff_policy=_policy(tmp_path))
    ready = worker.http.get("/readyz")
    assert ready.status_code == 503
    assert "Sales US" in ready.text
    worker.parts.handoffs.clock = lambda: SUNDAY_NIGHT
    lead = _say(worker, "lead-2", "We need enterprise pricing for 300 seats", customer={"email": "x@bigco.example"})
    assert lead["action"] == "handoff" and lead["agents_available"] is None

"""The alert's buttons, clicked as Slack posts them (signed, form-encoded), through slack-bolt."""

from __future__ import annotations

import pytest
from fakes.fixtures import wait_until

from connectors.audit.queries import fetch_decisions
from e2e.helpers import seed_vip_ticket, slack_click, zendesk_delivery

pytestmark = pytest.mark.e2e


def _alert(fakes, worker):
    ticket_id = seed_vip_ticket(fakes.zendesk)
    body, headers = zendesk_delivery(ticket_id)
    worker.http.post("/webhooks/zendesk", content=body, headers=headers)
    (channel, ts), message = wait_until(lambda: list(fakes.slack.messages.items()))[0]
    wait_until(lambda: fakes.zendesk.private_notes(ticket_id))
    actions = next(b for b in message["blocks"] if b["type"] == "actions")
    value = actions["elements"][0]["value"]
    return ticket_id, channel, ts, message["blocks"], value


def test_claim_assigns_ticket_to_clicking_agent(fakes, start_worker):
    """Claim: the Slack user's email finds the Zendesk agent, the ticket is assigned, the alert updated, audited."""
    worker = start_worker()
    agent_id = fakes.zendesk.add_user(name="Cat Agent", email="cat@acme.example", role="agent")
    fakes.slack.add_user("U0CAT", email="cat@acme.example", name="Cat")
    ticket_id, channel, ts, blocks, value = _alert(fakes, worker)

    raw, headers = slack_click("handoff_claim", user_id="U0CAT", channel=channel, ts=ts, blocks=blocks, value=value)
    response = worker.http.post("/slack/events", content=raw, headers=headers)
    assert response.status_code == 200
    again = worker.http.post("/slack/events", content=raw, headers=headers)
    assert again.status_code == 200

    wait_until(lambda: fakes.zendesk.tickets[ticket_id]["assignee_id"] == agent_id)
    update = wait_until(lambda: fakes.slack.calls_to("chat.update"))
    wait_until(lambda: worker.parts.store.outbox_by_key(f"claim:{channel}:{ts}").status.value == "done")
    assert len(fakes.slack.calls_to("chat.update")) == 1
    assert "Claimed by <@U0CAT>" in update[0].args["text"]
    assert not any(b["type"] == "actions" for b in fakes.slack.messages[(channel, ts)]["blocks"])
    assert len(fakes.zendesk.requests_to("PUT", f"/tickets/{ticket_id}.json")) == 2, "handoff + one assignment"
    handoffs = [d for d in fetch_decisions(worker.parts.audit) if d.is_handoff]
    assert len(handoffs) == 1
    claimed = handoffs[0].event("claimed")
    assert claimed is not None and claimed.actor == "cat@acme.example"
    assert handoffs[0].reached("zendesk") is True and handoffs[0].reached("slack") is True


def test_not_needed_records_feedback_and_updates_message(fakes, start_worker):
    """Not needed: the feedback is recorded for the weekly review and the alert says who marked it."""
    worker = start_worker()
    _, channel, ts, blocks, value = _alert(fakes, worker)
    raw, headers = slack_click(
        "handoff_not_needed", user_id="U0DAN", channel=channel, ts=ts, blocks=blocks, value=value
    )
    assert worker.http.post("/slack/events", content=raw, headers=headers).status_code == 200
    update = wait_until(lambda: fakes.slack.calls_to("chat.update"))
    assert "not needed" in update[0].args["text"]
    handoffs = [d for d in fetch_decisions(worker.parts.audit) if d.is_handoff]
    assert [d.event("not_needed") is not None for d in handoffs] == [True]

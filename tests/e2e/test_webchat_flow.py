"""Web chat end to end: decisions answered synchronously, an angry turn becomes a Zendesk ticket."""

from __future__ import annotations

import pytest
from fakes.fixtures import wait_until

from connectors.store import OutboxStatus
from e2e.helpers import ANGRY, webchat_post

pytestmark = pytest.mark.e2e


def _say(worker, conversation_id, message_id, text, role="customer", **extra):
    body, headers = webchat_post(
        {"conversation_id": conversation_id, "message_id": message_id, "role": role, "text": text, **extra}
    )
    response = worker.http.post("/v1/webchat/messages", content=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_conversation_turning_angry_creates_ticket_with_transcript(fakes, start_worker):
    """An angry web-chat turn answers handoff + stay_silent and creates one Zendesk ticket holding the transcript."""
    fakes.zendesk.add_group("Escalations")
    worker = start_worker()
    customer = {"name": "Bo Jensen", "email": "bo@example.com"}
    first = _say(worker, "chat-1", "m1", "Hi, where is my order 1234?", customer=customer)
    assert first["action"] == "continue" and first["stay_silent"] is False
    assert worker.parts.handoffs.analyses.messages == 1, "the analysis is kept for the next message"
    _say(worker, "chat-1", "m2", "It is on its way and should arrive tomorrow.", role="assistant", confidence=0.9)
    angry = _say(worker, "chat-1", "m3", ANGRY)
    assert angry["action"] == "handoff" and angry["stay_silent"] is True
    assert worker.parts.handoffs.analyses.messages == 0, "a handed-off conversation is decided without it: not kept"
    assert angry["customer_message"]
    assert "sentiment" in [r["trigger"] for r in angry["reasons"]]

    ticket = wait_until(
        lambda: [t for t in fakes.zendesk.tickets.values() if t["external_id"] == "handoff-guard:chat-1"]
    )[0]
    assert {"ai_handoff", "handoff_sentiment"} <= set(ticket["tags"])
    assert fakes.zendesk.users[ticket["requester_id"]]["email"] == "bo@example.com"
    notes = fakes.zendesk.private_notes(ticket["id"])
    assert len(notes) == 1 and fakes.zendesk.comments[ticket["id"]] == notes, "only a private note, no reply"
    for line in ("customer: Hi, where is my order 1234?", "assistant: It is on its way", "third time"):
        assert line.lower() in notes[0]["body"].lower()

    after = _say(worker, "chat-1", "m4", "hello??")
    assert after["stay_silent"] is True
    wait_until(lambda: worker.parts.store.outbox_counts()[OutboxStatus.PENDING] == 0)
    assert len([t for t in fakes.zendesk.tickets.values() if t["external_id"] == "handoff-guard:chat-1"]) == 1


def test_same_message_id_twice_same_answer_one_effect(fakes, start_worker):
    """Posting the same message id twice returns the identical answer and creates one ticket and one alert."""
    worker = start_worker()
    customer = {"name": "Vi P", "email": "vip@example.com", "tags": ["vip"]}
    one = _say(worker, "chat-2", "m1", "Hello, my card was charged twice", customer=customer)
    two = _say(worker, "chat-2", "m1", "Hello, my card was charged twice", customer=customer)
    assert one == two and one["action"] == "handoff"
    wait_until(lambda: fakes.slack.messages and [t for t in fakes.zendesk.tickets.values() if t["external_id"]])
    wait_until(lambda: worker.parts.store.outbox_counts()[OutboxStatus.PENDING] == 0)
    assert len([t for t in fakes.zendesk.tickets.values() if t["external_id"] == "handoff-guard:chat-2"]) == 1
    assert len(fakes.slack.calls_to("chat.postMessage")) == 1
    assert len(worker.parts.store.conversation_get("chat-2").conversation.messages) == 1


def test_ticket_and_alert_run_concurrently_and_alert_gets_the_link(fakes, start_worker):
    """The ticket create and the Slack alert are separate actions sent at once; the alert then links the ticket."""
    worker = start_worker()
    customer = {"name": "Vi P", "email": "vip@example.com", "tags": ["vip"]}
    _say(worker, "chat-3", "m1", "Hello, my card was charged twice", customer=customer)
    ticket = wait_until(lambda: [t for t in fakes.zendesk.tickets.values() if t["external_id"]])[0]

    def linked():
        return any(f"/agent/tickets/{ticket['id']}" in str(m["blocks"]) for m in fakes.slack.messages.values())

    wait_until(linked)
    assert len(fakes.slack.messages) == 1


def test_whole_conversation_endpoint_decides(fakes, start_worker):
    """POST /v1/webchat/conversations takes the simulator's input shape and answers the decision."""
    worker = start_worker()
    body, headers = webchat_post(
        {
            "id": "sim-1",
            "messages": [
                {"role": "customer", "text": "Where is my parcel?"},
                {"role": "assistant", "text": "Let me check."},
                {"role": "customer", "text": ANGRY, "id": "last"},
            ],
        },
        signed=False,
    )
    response = worker.http.post("/v1/webchat/conversations", content=body, headers=headers)
    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["action"] == "handoff" and reply["message_id"] == "last" and reply["conversation_id"] == "sim-1"
    again = worker.http.post("/v1/webchat/conversations", content=body, headers=headers).json()
    assert again == reply

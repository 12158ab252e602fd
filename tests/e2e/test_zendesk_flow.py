"""A Zendesk ticket handed over end to end: signed webhook in, tags/priority/group/note and alert out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fakes.fixtures import wait_until

from connectors.store import InboxStatus, OutboxStatus
from e2e.helpers import group_id, seed_vip_ticket, zendesk_delivery

pytestmark = pytest.mark.e2e


def _handed_over(fakes, ticket_id):
    ticket = fakes.zendesk.tickets[ticket_id]
    return "ai_handoff" in ticket["tags"] and fakes.zendesk.private_notes(ticket_id)


def test_signed_webhook_tags_routes_notes_and_alerts_once(fakes, start_worker):
    """A signed trigger webhook ends with the right tags, priority, group, one private note and one alert."""
    ticket_id = seed_vip_ticket(fakes.zendesk)
    worker = start_worker()
    body, headers = zendesk_delivery(ticket_id)
    response = worker.http.post("/webhooks/zendesk", content=body, headers=headers)
    assert response.status_code == 202, response.text

    wait_until(lambda: _handed_over(fakes, ticket_id))
    wait_until(lambda: fakes.slack.calls_to("chat.postMessage"))
    ticket = fakes.zendesk.tickets[ticket_id]
    assert {"ai_handoff", "handoff_vip", "vip"} <= set(ticket["tags"])
    assert ticket["priority"] == "high"
    assert ticket["group_id"] == group_id(fakes.zendesk, "VIP Support")
    notes = fakes.zendesk.private_notes(ticket_id)
    assert len(notes) == 1
    assert notes[0]["body"].startswith("[handoff-guard] decision ")
    assert "vip" in notes[0]["body"]
    assert all(
        not c["public"] or c["author_id"] != fakes.zendesk.api_user_id for c in fakes.zendesk.comments[ticket_id]
    ), "the worker must never reply in public"
    posts = fakes.slack.calls_to("chat.postMessage")
    assert len(posts) == 1
    assert posts[0].args["channel"] == "C0ALERTS"
    text = str(posts[0].args["blocks"])
    assert "VIP" in text and f"/agent/tickets/{ticket_id}" in text
    assert "ann@globex.example" not in text, "the default policy redacts personal data in Slack"


def test_own_update_webhook_is_ignored(fakes, start_worker):
    """The webhook Zendesk sends after our own note is recognised and has no effect (no loop)."""
    ticket_id = seed_vip_ticket(fakes.zendesk)
    worker = start_worker()
    worker.http.post("/webhooks/zendesk", content=(d := zendesk_delivery(ticket_id))[0], headers=d[1])
    wait_until(lambda: _handed_over(fakes, ticket_id))
    wait_until(lambda: fakes.slack.calls_to("chat.postMessage"))

    body, headers = zendesk_delivery(ticket_id)
    assert worker.http.post("/webhooks/zendesk", content=body, headers=headers).status_code == 202
    store = worker.parts.store
    wait_until(lambda: all(i.status is not InboxStatus.PENDING for i in store.inbox_list()))
    statuses = sorted(i.status.value for i in store.inbox_list())
    assert statuses == ["done", "ignored"]
    assert "own update" in (store.inbox_list([InboxStatus.IGNORED])[0].last_error or "")
    assert len(fakes.zendesk.private_notes(ticket_id)) == 1
    assert len(fakes.slack.calls_to("chat.postMessage")) == 1


@pytest.mark.parametrize("variant", ["wrong", "missing", "stale"])
def test_bad_signature_is_refused_and_nothing_happens(fakes, start_worker, variant):
    """A wrong, missing or stale signature gets 401 and nothing is stored, read or sent."""
    ticket_id = seed_vip_ticket(fakes.zendesk)
    worker = start_worker()
    if variant == "wrong":
        body, headers = zendesk_delivery(ticket_id, secret="not-the-secret")
    elif variant == "stale":
        body, headers = zendesk_delivery(ticket_id, at=datetime.now(UTC) - timedelta(minutes=6))
    else:
        body, headers = zendesk_delivery(ticket_id)
        del headers["x-zendesk-webhook-signature"]
    response = worker.http.post("/webhooks/zendesk", content=body, headers=headers)
    assert response.status_code == 401
    assert (
        response.json()["error"]["code"]
        == {"wrong": "bad_signature", "missing": "missing_signature", "stale": "stale_signature"}[variant]
    )
    assert worker.parts.store.inbox_list() == []
    assert fakes.zendesk.requests == []
    assert fakes.slack.calls_to("chat.postMessage") == []


def test_same_invocation_twice_has_one_effect(fakes, start_worker):
    """The same invocation delivered twice is stored once: one note, one alert."""
    ticket_id = seed_vip_ticket(fakes.zendesk)
    worker = start_worker()
    body, headers = zendesk_delivery(ticket_id, invocation_id="01HINVOCATION")
    first = worker.http.post("/webhooks/zendesk", content=body, headers=headers)
    second = worker.http.post("/webhooks/zendesk", content=body, headers=headers)
    assert (first.status_code, second.status_code) == (202, 200)
    assert second.json()["status"] == "duplicate"
    wait_until(lambda: _handed_over(fakes, ticket_id))
    wait_until(lambda: fakes.slack.calls_to("chat.postMessage"))
    wait_until(lambda: worker.parts.store.outbox_counts()[OutboxStatus.DONE] == 2)
    assert len(worker.parts.store.inbox_list()) == 1
    assert len(fakes.zendesk.private_notes(ticket_id)) == 1
    assert len(fakes.slack.calls_to("chat.postMessage")) == 1


def test_zendesk_429_then_200_completes(fakes, start_worker):
    """Zendesk answers the update with 429 + Retry-After, then 200: the handoff completes, once."""
    ticket_id = seed_vip_ticket(fakes.zendesk)
    fakes.zendesk.fail_next(429, times=1, method="PUT", retry_after=1)
    worker = start_worker()
    body, headers = zendesk_delivery(ticket_id)
    worker.http.post("/webhooks/zendesk", content=body, headers=headers)
    wait_until(lambda: _handed_over(fakes, ticket_id))
    puts = fakes.zendesk.requests_to("PUT", f"/tickets/{ticket_id}.json")
    assert len(puts) == 2, "one refused with 429, one accepted"
    assert len(fakes.zendesk.private_notes(ticket_id)) == 1


def test_zendesk_down_parks_action_as_dead_and_retry_completes_it(fakes, start_worker):
    """Zendesk failing every update parks the action as dead after N attempts; a retry then completes it."""
    ticket_id = seed_vip_ticket(fakes.zendesk)
    fakes.zendesk.fail_next(503, times=1000, method="PUT")
    worker = start_worker(outbox_max_attempts=2)
    body, headers = zendesk_delivery(ticket_id)
    worker.http.post("/webhooks/zendesk", content=body, headers=headers)
    store = worker.parts.store
    dead = wait_until(lambda: store.outbox_list([OutboxStatus.DEAD]))
    assert dead[0].kind == "zendesk.handoff" and dead[0].attempts == 2
    assert "503" in (dead[0].last_error or "")
    fakes.zendesk.faults.clear()
    assert store.outbox_retry(dead[0].id)
    worker.parts.webchat.outbox_wakeup.set()
    wait_until(lambda: _handed_over(fakes, ticket_id))
    assert len(fakes.zendesk.private_notes(ticket_id)) == 1


def test_slack_down_then_back_delivers_one_alert(fakes, start_worker):
    """Slack answering 503 delays the alert (row kept pending with its attempts); when it is back: one alert."""
    ticket_id = seed_vip_ticket(fakes.zendesk)
    fakes.slack.down = True
    worker = start_worker(outbox_max_attempts=50)
    body, headers = zendesk_delivery(ticket_id)
    worker.http.post("/webhooks/zendesk", content=body, headers=headers)
    wait_until(lambda: _handed_over(fakes, ticket_id))
    store = worker.parts.store
    wait_until(lambda: any(i.kind == "slack.alert" and i.attempts >= 1 for i in store.outbox_list()))
    pending = [i for i in store.outbox_list([OutboxStatus.PENDING]) if i.kind == "slack.alert"]
    assert pending and "503" in (pending[0].last_error or "")
    fakes.slack.down = False
    wait_until(lambda: fakes.slack.messages)
    wait_until(lambda: store.outbox_counts()[OutboxStatus.PENDING] == 0)
    assert len(fakes.slack.messages) == 1

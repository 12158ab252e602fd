"""Bad input gets a clear 4xx with the JSON error shape, never a 500, and nothing is stored."""

from __future__ import annotations

import asyncio
import json

import pytest
from fakes.fixtures import WEBCHAT_SECRET
from fakes.signing import webchat_headers

from e2e.helpers import zendesk_delivery

pytestmark = pytest.mark.e2e


def _error(response, status, code):
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert "Traceback" not in response.text


def test_zendesk_bad_bodies(fakes, start_worker):
    """Malformed JSON, unknown event types, wrong shapes and oversized bodies to the Zendesk webhook are 4xx."""
    worker = start_worker(max_body_bytes=2048)
    post = worker.http.post
    raw, headers = zendesk_delivery(1, body=b'{"ticket": ')
    _error(post("/webhooks/zendesk", content=raw, headers=headers), 400, "malformed_json")
    event = json.dumps({"type": "zen:event-type:user.created", "id": "e1", "detail": {"id": "5"}}).encode()
    raw, headers = zendesk_delivery(1, body=event)
    _error(post("/webhooks/zendesk", content=raw, headers=headers), 422, "unsupported_event_type")
    raw, headers = zendesk_delivery(1, body=b'{"hello": "world"}')
    _error(post("/webhooks/zendesk", content=raw, headers=headers), 422, "unrecognised_payload")
    raw, headers = zendesk_delivery(1, body=b'{"ticket": {"id": "not-a-number"}}')
    _error(post("/webhooks/zendesk", content=raw, headers=headers), 422, "invalid_payload")
    raw, headers = zendesk_delivery(1, body=b'{"ticket": {"id": 1}, "x": ' + b'"a' * 3000 + b'"}')
    _error(post("/webhooks/zendesk", content=raw, headers=headers), 413, "body_too_large")
    raw, headers = zendesk_delivery(1)
    _error(
        post("/webhooks/zendesk", content=raw, headers={**headers, "content-type": "text/plain"}),
        415,
        "unsupported_media_type",
    )
    assert worker.parts.store.inbox_list() == []


def test_oversized_chunked_body_is_cut_off(fakes, start_worker):
    """A body without Content-Length is read only up to the limit, then refused with 413."""
    worker = start_worker(max_body_bytes=1024)

    def chunks():
        for _ in range(100):
            yield b"x" * 512

    response = worker.http.post(
        "/v1/webchat/messages",
        content=chunks(),
        headers={"authorization": f"Bearer {WEBCHAT_SECRET}", "content-type": "application/json"},
    )
    _error(response, 413, "body_too_large")


def test_webchat_bad_requests(fakes, start_worker):
    """Web chat: no credentials 401, wrong signature 401, malformed JSON 400, unknown field 422, wrong type 415."""
    worker = start_worker()
    post = worker.http.post
    good = json.dumps({"conversation_id": "c", "message_id": "m", "role": "customer", "text": "hi"}).encode()
    _error(
        post("/v1/webchat/messages", content=good, headers={"content-type": "application/json"}),
        401,
        "missing_credentials",
    )
    _error(
        post("/v1/webchat/messages", content=good, headers={**webchat_headers("wrong", good)}), 401, "bad_credentials"
    )
    _error(
        post("/v1/webchat/messages", content=b"{nope", headers=webchat_headers(WEBCHAT_SECRET, b"{nope")),
        400,
        "malformed_json",
    )
    unknown = json.dumps(
        {"conversation_id": "c", "message_id": "m", "role": "customer", "text": "hi", "mood": "bad"}
    ).encode()
    response = post("/v1/webchat/messages", content=unknown, headers=webchat_headers(WEBCHAT_SECRET, unknown))
    _error(response, 422, "invalid_request")
    assert "mood" in response.json()["error"]["message"]
    bad_role = json.dumps({"conversation_id": "c", "message_id": "m", "role": "robot", "text": "hi"}).encode()
    _error(
        post("/v1/webchat/messages", content=bad_role, headers=webchat_headers(WEBCHAT_SECRET, bad_role)),
        422,
        "invalid_request",
    )
    headers = {**webchat_headers(WEBCHAT_SECRET, good), "content-type": "text/plain"}
    _error(post("/v1/webchat/messages", content=good, headers=headers), 415, "unsupported_media_type")
    _error(worker.http.get("/v1/webchat/nothing-here"), 404, "not_found")
    assert worker.parts.store.conversation_get("c") is None


def test_slack_bad_signature_is_401(fakes, start_worker):
    """A Slack request with a wrong signature is refused by bolt with 401 and has no effect."""
    worker = start_worker()
    raw = b"payload=%7B%7D"
    response = worker.http.post(
        "/slack/events",
        content=raw,
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "x-slack-request-timestamp": "1",
            "x-slack-signature": "v0=00",
        },
    )
    assert response.status_code == 401
    assert worker.parts.store.outbox_list() == []


def test_health_and_readiness(fakes, start_worker):
    """/healthz answers, /readyz reports the store and the configuration, /metrics is Prometheus text."""
    worker = start_worker()
    assert worker.http.get("/healthz").json() == {"status": "ok"}
    ready = worker.http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["mode"]["zendesk"] == "live"
    assert ready.json()["checks"]["store"]["outbox_oldest_pending_seconds"] >= 0
    metrics = worker.http.get("/metrics")
    assert metrics.status_code == 200 and "handoff_outbox_pending" in metrics.text
    assert 'handoff_queue_oldest_pending_seconds{lane="zendesk",queue="inbox"}' in metrics.text
    docs = worker.http.get("/openapi.json").json()
    assert "/v1/webchat/messages" in docs["paths"]
    assert "WebchatMessageIn" in docs["components"]["schemas"]


def test_not_ready_without_webhook_secret(fakes, start_worker):
    """With Zendesk credentials but no webhook secret the worker says it is not ready, and why."""
    worker = start_worker(zendesk_webhook_secret=None)
    ready = worker.http.get("/readyz")
    assert ready.status_code == 503
    assert "ZENDESK_WEBHOOK_SECRET" in str(ready.json()["checks"]["configuration"]["problems"])


def test_not_ready_with_a_review_schedule_in_the_environment(fakes, start_worker):
    """REVIEW_SCHEDULE (e.g. "every monday") is not silently ignored: /readyz is 503 and points at the policy."""
    worker = start_worker(review_schedule="every monday")
    ready = worker.http.get("/readyz")
    assert ready.status_code == 503
    assert "review.weekly.schedule" in str(ready.json()["checks"]["configuration"]["problems"])


def test_worker_refuses_a_policy_with_an_invalid_schedule(tmp_path, worker_settings):
    """A policy whose weekly schedule is not cron stops the worker at start with the field named (never ready)."""
    from connectors.worker.wiring import open_worker
    from handoff_core.errors import PolicyError

    policy = tmp_path / "policy.yaml"
    policy.write_text('extends: default\nreview:\n  weekly:\n    schedule: "every monday"\n')

    async def start() -> None:
        async with open_worker(worker_settings(handoff_policy=policy)):
            pass

    with pytest.raises(PolicyError, match=r"review\.weekly\.schedule"):
        asyncio.run(start())

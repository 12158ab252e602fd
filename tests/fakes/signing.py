"""Sign requests exactly as Zendesk, Slack and our web-chat clients do (for tests and the bench)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime


def zendesk_headers(
    secret: str,
    body: bytes,
    *,
    invocation_id: str,
    at: datetime | None = None,
    webhook_id: str = "01HWEBHOOK",
) -> dict[str, str]:
    """Headers of a Zendesk webhook delivery: base64(HMAC-SHA256(secret, timestamp + body))."""
    timestamp = (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return {
        "content-type": "application/json",
        "x-zendesk-webhook-id": webhook_id,
        "x-zendesk-webhook-invocation-id": invocation_id,
        "x-zendesk-webhook-signature": base64.b64encode(digest).decode(),
        "x-zendesk-webhook-signature-timestamp": timestamp,
        "x-zendesk-account-id": "123456",
    }


def slack_headers(secret: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """Headers of a Slack request: v0=hex(HMAC-SHA256(secret, 'v0:{ts}:{body}'))."""
    ts = str(timestamp if timestamp is not None else int(time.time()))
    base = f"v0:{ts}:".encode() + body
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": signature,
    }


def webchat_headers(secret: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """Our web-chat HMAC scheme: X-Handoff-Signature: sha256=hex(HMAC-SHA256(secret, 'ts.' + body))."""
    ts = str(timestamp if timestamp is not None else int(time.time()))
    signature = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {
        "content-type": "application/json",
        "x-handoff-timestamp": ts,
        "x-handoff-signature": f"sha256={signature}",
    }

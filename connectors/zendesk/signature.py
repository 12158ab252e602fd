"""Verify Zendesk webhook signatures: base64(HMAC-SHA256(secret, timestamp + raw body)).

Zendesk documents no replay window, so we pick one (``ZENDESK_SIGNATURE_MAX_AGE``, 5 minutes by default)
and also deduplicate deliveries by ``x-zendesk-webhook-invocation-id`` in the inbox.

::

    SignatureError(code)     missing_signature | bad_timestamp | stale_signature | bad_signature
                             | not_configured
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime

SIGNATURE_HEADER = "x-zendesk-webhook-signature"
TIMESTAMP_HEADER = "x-zendesk-webhook-signature-timestamp"
INVOCATION_HEADER = "x-zendesk-webhook-invocation-id"


class SignatureError(Exception):
    """The delivery is not provably from Zendesk. ``code`` says why, for the 401 answer."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _parse_timestamp(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def verify_zendesk_signature(
    secret: str, headers: Mapping[str, str], body: bytes, *, now: datetime, max_age: float
) -> None:
    """Raise :class:`SignatureError` unless the headers carry a fresh, valid signature of ``body``."""
    if not secret.strip():  # settings refuse this at start-up; an empty key must never verify anything
        raise SignatureError("not_configured", "no webhook signing secret is configured")
    signature = headers.get(SIGNATURE_HEADER)
    timestamp = headers.get(TIMESTAMP_HEADER)
    if not signature or not timestamp:
        raise SignatureError("missing_signature", "x-zendesk-webhook-signature and -timestamp are required")
    try:
        signed_at = _parse_timestamp(timestamp)
    except ValueError as exc:
        raise SignatureError("bad_timestamp", "the signature timestamp is not an ISO 8601 time") from exc
    if abs((now - signed_at).total_seconds()) > max_age:
        raise SignatureError("stale_signature", f"the signature is older than {int(max_age)} seconds")
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("utf-8") + body, hashlib.sha256).digest()
    expected = base64.b64encode(digest).decode("ascii")
    if not hmac.compare_digest(expected.encode("ascii"), signature.strip().encode("ascii", "replace")):
        raise SignatureError("bad_signature", "the signature does not match the body")


def sign_zendesk_body(secret: str, body: bytes, *, now: datetime, invocation_id: str) -> dict[str, str]:
    """The headers Zendesk would send with ``body`` (``handoff zendesk sign``, tests): the exact inverse of
    :func:`verify_zendesk_signature`, so a hand-made test request is accepted like a real delivery."""
    timestamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("utf-8") + body, hashlib.sha256).digest()
    return {
        "content-type": "application/json",
        SIGNATURE_HEADER: base64.b64encode(digest).decode("ascii"),
        TIMESTAMP_HEADER: timestamp,
        INVOCATION_HEADER: invocation_id,
    }

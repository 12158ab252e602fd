"""Inbound checks: Zendesk and web-chat signatures, Zendesk payload parsing."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from fakes.signing import webchat_headers, zendesk_headers

from connectors.webchat.auth import AuthError, verify_webchat
from connectors.zendesk.signature import SignatureError, verify_zendesk_signature
from connectors.zendesk.webhooks import PayloadError, parse_notification

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_zendesk_signature_accepts_zendesks_own_test_vector_secret():
    """A body signed with HMAC-SHA256(secret, timestamp + body), base64, passes; one changed byte fails."""
    secret = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
    body = b'{"ticket": {"id": "1"}}'
    headers = zendesk_headers(secret, body, invocation_id="i", at=NOW)
    verify_zendesk_signature(secret, headers, body, now=NOW, max_age=300)
    with pytest.raises(SignatureError) as err:
        verify_zendesk_signature(secret, headers, body.replace(b"1", b"2"), now=NOW, max_age=300)
    assert err.value.code == "bad_signature"


def test_zendesk_signature_window():
    """A signature older (or further in the future) than the window is stale."""
    headers = zendesk_headers("s", b"{}", invocation_id="i", at=NOW - timedelta(seconds=301))
    with pytest.raises(SignatureError) as err:
        verify_zendesk_signature("s", headers, b"{}", now=NOW, max_age=300)
    assert err.value.code == "stale_signature"


def test_trigger_and_event_payloads_become_notifications():
    """Our trigger template and Zendesk's event schema both give the ticket id and a dedupe key."""
    trigger = parse_notification(
        {"handoff_guard": 1, "ticket": {"id": "42", "tags": "vip handoff_wrong", "updated_at": "T1"}},
        invocation_id="inv-9",
        raw=b"body",
    )
    assert (trigger.ticket_id, trigger.tags) == (42, ("vip", "handoff_wrong"))
    assert trigger.dedupe_key.startswith("trigger:42:T1:")
    event = parse_notification(
        {
            "type": "zen:event-type:ticket.comment_added",
            "id": "01HN",
            "subject": "zen:ticket:7",
            "detail": {"id": "7", "tags": ["a"]},
            "event": {},
        },
        invocation_id="inv-10",
    )
    assert (event.ticket_id, event.dedupe_key, event.event) == (7, "event:01HN", "ticket.comment_added")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ([], "unrecognised_payload"),
        ({"foo": 1}, "unrecognised_payload"),
        ({"type": "zen:event-type:user.deleted", "id": "x", "detail": {"id": "1"}}, "unsupported_event_type"),
        ({"type": "something.else"}, "unsupported_event_type"),
        ({"ticket": {"id": "abc"}}, "invalid_payload"),
        ({"ticket": {"id": "1"}, "surprise": True}, "invalid_payload"),
    ],
)
def test_bad_zendesk_payloads_have_codes(body, code):
    """Every payload we cannot use is refused with a specific code."""
    with pytest.raises(PayloadError) as err:
        parse_notification(body, invocation_id="i")
    assert err.value.code == code


def test_webchat_hmac_and_bearer():
    """Bearer secret and HMAC signature are accepted; wrong, missing or stale credentials are not."""
    body = json.dumps({"a": 1}).encode()
    now = time.time()
    verify_webchat("s3cret", webchat_headers("s3cret", body, timestamp=int(now)), body, now=now)
    verify_webchat("s3cret", {"authorization": "Bearer s3cret"}, body, now=now)
    cases = [
        ({"authorization": "Bearer nope"}, "bad_credentials"),
        ({"authorization": "Basic s3cret"}, "bad_credentials"),
        ({}, "missing_credentials"),
        (webchat_headers("other", body, timestamp=int(now)), "bad_credentials"),
        (webchat_headers("s3cret", body, timestamp=int(now) - 301), "stale_signature"),
    ]
    for headers, code in cases:
        with pytest.raises(AuthError) as err:
            verify_webchat("s3cret", headers, body, now=now)
        assert err.value.code == code

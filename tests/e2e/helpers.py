"""Builders shared by the end-to-end scenarios: seeded Zendesk data and correctly signed deliveries."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from fakes.fixtures import SLACK_SIGNING_SECRET, WEBCHAT_SECRET, ZENDESK_SECRET
from fakes.signing import slack_headers, webchat_headers, zendesk_headers
from fakes.zendesk import FakeZendesk

ANGRY = "This is absolutely ridiculous!! Third time I ask, your service is useless and I am furious."


def seed_vip_ticket(fake: FakeZendesk) -> int:
    """A VIP customer's ticket (VIP by organization tag), plus groups spread over several pages."""
    for name in ("Support", "Billing", "Escalations", "Trust & Safety", "VIP Support"):
        fake.add_group(name)
    org = fake.add_organization(name="Globex", tags=["vip"])
    customer = fake.add_user(name="Ann Smith", email="ann@globex.example", organization_id=org)
    return fake.add_ticket(
        requester_id=customer,
        subject="Charged twice",
        organization_id=org,
        comments=[
            (customer, "Hello, my card was charged twice for order 1234."),
            (customer, "Can you please check?"),
            (customer, "Still waiting for an answer."),
        ],
    )


def group_id(fake: FakeZendesk, name: str) -> int:
    return next(g["id"] for g in fake.groups.values() if g["name"] == name)


def trigger_body(ticket_id: int, tags: str = "", updated_at: str | None = None) -> bytes:
    """Our trigger template's body; ``updated_at`` changes with every ticket update, as in Zendesk."""
    stamp = updated_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return json.dumps(
        {
            "handoff_guard": 1,
            "event": "ticket.updated",
            "ticket": {"id": str(ticket_id), "status": "open", "tags": tags, "updated_at": stamp},
        }
    ).encode()


def zendesk_delivery(
    ticket_id: int,
    *,
    invocation_id: str | None = None,
    secret: str = ZENDESK_SECRET,
    body: bytes | None = None,
    **kwargs: Any,
) -> tuple[bytes, dict[str, str]]:
    raw = body if body is not None else trigger_body(ticket_id)
    return raw, zendesk_headers(secret, raw, invocation_id=invocation_id or str(uuid.uuid4()), **kwargs)


def webchat_post(payload: dict[str, Any], *, signed: bool = True) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(payload).encode()
    if signed:
        return raw, webchat_headers(WEBCHAT_SECRET, raw)
    return raw, {"content-type": "application/json", "authorization": f"Bearer {WEBCHAT_SECRET}"}


def slack_click(
    action_id: str,
    *,
    user_id: str,
    channel: str,
    ts: str,
    blocks: list[dict[str, Any]],
    value: str,
    secret: str = SLACK_SIGNING_SECRET,
) -> tuple[bytes, dict[str, str]]:
    """A block_actions payload exactly as Slack posts it: form-encoded ``payload=<json>``, signed."""
    from urllib.parse import urlencode

    payload = {
        "type": "block_actions",
        "team": {"id": "T0001", "domain": "acme"},
        "user": {"id": user_id, "username": "agent", "team_id": "T0001"},
        "api_app_id": "A0APP",
        "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False},
        "trigger_id": "1.2.3",
        "channel": {"id": channel, "name": "alerts"},
        "message": {"type": "message", "ts": ts, "text": "alert", "blocks": blocks},
        "response_url": "https://hooks.slack.com/actions/T0001/1/abc",
        "actions": [
            {
                "action_id": action_id,
                "block_id": "handoff_actions",
                "type": "button",
                "value": value,
                "action_ts": "1700000001.000100",
            }
        ],
    }
    raw = urlencode({"payload": json.dumps(payload)}).encode()
    return raw, slack_headers(secret, raw)

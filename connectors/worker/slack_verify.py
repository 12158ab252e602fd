"""Check a Slack request before slack-bolt sees it: signature first, then the body's shape.

slack-bolt verifies signatures too, but it turns some malformed requests into exceptions (a
non-numeric ``X-Slack-Request-Timestamp`` raises ``ValueError`` in ``int()``; ``payload=%7Bnot+json``
raises a ``JSONDecodeError``; deeply nested JSON a ``RecursionError``), which the caller saw as a 500.
Here every such request is refused with a clear 4xx before bolt runs: unsigned or badly signed ones with
401 (nothing about the body is looked at), signed but malformed ones with 400.

::

    SlackRequestError(status, code)   401 missing_signature | bad_timestamp | stale_signature |
                                          bad_signature
                                      400 malformed_body
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import parse_qs

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.worker.http import ApiError, parse_json, validation_message

MAX_SKEW_SECONDS = 300


class SlackRequestError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def verify_slack_signature(secret: str, headers: Mapping[str, str], body: bytes, *, now: float) -> None:
    """Slack's v0 scheme: ``v0=`` + hex HMAC-SHA256(secret, ``v0:<timestamp>:<body>``), 5 minutes."""
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not timestamp or not signature:
        raise SlackRequestError(401, "missing_signature", "X-Slack-Signature and -Request-Timestamp are required")
    if not timestamp.isascii() or not timestamp.isdigit():
        raise SlackRequestError(401, "bad_timestamp", "X-Slack-Request-Timestamp must be unix seconds")
    if abs(now - int(timestamp)) > MAX_SKEW_SECONDS:
        raise SlackRequestError(401, "stale_signature", f"the request is older than {MAX_SKEW_SECONDS} seconds")
    if not secret.strip():
        raise SlackRequestError(401, "bad_signature", "no Slack signing secret is configured")
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    expected = "v0=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode("ascii"), signature.strip().encode("ascii", "replace")):
        raise SlackRequestError(401, "bad_signature", "invalid Slack signature")


def check_slack_body(content_type: str, body: bytes, *, max_depth: int) -> None:
    """A signed body bolt can parse: UTF-8; a form whose ``payload`` is a JSON object; or a JSON object."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SlackRequestError(400, "malformed_body", "the body is not UTF-8") from exc
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json":
        _shaped(_EventEnvelope, _json_object(text, "the body", max_depth), "the body")
        return
    form = parse_qs(text, keep_blank_values=True)
    if "payload" in form:
        payload = _json_object(form["payload"][0], "the payload field", max_depth)
        model: type[BaseModel] = _BlockActions if payload.get("type") == "block_actions" else _Interaction
        _shaped(model, payload, "the payload field")


def _shaped(model: type[BaseModel], value: dict[str, Any], what: str) -> None:
    try:
        model.model_validate(value)
    except ValidationError as exc:
        raise SlackRequestError(400, "malformed_body", f"{what}: {validation_message(exc.errors())}") from exc


def _json_object(text: str, what: str, max_depth: int) -> dict[str, Any]:
    try:
        value = parse_json(text, max_depth=max_depth)
    except ApiError as exc:
        raise SlackRequestError(400, "malformed_body", f"{what} is not valid JSON: {exc.message}") from exc
    if not isinstance(value, dict):
        raise SlackRequestError(400, "malformed_body", f"{what} must be a JSON object")
    return value


# The parts of an interactivity payload that slack-bolt and our button listeners index into. bolt
# trusts Slack to send them in shape; a signed payload with ``"actions": null`` or ``"user": "x"``
# crashed its matcher, and an Events API body with ``"event": null`` its middleware (500s found by
# tests/e2e/test_fuzz_endpoints.py). Unknown fields are allowed.


class _Named(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str | None = None


class _Interaction(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    team: _Named = Field(default_factory=_Named)  # absent is fine; null is not (bolt indexes it)
    user: _Named = Field(default_factory=_Named)  # absent is fine; null is not (bolt indexes it)
    channel: _Named = Field(default_factory=_Named)  # absent is fine; null is not (bolt indexes it)
    enterprise: _Named | None = None


class _Action(BaseModel):
    model_config = ConfigDict(extra="allow")

    action_id: str
    block_id: str | None = None
    type: str | None = None
    value: str | None = None


class _Container(BaseModel):
    model_config = ConfigDict(extra="allow")

    channel_id: str | None = None
    message_ts: str | None = None


class _AlertMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    ts: str | None = None
    blocks: list[dict[str, Any]] = []


class _BlockActions(_Interaction):
    type: Literal["block_actions"]
    actions: list[_Action] = Field(min_length=1)
    container: _Container = Field(default_factory=_Container)  # absent is fine; null is not (bolt indexes it)
    message: _AlertMessage = Field(default_factory=_AlertMessage)  # absent is fine; null is not (bolt indexes it)


class _Event(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str | None = None


class _EventEnvelope(BaseModel):
    """An Events API body (``event_callback``, ``url_verification``, ...)."""

    model_config = ConfigDict(extra="allow")

    type: str
    event: _Event = Field(default_factory=_Event)  # absent is fine; null is not (bolt indexes it)
    team_id: str | None = None
    api_app_id: str | None = None
    enterprise_id: str | None = None
    authorizations: list[dict[str, Any]] | None = None

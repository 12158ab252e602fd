"""Parse the two kinds of Zendesk webhook bodies into one small notification.

Both kinds are treated as *notifications*: they say which ticket changed, and the worker re-reads the
ticket through the API (fresh, uncached) before deciding. That keeps the trigger template tiny and free
of customer text (Zendesk substitutes placeholders as plain text, so a quote in a comment could break a
JSON template), and means a forged-but-signed payload cannot smuggle in a transcript.

- Trigger/automation webhooks carry the body of :data:`connectors.zendesk.template.TRIGGER_TEMPLATE`.
- Event subscriptions carry Zendesk's fixed schema: ``{"type": "zen:event-type:ticket.created",
  "id": ..., "subject": "zen:ticket:35436", "detail": {"id": "35436", "tags": [...], ...}}``.

::

    PayloadError(code)       unrecognised_payload | unsupported_event_type | invalid_payload
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

EVENT_PREFIX = "zen:event-type:"
SUPPORTED_EVENTS = frozenset({"ticket.created", "ticket.comment_added", "ticket.tags_changed"})


class PayloadError(Exception):
    """The body is JSON but not a Zendesk payload we understand; ``code`` goes into the 4xx answer."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _tags(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return tuple(t for t in value.replace(",", " ").split() if t)
    if isinstance(value, list | tuple):
        return tuple(str(t) for t in value)
    raise ValueError("tags must be a list or a space-separated string")


MAX_TEXT = 50_000


class TriggerRequester(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    name: Annotated[str, Field(max_length=200)] | None = None
    email: Annotated[str, Field(max_length=320)] | None = None


class TriggerTicket(BaseModel):
    """The ``ticket`` object of our trigger template (extra placeholders an admin adds are ignored).

    ``latest_comment`` and ``requester`` are optional and only read in local mode (no API credentials to
    read the ticket): a test request, or a template extended with ``{{ticket.latest_comment}}``, then
    gets a real decision instead of being ignored.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: Annotated[int, Field(gt=0)]
    tags: tuple[str, ...] = ()
    status: str | None = None
    updated_at: str | None = None
    subject: Annotated[str, Field(max_length=1_000)] | None = None
    latest_comment: Annotated[str, Field(max_length=MAX_TEXT)] | None = None
    requester: TriggerRequester | None = None

    _split_tags = field_validator("tags", mode="before")(_tags)


class TriggerPayload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    handoff_guard: Literal[1] = 1
    event: str = "ticket.updated"
    ticket: TriggerTicket


class EventDetail(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: Annotated[int, Field(gt=0)]
    tags: tuple[str, ...] = ()

    _split_tags = field_validator("tags", mode="before")(_tags)


class EventPayload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    type: str
    id: Annotated[str, Field(min_length=1, max_length=200)]
    time: str | None = None
    subject: str | None = None
    detail: EventDetail


class ZendeskNotification(BaseModel):
    """What the inbox stores: which ticket, which event, and the key that makes a delivery unique."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ticket_id: int
    event: str
    dedupe_key: str
    tags: tuple[str, ...] = ()
    #: The customer's text when the payload carried it (trigger ``latest_comment``); used in local mode only.
    text: str | None = None
    subject: str | None = None
    requester_name: str | None = None
    requester_email: str | None = None


def trigger_key(ticket_id: int, updated_at: str | None, raw: bytes, signed_at: str) -> str:
    """The dedupe key of a trigger delivery, made of what the signature covers.

    The invocation id header is not signed, so a captured delivery replayed with a new invocation id
    used to count as new. The key is the ticket, the ticket's ``updated_at`` (or, if the template lacks
    it, the signed timestamp) and a hash of the signed body: a replay is the same key, a real change of
    the ticket is a new one. Zendesk's own retries of one invocation carry the same body and dedupe too.
    """
    digest = hashlib.sha256(raw).hexdigest()[:32]
    return f"trigger:{ticket_id}:{updated_at or signed_at}:{digest}"


def parse_notification(
    body: Any, *, invocation_id: str | None, raw: bytes = b"", signed_at: str = ""
) -> ZendeskNotification:
    """Turn a decoded webhook body into a :class:`ZendeskNotification` or raise :class:`PayloadError`.

    ``raw`` and ``signed_at`` are the signed body and signature timestamp, for the trigger dedupe key.
    """
    if not isinstance(body, dict):
        raise PayloadError("unrecognised_payload", "the body must be a JSON object")
    try:
        if "type" in body:
            event_type = str(body["type"])
            if not event_type.startswith(EVENT_PREFIX):
                raise PayloadError("unsupported_event_type", f"unknown event type {event_type[:80]!r}")
            short = event_type.removeprefix(EVENT_PREFIX)
            if short not in SUPPORTED_EVENTS:
                raise PayloadError(
                    "unsupported_event_type",
                    f"event type {short[:80]!r} is not handled; subscribe to {sorted(SUPPORTED_EVENTS)}",
                )
            event = EventPayload.model_validate(body)
            return ZendeskNotification(
                ticket_id=event.detail.id, event=short, dedupe_key=f"event:{event.id}", tags=event.detail.tags
            )
        if "ticket" in body:
            trigger = TriggerPayload.model_validate(body)
            if not invocation_id:
                raise PayloadError("invalid_payload", "x-zendesk-webhook-invocation-id header is required")
            t = trigger.ticket
            return ZendeskNotification(
                ticket_id=t.id,
                event=f"trigger:{trigger.event}",
                dedupe_key=trigger_key(t.id, t.updated_at, raw, signed_at),
                tags=t.tags,
                text=(t.latest_comment or "").strip() or None,
                subject=t.subject,
                requester_name=t.requester.name if t.requester else None,
                requester_email=t.requester.email if t.requester else None,
            )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(body)"
        raise PayloadError("invalid_payload", f"{where}: {first['msg']}") from exc
    raise PayloadError("unrecognised_payload", "expected a trigger payload with 'ticket' or an event with 'type'")

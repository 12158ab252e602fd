"""The conversation the core decides on.

These models are the core's input contract. Connectors parse vendor payloads (Zendesk tickets, web-chat
posts) into them at the boundary, so the core never handles raw dictionaries. Only ``id`` and
``messages`` are required: a web chat knows little about its visitor, a Zendesk ticket knows a lot.
Unknown keys are rejected, so a misspelt field in a simulator file is an error rather than a silently
ignored value; free-form data belongs in ``Context.extras``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

#: A money amount: a JSON number or a decimal string (``"19.90"``), never negative. The published schema
#: says exactly what is accepted (pydantic's default allows ``"-1"`` in the string branch, then refuses it).
Amount = Annotated[
    Decimal,
    Field(ge=0),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": r"^\+?(\d+(\.\d*)?|\.\d+)$"},
            ]
        }
    ),
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)


class Role(StrEnum):
    """Who wrote a message. ``agent`` means a human already took the conversation over."""

    CUSTOMER = "customer"
    ASSISTANT = "assistant"
    AGENT = "agent"


class Message(_Frozen):
    role: Role
    text: Annotated[str, Field(max_length=50_000)]
    created_at: datetime | None = None
    #: The assistant's own confidence in this answer (assistant messages only), 0 to 1.
    confidence: Annotated[float | None, Field(ge=0.0, le=1.0)] = None
    #: True when the assistant says it could not answer (its "fallback" reply).
    fallback: bool = False
    id: str | None = None


class Customer(_Frozen):
    id: str | None = None
    email: str | None = None
    name: str | None = None
    tags: tuple[str, ...] = ()
    organization: str | None = None
    plan: str | None = None
    lifetime_value: Amount | None = None
    phone: str | None = None


class Context(_Frozen):
    order_id: str | None = None
    order_total: Amount | None = None
    refund_amount: Amount | None = None
    currency: Annotated[str | None, Field(max_length=8)] = None
    purchase_date: datetime | None = None
    page_url: str | None = None
    product: str | None = None
    #: How many refunds this customer asked for before (from the help desk), for refund_exception.
    #: Strict: ``false`` or ``"2"`` is refused rather than read as a count.
    previous_refunds: Annotated[int | None, Field(ge=0, strict=True)] = None
    ticket_id: str | None = None
    #: What the help desk or CRM says a sales lead is worth (wins over the policy's value rules).
    lead_value: Annotated[Decimal | None, Field(ge=0)] = None
    extras: dict[str, Any] = Field(default_factory=dict)


class ConversationState(_Frozen):
    """What happened earlier in this conversation, as remembered by the caller (the worker's store).

    The core is stateless; the worker passes this back in so that a handoff is offered at most once and
    a conversation that is already with a person stays with a person.
    """

    handed_off: bool = False
    handed_off_reason: str | None = None
    handoff_offered: bool = False


class Conversation(_Frozen):
    id: Annotated[str, Field(min_length=1, max_length=200)]
    channel: Annotated[str, Field(min_length=1, max_length=40)] = "webchat"
    customer: Customer = Field(default_factory=Customer)
    messages: Annotated[tuple[Message, ...], Field(min_length=1, max_length=2_000)]
    context: Context = Field(default_factory=Context)
    #: ISO 639-1 code if the caller knows it; otherwise the core detects it.
    language: Annotated[str | None, Field(max_length=8)] = None
    state: ConversationState = Field(default_factory=ConversationState)

    @property
    def customer_messages(self) -> tuple[Message, ...]:
        return tuple(m for m in self.messages if m.role is Role.CUSTOMER)

    @property
    def last_customer_message(self) -> Message | None:
        for message in reversed(self.messages):
            if message.role is Role.CUSTOMER:
                return message
        return None

    def index_of(self, message: Message) -> int:
        """Position of ``message`` in the transcript (identity first, equality as a fallback)."""
        for i, m in enumerate(self.messages):
            if m is message:
                return i
        return self.messages.index(message)

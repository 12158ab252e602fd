"""Web-chat request and response models. Unknown fields are rejected with a 422 that names them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from handoff_core import Context, Customer, Decision, Role


class WebchatMessageIn(BaseModel):
    """One message of a web-chat conversation, posted as it is written."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "conversation_id": "chat-8731",
                    "message_id": "m-3",
                    "role": "customer",
                    "text": "This is the third time I ask. I want to talk to a person now!",
                    "customer": {"email": "ann@example.com", "name": "Ann", "tags": ["vip"]},
                }
            ]
        },
    )

    conversation_id: Annotated[str, Field(min_length=1, max_length=200)]
    #: Unique per conversation; posting the same id again returns the same answer with no second effect.
    message_id: Annotated[str, Field(min_length=1, max_length=200)]
    role: Role
    text: Annotated[str, Field(min_length=1, max_length=50_000)]
    created_at: datetime | None = None
    confidence: Annotated[float | None, Field(ge=0.0, le=1.0)] = None
    fallback: bool = False
    customer: Customer | None = None
    context: Context | None = None
    language: Annotated[str | None, Field(max_length=8)] = None


class WebchatReply(Decision):
    """The core's decision plus what the assistant must do now."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    conversation_id: str
    #: This decision's id in the audit log (feedback and reports refer to it).
    decision_id: str
    message_id: str | None = None
    #: True once the conversation is with a person: the assistant must not answer any more.
    stay_silent: bool

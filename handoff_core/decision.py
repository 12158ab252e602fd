"""The decision: what the assistant must do now, and why.

A decision is data that explains itself: every reason carries the trigger that fired, the evidence
(which message, which words) and a score, so the audit log, the Zendesk note and the Slack alert are all
rendered from the same object and never from logs.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Action(StrEnum):
    """What the assistant must do. Ordered: a stronger action always wins."""

    CONTINUE = "continue"
    OFFER_HANDOFF = "offer_handoff"
    HANDOFF = "handoff"

    @property
    def rank(self) -> int:
        return _ACTION_RANK[self]


_ACTION_RANK = {Action.CONTINUE: 0, Action.OFFER_HANDOFF: 1, Action.HANDOFF: 2}


class TriggerName(StrEnum):
    HUMAN_REQUEST = "human_request"
    RESTRICTED_TOPIC = "restricted_topic"
    REFUND_EXCEPTION = "refund_exception"
    VIP = "vip"
    SENTIMENT = "sentiment"
    LOW_CONFIDENCE = "low_confidence"
    BOT_LOOP = "bot_loop"
    SALES_LEAD = "sales_lead"
    #: Not a trigger: the conversation is already with a person, so the assistant stays silent.
    ALREADY_HANDED_OFF = "already_handed_off"


class Priority(StrEnum):
    """Zendesk's ticket priorities."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        return _PRIORITY_RANK[self]


_PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class Evidence(_Frozen):
    """Where a trigger saw what it saw."""

    #: Index of the message in the conversation, or None for evidence from customer data or context.
    message_index: int | None = None
    #: The words or phrases that matched (as written by the customer where possible).
    matched: tuple[str, ...] = ()
    #: A short quote of the message around the match.
    quote: str | None = None
    #: The customer or context field the evidence comes from (e.g. ``customer.tags``).
    field: str | None = None
    #: For a trained detector or an example-defined label: its probability or similarity, in [0, 1].
    score: float | None = None
    #: For an example-defined label: the nearest example (from the policy, not from the customer).
    example: str | None = None
    #: Its similarity to the message, in [0, 1], when ``score`` is a fitted head's output rather than that.
    similarity: Annotated[float, Field(ge=0.0, le=1.0)] | None = None


class Reason(_Frozen):
    trigger: TriggerName
    topic: str | None = None
    action: Action
    detail: str
    evidence: tuple[Evidence, ...] = ()
    #: Strength of the signal in [0, 1]; for sentiment the magnitude of negativity.
    score: Annotated[float, Field(ge=0.0, le=1.0)]
    severity: int = 0
    priority: Priority = Priority.NORMAL
    group: str | None = None
    tags: tuple[str, ...] = ()
    alert: bool = False
    slack_channel: str | None = None
    schedule: str | None = None


class Route(_Frozen):
    group: str | None = None
    tags: tuple[str, ...] = ()
    #: Slack channel for the alert (the route's own, or the on-call channel out of hours); None: the default.
    slack_channel: str | None = None
    #: The business-hours schedule of the people behind the route.
    schedule: str | None = None


class Lead(_Frozen):
    """A buying-intent conversation and what it is worth by the policy's rules."""

    value: Decimal
    currency: str | None = None
    threshold: Decimal
    #: At or above the threshold: handed to sales.
    qualified: bool
    #: How the value was reached ("300 seats x 40", "plan enterprise", "company domain acme.com").
    basis: tuple[str, ...] = ()
    team_size: int | None = None
    plan: str | None = None
    company: str | None = None
    timeline: str | None = None


class KnowledgeMatch(_Frozen):
    id: str
    title: str
    score: float


class Signals(_Frozen):
    #: The most negative customer message, in [-1, 1].
    sentiment: float = 0.0
    #: Sentiment of the last customer message.
    last_sentiment: float = 0.0
    #: Change from the first to the last customer message in the trend window (negative: worsening).
    sentiment_trend: float = 0.0
    angry: bool = False
    #: How well approved knowledge covers the last question, [0, 1]; None when no knowledge is set.
    knowledge_coverage: float | None = None
    knowledge_status: str | None = None
    #: The assistant's last self-reported confidence.
    confidence: float | None = None


class PolicyRef(_Frozen):
    version: str
    hash: str


class Decision(_Frozen):
    id: str
    action: Action
    reasons: tuple[Reason, ...] = ()
    signals: Signals = Field(default_factory=Signals)
    priority: Priority = Priority.NORMAL
    route: Route = Field(default_factory=Route)
    alert: bool = False
    urgent: bool = False
    language: str = "en"
    #: For the agent: Issue, Details, Assistant so far, Customer, Why, Still missing (≤ summary.max_chars).
    summary: str | None = None
    #: The Issue line and why, ≤ 300 characters, for a phone (the Slack alert).
    summary_short: str | None = None
    #: Fields the policy wants collected before handing over that the conversation does not have yet.
    missing_fields: tuple[str, ...] = ()
    collected: dict[str, str] = Field(default_factory=dict)
    #: What the assistant should tell the customer (in their language); None for ``continue``.
    customer_message: str | None = None
    #: Approved knowledge entries that cover the question (``continue`` with knowledge configured).
    knowledge: tuple[KnowledgeMatch, ...] = ()
    policy: PolicyRef
    knowledge_version: str | None = None
    #: Whether people are at work on the route's schedule now; None when the policy has no schedules.
    agents_available: bool | None = None
    #: When a person is expected to reply (next opening out of hours); None when not known or promised.
    expected_reply_by: datetime | None = None
    #: Out of hours, an urgent handoff paged the on-call channel.
    on_call: bool = False
    lead: Lead | None = None

    @property
    def is_handoff(self) -> bool:
        return self.action is Action.HANDOFF

    @property
    def triggers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.trigger.value for r in self.reasons))

"""What every trigger shares: the prepared context it reads and the contract it implements.

A trigger is a small pure callable: it reads a :class:`TriggerContext` and returns the reasons it
found (each with evidence and a score) or nothing. New behaviour is a new small trigger, not a new
branch in a big one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from handoff_core.analysis import MessageAnalysis, MessageDetector
from handoff_core.decision import Action, Evidence, KnowledgeMatch, Priority, Reason, TriggerName
from handoff_core.detectors import DetectorScore
from handoff_core.features import MessageFeatures
from handoff_core.models import Conversation, Message
from handoff_core.policy.schema import Policy, TriggerConfig
from handoff_core.sentiment import MessageSentiment
from handoff_core.text.normalize import quote
from handoff_core.text.phrases import AnalyzedText, PhraseHit
from handoff_core.topics import TopicHit


@dataclass(frozen=True, slots=True)
class TriggerContext:
    """Everything about one conversation that triggers read: per-message records plus a few folds.

    Per-message work belongs in a :class:`MessageDetector` (done once per message, see
    :mod:`handoff_core.analysis`); a trigger's ``__call__`` should only fold over the records.
    """

    conversation: Conversation
    policy: Policy
    now: datetime
    language: str
    #: One record per message of the conversation (same indexes).
    records: tuple[MessageAnalysis, ...]
    #: Indexes of the customer messages, in order.
    customer_indexes: tuple[int, ...]
    #: Analysed customer messages by their index in the conversation (a view of the records).
    analyzed: Mapping[int, AnalyzedText]
    #: Sentiment of each customer message, in conversation order.
    sentiments: tuple[MessageSentiment, ...]
    topic_hits: tuple[TopicHit, ...]
    knowledge_score: float | None = None
    knowledge_status: str | None = None
    knowledge_evidence: tuple[str, ...] = field(default_factory=tuple)
    #: Approved entries covering the last question (when coverage is "covered").
    knowledge_matches: tuple[KnowledgeMatch, ...] = field(default_factory=tuple)
    #: Featurised customer messages and the trained detectors' scores, by message index (empty when off).
    features: Mapping[int, MessageFeatures] = field(default_factory=dict)
    model_scores: Mapping[int, dict[str, DetectorScore]] = field(default_factory=dict)

    @property
    def last_customer_index(self) -> int | None:
        return self.customer_indexes[-1] if self.customer_indexes else None

    def message(self, index: int) -> Message:
        return self.conversation.messages[index]


class Trigger(Protocol):
    name: TriggerName
    #: What the trigger computes per message, once, when the message arrives.
    detectors: tuple[MessageDetector[object], ...]

    def __call__(self, ctx: TriggerContext) -> Sequence[Reason]: ...


def make_reason(
    trigger: TriggerName,
    config: TriggerConfig,
    *,
    detail: str,
    score: float,
    evidence: Sequence[Evidence] = (),
    topic: str | None = None,
    action: Action | None = None,
    alert: bool | None = None,
    priority: Priority | None = None,
    severity: int | None = None,
) -> Reason:
    """A reason with the trigger's configured route, alert and severity filled in."""
    return Reason(
        trigger=trigger,
        topic=topic,
        action=action or config.action,
        detail=detail,
        evidence=tuple(evidence),
        score=max(0.0, min(1.0, round(score, 4))),
        severity=config.severity if severity is None else severity,
        priority=priority or config.route.priority or Priority.NORMAL,
        group=config.route.group,
        tags=config.route.tags,
        alert=config.alert if alert is None else alert,
        slack_channel=config.route.slack_channel,
        schedule=config.route.schedule,
    )


def phrase_evidence(index: int, text: AnalyzedText, hits: Sequence[PhraseHit[object]]) -> Evidence:
    """Evidence quoting the words as the customer wrote them."""
    matched = tuple(dict.fromkeys(text.excerpt(h.first, h.last) for h in hits))
    first = hits[0]
    return Evidence(
        message_index=index,
        matched=matched,
        quote=quote(text.text, text.span(first.first)[0], text.span(first.last)[1]),
    )

"""``restricted_topic``: the customer raises a topic the assistant must not handle (refunds, security…).

Topic detection itself lives in :mod:`handoff_core.topics`; this trigger decides which mentions count. A
sentence that only asks about the rules follows the topic's ``policy_questions`` setting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from handoff_core.analysis import MessageAnalysis, MessageDetector, running
from handoff_core.decision import Evidence, Reason, TriggerName
from handoff_core.models import Role
from handoff_core.policy.schema import Policy
from handoff_core.topics import TOPIC_HITS, TopicHit
from handoff_core.triggers.base import TriggerContext, make_reason, phrase_evidence

#: Where each record keeps the counted hits so far, by topic (a running fold, :func:`running`).
_SO_FAR = "restricted_topic.so_far"


@dataclass(frozen=True, slots=True)
class _Topic:
    """What the reason of one topic reads from its counted hits so far (those of every customer message)."""

    #: The evidence of the last three hits (a reason quotes only those), made when each hit was counted.
    last: tuple[Evidence, ...]
    #: Every hit came from a co-occurrence (weaker evidence).
    combo_only: bool
    #: The best score of a learned hit, and how the learned hits were found ("model", "examples",
    #: "examples_head").
    learned: float | None
    how: frozenset[str]
    #: Some hit was a listed phrase.
    phrased: bool
    #: Every hit only asks about the rules.
    rules_only: bool

    def with_hit(self, hit: TopicHit, evidence: Evidence) -> _Topic:
        learned, how = self.learned, self.how
        if hit.score is not None:
            learned = hit.score if learned is None else max(learned, hit.score)
            # The example head's hits carry the nearest example's similarity beside its own score.
            how = how | {"examples_head" if hit.similarity is not None else hit.via}
        return _Topic(
            (*self.last[-2:], evidence),
            self.combo_only and hit.via == "combo",
            learned,
            how,
            self.phrased or hit.via == "phrase",
            self.rules_only and hit.policy_question,
        )


#: How a learned hit was found, as the reason's detail says it.
_HOW = {"model": "trained detector", "examples_head": "examples head", "examples": "nearest example"}

_NO_TOPIC = _Topic((), True, None, frozenset(), False, True)
_NONE: dict[str, _Topic] = {}


class RestrictedTopic:
    name = TriggerName.RESTRICTED_TOPIC
    #: Reads only what the engine analyses for every trigger (topics, sentiment) or the customer record.
    detectors: tuple[MessageDetector[object], ...] = ()

    def __init__(self, policy: Policy) -> None:
        self.config = policy.triggers.restricted_topic

    def __call__(self, ctx: TriggerContext) -> Sequence[Reason]:
        if not self.config.enabled:
            return ()
        # A fold over the records (each keeps the state up to itself): a decision reads the new message's
        # hits only, however many earlier messages raised a topic.
        by_topic = running(ctx.records, _SO_FAR, _NONE, self._step)
        reasons = []
        for name, seen in by_topic.items():
            topic = self.config.topics[name]
            label = topic.label or name.replace("_", " ")
            phrased = seen.phrased
            learned = seen.learned
            detail = f"restricted topic: {label}"
            if learned is not None and not phrased:
                how = seen.how
                detail += " (" + " and ".join(sorted(_HOW.get(v, "nearest example") for v in how))
                detail += f", score {learned:.2f})"
            if seen.rules_only:
                detail += " (a question about the rules; this topic always goes to a person)"
            reasons.append(
                make_reason(
                    self.name,
                    topic,
                    topic=name,
                    detail=detail,
                    score=0.9 if phrased else learned if learned is not None else 0.75 if seen.combo_only else 0.9,
                    evidence=seen.last,
                )
            )
        return reasons

    def _step(self, so_far: dict[str, _Topic], record: MessageAnalysis) -> dict[str, _Topic]:
        """The counted hits up to ``record``: ``so_far`` itself when its message raises no topic."""
        hits = record.results.get(TOPIC_HITS) if record.role is Role.CUSTOMER else None
        if not hits:
            return so_far
        topics = self.config.topics
        state = so_far
        for hit in cast("list[TopicHit]", hits):
            if hit.policy_question and topics[hit.topic].policy_questions == "continue":
                continue
            if state is so_far:
                state = dict(so_far)  # the earlier records keep theirs
            # Evidence of a hit reads its own message only: made once, when the hit is counted.
            evidence = (
                phrase_evidence(hit.message_index, record.analyzed, list(hit.hits))
                if hit.hits
                else Evidence(
                    message_index=hit.message_index,
                    matched=hit.matched,
                    score=hit.score,
                    example=hit.nearest,
                    similarity=hit.similarity,
                )
            )
            state[hit.topic] = state.get(hit.topic, _NO_TOPIC).with_hit(hit, evidence)
        return state

"""``low_confidence``: the assistant is unsure, or no approved knowledge covers the question.

Two independent signals: the assistant's own confidence on its latest answer, and, when approved
knowledge is configured, whether an entry covers the customer's latest question ("no approved source")
or two entries fit about equally ("ambiguous").
"""

from __future__ import annotations

from collections.abc import Sequence

from handoff_core.analysis import MessageAnalysis, MessageDetector, running
from handoff_core.decision import Evidence, Reason, TriggerName
from handoff_core.models import Role
from handoff_core.policy.schema import Policy
from handoff_core.triggers.base import TriggerContext, make_reason

#: Where each record keeps (index, confidence) of the assistant's latest message with a confidence up to it.
_LATEST = "low_confidence.latest"


def _latest_confidence(latest: tuple[int, float] | None, record: MessageAnalysis) -> tuple[int, float] | None:
    if record.role is Role.ASSISTANT and record.confidence is not None:
        return record.index, record.confidence
    return latest


class LowConfidence:
    name = TriggerName.LOW_CONFIDENCE
    #: Reads only what the engine analyses for every trigger (topics, sentiment) or the customer record.
    detectors: tuple[MessageDetector[object], ...] = ()

    def __init__(self, policy: Policy) -> None:
        self.config = policy.triggers.low_confidence

    def __call__(self, ctx: TriggerContext) -> Sequence[Reason]:
        cfg = self.config
        if not cfg.enabled:
            return ()
        reasons = []
        # The assistant's latest stated confidence, resumed from the last decision's records.
        latest = running(ctx.records, _LATEST, None, _latest_confidence)
        if latest is not None:
            index, confidence = latest
            if confidence < cfg.threshold:
                reasons.append(
                    make_reason(
                        self.name,
                        cfg,
                        topic="assistant_confidence",
                        detail=f"assistant confidence {confidence:.2f} is below {cfg.threshold:.2f}",
                        score=1.0 - confidence,
                        evidence=[Evidence(message_index=index, matched=(f"{confidence:.2f}",))],
                    )
                )
        status = ctx.knowledge_status
        if cfg.knowledge.enabled and status in {"no_source", "ambiguous"} and ctx.knowledge_score is not None:
            last = ctx.last_customer_index
            detail = (
                f"no approved source covers the question (best match {ctx.knowledge_score:.2f})"
                if status == "no_source"
                else "two approved sources match about equally: " + ", ".join(ctx.knowledge_evidence)
            )
            reasons.append(
                make_reason(
                    self.name,
                    cfg,
                    topic=status,
                    detail=detail,
                    score=1.0 - ctx.knowledge_score if status == "no_source" else 0.5,
                    evidence=[Evidence(message_index=last, matched=ctx.knowledge_evidence)],
                )
            )
        return reasons

"""``restricted_topic``: the customer raises a topic the assistant must not handle (refunds, security…).

Topic detection itself lives in :mod:`handoff_core.topics`; this trigger decides which mentions count. A
sentence that only asks about the rules follows the topic's ``policy_questions`` setting.
"""

from __future__ import annotations

from collections.abc import Sequence

from handoff_core.analysis import MessageDetector
from handoff_core.decision import Evidence, Reason, TriggerName
from handoff_core.policy.schema import Policy
from handoff_core.topics import TopicHit
from handoff_core.triggers.base import TriggerContext, make_reason, phrase_evidence


class RestrictedTopic:
    name = TriggerName.RESTRICTED_TOPIC
    #: Reads only what the engine analyses for every trigger (topics, sentiment) or the customer record.
    detectors: tuple[MessageDetector[object], ...] = ()

    def __init__(self, policy: Policy) -> None:
        self.config = policy.triggers.restricted_topic

    def __call__(self, ctx: TriggerContext) -> Sequence[Reason]:
        if not self.config.enabled:
            return ()
        by_topic: dict[str, list[TopicHit]] = {}
        for hit in ctx.topic_hits:
            topic = self.config.topics[hit.topic]
            if hit.policy_question and topic.policy_questions == "continue":
                continue
            by_topic.setdefault(hit.topic, []).append(hit)
        reasons = []
        for name, hits in by_topic.items():
            topic = self.config.topics[name]
            label = topic.label or name.replace("_", " ")
            # Only the last three are reported: quote only those (a long chat may mention a topic often).
            evidence = [
                phrase_evidence(h.message_index, ctx.analyzed[h.message_index], list(h.hits))
                if h.hits
                else Evidence(message_index=h.message_index, matched=h.matched, score=h.score, example=h.nearest)
                for h in hits[-3:]
            ]
            combo_only = all(h.via == "combo" for h in hits)
            learned = [h.score for h in hits if h.score is not None]
            phrased = any(h.via == "phrase" for h in hits)
            detail = f"restricted topic: {label}"
            if learned and not phrased:
                how = {h.via for h in hits if h.score is not None}
                detail += " (" + " and ".join(
                    sorted("trained detector" if v == "model" else "nearest example" for v in how)
                )
                detail += f", score {max(learned):.2f})"
            if all(h.policy_question for h in hits):
                detail += " (a question about the rules; this topic always goes to a person)"
            reasons.append(
                make_reason(
                    self.name,
                    topic,
                    topic=name,
                    detail=detail,
                    score=0.9 if phrased else max(learned) if learned else 0.75 if combo_only else 0.9,
                    evidence=evidence[-3:],
                )
            )
        return reasons

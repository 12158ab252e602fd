"""``sentiment``: a negative or angry customer, or one who is getting more upset message after message.

Per-message scores come from :mod:`handoff_core.sentiment`. Anger in any of the last ``trend_window``
customer messages counts, unless the latest message is clearly calm again ("ok thanks, that worked").
"""

from __future__ import annotations

from collections.abc import Sequence

from handoff_core.analysis import MessageDetector
from handoff_core.decision import Evidence, Reason, TriggerName
from handoff_core.policy.schema import Policy
from handoff_core.sentiment import MessageSentiment
from handoff_core.triggers.base import TriggerContext, make_reason

CALM_AGAIN = 0.3
WORSENING_ENDS_BELOW = -0.2


def _evidence(s: MessageSentiment, angry: bool = True) -> Evidence:
    """The cues and top n-grams, with the trained detector's probability when it was used."""
    probability = s.angry_probability if angry else s.negative_probability
    return Evidence(message_index=s.message_index, matched=s.cues, score=probability)


class Sentiment:
    name = TriggerName.SENTIMENT
    #: Reads only what the engine analyses for every trigger (topics, sentiment) or the customer record.
    detectors: tuple[MessageDetector[object], ...] = ()

    def __init__(self, policy: Policy) -> None:
        self.config = policy.triggers.sentiment

    def __call__(self, ctx: TriggerContext) -> Sequence[Reason]:
        cfg = self.config
        if not cfg.enabled or not ctx.sentiments:
            return ()
        window = ctx.sentiments[-cfg.trend_window :]
        last = window[-1]
        if last.score >= CALM_AGAIN:
            return ()
        worst = min(window, key=lambda s: s.score)
        drop = window[0].score - last.score
        worsening = len(window) >= 2 and drop >= cfg.trend_drop and last.score <= WORSENING_ENDS_BELOW
        trend = f", getting worse ({window[0].score:+.2f} → {last.score:+.2f})" if worsening else ""
        if worst.score <= cfg.angry_below:
            return (
                make_reason(
                    self.name,
                    cfg,
                    topic="angry",
                    detail=f"angry customer (sentiment {worst.score:+.2f}){trend}",
                    score=-worst.score,
                    evidence=[_evidence(worst)] + ([_evidence(last)] if last is not worst else []),
                    action=cfg.angry_action,
                    alert=cfg.angry_alert,
                    priority=cfg.angry_priority,
                    severity=cfg.severity,
                ),
            )
        if last.score <= cfg.negative_below or worsening:
            return (
                make_reason(
                    self.name,
                    cfg,
                    topic="negative",
                    detail=f"negative customer (sentiment {last.score:+.2f}){trend}",
                    score=max(-last.score, min(1.0, drop / 2)),
                    evidence=[_evidence(last, angry=False)],
                    severity=cfg.severity // 2,
                ),
            )
        return ()

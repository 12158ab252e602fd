"""``bot_loop``: the conversation is going round in circles.

Either the assistant fell back ("sorry, I didn't get that") too often, or the customer keeps asking the
same thing. Repeats are found by word overlap (the overlap coefficient over stemmed content words: shared words
over the shorter message's words, so "when does MY card arrive, I ordered it 12 days ago" repeats "when does
my new card arrive?") among the recent
customer messages, so rephrasings with the same key words count too.
"""

from __future__ import annotations

from collections.abc import Sequence

from handoff_core.analysis import ASSISTANT, CUSTOMER, FunctionDetector, MessageDetector
from handoff_core.decision import Evidence, Reason, TriggerName
from handoff_core.models import Role
from handoff_core.policy.schema import Matchable, Policy
from handoff_core.text.content import content_stems_of
from handoff_core.text.phrases import Vocabulary
from handoff_core.text.rules import RuleSet
from handoff_core.triggers.base import TriggerContext, make_reason

RECENT_MESSAGES = 20
MIN_WORDS_FOR_REPEAT = 2


class BotLoop:
    name = TriggerName.BOT_LOOP

    def __init__(self, policy: Policy, vocabulary: Vocabulary) -> None:
        self.config = policy.triggers.bot_loop
        self._fallbacks = RuleSet(vocabulary, {"fallback": Matchable(phrases=self.config.fallback_phrases)})
        self.fallback = FunctionDetector(
            "bot_loop.fallback", ASSISTANT, lambda _i, text: bool(self._fallbacks.match(text))
        )
        self.content = FunctionDetector(
            "bot_loop.content", CUSTOMER, lambda _i, text: content_stems_of(text.norms, text.language)
        )
        self.detectors: tuple[MessageDetector[object], ...] = (self.fallback, self.content)

    def __call__(self, ctx: TriggerContext) -> Sequence[Reason]:
        cfg = self.config
        if not cfg.enabled:
            return ()
        reasons = []
        messages = ctx.conversation.messages
        fallbacks = [
            r.index
            for r in ctx.records
            if r.role is Role.ASSISTANT and (messages[r.index].fallback or r.result(self.fallback))
        ]
        if len(fallbacks) >= cfg.max_fallbacks:
            reasons.append(
                make_reason(
                    self.name,
                    cfg,
                    topic="fallbacks",
                    detail=f"the assistant could not answer {len(fallbacks)} times",
                    score=min(1.0, len(fallbacks) / (cfg.max_fallbacks + 1)),
                    evidence=[Evidence(message_index=i) for i in fallbacks[-3:]],
                )
            )
        recent = ctx.customer_indexes[-RECENT_MESSAGES:]
        bags = {i: ctx.records[i].result(self.content) for i in recent}
        best: list[int] = []
        for i in recent:
            if len(bags[i]) < MIN_WORDS_FOR_REPEAT:
                continue
            same = [
                j
                for j in recent
                if len(bags[j]) >= MIN_WORDS_FOR_REPEAT and _overlap(bags[i], bags[j]) >= cfg.repeat_similarity
            ]
            if len(same) > len(best):
                best = same
        if len(best) >= cfg.max_repeats:
            reasons.append(
                make_reason(
                    self.name,
                    cfg,
                    topic="repeated_question",
                    detail=f"the customer asked the same question {len(best)} times",
                    score=min(1.0, len(best) / (cfg.max_repeats + 1)),
                    evidence=[Evidence(message_index=i) for i in best[-3:]],
                )
            )
        return reasons


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0

"""``human_request``: the customer asks for a person, or says yes when a person was offered."""

from __future__ import annotations

from collections.abc import Sequence

from handoff_core.decision import Action, Evidence, Reason, TriggerName
from handoff_core.policy.schema import Matchable, Policy
from handoff_core.text.phrases import Vocabulary, phrase_words
from handoff_core.text.rules import RuleHit, RuleSet
from handoff_core.triggers.base import TriggerContext, make_reason, phrase_evidence


class HumanRequest:
    name = TriggerName.HUMAN_REQUEST

    def __init__(self, policy: Policy, vocabulary: Vocabulary) -> None:
        self.config = policy.triggers.human_request
        self._rules = RuleSet(vocabulary, {"human": self.config})
        self._accept = RuleSet(
            vocabulary,
            {
                "accept": Matchable(phrases=policy.offer.accept_phrases),
                "decline": Matchable(phrases=policy.offer.decline_phrases),
            },
        )
        self._negations = frozenset(w for p in self.config.negations for w in phrase_words(p))

    def __call__(self, ctx: TriggerContext) -> Sequence[Reason]:
        if not self.config.enabled:
            return ()
        evidence: list[Evidence] = []
        via_phrase = False
        for index in ctx.customer_indexes:
            text = ctx.analyzed[index]
            hits = [h for h in self._rules.match(text) if not self._negated(text.norms, h)]
            if hits:
                via_phrase = via_phrase or any(h.via == "phrase" for h in hits)
                evidence.append(phrase_evidence(index, text, [p for h in hits for p in h.hits]))
        if evidence:
            return (
                make_reason(
                    self.name,
                    self.config,
                    detail="the customer asked to talk to a person",
                    score=0.95 if via_phrase else 0.8,
                    evidence=evidence[-3:],
                ),
            )
        last = ctx.last_customer_index
        if ctx.conversation.state.handoff_offered and last is not None:
            answer = self._accept.match(ctx.analyzed[last])
            accepted = [h for h in answer if h.rule == "accept"]
            if accepted and not any(h.rule == "decline" for h in answer):
                return (
                    make_reason(
                        self.name,
                        self.config,
                        detail="the customer accepted the offer to talk to a person",
                        score=0.9,
                        action=Action.HANDOFF,
                        evidence=[phrase_evidence(last, ctx.analyzed[last], list(accepted[0].hits))],
                    ),
                )
        return ()

    def _negated(self, norms: list[str], hit: RuleHit[str]) -> bool:
        first = hit.hits[0].first
        return any(norms[i] in self._negations for i in range(max(0, first - 3), first))

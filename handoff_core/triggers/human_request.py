"""``human_request``: the customer asks for a person, or says yes when a person was offered.

Three ways to see the request, any one is enough: the policy's phrases; the trained ``human_request``
detector (English, learned from real labelled data, see docs/models.md); and the policy's ``examples``
(multilingual, nearest-example matching). A negation before a phrase ("I don't need a human") cancels the
phrase and keeps the learned paths quiet for that message too.
"""

from __future__ import annotations

from collections.abc import Sequence

from handoff_core.decision import Action, Evidence, Reason, TriggerName
from handoff_core.examples import ExampleMatcher
from handoff_core.policy.schema import Matchable, Policy
from handoff_core.text.phrases import Vocabulary, phrase_words
from handoff_core.text.rules import RuleHit, RuleSet
from handoff_core.triggers.base import TriggerContext, make_reason, phrase_evidence


class HumanRequest:
    name = TriggerName.HUMAN_REQUEST

    def __init__(self, policy: Policy, vocabulary: Vocabulary, examples: ExampleMatcher | None = None) -> None:
        self.config = policy.triggers.human_request
        self._examples = examples
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
        learned: list[float] = []
        for index in ctx.customer_indexes:
            text = ctx.analyzed[index]
            matched = self._rules.match(text)
            hits = [h for h in matched if not self._negated(text.norms, h)]
            if hits:
                via_phrase = via_phrase or any(h.via == "phrase" for h in hits)
                evidence.append(phrase_evidence(index, text, [p for h in hits for p in h.hits]))
            elif not matched:
                found = self._learned(ctx, index)
                if found is not None:
                    learned.append(found.score or 0.0)
                    evidence.append(found)
        if evidence:
            detail = "the customer asked to talk to a person"
            if learned and not via_phrase and len(learned) == len(evidence):
                detail += f" (trained detector or nearest example, score {max(learned):.2f})"
            return (
                make_reason(
                    self.name,
                    self.config,
                    detail=detail,
                    score=0.95 if via_phrase else max([0.8, *learned]),
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

    def _learned(self, ctx: TriggerContext, index: int) -> Evidence | None:
        model = self.config.model
        score = ctx.model_scores.get(index, {}).get("human_request")
        if model.enabled and score is not None and score.probability >= (model.threshold or score.threshold):
            return Evidence(message_index=index, matched=score.contributors, score=score.probability)
        features = ctx.features.get(index)
        if self._examples is not None and features is not None:
            best = self._examples.match(features, self.config.threshold)
            if best is not None:
                return Evidence(message_index=index, score=best.score, example=best.nearest)
        return None

    def _negated(self, norms: list[str], hit: RuleHit[str]) -> bool:
        first = hit.hits[0].first
        return any(norms[i] in self._negations for i in range(max(0, first - 3), first))

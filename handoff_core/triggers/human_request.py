"""``human_request``: the customer asks for a person, or says yes when a person was offered.

Three ways to see the request, any one is enough: the policy's phrases; the trained ``human_request``
detector (learned from labelled data in five languages, see docs/models.md); and the policy's ``examples``
(multilingual, nearest-example matching). A negation before a phrase ("I don't need a human") cancels the
phrase and keeps the learned paths quiet for that message too; so does an ``exclude`` phrase ("are you a
bot?", "talk to sales"): the example matcher read "I want to talk to sales" as near "I want to talk to a
human", which the exclude alone could not stop.

Round 7, from the errors on real text (Rasa dev half, XED and GoEmotions dev): a *combo* (a request word
and a person word anywhere in a sentence) is loose on its own ("I contacted you but got no response",
"need to understand dialogue management", "I want to change the person on the order"), so in English it
counts only when the trained detector backs it (``model.confirm_combos``); a listed phrase counts unless
the detector is all but sure it asks for no one (``model.confirm_phrases``: "they said I had to talk to
customer service", "You didn't get it, [PERSON]"). The detector reads the *sentence* of the cue (at most
:data:`CUE_CONTEXT` characters either side), not the whole message: on a long message whose request is one
sentence among a story ("…waited two weeks. I want to speak to a real person.") its message score is
about 0. And a request word in the past tense reports a contact, it does not ask for one ("I talked to
someone yesterday and they said…"), except the polite past of wanting ("I wanted to speak to a person").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from handoff_core.analysis import CUSTOMER, FunctionDetector, MessageAnalysis, MessageDetector, running
from handoff_core.decision import Action, Evidence, Reason, TriggerName
from handoff_core.examples import ExampleMatcher
from handoff_core.models import Role
from handoff_core.policy.schema import Matchable, Policy
from handoff_core.text.phrases import AnalyzedText, PhraseHit, Vocabulary, phrase_words
from handoff_core.text.rules import RuleHit, RuleSet
from handoff_core.triggers.base import TriggerContext, make_reason, phrase_evidence

#: Where each record keeps the running fold of the requests for a person up to it.
_ASKED = "human_request.asked"

#: Characters of the cue's sentence the detector reads on either side of the cue (bounds the cost on
#: run-on sentences; a chat message's sentence is shorter).
CUE_CONTEXT = 300

#: English past tenses that still ask, politely ("I wanted to speak to a person", "I needed a human").
POLITE_PAST = frozenset({"wanted", "needed", "liked", "wished", "hoped", "wondered"})


@dataclass(frozen=True, slots=True)
class _Cue:
    """A request for a person seen by the policy's phrases or combos in one message."""

    evidence: Evidence
    #: A listed phrase said so (not only a combo).
    via_phrase: bool
    #: The trained detector's probability on the cue's sentence when it had to back the cue (a combo in
    #: English, any phrase), or None.
    backed: float | None


@dataclass(frozen=True, slots=True)
class _Asked:
    """The requests for a person in the customer messages so far (a running fold, see ``running``)."""

    #: The last three pieces of evidence (the reason quotes three).
    last: tuple[Evidence, ...] = ()
    count: int = 0
    via_phrase: bool = False
    #: How many came from the learned paths, and their best score.
    learned: int = 0
    best_learned: float = 0.0
    #: The best score of the trained detector among the combos it had to back (0: none).
    backed: float = 0.0

    def add(
        self, evidence: Evidence, *, via_phrase: bool = False, learned: float | None = None, backed: float = 0.0
    ) -> _Asked:
        return _Asked(
            (*self.last, evidence)[-3:],
            self.count + 1,
            self.via_phrase or via_phrase,
            self.learned + (learned is not None),
            self.best_learned if learned is None else max(learned, self.best_learned) if self.learned else learned,
            max(self.backed, backed),
        )


class HumanRequest:
    name = TriggerName.HUMAN_REQUEST

    def __init__(
        self,
        policy: Policy,
        vocabulary: Vocabulary,
        examples: ExampleMatcher | None = None,
        detector: Callable[[str], float] | None = None,
    ) -> None:
        """``detector`` is the trained ``human_request`` head's probability for a piece of text (None: no
        detector loaded, and every cue counts as before round 7)."""
        self.config = policy.triggers.human_request
        self._examples = examples
        self._detector = detector if self.config.model.enabled else None
        # The excludes also form a rule of their own (same matcher pass): a message that only says "are you a
        # bot?" or "talk to sales" matched a cue, so the learned paths stay quiet for it, as after a negation.
        self._rules = RuleSet(vocabulary, {"human": self.config, "exclude": Matchable(phrases=self.config.exclude)})
        self._accept = RuleSet(
            vocabulary,
            {
                "accept": Matchable(phrases=policy.offer.accept_phrases),
                "decline": Matchable(phrases=policy.offer.decline_phrases),
            },
        )
        # A one-word negation ("not") counts on its own; a longer one ("no need") only as the whole phrase,
        # so its word "need" does not cancel "I need to speak to someone".
        negations = [tuple(phrase_words(p)) for p in self.config.negations]
        self._negation_words = frozenset(n[0] for n in negations if len(n) == 1)
        self._negation_phrases = tuple(n for n in negations if len(n) > 1)
        self.asks = FunctionDetector("human_request.asks", CUSTOMER, self._asks)
        self.accepts = FunctionDetector("human_request.accepts", CUSTOMER, self._accepts)
        self.detectors: tuple[MessageDetector[object], ...] = (self.asks, self.accepts)

    def __call__(self, ctx: TriggerContext) -> Sequence[Reason]:
        if not self.config.enabled:
            return ()

        def step(state: _Asked, record: MessageAnalysis) -> _Asked:
            if record.role is not Role.CUSTOMER:
                return state
            cue, matched = record.result(self.asks)
            if cue is not None:
                backed = cue.backed if cue.backed is not None and not cue.via_phrase else 0.0
                return state.add(cue.evidence, via_phrase=cue.via_phrase, backed=backed)
            if not matched:
                found = self._learned(ctx, record.index)
                if found is not None:
                    return state.add(found, learned=found.score or 0.0)
            return state

        # Every customer message so far counts; the fold resumes from the last decision's records.
        asked = running(ctx.records, _ASKED, _Asked(), step)
        if asked.count:
            detail = "the customer asked to talk to a person"
            if asked.learned and not asked.via_phrase and asked.learned == asked.count:
                detail += f" (trained detector or nearest example, score {asked.best_learned:.2f})"
            elif asked.backed and not asked.via_phrase and not asked.learned:
                detail += f" (combo words backed by the trained detector, score {asked.backed:.2f})"
            return (
                make_reason(
                    self.name,
                    self.config,
                    detail=detail,
                    score=0.95 if asked.via_phrase else max(0.8, asked.best_learned) if asked.learned else 0.8,
                    evidence=asked.last,
                ),
            )
        last = ctx.last_customer_index
        if ctx.conversation.state.handoff_offered and last is not None:
            accepted = ctx.records[last].result(self.accepts)
            if accepted is not None:
                return (
                    make_reason(
                        self.name,
                        self.config,
                        detail="the customer accepted the offer to talk to a person",
                        score=0.9,
                        action=Action.HANDOFF,
                        evidence=[accepted],
                    ),
                )
        return ()

    def _learned(self, ctx: TriggerContext, index: int) -> Evidence | None:
        """The trained detector's or the nearest examples' verdict on one message without a cue."""
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

    def _asks(self, index: int, text: AnalyzedText) -> tuple[_Cue | None, bool]:
        """Evidence of asking for a person in one message, and whether any cue matched at all (a negated or
        excluded one included: then no learned model is asked; a past-tense report is no cue)."""
        matched = [h for h in self._rules.match(text) if h.rule == "exclude" or not _reported(text, h)]
        hits = [h for h in matched if h.rule == "human" and not self._negated(text, h)]
        if not hits:
            return None, bool(matched)
        evidence = phrase_evidence(index, text, [p for h in hits for p in h.hits])
        via_phrase = any(h.via == "phrase" for h in hits)
        model = self.config.model
        floor = (
            model.confirm_phrases
            if via_phrase
            else model.confirm_combos
            if text.language in model.confirm_languages
            else None
        )
        if floor is None or self._detector is None:
            return _Cue(evidence, via_phrase, None), True
        score = max(self._detector(_cue_context(text, h)) for h in hits)
        if score < floor:
            return None, True  # the detector reads no request where the cue is: no one is asked for
        return _Cue(evidence.model_copy(update={"score": round(score, 4)}), via_phrase, score), True

    def _accepts(self, index: int, text: AnalyzedText) -> Evidence | None:
        """Evidence that the message says yes (and not no) to an offer of a person."""
        answer = self._accept.match(text)
        accepted = [h for h in answer if h.rule == "accept"]
        if accepted and not any(h.rule == "decline" for h in answer):
            return phrase_evidence(index, text, list(accepted[0].hits))
        return None

    def _negated(self, text: AnalyzedText, hit: RuleHit[str]) -> bool:
        """A negation word in the three words before the match, or a negation phrase ending there or on
        the match's first word ("no need for a person": the combo's match starts at "need"), in the same
        sentence ("the status does not change. I want a person" asks for one) and clause: "you're not
        helping, I want a person" asks for one too (a comma, semicolon or colon between the negation and the
        match ends its reach, see :func:`_clause_break`)."""
        norms = text.norms
        first = hit.hits[0].first
        start = max(0, first - 3)
        sentence = text.sentences[first]
        for i in range(start, first):
            if norms[i] in self._negation_words and text.sentences[i] == sentence and not _clause_break(text, i, first):
                return True
        for end in range(start, min(first + 1, len(norms))):
            for phrase in self._negation_phrases:
                begin = end + 1 - len(phrase)
                if (
                    begin >= 0
                    and tuple(norms[begin : end + 1]) == phrase
                    and text.sentences[begin] == sentence
                    and not _clause_break(text, end, first)
                ):
                    return True
        return False


def _cue_context(text: AnalyzedText, hit: RuleHit[str]) -> str:
    """The sentence of a cue, at most :data:`CUE_CONTEXT` characters either side of it: what the detector
    reads to back the cue. A one-sentence message is read whole, as the engine's own score reads it."""
    sentences = text.sentences
    if not sentences or sentences[0] == sentences[-1]:
        return text.text
    first, last = hit.hits[0].first, hit.hits[-1].last
    begin, end = first, last
    while begin > 0 and sentences[begin - 1] == hit.sentence:
        begin -= 1
    while end + 1 < len(sentences) and sentences[end + 1] == hit.sentence:
        end += 1
    start = max(text.span(begin)[0], text.span(first)[0] - CUE_CONTEXT)
    stop = min(text.span(end)[1], text.span(last)[1] + CUE_CONTEXT)
    return text.text[start:stop]


def _reported(text: AnalyzedText, hit: RuleHit[str]) -> bool:
    """Whether an English match reads a past contact, not a request: a matched word in the past tense that
    the phrase does not have ("I talked to someone yesterday", "I contacted a person"), unless it is the
    polite past of wanting (:data:`POLITE_PAST`)."""
    if text.language != "en":
        return False
    return any(_past(text, h) for h in hit.hits)


def _past(text: AnalyzedText, hit: PhraseHit[object]) -> bool:
    word = text.norms[hit.first]
    return word.endswith("ed") and word not in POLITE_PAST and word not in phrase_words(hit.phrase)


def _clause_break(text: AnalyzedText, negation: int, match: int) -> bool:
    """Whether a comma, semicolon or colon stands between token ``negation`` and token ``match``, with the
    negation inside its clause: one that opens the sentence ("not now, talk to a person later") still
    reaches over the comma."""
    if match <= negation or negation == 0 or text.sentences[negation - 1] != text.sentences[negation]:
        return False
    between = text.text[text.span(negation)[1] : text.span(match)[0]]
    return any(mark in between for mark in ",;:")

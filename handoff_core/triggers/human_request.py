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

Round 8, from real subtitle lines in es/fr/de/pt the detector never saw (docs/models.md): outside the
languages where the detector backs combos, a combo matched stems anywhere in a sentence ("quieres", "llamó",
"personas ... que quieren"), and the detector cannot gate it there: it reads no negation or reported speech
("no quiero hablar con una persona" scores 0.91). So outside them a combo's words must stand as a request
does: written as listed, close, in one clause (:meth:`HumanRequest._close_combo`). In every language a
negation between a combo's words, and advice or reported speech before a request in its clause ("you should
talk to someone", "me dijeron que hablara con alguien"), mean no one is asked for, and keep the learned paths
quiet too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise, product

from handoff_core.analysis import CUSTOMER, FunctionDetector, MessageAnalysis, MessageDetector, running
from handoff_core.decision import Action, Evidence, Reason, TriggerName
from handoff_core.examples import ExampleMatcher
from handoff_core.models import Role
from handoff_core.policy.schema import Matchable, Policy
from handoff_core.text.normalize import quote
from handoff_core.text.phrases import SKIP, AnalyzedText, PhraseHit, Vocabulary, phrase_words
from handoff_core.text.rules import RuleHit, RuleSet
from handoff_core.triggers.base import TriggerContext, make_reason, phrase_evidence

#: Where each record keeps the running fold of the requests for a person up to it.
_ASKED = "human_request.asked"

#: Characters of the cue's sentence the detector reads on either side of the cue (bounds the cost on
#: run-on sentences; a chat message's sentence is shorter).
CUE_CONTEXT = 300

#: Characters either side of a cue that its evidence quotes from the cue's sentence (``handoff explain``).
QUOTE_REACH = 120

#: English past tenses that still ask, politely ("I wanted to speak to a person", "I needed a human").
POLITE_PAST = frozenset({"wanted", "needed", "liked", "wished", "hoped", "wondered"})

#: Where the trained detector cannot back a combo (outside ``model.confirm_languages``), its words count only
#: standing this close: at most this many tokens between them, in one clause (see :func:`_close_combo`).
COMBO_REACH = 3

#: Characters that open an anonymisation placeholder ("[PERSON]", "{name}", "<agent>"): not a person word.
PLACEHOLDER_OPENERS = "[{<"

#: Fewest tokens a message needs for the nearest-example path: "-Não quero." (two words) sits at 0.75 from the
#: example "não quero robô, quero um humano", and so does any short refusal.
MIN_EXAMPLE_TOKENS = 3


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
        # The reported-speech and advice phrases ride the same pass ("deberías hablar con alguien").
        self._rules = RuleSet(
            vocabulary,
            {
                "human": self.config,
                "exclude": Matchable(phrases=self.config.exclude),
                "reported": Matchable(phrases=self.config.reported),
            },
        )
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
            # The detector read the whole message: the quote is its opening (explain shows what was scored).
            text = ctx.records[index].text
            return Evidence(
                message_index=index,
                matched=score.contributors,
                score=score.probability,
                quote=quote(text, 0, min(len(text), 2 * QUOTE_REACH), width=0),
            )
        features = ctx.features.get(index)
        if (
            self._examples is not None
            and features is not None
            and len(ctx.records[index].analyzed.norms) >= MIN_EXAMPLE_TOKENS
        ):
            best = self._examples.match(features, self.config.threshold)
            if best is not None:
                return Evidence(message_index=index, score=best.score, example=best.nearest)
        return None

    def _asks(self, index: int, text: AnalyzedText) -> tuple[_Cue | None, bool]:
        """Evidence of asking for a person in one message, and whether a cue said that no one is asked for
        (a negated, excluded or reported one: then no learned model is asked either). A past-tense report,
        a placeholder for a name and a combo whose words stand too far apart are no cue at all."""
        found = self._rules.match(text)
        reports = [p for h in found if h.rule == "reported" for p in h.hits]
        model = self.config.model
        backed = text.language in model.confirm_languages
        cues = [h for h in found if h.rule == "human" and not _reported(text, h) and not _placeholder(text, h)]
        # A negated or reported cue keeps the learned paths quiet even where its words stand too loosely to
        # count: the detector does not read negation or reported speech ("Mi hermana me dijo que hablara con
        # un agente" scores 0.83).
        quiet = [h for h in cues if self._negated(text, h) or _told(text, h, reports)]
        hits = [
            h
            for h in cues
            if h not in quiet
            and (
                backed
                or (any(_as_listed(text, p) for p in h.hits) if h.via == "phrase" else self._close_combo(text, h))
            )
        ]
        if not hits:
            return None, bool(quiet) or any(h.rule == "exclude" for h in found)
        evidence = phrase_evidence(index, text, [p for h in hits for p in h.hits]).model_copy(
            update={"quote": _sentence(text, hits[0], QUOTE_REACH)}
        )
        via_phrase = any(h.via == "phrase" for h in hits)
        # Where the detector cannot back a combo it may still veto it, as it vetoes a phrase: the combo's words
        # stand as close as a phrase's (see _close_combo).
        floor = model.confirm_combos if backed and not via_phrase else model.confirm_phrases
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

    def _close_combo(self, text: AnalyzedText, hit: RuleHit[str]) -> bool:
        """Whether a combo's words stand as a request does where no detector can back them: some occurrence
        of each group's words written as listed (not another form of the same stem: "quiero" asks, "quieres",
        "quiere" and "querido" do not; "llamar" asks, "llamó" reports), all in one clause, at most
        :data:`COMBO_REACH` tokens apart ("quiero hablar con un agente", "¿hay algún operador disponible?";
        not "quiero cambiar el nombre de la persona", nor "personas ... que quieren")."""
        words = self._rules.combo_words(text, hit)
        # Another form of a combo word just before the chosen ones makes them someone else's wish: "quiere
        # hablar con una persona" (he wants to talk to a person), "ele quer falar com um agente".
        others = [h.last for group in words for h in group if not _as_listed(text, h)]
        groups = [[h for h in group if _as_listed(text, h)] for group in words]
        for choice in product(*groups):
            ordered = sorted(choice, key=lambda h: h.first)
            if all(
                b.first > a.last and b.first - a.last - 1 <= COMBO_REACH and not _punctuated(text, a.last, b.first)
                for a, b in pairwise(ordered)
            ) and not any(0 < ordered[0].first - last <= 2 for last in others):
                return True
        return False

    def _negated(self, text: AnalyzedText, hit: RuleHit[str]) -> bool:
        """A negation word in the three words before the match, or a negation phrase ending there or on
        the match's first word ("no need for a person": the combo's match starts at "need"), in the same
        sentence ("the status does not change. I want a person" asks for one) and clause: "you're not
        helping, I want a person" asks for one too (a comma, semicolon or colon between the negation and the
        match ends its reach, see :func:`_clause_break`). A negation between a combo's words negates it too:
        "je ne veux pas parler à un humain", "ich will nicht mit einem Menschen sprechen". A negation that
        is a whole clause ("No, quiero hablar con una persona") answers something else."""
        norms = text.norms
        first = hit.hits[0].first
        start = max(0, first - 3)
        sentence = text.sentences[first]
        if hit.via == "combo":
            words = {i for h in hit.hits for i in range(h.first, h.last + 1)}  # "no sirve" + "bot" is no negation
            for i in range(first + 1, max(h.last for h in hit.hits)):
                if norms[i] in self._negation_words and i not in words and not _punctuated(text, first, i):
                    return True
        for i in range(start, first):
            if (
                norms[i] in self._negation_words
                and text.sentences[i] == sentence
                and not _clause_break(text, i, first)
                and not _answer(text, i)
            ):
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
    return _sentence(text, hit)


def _sentence(text: AnalyzedText, hit: RuleHit[str], reach: int = CUE_CONTEXT) -> str:
    """The sentence of a cue, at most ``reach`` characters either side of it ("…" where it is cut): what
    ``handoff explain`` quotes, so a reviewer reads the words the detector scored."""
    sentences = text.sentences
    first, last = hit.hits[0].first, hit.hits[-1].last
    begin, end = first, last
    while begin > 0 and sentences[begin - 1] == hit.sentence:
        begin -= 1
    while end + 1 < len(sentences) and sentences[end + 1] == hit.sentence:
        end += 1
    start = max(text.span(begin)[0], text.span(first)[0] - reach)
    stop = min(text.span(end)[1], text.span(last)[1] + reach)
    if reach == CUE_CONTEXT:
        return text.text[start:stop]
    cut_left = start > text.span(begin)[0]
    cut_right = stop < text.span(end)[1]
    return ("…" if cut_left else "") + text.text[start:stop].replace("\n", " ") + ("…" if cut_right else "")


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


def _placeholder(text: AnalyzedText, hit: RuleHit[str]) -> bool:
    """Whether a matched word is an anonymisation placeholder ("I'll talk to [PERSON]": a name was there)."""
    for h in hit.hits:
        start = text.span(h.first)[0]
        if start and text.text[start - 1] in PLACEHOLDER_OPENERS:
            return True
    return False


def _as_listed(text: AnalyzedText, hit: PhraseHit[object]) -> bool:
    """Whether a phrase occurs as written in the policy (folded), not as another form of its stems or as a
    likely typo: the words between its first and last token, articles skipped, are the phrase's words."""
    words = [w for w in text.norms[hit.first : hit.last + 1] if w not in SKIP]
    return words == phrase_words(hit.phrase)


def _told(text: AnalyzedText, hit: RuleHit[str], reports: Sequence[PhraseHit[object]]) -> bool:
    """Whether advice or someone else's words frame the match in its clause ("you should talk to someone",
    "me dijeron que hablara con alguien", "er sagte, ich solle mit einem Berater sprechen": a comma right
    after the reporting words does not end their reach; one further on does)."""
    first = hit.hits[0].first
    for report in reports:
        if report.sentence != hit.sentence or report.first >= first:
            continue
        if report.last >= first:
            return True
        between = text.text[text.span(report.last)[1] : text.span(first)[0]].lstrip()
        if not any(mark in between.removeprefix(",") for mark in ",;:"):
            return True
    return False


def _answer(text: AnalyzedText, negation: int) -> bool:
    """Whether a negation stands alone before a comma ("No, quiero hablar con una persona"): an answer."""
    if negation + 1 >= len(text.norms):
        return False
    between = text.text[text.span(negation)[1] : text.span(negation + 1)[0]]
    return "," in between


def _clause_break(text: AnalyzedText, negation: int, match: int) -> bool:
    """Whether a comma, semicolon or colon stands between token ``negation`` and token ``match``, with the
    negation inside its clause: one that opens the sentence ("not now, talk to a person later") still
    reaches over the comma."""
    if match <= negation or negation == 0 or text.sentences[negation - 1] != text.sentences[negation]:
        return False
    return _punctuated(text, negation, match)


def _punctuated(text: AnalyzedText, a: int, b: int) -> bool:
    """Whether a comma, semicolon or colon stands between token ``a`` and a later token ``b``."""
    between = text.text[text.span(a)[1] : text.span(b)[0]]
    return any(mark in between for mark in ",;:")

"""Restricted-topic detection, shared by the ``restricted_topic`` and ``refund_exception`` triggers.

Mentioning a topic is not the same as asking for something: "what is your refund policy?" is a question
the assistant can answer from approved knowledge, "I want my money back for order 1234" is a request a
person must handle. A sentence is read as a question *about the rules* when it is framed as a general or
conditional question ("do you offer…", "…in general", "can I … if …") and says nothing about the
customer's own case ("my order", "I was charged", an order number or an amount). A question that
asks where something is ("where is the refund?") is about a case in progress, not about the rules.

Besides phrases, a topic can be recognised by a trained detector (``model``, see
:mod:`handoff_core.detectors`) or by example messages (``examples``: a head fitted to them,
:mod:`handoff_core.example_head`, or the nearest example, :mod:`handoff_core.examples`).
Those learned hits go through the same framing rules, so "what is your refund policy?" still continues
however the topic was recognised, and the topic's ``exclude`` phrases still cancel them.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

from handoff_core.detectors import DetectorScore
from handoff_core.example_head import ExampleHead, HeadReading
from handoff_core.examples import ExampleMatcher
from handoff_core.features import MessageFeatures
from handoff_core.policy.schema import Matchable, RestrictedTopicConfig
from handoff_core.text.phrases import AnalyzedText, PhraseHit, Vocabulary
from handoff_core.text.rules import RuleSet

#: "Where is the refund?" asks about a case in progress, not about the rules.
_WHERE = frozenset({"where", "wheres", "wo", "donde", "ou", "onde", "dove", "waar", "whens", "still"})
#: A trained head's hit is dropped when the topic's example head puts the message this far below its own
#: threshold (margin over "none of the above"): the examples and the ordinary requests outvote the head.
VETO_GAP = 0.5
#: The language whose messages the veto applies to (that of the default examples and the static embedding).
VETO_LANGUAGE = "en"
#: Where a customer message's record keeps its topic hits (the engine's topic detector's key).
TOPIC_HITS = "topics"
_CONDITIONAL = ("if", "si", "wenn", "falls", "se", "caso", "als", "in case", "en caso", "au cas")
#: The customer's own things in that "if" clause ("if *my* card was stolen", not "if the item was damaged").
_OWN = frozenset("i my me ive im id mine".split())
#: Past-tense words after an English "if" tell of something that happened: "what do I do if my card was
#: stolen?", "what if I lost my card" ask about the customer's own case; "if my card is ever stolen" does not.
_PAST_AFTER_IF = frozenset(
    """was were got lost stole been had ive did didnt made used took happened hacked charged withdrew
    spent""".split()
)


@dataclass(frozen=True, slots=True)
class TopicHit:
    topic: str
    message_index: int
    sentence: int
    hits: tuple[PhraseHit[object], ...]
    #: "phrase" for a listed phrase, "combo" for a co-occurrence (weaker evidence), "model" for a trained
    #: detector, "examples" for the nearest policy example.
    via: str
    #: True when the sentence only asks about the rules, not about the customer's own case.
    policy_question: bool
    #: For learned hits: the probability or similarity, the words that weighed most, the nearest example.
    score: float | None = None
    matched: tuple[str, ...] = ()
    nearest: str | None = None
    #: The nearest example's similarity, when ``score`` is the example head's output.
    similarity: float | None = None


@dataclass(frozen=True, slots=True)
class _Learned:
    topic: str
    sentence: int
    via: str
    score: float
    matched: tuple[str, ...]
    nearest: str | None
    similarity: float | None = None


class TopicDetector:
    def __init__(
        self,
        config: RestrictedTopicConfig,
        vocabulary: Vocabulary,
        examples: ExampleMatcher | ExampleHead | None = None,
    ) -> None:
        self.config = config
        live = {name: topic for name, topic in config.topics.items() if topic.enabled}
        self._topics = RuleSet(vocabulary, live)
        self._exclusions = RuleSet(
            vocabulary, {name: Matchable(phrases=topic.exclude) for name, topic in live.items() if topic.exclude}
        )
        self._models = {name: topic.model for name, topic in live.items() if topic.model and topic.model.enabled}
        self._examples = examples
        self._example_thresholds = {name: topic.threshold for name, topic in live.items() if topic.examples}
        #: Topics defined by examples alone: the head names them. A topic that also has phrases, combos or a
        #: trained head is named by those, and its examples confirm or veto the weaker of them (a combo, a
        #: trained hit), so the head is read only when there is such a hit to check.
        self._by_examples_alone = frozenset(
            name
            for name, topic in live.items()
            if topic.examples and not (topic.phrases or topic.combos or name in self._models)
        )
        self._framing = RuleSet(
            vocabulary,
            {
                "policy": Matchable(phrases=config.policy_question_cues),
                "personal": Matchable(phrases=config.personal_cues),
                "general": Matchable(phrases=config.general_question_cues),
                "conditional": Matchable(phrases=_CONDITIONAL),
            },
        )

    @property
    def size(self) -> int:
        return self._topics.size

    @property
    def learns(self) -> bool:
        """Whether any topic reads the trained detectors or examples (so features must be computed)."""
        return bool(self._models or self._example_thresholds)

    def _read(self, features: MessageFeatures | None) -> HeadReading | None:
        """The example head's reading of the message, when topics have examples and it is featurised."""
        if isinstance(self._examples, ExampleHead) and features is not None and self._examples.topics:
            return self._examples.read(features)
        return None

    def _vetoed(self, reading: _Reading, text: AnalyzedText, topic: str) -> bool:
        """Whether the example head reads an English message as ordinary by more than :data:`VETO_GAP`.

        The default examples and ordinary requests are English, and the static embedding is English-centred:
        in other languages every message is far from them, so there the head does not veto.
        """
        if text.language != VETO_LANGUAGE or not isinstance(self._examples, ExampleHead):
            return False
        if topic not in self._examples.topics:
            return False
        found = reading.get()
        gap = found.gap(topic) if found is not None else None
        return gap is not None and gap < -VETO_GAP

    def _learned(
        self,
        text: AnalyzedText,
        features: MessageFeatures | None,
        scores: Mapping[str, DetectorScore],
        reading: _Reading,
    ) -> list[_Learned]:
        found: dict[str, _Learned] = {}
        for name, model in self._models.items():
            score = scores.get(model.head)
            if score is None or score.probability < (model.threshold or score.threshold):
                continue
            if self._vetoed(reading, text, name):
                # The topic's own examples against ordinary requests say "ordinary" by a wide margin
                # ("I forgot my passcode" for the account-security head): the trained hit alone does not count.
                continue
            found[name] = _Learned(
                name, _sentence_of(text, score.contributors), "model", score.probability, score.contributors, None
            )
        if isinstance(self._examples, ExampleHead):
            # The head applies each topic's cross-fitted threshold itself.
            head = reading.get() if self._by_examples_alone else None
            named = head.best(self._by_examples_alone) if head is not None else None
            if named is not None and named.label not in found:
                found[named.label] = _Learned(
                    named.label, 0, "examples", named.score, (), named.nearest, named.similarity
                )
        elif self._examples is not None and features is not None:
            best = self._examples.best(features)
            if best is not None and best.label not in found and best.score >= self._example_thresholds[best.label]:
                found[best.label] = _Learned(best.label, 0, "examples", best.score, (), best.nearest)
        if found:
            for hit in self._exclusions.match(text):
                found.pop(hit.rule, None)
        return list(found.values())

    def detect(
        self,
        index: int,
        text: AnalyzedText,
        features: MessageFeatures | None = None,
        scores: Mapping[str, DetectorScore] | None = None,
    ) -> list[TopicHit]:
        if not self.config.enabled:
            return []
        rule_hits = self._topics.match(text)
        reading = _Reading(self, features)
        if rule_hits:
            # A co-occurrence of words is weaker evidence than a listed phrase: the topic's examples against
            # ordinary requests veto it as they veto a trained head ("the balance didn't update after my
            # transfer" is not account security).
            rule_hits = [hit for hit in rule_hits if hit.via != "combo" or not self._vetoed(reading, text, hit.rule)]
        phrased = {hit.rule for hit in rule_hits}
        learned = [h for h in self._learned(text, features, scores or {}, reading) if h.topic not in phrased]
        if not rule_hits and not learned:
            return []
        framing: dict[int, set[str]] = {}
        for hit in self._framing.match(text):
            framing.setdefault(hit.sentence, set()).add(hit.rule)
        sentences = _Sentences(text)
        # A message that tells the customer's own story makes its bare questions about that story
        # ("I paid for premium by mistake. Can this be refunded?"), unless the question is framed as one
        # about the rules ("what is your refund policy?").
        story = (
            any("personal" in cues and not sentences.is_question(sentence) for sentence, cues in framing.items())
            or sentences.any_digits
        )

        def policy_question(sentence: int) -> bool:
            cues = framing.get(sentence, set())
            specifics = sentence in sentences.with_digits
            personal = "personal" in cues or specifics or (story and "policy" not in cues)
            hypothetical = (
                "conditional" in cues
                and sentences.is_question(sentence)
                and not specifics
                and sentence not in sentences.past_if
            )
            general = sentences.is_question(sentence) and sentence not in sentences.with_where
            framed = "general" in cues and not specifics
            return hypothetical or framed or (not personal and ("policy" in cues or general))

        out = [
            TopicHit(hit.rule, index, hit.sentence, hit.hits, hit.via, policy_question(hit.sentence))
            for hit in rule_hits
        ]
        for h in learned:
            # A learned hit has no single matched phrase: it is a question about the rules only when every
            # sentence of the message is.
            about_rules = all(policy_question(s) for s in sentences.numbers)
            out.append(
                TopicHit(
                    h.topic, index, h.sentence, (), h.via, about_rules, h.score, h.matched, h.nearest, h.similarity
                )
            )
        return out


class _Reading:
    """The example head's reading of one message, made only when a rule asks for it (it is most of a
    decision's cost when made for every message)."""

    __slots__ = ("_detector", "_features", "_made", "_reading")

    def __init__(self, detector: TopicDetector, features: MessageFeatures | None) -> None:
        self._detector = detector
        self._features = features
        self._made = False
        self._reading: HeadReading | None = None

    def get(self) -> HeadReading | None:
        if not self._made:
            self._made = True
            self._reading = self._detector._read(self._features)
        return self._reading


class _Sentences:
    """What the framing rules ask of each sentence of one message, read in one pass over its tokens.

    The rules ask, per sentence, whether it is a question, has digits, or asks "where"; asked per hit,
    each answer re-read the whole message (and its token spans), which made long complaints with many
    hits quadratic. Answers are the same as :func:`_is_question`, :func:`_has_specifics` and
    :func:`_asks_where` (``tests/core/test_fast_paths.py`` checks them against those).
    """

    def __init__(self, text: AnalyzedText) -> None:
        self._text = text
        #: Sentence number -> index of its first token, in order.
        self.first: dict[int, int] = {}
        self.with_digits: set[int] = set()
        self.with_where: set[int] = set()
        #: Sentences where an English "if" is followed by a past-tense word and the customer's own things.
        self.past_if: set[int] = set()
        after_if: int | None = None
        told: set[str] = set()
        for i, (sentence, norm) in enumerate(zip(text.sentences, text.norms, strict=True)):
            if norm == "if":
                after_if, told = sentence, set()
            elif after_if == sentence and (norm in _PAST_AFTER_IF or norm in _OWN):
                told.add("past" if norm in _PAST_AFTER_IF else "own")
                if len(told) == 2:
                    self.past_if.add(sentence)
            if sentence not in self.first:
                self.first[sentence] = i
            # Most words are letters only, and a word of letters has no digit: only the others are read.
            if sentence not in self.with_digits and not norm.isalpha() and any(ch.isdigit() for ch in norm):
                self.with_digits.add(sentence)
            if norm in _WHERE:
                self.with_where.add(sentence)
        self.any_digits = bool(self.with_digits)
        #: Every sentence number (0 for a message without words), as ``set(text.sentences) or {0}``.
        self.numbers: tuple[int, ...] = tuple(self.first) or (0,)
        self._next = dict(itertools.pairwise(self.first))
        self._questions: dict[int, bool] = {}

    def is_question(self, sentence: int) -> bool:
        found = self._questions.get(sentence)
        if found is None:
            found = self._questions[sentence] = self._is_question(sentence)
        return found

    def _is_question(self, sentence: int) -> bool:
        text = self._text
        first = self.first.get(sentence)
        later = self._next.get(sentence) if first is not None else self._first_after(sentence)
        start = text.span(first)[0] if first is not None else 0
        end = text.span(self.first[later])[0] if later is not None else len(text.text)
        part = text.text[start:end]
        if "?" in part or "¿" in part:
            return True
        return first is not None and text.norms[first] in _QUESTION_OPENERS

    def _first_after(self, sentence: int) -> int | None:
        return next((s for s in self.first if s > sentence), None)


def _sentence_of(text: AnalyzedText, words: tuple[str, ...]) -> int:
    """The sentence holding the first of ``words`` (0 when none is found)."""
    if words:
        at = text.text.lower().find(words[0].lower())
        if at >= 0:
            i = text.token_at(at)
            if i >= 0:
                return text.sentences[i]
    return 0


def _sentence_span(text: AnalyzedText, sentence: int) -> tuple[int, int]:
    start, end = None, len(text.text)
    for i, s in enumerate(text.sentences):
        if s == sentence and start is None:
            start = text.span(i)[0]
        elif s > sentence:
            end = text.span(i)[0]
            break
    return (start or 0), end


#: Words that open a question even when the customer leaves out the question mark.
_QUESTION_OPENERS = frozenset(
    """do does did can could is are how what when where why which who whats hows
    como que cuando donde cual puedo puede hay comment quand ou quel quelle estce puisje peutil kann kannst
    wie wann wo warum gibt ist sind welche quando onde qual posso pode""".split()
)


def _is_question(text: AnalyzedText, sentence: int) -> bool:
    start, end = _sentence_span(text, sentence)
    if "?" in text.text[start:end] or "¿" in text.text[start:end]:
        return True
    first = next((i for i, s in enumerate(text.sentences) if s == sentence), None)
    return first is not None and text.norms[first] in _QUESTION_OPENERS


def _asks_where(text: AnalyzedText, sentence: int) -> bool:
    return any(s == sentence and n in _WHERE for s, n in zip(text.sentences, text.norms, strict=True))


def _has_specifics(text: AnalyzedText, sentence: int) -> bool:
    """Digits in the sentence (an order number, an amount, a date) make it about a concrete case."""
    return any(s == sentence and any(c.isdigit() for c in n) for s, n in zip(text.sentences, text.norms, strict=True))

"""Restricted-topic detection, shared by the ``restricted_topic`` and ``refund_exception`` triggers.

Mentioning a topic is not the same as asking for something: "what is your refund policy?" is a question
the assistant can answer from approved knowledge, "I want my money back for order 1234" is a request a
person must handle. A sentence is read as a question *about the rules* when it is framed as a general or
conditional question ("do you offer…", "…in general", "can I … if …") and says nothing about the
customer's own case ("my order", "I was charged", an order number or an amount). A question that
asks where something is ("where is the refund?") is about a case in progress, not about the rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from handoff_core.policy.schema import Matchable, RestrictedTopicConfig
from handoff_core.text.phrases import AnalyzedText, PhraseHit, Vocabulary
from handoff_core.text.rules import RuleSet

#: "Where is the refund?" asks about a case in progress, not about the rules.
_WHERE = frozenset({"where", "wheres", "wo", "donde", "ou", "onde", "dove", "waar", "whens", "still"})
_CONDITIONAL = ("if", "si", "wenn", "falls", "se", "caso", "als", "in case", "en caso", "au cas")


@dataclass(frozen=True, slots=True)
class TopicHit:
    topic: str
    message_index: int
    sentence: int
    hits: tuple[PhraseHit[object], ...]
    #: "phrase" for a listed phrase, "combo" for a co-occurrence (weaker evidence).
    via: str
    #: True when the sentence only asks about the rules, not about the customer's own case.
    policy_question: bool


class TopicDetector:
    def __init__(self, config: RestrictedTopicConfig, vocabulary: Vocabulary) -> None:
        self.config = config
        self._topics = RuleSet(vocabulary, {name: topic for name, topic in config.topics.items() if topic.enabled})
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

    def detect(self, index: int, text: AnalyzedText) -> list[TopicHit]:
        if not self.config.enabled:
            return []
        rule_hits = self._topics.match(text)
        if not rule_hits:
            return []
        framing: dict[int, set[str]] = {}
        for hit in self._framing.match(text):
            framing.setdefault(hit.sentence, set()).add(hit.rule)
        # A message that tells the customer's own story makes its bare questions about that story
        # ("I paid for premium by mistake. Can this be refunded?"), unless the question is framed as one
        # about the rules ("what is your refund policy?").
        story = any(
            "personal" in cues and not _is_question(text, sentence) for sentence, cues in framing.items()
        ) or any(any(ch.isdigit() for ch in t.norm) for t in text.tokens)
        out = []
        for hit in rule_hits:
            cues = framing.get(hit.sentence, set())
            specifics = _has_specifics(text, hit.sentence)
            personal = "personal" in cues or specifics or (story and "policy" not in cues)
            hypothetical = "conditional" in cues and _is_question(text, hit.sentence) and not specifics
            general = _is_question(text, hit.sentence) and not _asks_where(text, hit.sentence)
            framed = "general" in cues and not specifics
            policy_question = hypothetical or framed or (not personal and ("policy" in cues or general))
            out.append(TopicHit(hit.rule, index, hit.sentence, hit.hits, hit.via, policy_question))
        return out


def _sentence_span(text: AnalyzedText, sentence: int) -> tuple[int, int]:
    start, end = None, len(text.text)
    for token in text.tokens:
        if token.sentence == sentence and start is None:
            start = token.start
        elif token.sentence > sentence:
            end = token.start
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
    first = next((t for t in text.tokens if t.sentence == sentence), None)
    return first is not None and first.norm in _QUESTION_OPENERS


def _asks_where(text: AnalyzedText, sentence: int) -> bool:
    return any(t.sentence == sentence and t.norm in _WHERE for t in text.tokens)


def _has_specifics(text: AnalyzedText, sentence: int) -> bool:
    """Digits in the sentence (an order number, an amount, a date) make it about a concrete case."""
    return any(t.sentence == sentence and any(c.isdigit() for c in t.norm) for t in text.tokens)

"""Rules made of phrases and co-occurrence combos, matched together in one pass.

A rule (a topic, the human-request cues, ...) fires in a sentence when one of its phrases occurs there,
or when every group of one of its combos has a phrase there ("lost" + "card" in any order), unless one
of its ``exclude`` phrases occurs in the same sentence. All rules of a set share one
:class:`PhraseMatcher`, so adding rules does not add passes over the message.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from handoff_core.policy.schema import Matchable
from handoff_core.text.phrases import AnalyzedText, PhraseHit, PhraseMatcher, Vocabulary

K = TypeVar("K", bound=Hashable)

#: A negation just before an ``exclude`` phrase turns it around: "I haven't received my refund" must not
#: be cancelled by the exclusion "received my refund".
NEGATIONS = frozenset(
    """not no never dont didnt doesnt havent hasnt hadnt isnt wasnt arent werent cant couldnt wont yet still
    pas jamais toujours nicht kein keine noch nie nao nunca ainda todavia aun""".split()
)


def _negated(text: AnalyzedText, first: int) -> bool:
    sentences, norms = text.sentences, text.norms
    sentence = sentences[first]
    return any(sentences[i] == sentence and norms[i] in NEGATIONS for i in range(max(0, first - 3), first))


Kind = Literal["phrase", "combo", "exclude"]


@dataclass(frozen=True, slots=True)
class _Part(Generic[K]):
    rule: K
    kind: Kind
    combo: int = -1
    group: int = -1


@dataclass(frozen=True, slots=True)
class RuleHit(Generic[K]):
    rule: K
    sentence: int
    hits: tuple[PhraseHit[object], ...]
    via: Literal["phrase", "combo"]


class RuleSet(Generic[K]):
    def __init__(self, vocabulary: Vocabulary, rules: Mapping[K, Matchable]) -> None:
        self._matcher: PhraseMatcher[_Part[K]] = PhraseMatcher(vocabulary)
        self._combo_sizes: dict[tuple[K, int], int] = {}
        self._message_wide: set[tuple[K, int]] = set()
        for key, rule in rules.items():
            self._matcher.add_all(rule.phrases, _Part(key, "phrase"))
            self._matcher.add_all(rule.exclude, _Part(key, "exclude"))
            for ci, combo in enumerate(rule.combos):
                self._combo_sizes[(key, ci)] = len(combo.all_of)
                if combo.within == "message":
                    self._message_wide.add((key, ci))
                for gi, group in enumerate(combo.all_of):
                    self._matcher.add_all(group, _Part(key, "combo", ci, gi))

    @property
    def size(self) -> int:
        return self._matcher.size

    def combo_words(self, text: AnalyzedText, hit: RuleHit[K]) -> list[list[PhraseHit[object]]]:
        """Every occurrence, per group, of the words of the combo behind ``hit`` in its sentence (or message).

        :meth:`match` keeps the first occurrence of each group; a caller that checks how the words stand to
        each other ("quiero" ... "hablar con un agente") needs the others too. Empty for a phrase hit."""
        if hit.via != "combo" or not hit.hits:
            return []
        first = hit.hits[0].payload
        if not isinstance(first, _Part):
            return []
        wide = (first.rule, first.combo) in self._message_wide
        groups: list[list[PhraseHit[object]]] = [[] for _ in range(self._combo_sizes[(first.rule, first.combo)])]
        for raw in self._matcher.find(text):
            part = raw.payload
            if (
                part.kind == "combo"
                and part.rule == first.rule
                and part.combo == first.combo
                and (wide or raw.sentence == hit.sentence)
            ):
                groups[part.group].append(raw)  # type: ignore[arg-type]
        return groups

    def match(self, text: AnalyzedText) -> list[RuleHit[K]]:
        """Rule hits in ``text``, at most one per rule and sentence, in reading order."""
        raw = self._matcher.find(text)
        if not raw:
            return []
        excluded: set[tuple[K, int]] = set()
        phrase_hits: dict[tuple[K, int], list[PhraseHit[object]]] = {}
        combo_groups: dict[tuple[K, int, int], dict[int, PhraseHit[object]]] = {}
        for hit in raw:
            part = hit.payload
            if part.kind == "exclude":
                if not _negated(text, hit.first):
                    excluded.add((part.rule, hit.sentence))
            elif part.kind == "phrase":
                phrase_hits.setdefault((part.rule, hit.sentence), []).append(hit)  # type: ignore[arg-type]
            else:
                scope = -1 if (part.rule, part.combo) in self._message_wide else hit.sentence
                groups = combo_groups.setdefault((part.rule, part.combo, scope), {})
                groups.setdefault(part.group, hit)  # type: ignore[arg-type]
        found: dict[tuple[K, int], RuleHit[K]] = {}
        for (rule, sentence), hits in phrase_hits.items():
            found[(rule, sentence)] = RuleHit(rule, sentence, tuple(hits), "phrase")
        for (rule, combo, scope), groups in combo_groups.items():
            if len(groups) < self._combo_sizes[(rule, combo)]:
                continue
            ordered = tuple(sorted(groups.values(), key=lambda h: h.first))
            sentence = ordered[0].sentence if scope == -1 else scope
            if (rule, sentence) in found:
                continue
            found[(rule, sentence)] = RuleHit(rule, sentence, ordered, "combo")
        return sorted(
            (h for key, h in found.items() if key not in excluded),
            key=lambda h: (h.sentence, h.hits[0].first),
        )

"""The compiled phrase trie and the analyser's one-map id look-up give exactly what the plain walk gave.

Round 9 of issue 12 compiled each token id set's start in the trie (its one-word phrases in insertion
order, and the nodes to continue from with their children's word ids) and reads every token's ids with
one ``map`` over the token cache. The walk and the look-ups they replace are kept here, written the
plain way, and both are compared on every benchmark-corpus message (regression inputs, not accuracy
evidence) in five languages, on generated word sequences dense in policy words, fillers, gaps and
sentence ends, and on written cases.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

import pytest

from handoff_core.engine import DecisionEngine
from handoff_core.text.normalize import tokenize
from handoff_core.text.phrases import (
    MAX_GAP,
    SKIP,
    AnalyzedText,
    Analyzer,
    PhraseHit,
    PhraseMatcher,
    Vocabulary,
    _Compiled,
    _Node,
    vocabulary_of,
)
from handoff_core.text.window import analysis_window

from .conftest import ROOT

CORPUS = ROOT / "bench" / "corpus" / "messages.jsonl"
LANGUAGES = ("en", "es", "fr", "de", "pt")


def _reference_descend(
    node: _Node,
    j: int,
    sentence: int,
    content: Sequence[int],
    ids: Sequence[frozenset[int]],
    sentences: Sequence[int],
    out: list[tuple[_Compiled, int]],
) -> None:
    """Each child word at its first occurrence within the gap, in the same sentence (round 8's walk)."""
    children = node.children
    taken: dict[int, int] = {}
    for k in range(j, min(j + 1 + MAX_GAP, len(content))):
        idx = content[k]
        if sentences[idx] != sentence:
            break
        for w in ids[idx]:
            if w in children and w not in taken:
                taken[w] = k
    for w, k in taken.items():
        child = children[w]
        for compiled in child.phrases:
            out.append((compiled, content[k]))
        if child.children:
            _reference_descend(child, k + 1, sentence, content, ids, sentences, out)


def reference_match(
    vocabulary: Vocabulary, content: Sequence[int], ids: Sequence[frozenset[int]], sentences: Sequence[int]
) -> dict[int, list[PhraseHit[object]]]:
    """``Vocabulary.match`` as it was before round 9: every start node walked, every child descended."""
    found: dict[int, list[PhraseHit[object]]] = {}
    children = vocabulary.root.children
    for pos, first in enumerate(content):
        starts = [children[w] for w in sorted(ids[first]) if w in children]
        sentence = sentences[first]
        at_start: list[tuple[_Compiled, int]] = []
        for node in starts:
            for compiled in node.phrases:
                at_start.append((compiled, first))
            if node.children:
                _reference_descend(node, pos + 1, sentence, content, ids, sentences, at_start)
        at_start.sort(key=lambda item: item[0].seq)
        for compiled, last in at_start:
            found.setdefault(compiled.matcher, []).append(
                PhraseHit(compiled.payload, compiled.phrase, first, last, sentence)
            )
    return found


_REFERENCE_IDS: dict[tuple[str, str], frozenset[int]] = {}


def reference_ids(analyzer: Analyzer, text: AnalyzedText) -> tuple[tuple[frozenset[int], ...], tuple[int, ...]]:
    """Each token's word ids worked out by ``_ids`` itself (not read through the token cache), and the
    content tokens by a plain filter. ``_ids`` is a pure function of the word and language, so its values
    are remembered here per test module (a dict of this module's own, keyed by the analyser's vocabulary)."""
    fresh = Analyzer(analyzer.vocabulary)
    ids = []
    for norm in text.norms:
        key = (norm, text.language)
        found = _REFERENCE_IDS.get(key) if analyzer.vocabulary is _VOCABULARY[0] else None
        if found is None:
            found = fresh._ids(norm, text.language)
            if analyzer.vocabulary is _VOCABULARY[0]:
                _REFERENCE_IDS[key] = found
        ids.append(found)
    content = tuple(i for i, norm in enumerate(text.norms) if norm not in SKIP)
    return tuple(ids), content


def _check(analyzer: Analyzer, text: str, language: str) -> int:
    analyzed = analyzer.analyze(text, language)
    ids, content = reference_ids(analyzer, analyzed)
    assert analyzed.ids == ids, text
    assert analyzed.content == content, text
    expected = reference_match(analyzer.vocabulary, content, ids, analyzed.sentences)
    assert analyzed.hits == expected, text
    # The same hit tuples in the same order, matcher by matcher (dict equality ignores key order only).
    assert [(k, [tuple(h) for h in v]) for k, v in sorted(analyzed.hits.items())] == [
        (k, [tuple(h) for h in v]) for k, v in sorted(expected.items())
    ]
    return sum(map(len, expected.values()))


#: The default policy's vocabulary, whose reference ids are remembered (the written cases build their own).
_VOCABULARY: list[Vocabulary | None] = [None]


@pytest.fixture(scope="module")
def analyzer(default_engine: DecisionEngine) -> Analyzer:
    """The default policy's analyser: every phrase of every matcher in one trie (~3,200 phrases)."""
    _VOCABULARY[0] = default_engine._analyzer.vocabulary
    return default_engine._analyzer


def test_corpus_messages_match_as_the_plain_walk(analyzer: Analyzer) -> None:
    """Every corpus message, through the analysis window, in five languages: the same ids, content and hits."""
    texts = [analysis_window(json.loads(line)["text"]) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    hits = sum(_check(analyzer, text, LANGUAGES[n % len(LANGUAGES)]) for n, text in enumerate(texts))
    assert hits > 5_000  # the corpus exercises the trie, not only its misses


def _phrases(vocabulary: Vocabulary) -> list[str]:
    """Every phrase in the trie, as written in the policy."""
    found, nodes = [], [vocabulary.root]
    while nodes:
        node = nodes.pop()
        found += [compiled.phrase for compiled in node.phrases]
        nodes += node.children.values()
    return sorted(set(found))


def test_generated_sequences_match_as_the_plain_walk(analyzer: Analyzer) -> None:
    """2,000 texts of policy phrases broken up by extra words, fillers and sentence ends: the same hits."""
    rng = random.Random(12)
    phrases = _phrases(analyzer.vocabulary)
    words = sorted(analyzer.vocabulary.words)
    between = [*sorted(SKIP), "very", "really", "xyzzy", "Order", "#123", ". ", "! ", "? ", "\n"]
    multi = 0
    for n in range(2_000):
        parts: list[str] = []
        for _ in range(rng.randint(1, 6)):
            source = rng.choice(phrases) if rng.random() < 0.7 else rng.choice(words)
            for word in source.split():
                parts.append(word)
                roll = rng.random()
                if roll < 0.25:
                    parts.append(rng.choice(between))  # a gap, a filler, or a sentence end inside the phrase
                elif roll < 0.3:
                    parts.append(rng.choice(words))
        text = " ".join(parts)
        language = LANGUAGES[n % len(LANGUAGES)]
        _check(analyzer, text, language)
        multi += any(h.last != h.first for v in analyzer.analyze(text, language).hits.values() for h in v)
    assert multi > 700  # phrases of several words (with and without a gap) are found, not only single words


CASES = [
    # (phrases in insertion order, text, expected (phrase, first, last) hits)
    (["money back"], "I want my money back", [("money back", 3, 4)]),
    (["money back"], "money sent back", [("money back", 0, 2)]),  # one extra word allowed
    (["money back"], "money was sent back", []),  # two are not
    (["money back"], "money. back", []),  # not across a sentence end
    (["talk to a human"], "talk to human now", [("talk to a human", 0, 2)]),  # fillers skipped
    (["refund", "refund now"], "refund now", [("refund", 0, 0), ("refund now", 0, 1)]),
    (["refund now", "refund"], "refund now", [("refund now", 0, 1), ("refund", 0, 0)]),  # insertion order
    (
        ["card", "lost card", "card stolen"],
        "lost card stolen card",
        [("lost card", 0, 1), ("card", 1, 1), ("card stolen", 1, 2), ("card", 3, 3)],
    ),
    (["cancel account"], "cancel cancel account", [("cancel account", 0, 2), ("cancel account", 1, 2)]),
    ([], "anything at all", []),
]


@pytest.mark.parametrize(("phrases", "text", "expected"), CASES)
def test_written_cases(phrases: list[str], text: str, expected: list[tuple[str, int, int]]) -> None:
    """Gaps, fillers, sentence ends and insertion order on small vocabularies, both ways."""
    vocabulary = vocabulary_of([phrases])
    matcher: PhraseMatcher[str] = PhraseMatcher(vocabulary)
    matcher.add_all(phrases, "p")
    analyzer = Analyzer(vocabulary)
    analyzed = analyzer.analyze(text, "en")
    assert [(h.phrase, h.first, h.last) for h in matcher.find(analyzed)] == expected
    _check(analyzer, text, "en")


def test_phrases_added_after_a_match_are_found() -> None:
    """A phrase added once the compiled starts are cached is matched (the cache follows the generation)."""
    vocabulary = vocabulary_of([["refund", "refund now"]])
    matcher: PhraseMatcher[str] = PhraseMatcher(vocabulary)
    matcher.add("refund", "p")
    analyzer = Analyzer(vocabulary)
    assert [h.phrase for h in matcher.find(analyzer.analyze("refund now", "en"))] == ["refund"]
    matcher.add("refund now", "p")
    assert [h.phrase for h in matcher.find(analyzer.analyze("refund now", "en"))] == ["refund", "refund now"]
    assert tokenize("refund now").norms == ("refund", "now")

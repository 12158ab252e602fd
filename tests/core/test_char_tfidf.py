"""The hashed character 2-4-gram TF-IDF of knowledge coverage equals a plain reference computation, and the
knowledge head's matcher blends it in as documented (fast, table-driven)."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from handoff_core.char_tfidf import CHAR_BUCKETS, CharTfidfIndex, char_wb_buckets, char_wb_ngrams
from handoff_core.examples import ExampleMatcher
from handoff_core.knowledge import LexicalExampleMatcher

DOCUMENTS = (
    "Where is my refund?",
    "I want to reset my password",
    "cancel my order please",
    "How do I change the delivery address",
    "a b  c\tde FG",
    "Rückerstattung für die Bestellung",
)
QUERIES = (
    "where's my refund",
    "password reset!!",
    "zzz qqq",
    "",
    "   ",
    "Bestellung stornieren",
    "cancel order",
    "I want to reset my password",
)


def reference(documents: tuple[str, ...], query: str) -> list[float]:
    """Cosines by the definition, over n-gram strings (no hashing): sublinear tf, smoothed idf over the
    documents, L2 norm over the n-grams the documents have."""
    counted = [Counter(char_wb_ngrams(d)) for d in documents]
    df = Counter(g for c in counted for g in c)
    n = len(documents)
    idf = {g: math.log((1 + n) / (1 + k)) + 1 for g, k in df.items()}

    def unit(counts: Counter[str]) -> dict[str, float]:
        v = {g: (1 + math.log(k)) * idf[g] for g, k in counts.items() if g in idf}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        return {g: x / norm for g, x in v.items()}

    q = unit(Counter(char_wb_ngrams(query)))
    return [sum(w * d.get(g, 0.0) for g, w in q.items()) for d in (unit(c) for c in counted)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ab", [" a", "ab", "b ", " ab", "ab ", " ab "]),
        ("A", [" a", "a ", " a "]),
        ("hi  yo", [" h", "hi", "i ", " hi", "hi ", " hi ", " y", "yo", "o ", " yo", "yo ", " yo "]),
        ("", []),
        (" \t\n", []),
    ],
)
def test_char_wb_ngrams_pad_each_word(text: str, expected: list[str]) -> None:
    """Each lower-cased word is padded with a space either side and cut into 2-, 3- and 4-grams inside it."""
    assert char_wb_ngrams(text) == expected
    assert len(char_wb_buckets(text)) == len(expected)  # the hashed path makes the same windows


@pytest.mark.parametrize("query", QUERIES)
def test_hashed_index_equals_the_reference_cosines(query: str) -> None:
    """Hashing the n-grams changes nothing on a corpus without bucket collisions: same cosines as the
    string reference, to float32 precision."""
    grams = {g for d in DOCUMENTS for g in char_wb_ngrams(d)}
    index = CharTfidfIndex(DOCUMENTS)
    assert len(index.vocabulary) == len(grams)  # no collisions here, so equality is exact arithmetic
    assert index.similarities(query).tolist() == pytest.approx(reference(DOCUMENTS, query), abs=1e-6)


def test_reference_is_scikit_learns_char_wb_tfidf() -> None:
    """The reference is the baseline's computation (scikit-learn char_wb 2-4-grams, sublinear tf, cosine)."""
    text = pytest.importorskip("sklearn.feature_extraction.text")
    vectorizer = text.TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
    matrix = vectorizer.fit_transform(DOCUMENTS)
    analyzer = vectorizer.build_analyzer()
    for document in DOCUMENTS:
        assert sorted(analyzer(document)) == sorted(char_wb_ngrams(document))
    expected = (vectorizer.transform(list(QUERIES)) @ matrix.T).toarray()
    assert np.asarray([reference(DOCUMENTS, q) for q in QUERIES]) == pytest.approx(expected, abs=1e-9)


def test_buckets_collide_only_at_the_birthday_rate() -> None:
    """A weak hash would pass the small tables above by luck: 5,688 distinct n-grams of structured words
    (digits in a row) collide about as often as random buckets would (n^2 / 2 / 2**20, about 15; a
    polynomial hash whose top bits were kept after one multiplication collided 1,268 times)."""
    words = [f"w{i:04d}x" for i in range(3000)]
    grams = {g for w in words for g in char_wb_ngrams(w)}
    buckets = set(char_wb_buckets(" ".join(words)).tolist())
    expected = len(grams) ** 2 / 2 / CHAR_BUCKETS
    assert len(grams) - len(buckets) <= 2 * expected + 5


def test_arrays_round_trip_and_damaged_arrays_are_refused() -> None:
    """An index rebuilt from its arrays scores the same floats; arrays that do not fit raise ValueError."""
    index = CharTfidfIndex(DOCUMENTS)
    again = CharTfidfIndex.from_arrays(index.arrays())
    for query in QUERIES:
        assert again.similarities(query).tolist() == index.similarities(query).tolist()
    damaged = index.arrays()
    damaged["post_row"] = damaged["post_row"][:-1]
    with pytest.raises(ValueError):
        CharTfidfIndex.from_arrays(damaged)


def test_empty_index_scores_nothing() -> None:
    """No documents: no similarities, no error."""
    assert CharTfidfIndex(()).similarities("anything here").tolist() == []


def test_knowledge_matcher_blends_the_char_cosine_at_its_weight() -> None:
    """The knowledge head's similarity is (1 - c) x the example matcher's + c x the char n-gram cosine,
    and survives the cache's round trip through plain arrays."""
    examples = {"refund": ["Where is my refund?", "refund not received"], "password": ["reset my password"]}
    plain = ExampleMatcher(examples)
    lexical = LexicalExampleMatcher(examples, char_weight=0.4)
    chars = CharTfidfIndex([t for texts in examples.values() for t in texts])
    for query in ("where is the refund", "password reset", "opening hours"):
        features = plain.featurize(query)
        expected = np.clip(0.6 * plain.similarities(features) + 0.4 * chars.similarities(query), 0, 1)
        assert lexical.similarities(features).tolist() == pytest.approx(expected.tolist(), abs=1e-6)
        again = LexicalExampleMatcher.from_arrays(lexical.arrays(), lexical.featurizer)
        assert again.similarities(features).tolist() == lexical.similarities(features).tolist()

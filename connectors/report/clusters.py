"""Group the questions the assistant could not answer, so the largest gaps in the knowledge come first.

Why TF-IDF over words *and* character n-grams: customer questions are short, misspelt and in several
languages. Word unigrams and bigrams catch shared phrasing ("gift card", "delete account"); character
3- to 5-grams inside words catch inflections and typos ("refunds", "refund", "refnd") without a stemmer
per language. Both parts are weighted by inverse document frequency, so words every question shares
("my", "the", "how") barely count, and the vector is L2-normalised, so the dot product is the cosine.

Why greedy centroid clustering: it is a few lines, deterministic and O(questions × groups). Each
question joins the most similar group if the cosine to that group's centroid reaches the threshold,
else it starts a new group; then groups whose centroids are that similar are merged until none are
(agglomerative on centroids). The result does not depend on the question order except for ties.

Errors: none; empty input gives no groups.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

Vector = dict[str, float]

#: Cosine to a group centroid needed to join it. Chosen on the example questions: paraphrases of one
#: question score 0.35-0.7, unrelated questions that share a word 0.05-0.2.
DEFAULT_THRESHOLD = 0.3

_WORD = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)
#: Words never used to name a group (they may still be in the vectors, with a low weight).
_STOPWORD_TEXT = """
a an and are as at be can could do does for from have how i if in is it me my no not of on or our please so
that the this to was we what when where which why will with would you your hi hello thanks
le la les de des du un une et est je mon ma mes pour que qui der die das und ist ich mein meine ein eine
nicht wie el los las y es mi para por con het een en ik mijn niet voor van
"""
_LABEL_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def _tokens(text: str) -> list[str]:
    return [t.lower() for t in _WORD.findall(text)]


def features(text: str) -> Counter[str]:
    """Raw term counts: ``w:`` word unigrams, ``b:`` word bigrams, ``c:`` char 3-5-grams inside words."""
    words = _tokens(text)
    counts: Counter[str] = Counter()
    counts.update(f"w:{w}" for w in words)
    counts.update(f"b:{a} {b}" for a, b in itertools.pairwise(words))
    for word in words:
        padded = f" {word} "
        for n in (3, 4, 5):
            counts.update(f"c:{padded[i : i + n]}" for i in range(max(0, len(padded) - n + 1)))
    return counts


def tfidf(texts: Sequence[str]) -> list[Vector]:
    """L2-normalised TF-IDF vectors (sublinear tf, smoothed idf) for ``texts``."""
    raw = [features(t) for t in texts]
    df: Counter[str] = Counter()
    for counts in raw:
        df.update(counts.keys())
    n = len(texts)
    idf = {term: math.log((1 + n) / (1 + count)) + 1.0 for term, count in df.items()}
    vectors: list[Vector] = []
    for counts in raw:
        vec = {term: (1.0 + math.log(tf)) * idf[term] for term, tf in counts.items()}
        vectors.append(_normalised(vec))
    return vectors


def _normalised(vec: Vector) -> Vector:
    norm = math.sqrt(sum(v * v for v in vec.values()))
    return {k: v / norm for k, v in vec.items()} if norm else {}


def cosine(a: Vector, b: Vector) -> float:
    """Dot product of two normalised sparse vectors."""
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(k, 0.0) for k, v in a.items())


@dataclass
class _Group:
    members: list[int]
    total: Vector
    centroid: Vector

    def absorb(self, members: list[int], vec: Vector) -> None:
        self.members.extend(members)
        for k, v in vec.items():
            self.total[k] = self.total.get(k, 0.0) + v
        self.centroid = _normalised(self.total)


def _merge_similar(groups: list[_Group], threshold: float) -> bool:
    """One pass merging every later group into an earlier one it resembles; True if any merged."""
    merged = False
    i = 0
    while i < len(groups):
        j = i + 1
        while j < len(groups):
            if cosine(groups[i].centroid, groups[j].centroid) >= threshold:
                groups[i].absorb(groups[j].members, groups[j].total)
                del groups[j]
                merged = True
                j = i + 1
            else:
                j += 1
        i += 1
    return merged


def cluster(texts: Sequence[str], threshold: float = DEFAULT_THRESHOLD) -> list[list[int]]:
    """Indices of ``texts`` grouped by similarity, largest group first (ties: earliest first)."""
    groups: list[_Group] = []
    for index, vec in enumerate(tfidf(texts)):
        best, best_score = None, threshold
        for group in groups:
            score = cosine(vec, group.centroid)
            if score >= best_score:
                best, best_score = group, score
        if best is None:
            groups.append(_Group([index], dict(vec), vec))
        else:
            best.absorb([index], vec)
    while _merge_similar(groups, threshold):
        pass
    result = [sorted(g.members) for g in groups]
    return sorted(result, key=lambda members: (-len(members), members[0]))


def label(texts: Sequence[str], limit: int = 3) -> str:
    """A short name for a group: its most frequent content words (ties broken alphabetically)."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(
            {w for w in _tokens(text) if len(w) > 2 and w not in _LABEL_STOPWORDS and not w.isdigit()}
        )
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return ", ".join(word for word, _ in top) or "(no common words)"

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
from dataclasses import dataclass, field

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
then about been but just also there still get got need want okay yes thank any some all one did has had its
can't don't i'm i'll it's that's what's ciao che per non una sono vous pas est sur dans avec ich ist sie
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
class _Groups:
    """Groups as summed member vectors, with an inverted index (term -> group -> weight) so that a
    question is scored against every group by walking its own terms only."""

    members: list[list[int]] = field(default_factory=list)
    totals: list[Vector] = field(default_factory=list)
    norms2: list[float] = field(default_factory=list)
    postings: dict[str, dict[int, float]] = field(default_factory=dict)

    def best(self, vec: Vector, threshold: float) -> int | None:
        dots: dict[int, float] = {}
        for term, value in vec.items():
            for group, weight in self.postings.get(term, {}).items():
                dots[group] = dots.get(group, 0.0) + value * weight
        best, best_score = None, threshold
        for group, dot in dots.items():
            score = dot / math.sqrt(self.norms2[group])
            if score > best_score or (best is None and score >= best_score):
                best, best_score = group, score
        return best

    def add(self, group: int | None, members: list[int], vec: Vector, weight: float) -> None:
        if group is None:
            group = len(self.members)
            self.members.append([])
            self.totals.append({})
            self.norms2.append(0.0)
        self.members[group].extend(members)
        total = self.totals[group]
        for term, value in vec.items():
            old = total.get(term, 0.0)
            new = old + value * weight
            total[term] = new
            self.norms2[group] += new * new - old * old
            self.postings.setdefault(term, {})[group] = new

    def similarity(self, a: int, b: int) -> float:
        small, large = sorted((self.totals[a], self.totals[b]), key=len)
        dot = sum(v * large.get(k, 0.0) for k, v in small.items())
        return dot / math.sqrt(self.norms2[a] * self.norms2[b])


def _merge_pass(groups: _Groups, alive: list[int], threshold: float) -> bool:
    """Merge every later group into an earlier one it resembles; True if any merged."""
    merged = False
    i = 0
    while i < len(alive):
        j = i + 1
        while j < len(alive):
            if groups.similarity(alive[i], alive[j]) >= threshold:
                groups.add(alive[i], groups.members[alive[j]], groups.totals[alive[j]], 1.0)
                del alive[j]
                merged = True
                j = i + 1
            else:
                j += 1
        i += 1
    return merged


def cluster(texts: Sequence[str], threshold: float = DEFAULT_THRESHOLD) -> list[list[int]]:
    """Indices of ``texts`` grouped by similarity, largest group first (ties: earliest first).

    Texts with the same words (ignoring case and punctuation) are one item, weighted by how often it
    was asked, so a question asked fifty times pulls its group's centroid fifty times as hard.
    """
    same: dict[str, list[int]] = {}
    for index, text in enumerate(texts):
        same.setdefault(" ".join(_tokens(text)), []).append(index)
    items = list(same.values())
    groups = _Groups()
    for members, vec in zip(items, tfidf([texts[m[0]] for m in items]), strict=True):
        groups.add(groups.best(vec, threshold), members, vec, float(len(members)))
    # Merge groups whose centroids ended up close (greedy assignment can split a topic early on).
    alive = list(range(len(groups.members)))
    while _merge_pass(groups, alive, threshold):
        pass
    result = [sorted(groups.members[g]) for g in alive]
    return sorted(result, key=lambda members: (-len(members), members[0]))


def _content_words(text: str) -> set[str]:
    return {w for w in _tokens(text) if len(w) > 2 and w not in _LABEL_STOPWORDS and not w.isdigit()}


def label(texts: Sequence[str], corpus: Sequence[str] = (), limit: int = 3) -> str:
    """A short name for a group: the content words that best tell it apart.

    Each word scores (questions in the group using it) × idf over ``corpus`` (all the questions that
    were grouped; the group itself when not given), so a word every question uses ("order", "help")
    loses to the word that makes this group what it is ("dark", "mode"). Ties go alphabetically.
    """
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(_content_words(text))
    df: Counter[str] = Counter()
    for text in corpus or texts:
        df.update(_content_words(text))
    n = len(corpus or texts)
    score = {w: c * (math.log((1 + n) / (1 + df.get(w, 0))) + 1.0) for w, c in counts.items()}
    top = sorted(score, key=lambda w: (-score[w], w))[:limit]
    return ", ".join(top) or "(no common words)"

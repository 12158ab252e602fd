"""Group the questions the assistant could not answer, so the largest gaps in the knowledge come first.

Why two views of a question, averaged: customer questions are short, misspelt and in several languages.

- *Meaning*: the static MiniLM sentence vector the core already ships (:mod:`handoff_core.embeddings`)
  knows that "Shipping to Norway possible?" and "do you deliver to Norway" ask the same thing although
  they share one word.
- *Wording*: TF-IDF over word unigrams and bigrams and character 3- to 5-grams inside words catches
  shared phrasing, inflections and typos ("refunds", "refund", "refnd") in any language without a
  stemmer per language. Words every question shares ("my", "the", "how") get a low inverse document
  frequency. The sparse TF-IDF vector is folded into :data:`HASH_DIM` dense columns by signed feature
  hashing (a stable CRC-32 of the term picks the column and the sign), which keeps dot products in
  expectation and lets numpy multiply matrices instead of Python walking dictionaries.

Both parts are L2-normalised and scaled by the square roots of their weights, so the dot product of two
rows is ``SEMANTIC_WEIGHT × cos(meaning) + (1 − SEMANTIC_WEIGHT) × cos(wording)``.

Why a leader pass plus one merge round, and not all pairs: the old greedy clustering compared every
pair of groups again until nothing merged (quadratic or worse in distinct questions: 17 minutes for a
100k-decision week). Here distinct questions are visited in a fixed order (most asked first, then first
seen), in blocks: one matrix product scores a block against every group leader, a question joins the
most similar leader when the cosine reaches the threshold, and the rest of the block is settled against
the leaders the block itself created (a small block × block product). Then every group's centroid is
compared with every other centroid in blocks, and groups whose centroids reach the threshold are joined
(single linkage over the centroid graph, union-find). Cost: O(questions × groups × dimension) in BLAS,
O(questions) in Python. The result depends on nothing but the texts (no random state, no hash seed).

Quality on real intent-labelled questions (HWU64, Bitext) is measured by ``bench/eval_clusters.py`` and
reported in ``docs/weekly-review.md``.

Errors: none; empty input gives no groups.
"""

from __future__ import annotations

import itertools
import math
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

from handoff_core.embeddings import bundled_embedder

Matrix = NDArray[np.float32]

#: Cosine (as defined above) needed to join a group. Chosen on HWU64 fold 1 and the example questions
#: in the tests (see ``bench/eval_clusters.py``); never on the folds or sets the docs report.
DEFAULT_THRESHOLD = 0.3
#: Share of the similarity that comes from meaning (static embeddings); the rest from wording. Zero by
#: default: on the tuning fold every weight above zero lowered the adjusted Rand index (0.28 at 0, 0.24
#: at 0.2, 0.19 at 0.5), because the static vectors of short requests sit close together whatever they
#: ask, and chain unrelated groups. The knob stays for stores whose questions are mostly paraphrases.
SEMANTIC_WEIGHT = 0.0
#: Columns of the hashed TF-IDF part (512: hashing noise on a cosine about 0.04 for short texts).
HASH_DIM = 512
#: Questions scored against every group centroid per matrix product.
BLOCK = 64

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


def normalise(text: str) -> str:
    """The words of ``text``, lower-cased, joined by spaces: questions equal under this are one item."""
    return " ".join(_tokens(text))


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


def _code(term: str) -> int:
    """Stable 32-bit code of a term (CRC-32, so the same in every process, unlike ``hash``)."""
    return zlib.crc32(term.encode("utf-8"))


def _bucket(term: str) -> tuple[int, float]:
    """Column and sign of a term in the hashed vector: the code modulo :data:`HASH_DIM`, and bit 16."""
    code = _code(term)
    return code % HASH_DIM, 1.0 if (code >> 16) & 1 else -1.0


class _Coder:
    """The term codes of :func:`features`, with each distinct word's unigram and character n-gram codes
    worked out once (words repeat across questions; their n-grams are most of the work)."""

    def __init__(self) -> None:
        self._words: dict[str, NDArray[np.uint32]] = {}

    def _word(self, word: str) -> NDArray[np.uint32]:
        codes = self._words.get(word)
        if codes is None:
            padded = f" {word} "
            grams = [f"c:{padded[i : i + n]}" for n in (3, 4, 5) for i in range(max(0, len(padded) - n + 1))]
            codes = self._words[word] = np.asarray([_code(f"w:{word}"), *map(_code, grams)], dtype=np.uint32)
        return codes

    def text(self, text: str) -> NDArray[np.uint32]:
        """The term codes of ``text``, one per occurrence."""
        words = _tokens(text)
        bigrams = np.asarray([_code(f"b:{a} {b}") for a, b in itertools.pairwise(words)], dtype=np.uint32)
        return np.concatenate([*(self._word(w) for w in words), bigrams])


#: Texts turned into hashed rows at a time (bounds the temporary arrays, whatever the number of texts).
CHUNK = 2_048

_Terms = tuple[NDArray[np.uint16], NDArray[np.uint32], NDArray[np.uint16]]


def _chunk_terms(coder: _Coder, texts: Sequence[str]) -> _Terms:
    """(row in the chunk, term code, count) for every distinct term of every text of a chunk, in the
    smallest types that hold them (a chunk of a big week is kept until its rows are built)."""
    per_text = [coder.text(t) for t in texts]
    rows = np.repeat(np.arange(len(texts), dtype=np.uint64), [len(c) for c in per_text])
    codes = np.concatenate(per_text).astype(np.uint64) if per_text else np.zeros(0, dtype=np.uint64)
    keys, tf = np.unique((rows << np.uint64(32)) | codes, return_counts=True)
    return (
        (keys >> np.uint64(32)).astype(np.uint16),
        (keys & np.uint64(0xFFFFFFFF)).astype(np.uint32),
        np.minimum(tf, 65_535).astype(np.uint16),
    )


def lexical_vectors(texts: Sequence[str]) -> Matrix:
    """Hashed, L2-normalised TF-IDF rows (sublinear tf, smoothed idf over ``texts``).

    Terms are known by their CRC-32 code only (two distinct terms sharing a code in a week's questions
    is a one-in-millions event), so no vocabulary of strings is kept; document frequencies are counted
    over the codes, and the work is done :data:`CHUNK` texts at a time.
    """
    n = len(texts)
    coder = _Coder()
    chunks = [_chunk_terms(coder, texts[start : start + CHUNK]) for start in range(0, n, CHUNK)]
    if not chunks:
        return np.zeros((0, HASH_DIM), dtype=np.float32)
    vocabulary, df = np.unique(np.concatenate([codes for _, codes, _ in chunks]), return_counts=True)
    idf = np.log((1 + n) / (1 + df)) + 1.0
    out = np.empty((n, HASH_DIM), dtype=np.float32)
    for number, (rows, codes, tf) in enumerate(chunks):
        start = number * CHUNK
        size = min(CHUNK, n - start)
        sign = np.where((codes >> 16) & 1, 1.0, -1.0)
        values = (1.0 + np.log(tf.astype(np.float64))) * idf[np.searchsorted(vocabulary, codes)] * sign
        flat = rows.astype(np.int64) * HASH_DIM + (codes % HASH_DIM).astype(np.int64)
        dense = np.bincount(flat, weights=values, minlength=size * HASH_DIM)
        out[start : start + size] = dense.reshape(size, HASH_DIM)
    return _unit_rows(out)


def vectors(texts: Sequence[str]) -> Matrix:
    """One row per text; the dot product of two rows is the blended cosine described above."""
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    lexical = lexical_vectors(texts)
    if SEMANTIC_WEIGHT == 0.0:
        return lexical
    semantic = _unit_rows(bundled_embedder().encode(list(texts)))
    return np.hstack(
        [semantic * np.float32(math.sqrt(SEMANTIC_WEIGHT)), lexical * np.float32(math.sqrt(1 - SEMANTIC_WEIGHT))]
    ).astype(np.float32)


def _unit_rows(matrix: Matrix) -> Matrix:
    """``matrix`` with every non-zero row scaled to unit length, in place (no copy of a large matrix)."""
    norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix))
    norms[norms == 0] = 1.0
    matrix /= norms[:, None].astype(matrix.dtype)
    return matrix


def cosine(a: Matrix, b: Matrix) -> float:
    """Dot product of two rows of :func:`vectors` (they are unit length)."""
    return float(np.dot(a, b))


class _Groups:
    """Groups as summed member vectors and their norms (capacity grows by half), so scoring a block
    of questions against every group centroid is one matrix product divided by the norms."""

    def __init__(self, dim: int) -> None:
        self.sums = np.zeros((256, dim), dtype=np.float32)
        self.norms = np.ones(256, dtype=np.float32)
        self.count = 0

    def new(self, row: Matrix, weight: float) -> int:
        if self.count == len(self.sums):
            extra = len(self.sums) // 2
            self.sums = np.vstack([self.sums, np.zeros((extra, self.sums.shape[1]), dtype=np.float32)])
            self.norms = np.concatenate([self.norms, np.ones(extra, dtype=np.float32)])
        self.sums[self.count] = row * np.float32(weight)
        self.norms[self.count] = float(np.sqrt(self.sums[self.count] @ self.sums[self.count])) or 1.0
        self.count += 1
        return self.count - 1

    def join(self, group: int, row: Matrix, weight: float) -> None:
        total = self.sums[group]
        total += row * np.float32(weight)
        self.norms[group] = float(np.sqrt(total @ total)) or 1.0

    def scores(self, rows: Matrix) -> Matrix:
        """Cosine of every row with every group centroid."""
        result: Matrix = (rows @ self.sums[: self.count].T) / self.norms[: self.count]
        return result

    def column(self, rows: Matrix, group: int) -> Matrix:
        result: Matrix = (rows @ self.sums[group]) / self.norms[group]
        return result


def _leader_pass(vecs: Matrix, weights: NDArray[np.float32], threshold: float) -> NDArray[np.intp]:
    """Group number of every row: the group whose centroid is most similar (at ``threshold`` or
    above) when the row's turn comes, or a new group.

    Exactly the one-by-one greedy pass, computed a block at a time: one product scores the block
    against every centroid; when a row joins (or starts) a group, only that group's column is scored
    again for the rows left in the block.
    """
    group = np.full(len(vecs), -1, dtype=np.intp)
    groups = _Groups(vecs.shape[1])
    for start in range(0, len(vecs), BLOCK):
        block = vecs[start : start + BLOCK]
        size = len(block)
        known = groups.count
        scores = np.full((size, known + size), -np.inf, dtype=np.float32)
        if known:
            scores[:, :known] = groups.scores(block)
        for i in range(size):
            row = scores[i, : groups.count]
            best = int(row.argmax()) if groups.count else -1
            if best >= 0 and row[best] >= threshold:
                groups.join(best, block[i], float(weights[start + i]))
            else:
                best = groups.new(block[i], float(weights[start + i]))
            group[start + i] = best
            if i + 1 < size:
                scores[i + 1 :, best] = groups.column(block[i + 1 :], best)
    return group


def _mutual_pairs(centroids: Matrix, threshold: float) -> list[tuple[int, int]]:
    """Pairs of groups that are each other's most similar group, at ``threshold`` or above."""
    count = len(centroids)
    best = np.empty(count, dtype=np.intp)
    score = np.empty(count, dtype=np.float32)
    for start in range(0, count, BLOCK):
        scores = centroids[start : start + BLOCK] @ centroids.T
        scores[np.arange(len(scores)), np.arange(start, start + len(scores))] = -np.inf
        best[start : start + len(scores)] = scores.argmax(axis=1)
        score[start : start + len(scores)] = scores[np.arange(len(scores)), best[start : start + len(scores)]]
    mine = np.arange(count)
    mutual = (best[best] == mine) & (mine < best) & (score >= threshold)
    return list(zip(mine[mutual].tolist(), best[mutual].tolist(), strict=True))


#: Merge rounds. Each round joins every pair of groups that are each other's nearest group
#: (reciprocal nearest neighbours, as in centroid-linkage agglomerative clustering), so a chain of
#: loosely related groups does not collapse into one the way single linkage would let it. Three rounds
#: on the tuning fold: ARI 0.255 with none, 0.291 with one, 0.314 with three, 0.285 until nothing merges
#: (late rounds join broad groups that only share filler words).
MAX_MERGE_ROUNDS = 3


def _merge_close_groups(
    vecs: Matrix, weights: NDArray[np.float32], group: NDArray[np.intp], threshold: float
) -> NDArray[np.intp]:
    """Group numbers after joining groups whose centroids are mutual nearest and reach ``threshold``."""
    for _ in range(MAX_MERGE_ROUNDS):
        count = int(group.max()) + 1
        if count < 2:
            break
        sums = np.zeros((count, vecs.shape[1]), dtype=np.float32)
        for start in range(0, len(vecs), CHUNK):
            part = slice(start, start + CHUNK)
            np.add.at(sums, group[part], vecs[part] * weights[part, None])
        pairs = _mutual_pairs(_unit_rows(sums), threshold)
        if not pairs:
            break
        target = np.arange(count)
        for a, b in pairs:
            target[b] = a
        _, dense = np.unique(target, return_inverse=True)
        group = dense[group]
    return group


def cluster(texts: Sequence[str], threshold: float = DEFAULT_THRESHOLD) -> list[list[int]]:
    """Indices of ``texts`` grouped by similarity, largest group first (ties: earliest first).

    Texts with the same words (ignoring case and punctuation) are one item, weighted by how often it
    was asked: the most asked questions lead groups, and pull their group's centroid that much harder.
    """
    same: dict[str, list[int]] = {}
    for index, text in enumerate(texts):
        same.setdefault(normalise(text), []).append(index)
    if not same:
        return []
    items = sorted(same.values(), key=lambda members: (-len(members), members[0]))
    vecs = vectors([texts[m[0]] for m in items])
    weights = np.asarray([len(m) for m in items], dtype=np.float32)
    group = _merge_close_groups(vecs, weights, _leader_pass(vecs, weights, threshold), threshold)
    merged: dict[int, list[int]] = {}
    for item, g in zip(items, group.tolist(), strict=True):
        merged.setdefault(g, []).extend(item)
    result = [sorted(members) for members in merged.values()]
    return sorted(result, key=lambda members: (-len(members), members[0]))


def _content_words(text: str) -> set[str]:
    return {w for w in _tokens(text) if len(w) > 2 and w not in _LABEL_STOPWORDS and not w.isdigit()}


class Labeller:
    """Names groups against one corpus, counting the corpus once (not once per group)."""

    def __init__(self, corpus: Iterable[str]) -> None:
        self._df: Counter[str] = Counter()
        self._n = 0
        for text in corpus:
            self._df.update(_content_words(text))
            self._n += 1

    def label(self, texts: Sequence[str], limit: int = 3) -> str:
        """A short name for a group: the content words that best tell it apart.

        Each word scores (questions in the group using it) × idf over the corpus, so a word every
        question uses ("order", "help") loses to the word that makes this group what it is ("dark",
        "mode"). Ties go alphabetically.
        """
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(_content_words(text))
        n = self._n
        score = {w: c * (math.log((1 + n) / (1 + self._df.get(w, 0))) + 1.0) for w, c in counts.items()}
        top = sorted(score, key=lambda w: (-score[w], w))[:limit]
        return ", ".join(top) or "(no common words)"


def label(texts: Sequence[str], corpus: Sequence[str] = (), limit: int = 3) -> str:
    """:meth:`Labeller.label` of ``texts`` over ``corpus`` (the group itself when not given)."""
    return Labeller(corpus or texts).label(texts, limit)

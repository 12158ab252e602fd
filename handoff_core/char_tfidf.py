"""Character 2-4-gram TF-IDF over the knowledge's own questions: the lexical view of knowledge coverage.

Why: on public out-of-scope protocols a plain nearest neighbour over character 2-4-grams inside word
boundaries (scikit-learn's ``TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)``
and cosine similarity) is a strong baseline: it survives typos and inflections, and a question that shares
no wording with any approved question is very likely not covered. The fitted head reads meaning (sentence
embeddings) and learns which similarities matter per entry; this view says how close the wording is to
the nearest approved question. Knowledge coverage fuses the two (:mod:`handoff_core.knowledge`).

This is the same computation as the scikit-learn reference (lower-case, split on whitespace, each word
padded with one space on either side, every 2-, 3- and 4-gram inside a padded word, ``1 + log(tf)``,
smoothed IDF ``log((1 + n) / (1 + df)) + 1`` over the questions, L2 norm over the n-grams the questions
have), with the n-grams hashed into :data:`CHAR_BUCKETS` buckets so it needs no vocabulary of strings and
runs in numpy alone: a message costs a dozen array operations whatever its length. Hashing uses fixed
arithmetic on code points (no Python ``hash``), so it is the same in every process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: Hashed n-gram buckets. A few thousand questions have tens of thousands of distinct 2-4-grams, so 2**20
#: buckets keep collisions to a few per cent of them; the index stores only buckets that occur.
CHAR_BUCKETS = 1 << 20
_SHIFT = np.uint64(64 - CHAR_BUCKETS.bit_length() + 1)
_PRIME = np.uint64(0x100000001B3)
#: The splitmix64 finaliser's constants: a polynomial hash of a few small code points has structured low
#: entropy (its keys differ by multiples of powers of P), and keeping its top bits after one multiplication
#: collided five times more often than chance; the finaliser's shifts and multiplications mix every bit.
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
#: A different start per n-gram order, so "ab" and " ab" never share a hash by construction.
_TAGS = {n: np.uint64((0xCBF29CE484222325 * (n + 1)) % (1 << 64)) for n in (2, 3, 4)}
_ORDERS = (2, 3, 4)

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float32]


def char_wb_ngrams(text: str) -> list[str]:
    """The n-grams themselves, as strings (the reference :func:`char_wb_buckets` hashes; tests and evidence)."""
    out: list[str] = []
    for word in text.lower().split():
        padded = f" {word} "
        for n in _ORDERS:
            out.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return out


def char_wb_buckets(text: str) -> IntArray:
    """Bucket of every character 2-, 3- and 4-gram inside the padded words of ``text`` (with repeats).

    The padded words are written one after the other (" w1  w2 "), so a padded word starts at position 0
    and at the second space of every double space; a window is an n-gram when it lies inside one padded
    word. A window's hash is ``((TAG_n·P + c0)·P + c1)·P + …`` modulo 2**64 over the code points, mixed by
    the splitmix64 finaliser, whose top bits are the bucket.
    """
    words = text.lower().split()
    if not words:
        return np.zeros(0, dtype=np.int64)
    padded = " " + "  ".join(words) + " "
    codes = np.frombuffer(padded.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    c = len(codes)
    space = codes == 32
    starts = np.empty(c, dtype=bool)
    starts[0] = True
    np.logical_and(space[1:], space[:-1], out=starts[1:])
    segment = np.cumsum(starts)
    parts = []
    for n in _ORDERS:
        m = c - n + 1
        if m <= 0:
            break
        h = np.full(m, _TAGS[n], dtype=np.uint64)
        for j in range(n):
            h *= _PRIME
            h += codes[j : j + m]
        parts.append(h[segment[:m] == segment[n - 1 :]])
    keys = np.concatenate(parts)
    keys ^= keys >> np.uint64(30)
    keys *= _MIX_1
    keys ^= keys >> np.uint64(27)
    keys *= _MIX_2
    keys ^= keys >> np.uint64(31)
    keys >>= _SHIFT
    return keys.view(np.int64)


def char_wb_counts(text: str) -> tuple[IntArray, IntArray]:
    """Sorted distinct buckets of ``text`` and how often each occurs."""
    keys = char_wb_buckets(text)
    if not len(keys):
        return keys, np.zeros(0, dtype=np.int64)
    keys.sort()  # a sort and its runs: what np.unique(return_counts=True) gives, without its extra passes
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    counts = np.diff(np.append(starts, len(keys)))
    return keys[starts], counts


class CharTfidfIndex:
    """Hashed character 2-4-gram TF-IDF vectors of some documents, as postings, for cosine similarity.

    Built once from the knowledge's questions; :meth:`similarities` gives a message's cosine with every
    question. The vectors are stored as postings sorted by bucket (three flat arrays), so a few thousand
    questions cost a few megabytes, and a message's cosines are one gather and one ``bincount``.
    """

    #: The arrays :meth:`arrays` returns and :meth:`from_arrays` reads.
    ARRAYS = ("vocabulary", "idf", "post_start", "post_row", "post_weight")

    def __init__(self, documents: Sequence[str]) -> None:
        counted = [char_wb_counts(text) for text in documents]
        self.size = len(documents)
        all_buckets = np.concatenate([b for b, _ in counted]) if counted else np.zeros(0, np.int64)
        vocabulary, df = np.unique(all_buckets, return_counts=True)
        self.vocabulary: IntArray = vocabulary.astype(np.int64)
        self.idf: FloatArray = (np.log((1.0 + self.size) / (1.0 + df)) + 1.0).astype(np.float32)
        rows, buckets, weights = [], [], []
        for row, (b, tf) in enumerate(counted):
            w = (1.0 + np.log(tf)) * self.idf[np.searchsorted(self.vocabulary, b)]
            w /= max(1e-12, float(np.sqrt(w @ w)))
            rows.append(np.full(len(b), row, dtype=np.int32))
            buckets.append(b)
            weights.append(w.astype(np.float32))
        if counted:
            order = np.argsort(np.concatenate(buckets), kind="stable")
            self.post_row: NDArray[np.int32] = np.concatenate(rows)[order]
            self.post_weight: FloatArray = np.concatenate(weights)[order]
        else:
            self.post_row, self.post_weight = np.zeros(0, np.int32), np.zeros(0, np.float32)
        self.post_start: IntArray = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)

    def arrays(self) -> dict[str, NDArray[np.generic]]:
        """Everything :meth:`from_arrays` needs (the knowledge cache stores it)."""
        return {
            "vocabulary": self.vocabulary,
            "idf": self.idf,
            "post_start": self.post_start,
            "post_row": self.post_row,
            "post_weight": self.post_weight,
            "size": np.asarray([self.size], dtype=np.int64),
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, NDArray[np.generic]]) -> CharTfidfIndex:
        """The index :meth:`arrays` came from; ``ValueError`` when the arrays do not fit together."""
        index = cls.__new__(cls)
        size = np.asarray(arrays["size"], dtype=np.int64)
        if size.shape != (1,):
            raise ValueError("size must be one number")
        index.size = int(size[0])
        index.vocabulary = np.asarray(arrays["vocabulary"], dtype=np.int64)
        index.idf = np.asarray(arrays["idf"], dtype=np.float32)
        index.post_start = np.asarray(arrays["post_start"], dtype=np.int64)
        index.post_row = np.asarray(arrays["post_row"], dtype=np.int32)
        index.post_weight = np.asarray(arrays["post_weight"], dtype=np.float32)
        postings = len(index.post_row)
        consistent = (
            index.idf.shape == index.vocabulary.shape
            and index.post_start.shape == (len(index.vocabulary) + 1,)
            and int(index.post_start[-1]) == postings
            and index.post_weight.shape == (postings,)
            and (not postings or (int(index.post_row.min()) >= 0 and int(index.post_row.max()) < index.size))
            and bool(np.isfinite(index.post_weight).all())
            and (
                not len(index.vocabulary)
                or (int(index.vocabulary[0]) >= 0 and int(index.vocabulary[-1]) < CHAR_BUCKETS)
            )
            and bool((index.vocabulary[1:] > index.vocabulary[:-1]).all())
        )
        if not consistent:
            raise ValueError("the character n-gram arrays do not fit together")
        return index

    @property
    def _positions(self) -> NDArray[np.signedinteger[Any]]:
        """Every bucket's position in the vocabulary, -1 where absent: one gather finds a message's n-grams
        instead of a binary search each (int16 for vocabularies under 32,767 n-grams: 2 MB; int32 above: 4 MB).
        Built on first use."""
        table = self.__dict__.get("_position_table")
        if table is None:
            dtype = np.int16 if len(self.vocabulary) < (1 << 15) - 1 else np.int32
            table = np.full(CHAR_BUCKETS, -1, dtype=dtype)
            table[self.vocabulary] = np.arange(len(self.vocabulary), dtype=dtype)
            self.__dict__["_position_table"] = table
        return table

    def query(self, text: str) -> tuple[NDArray[np.signedinteger[Any]], FloatArray]:
        """Positions in the vocabulary of ``text``'s known n-grams and their unit TF-IDF weights (n-grams
        no document has are dropped before the norm, as the reference does)."""
        buckets, tf = char_wb_counts(text)
        if not len(buckets) or not len(self.vocabulary):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        pos = self._positions.take(buckets)
        known = pos >= 0
        pos, tf = pos[known], tf[known]
        w = ((1.0 + np.log(tf)) * self.idf[pos]).astype(np.float32)
        w /= max(1e-12, float(np.sqrt(w @ w)))
        return pos, w

    def similarities(self, text: str) -> FloatArray:
        """Cosine of ``text``'s vector with every document's, in document order."""
        pos, weights = self.query(text)
        n = self.size
        if not len(pos):
            return np.zeros(n, dtype=np.float32)
        lo = self.post_start[pos]
        lengths = self.post_start[pos + 1] - lo
        total = int(lengths.sum())
        index = np.arange(total) + np.repeat(lo - (np.cumsum(lengths) - lengths), lengths)
        products = self.post_weight[index] * np.repeat(weights, lengths)
        sims: FloatArray = np.bincount(self.post_row[index], weights=products, minlength=n).astype(np.float32)
        return sims

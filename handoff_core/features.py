"""Per-message features shared by every trained detector and example matcher, computed once per message.

Trained detectors and example-defined topics need the same two views of a message: what it *means*
(the bundled static sentence embedding) and which *words* it uses (hashed uni-, bi- and trigrams of the
embedding's own word-piece ids, so the tokenizer runs once, plus hashed character 3- and 4-grams). Both
are computed with the Rust tokenizer and numpy in tens of microseconds, without a Python loop per
character, so a message is featurised once and every detector reads the same :class:`MessageFeatures`.

Hashing uses fixed arithmetic on token ids (no Python ``hash``), so features are identical across
processes and machines, which the bit-for-bit rebuild of the shipped weights depends on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from handoff_core.embeddings import StaticEmbedder, bundled_embedder

#: Number of hashed n-gram buckets. 2**18 keeps collisions rare for short support messages while a
#: float16 weight row per detector stays at 512 kB.
N_BUCKETS = 1 << 18
#: Style features computed from the raw text (the tokenizer lower-cases, so SHOUTING needs its own view).
STYLE_NAMES = ("capitals", "exclamations", "questions", "length")
_SHIFT = 1 << 15
_ORDER_TAG = 1 << 50
_FIBONACCI = np.uint64(0x9E3779B97F4A7C15)
_CHAR_TAG = np.uint64(0x5BD1E995)
_CHAR_PRIME = np.uint64(0x100000001B3)
_BUCKET_SHIFT = np.uint64(64 - N_BUCKETS.bit_length() + 1)
#: TAG·P³ modulo 2**64: what turns a character 3-gram's hash into the start of its 4-gram's.
_CHAR_TAG_P3 = np.uint64((int(_CHAR_TAG) * int(_CHAR_PRIME) ** 3) % (1 << 64))

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class MessageFeatures:
    """One message, featurised: everything a detector needs and everything its evidence quotes."""

    text: str
    #: L2-normalised static sentence embedding (zeros for a message without word pieces).
    embedding: FloatArray
    #: Sorted unique hashed n-gram buckets and their L2-normalised sublinear counts.
    buckets: IntArray
    values: FloatArray
    #: For each bucket, the character span (start, end) of its first occurrence, for evidence.
    span_starts: IntArray
    span_ends: IntArray
    style: FloatArray

    def quote(self, bucket_position: int) -> str:
        """The text behind a bucket, widened to whole words (a character n-gram quotes its word)."""
        text = self.text
        start, end = int(self.span_starts[bucket_position]), int(self.span_ends[bucket_position])
        while start > 0 and text[start - 1].isalnum():
            start -= 1
        while end < len(text) and text[end].isalnum():
            end += 1
        return text[start:end].strip()


def _hash_ngrams(ids: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Bucket of every uni-, bi- and trigram, with the token positions each one starts and ends at.

    Word-piece ids are below 2**15, so an n-gram of up to three ids packs exactly into an integer, tagged
    with its order; multiplicative (Fibonacci) hashing keeps the top 18 bits as the bucket.
    """
    n = len(ids)
    keys = [ids]
    positions = np.arange(n, dtype=np.int64)
    starts, ends = [positions], [positions]
    if n >= 2:
        bi = ids[:-1] * _SHIFT + ids[1:]
        keys.append(bi + _ORDER_TAG)
        starts.append(positions[:-1])
        ends.append(positions[1:])
        if n >= 3:
            keys.append(bi[:-1] * _SHIFT + ids[2:] + 2 * _ORDER_TAG)
            starts.append(positions[:-2])
            ends.append(positions[2:])
    packed = np.concatenate(keys).astype(np.uint64)
    with np.errstate(over="ignore"):
        buckets = ((packed * _FIBONACCI) >> _BUCKET_SHIFT).astype(np.int64)
    return buckets, np.concatenate(starts), np.concatenate(ends)


def _char_ngrams(text: str) -> tuple[IntArray, IntArray, IntArray]:
    """Buckets of the lower-cased character 3- and 4-grams, with their character spans.

    Character n-grams survive typos, inflections and languages the English word-piece vocabulary splits
    badly ("reembolso", "Rückerstattung"). Computed on UTF-32 code points with numpy, not a Python loop.
    """
    lowered = text.lower()
    if len(lowered) != len(text):
        lowered = text
    codes = np.frombuffer(lowered.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = len(codes)
    keys, starts, ends = [], [], []
    if n < 3:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    with np.errstate(over="ignore"):
        # Order 3: ((3·TAG·P + c0)·P + c1)·P + c2, all modulo 2**64.
        h3 = (np.uint64(3) * _CHAR_TAG * _CHAR_PRIME + codes[: n - 2]) * _CHAR_PRIME + codes[1 : n - 1]
        h3 = h3 * _CHAR_PRIME + codes[2:]
        keys.append(h3)
        first = np.arange(n - 2, dtype=np.int64)
        starts.append(first)
        ends.append(first + 3)
        if n >= 4:
            # Order 4 extends order 3 by one code: (h3 + TAG·P³)·P + c3 is (((4·TAG·P + c0)·P + c1)·P + c2)·P + c3.
            keys.append((h3[:-1] + _CHAR_TAG_P3) * _CHAR_PRIME + codes[3:])
            starts.append(first[:-1])
            ends.append(first[:-1] + 4)
        buckets = ((np.concatenate(keys) * _FIBONACCI) >> _BUCKET_SHIFT).astype(np.int64)
    return buckets, np.concatenate(starts), np.concatenate(ends)


def _unique(raw: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """``np.unique(raw, return_index=True, return_counts=True)`` for small non-negative buckets, faster.

    ``np.unique`` finds first occurrences with a stable merge argsort. Packing each bucket with its
    position into one integer and sorting those in place orders them the same way (by bucket, then
    position) with the plain sort, and the first of each run is the bucket's first occurrence.
    """
    m = len(raw)
    shift = m.bit_length()
    if int(raw.max()) >= 1 << (62 - shift):  # cannot pack: never for N_BUCKETS-sized buckets
        buckets, first, counts = np.unique(raw, return_index=True, return_counts=True)
        return buckets, first, counts
    key = (raw << shift) | np.arange(m, dtype=np.int64)
    key.sort()
    ordered = key >> shift
    runs = np.empty(m, dtype=bool)
    runs[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=runs[1:])
    starts = np.flatnonzero(runs)
    counts = np.diff(np.append(starts, m))
    return ordered[starts], key[starts] & ((1 << shift) - 1), counts


def style_features(text: str) -> FloatArray:
    """Share of capital letters (SHOUTING), exclamation and question marks; computed without a char loop."""
    caps = 0.0
    if len(text) >= 8:
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        lower = np.frombuffer(text.lower().encode("utf-32-le"), dtype=np.uint32)
        upper = np.frombuffer(text.upper().encode("utf-32-le"), dtype=np.uint32)
        if len(lower) == len(codes) == len(upper):
            capitals = int(np.count_nonzero(codes != lower))
            letters = int(np.count_nonzero((codes != lower) | (codes != upper)))
            caps = capitals / letters if letters >= 8 else 0.0
    return np.array(
        [caps, min(text.count("!"), 5) / 5.0, min(text.count("?"), 5) / 5.0, min(len(text), 1000) / 1000.0],
        dtype=np.float32,
    )


class Featurizer:
    """Turns message texts into :class:`MessageFeatures` with the bundled tokenizer and embedding table."""

    def __init__(self, embedder: StaticEmbedder) -> None:
        self._embedder = embedder
        self.dim = embedder.dim

    def featurize(self, text: str) -> MessageFeatures:
        return self.featurize_many([text])[0]

    def featurize_many(self, texts: Sequence[str]) -> list[MessageFeatures]:
        return [
            self._from_ids(text, ids, offsets)
            for text, (ids, offsets) in zip(texts, self._embedder.word_pieces(texts), strict=True)
        ]

    def _from_ids(self, text: str, ids: IntArray, offsets: IntArray) -> MessageFeatures:
        embedding = self._embedder.pool(ids)
        words, word_starts, word_ends = _hash_ngrams(ids)
        chars, char_starts, char_ends = _char_ngrams(text)
        raw = np.concatenate([words, chars])
        if len(raw):
            buckets, first, counts = _unique(raw)
            values = (1.0 + np.log(counts)).astype(np.float32)
            values /= np.float32(np.sqrt(values @ values))
            offs = offsets
            all_starts = np.concatenate([offs[word_starts, 0] if len(words) else word_starts, char_starts])
            all_ends = np.concatenate([offs[word_ends, 1] if len(words) else word_ends, char_ends])
            span_starts, span_ends = all_starts[first], all_ends[first]
        else:
            buckets = span_starts = span_ends = np.zeros(0, dtype=np.int64)
            values = np.zeros(0, dtype=np.float32)
        return MessageFeatures(text, embedding, buckets, values, span_starts, span_ends, style_features(text))


@lru_cache(maxsize=1)
def bundled_featurizer() -> Featurizer:
    return Featurizer(bundled_embedder())

"""Per-message features shared by every trained detector and example matcher, computed once per message.

Trained detectors and example-defined topics need the same two views of a message: what it *means*
(the bundled static sentence embedding) and which *word pieces* it uses (hashed uni-, bi- and trigrams of
the embedding's own word-piece ids, so the tokenizer runs once). Both are computed with the Rust
tokenizer and numpy in a few microseconds, without a Python loop per character, so a message is featurised
once and every detector reads the same :class:`MessageFeatures` (the engine caches it per message).

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
_P1, _P2 = np.uint64(1_000_003), np.uint64(998_244_353)
_SALT = (np.uint64(0), np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F))

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
        return self.text[int(self.span_starts[bucket_position]) : int(self.span_ends[bucket_position])]


def _hash_ngrams(ids: NDArray[np.uint64]) -> tuple[IntArray, IntArray, IntArray]:
    """Bucket of every uni-, bi- and trigram, with the token positions each one starts and ends at."""
    n = len(ids)
    buckets, starts, ends = [], [], []
    for order in (1, 2, 3):
        if n < order:
            break
        h = np.full(n - order + 1, _SALT[order - 1], dtype=np.uint64)
        with np.errstate(over="ignore"):
            for k in range(order):
                h = h * _P1 + ids[k : n - order + 1 + k] * _P2 + np.uint64(k + 1)
        buckets.append((h % np.uint64(N_BUCKETS)).astype(np.int64))
        first = np.arange(n - order + 1, dtype=np.int64)
        starts.append(first)
        ends.append(first + order - 1)
    if not buckets:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    return np.concatenate(buckets), np.concatenate(starts), np.concatenate(ends)


def style_features(text: str) -> FloatArray:
    letters = [c for c in text if c.isalpha()]
    upper = sum(1 for c in letters if c.isupper())
    caps = upper / len(letters) if len(letters) >= 8 else 0.0
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
        out = []
        for text, encoding in zip(texts, self._embedder.tokenize(texts), strict=True):
            ids = np.asarray(encoding.ids, dtype=np.int64)
            out.append(self._from_ids(text, ids, encoding.offsets))
        return out

    def _from_ids(self, text: str, ids: IntArray, offsets: Sequence[tuple[int, int]]) -> MessageFeatures:
        embedding = self._embedder.pool(ids)
        raw, starts, ends = _hash_ngrams(ids.astype(np.uint64))
        if len(raw):
            buckets, first, counts = np.unique(raw, return_index=True, return_counts=True)
            values = (1.0 + np.log(counts)).astype(np.float32)
            values /= np.float32(np.linalg.norm(values))
            offs = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
            span_starts, span_ends = offs[starts[first], 0], offs[ends[first], 1]
        else:
            buckets = span_starts = span_ends = np.zeros(0, dtype=np.int64)
            values = np.zeros(0, dtype=np.float32)
        return MessageFeatures(text, embedding, buckets, values, span_starts, span_ends, style_features(text))


@lru_cache(maxsize=1)
def bundled_featurizer() -> Featurizer:
    return Featurizer(bundled_embedder())

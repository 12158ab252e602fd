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

from handoff_core.embeddings import PieceOffsets, StaticEmbedder, bundled_embedder

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
#: 3·TAG·P² modulo 2**64: a character 3-gram's hash is (3·TAG·P + c0)·P² + c1·P + c2.
_CHAR_3_START = np.uint64((3 * int(_CHAR_TAG) * int(_CHAR_PRIME) ** 2) % (1 << 64))
#: TAG·P³ modulo 2**64: what turns a character 3-gram's hash into the start of its 4-gram's.
_CHAR_TAG_P3 = np.uint64((int(_CHAR_TAG) * int(_CHAR_PRIME) ** 3) % (1 << 64))

#: Every byte but A-Z, and every byte but a-z (what ``bytes.translate`` deletes to count the others).
_NOT_UPPER = bytes(b for b in range(256) if not 65 <= b <= 90)
_NOT_LOWER = bytes(b for b in range(256) if not 97 <= b <= 122)

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
    style: FloatArray
    #: For each bucket, the position of its first occurrence among the message's n-grams (word uni-, bi-
    #: and trigrams, then character 3- and 4-grams, in that order), and the word pieces' ``(start, end)``
    #: offsets: enough to find the characters behind a bucket when evidence quotes it, which is rare, so
    #: the spans are not worked out for every bucket of every message.
    first: IntArray
    #: The word pieces' offsets, worked out when first read (most messages are never quoted).
    pieces: PieceOffsets

    @property
    def offsets(self) -> IntArray:
        """The word pieces' ``(start, end)`` character offsets (an n x 2 array)."""
        return self.pieces.get()

    def span(self, bucket_position: int) -> tuple[int, int]:
        """Character span ``(start, end)`` of a bucket's first occurrence."""
        position = int(self.first[bucket_position])
        offsets = self.offsets
        for order in range(3):  # word-piece uni-, bi- and trigrams
            count = max(len(offsets) - order, 0)
            if position < count:
                return int(offsets[position, 0]), int(offsets[position + order, 1])
            position -= count
        threes = len(self.text) - 2  # character 3-grams, then 4-grams
        if position < threes:
            return position, position + 3
        return position - threes, position - threes + 4

    @property
    def span_starts(self) -> IntArray:
        """Start of every bucket's first occurrence (for tests and tools: :meth:`span` reads one)."""
        return np.array([self.span(k)[0] for k in range(len(self.buckets))], dtype=np.int64)

    @property
    def span_ends(self) -> IntArray:
        return np.array([self.span(k)[1] for k in range(len(self.buckets))], dtype=np.int64)

    def quote(self, bucket_position: int) -> str:
        """The text behind a bucket, widened to whole words (a character n-gram quotes its word)."""
        text = self.text
        start, end = self.span(bucket_position)
        while start > 0 and text[start - 1].isalnum():
            start -= 1
        while end < len(text) and text[end].isalnum():
            end += 1
        return text[start:end].strip()


def _ngram_buckets(ids: IntArray, codes: NDArray[np.uint32]) -> IntArray:
    """Bucket of every word-piece uni-, bi- and trigram, then of every character 3- and 4-gram, in order.

    Word-piece ids are below 2**15, so an n-gram of up to three ids packs exactly into an integer, tagged
    with its order; multiplicative (Fibonacci) hashing keeps the top 18 bits as the bucket. Character
    n-grams (over the lower-cased text's code points) survive typos, inflections and languages the
    English word-piece vocabulary splits badly ("reembolso", "Rückerstattung"); an order-k n-gram hashes
    as ``((k·TAG·P + c0)·P + c1)·P + …`` modulo 2**64, and a 4-gram extends its 3-gram:
    ``(h3 + TAG·P³)·P + c3``. Every key is written into one array and hashed by one multiply and shift:
    a message costs a dozen numpy calls, whatever its length (``tests/core/test_fast_paths.py`` compares
    the arrays with the per-order computations they replace).
    """
    n, c = len(ids), len(codes)
    words = n + max(n - 1, 0) + max(n - 2, 0)
    chars = max(c - 2, 0) + max(c - 3, 0)
    keys = np.empty(words + chars, dtype=np.uint64)
    signed = keys.view(np.int64)  # word keys are below 2**50: the same bits either way
    signed[:n] = ids
    if n >= 2:
        bi = ids[:-1] * _SHIFT + ids[1:]
        np.add(bi, _ORDER_TAG, out=signed[n : 2 * n - 1])
        if n >= 3:
            tri = bi[:-1] * _SHIFT + ids[2:]
            np.add(tri, 2 * _ORDER_TAG, out=signed[2 * n - 1 : words])
    if c >= 3:
        h3 = keys[words : words + c - 2]
        np.multiply(codes[: c - 2], _CHAR_PRIME, out=h3)
        h3 += _CHAR_3_START
        h3 += codes[1 : c - 1]
        h3 *= _CHAR_PRIME
        h3 += codes[2:]
        if c >= 4:
            h4 = keys[words + c - 2 :]
            np.add(h3[:-1], _CHAR_TAG_P3, out=h4)
            h4 *= _CHAR_PRIME
            h4 += codes[3:]
    keys *= _FIBONACCI
    keys >>= _BUCKET_SHIFT
    return signed


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
    return _unique_packed(raw, shift)


def _unique_packed(raw: IntArray, shift: int) -> tuple[IntArray, IntArray, IntArray]:
    """:func:`_unique` for buckets known to fit in ``62 - shift`` bits."""
    m = len(raw)
    key = raw << shift
    key |= np.arange(m, dtype=np.int64)
    key.sort()
    ordered = key >> shift
    runs = np.empty(m, dtype=bool)
    runs[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=runs[1:])
    starts = runs.nonzero()[0]
    counts = np.empty(len(starts), dtype=np.int64)
    np.subtract(starts[1:], starts[:-1], out=counts[:-1])
    counts[-1] = m - starts[-1]
    first = key[starts]
    first &= (1 << shift) - 1
    return ordered[starts], first, counts


def style_features(text: str, lower: NDArray[np.uint32] | None = None) -> FloatArray:
    """Share of capital letters (SHOUTING), exclamation and question marks; computed without a char loop.

    ``lower``: the code points of ``text.lower()`` when the caller has them already.
    """
    caps = 0.0
    if len(text) >= 8 and text.isascii():
        # ASCII: a character changes under lower() exactly when it is A-Z and under upper() when it is
        # a-z, so the counts below are byte counts (deleting every other byte, in C).
        raw = text.encode("ascii")
        capitals = len(raw.translate(None, _NOT_UPPER))
        letters = capitals + len(raw.translate(None, _NOT_LOWER))
        caps = capitals / letters if letters >= 8 else 0.0
    elif len(text) >= 8:
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        if lower is None:
            lower = np.frombuffer(text.lower().encode("utf-32-le"), dtype=np.uint32)
        upper = np.frombuffer(text.upper().encode("utf-32-le"), dtype=np.uint32)
        if len(lower) == len(codes) == len(upper):
            changed = codes != lower
            capitals = int(np.count_nonzero(changed))
            changed |= codes != upper
            letters = int(np.count_nonzero(changed))
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
        pieces = self._embedder.piece_ids
        return [self._from_ids(text, *pieces(text)) for text in texts]

    def _from_ids(self, text: str, ids: IntArray, offsets: PieceOffsets) -> MessageFeatures:
        embedding = self._embedder.pool(ids)
        lowered = text.lower()
        same_length = len(lowered) == len(text)
        codes = np.frombuffer((lowered if same_length else text).encode("utf-32-le"), dtype=np.uint32)
        raw = _ngram_buckets(ids, codes)
        m = len(raw)
        if m:
            # Buckets have 18 bits, so a bucket and its position pack into one int64 for any real length.
            buckets, first, counts = _unique_packed(raw, m.bit_length()) if m < 1 << 40 else _unique(raw)
            logs = np.log(counts)
            logs += 1.0
            values = logs.astype(np.float32)
            values /= np.float32(np.sqrt(values @ values))
        else:
            buckets = first = np.zeros(0, dtype=np.int64)
            values = np.zeros(0, dtype=np.float32)
        style = style_features(text, codes if same_length else None)
        return MessageFeatures(text, embedding, buckets, values, style, first, offsets)


@lru_cache(maxsize=1)
def bundled_featurizer() -> Featurizer:
    return Featurizer(bundled_embedder())

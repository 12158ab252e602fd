"""Small static sentence embeddings, so knowledge coverage understands paraphrases.

Word overlap cannot tell that "Need a PDF bill for my expense report" is about invoices. A transformer
can, but it would add a deep-learning framework and a model download. Instead, the package ships a
*static* embedding table (one 128-number vector per word piece, 3.5 MB) distilled from the
sentence-transformers model all-MiniLM-L6-v2 (Apache-2.0) with model2vec: a sentence vector is the mean of
its word-piece vectors. It is English-centred and far weaker than the transformer, but it runs in
microseconds with numpy alone. How the table was made: ``tools/distill_embeddings.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from typing import Protocol

import numpy as np
from numpy.typing import NDArray
from tokenizers import Encoding, Tokenizer

from handoff_core.text.wordpiece import AsciiWordPiece, Splits

Vector = NDArray[np.float32]
IntArray = NDArray[np.int64]


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised vectors (one row per text)."""

    def encode(self, texts: Sequence[str]) -> Vector: ...


class PieceOffsets:
    """A text's word-piece offsets, worked out on first read when the ids were found without them.

    Filled once (the same array whichever thread fills it first), never written to afterwards.
    """

    __slots__ = ("_splits", "_text", "_value")

    def __init__(self, value: IntArray | None, text: str = "", splits: Splits = ()) -> None:
        self._value = value
        self._text = text
        self._splits = splits

    def get(self) -> IntArray:
        value = self._value
        if value is None:
            value = self._value = AsciiWordPiece.offsets(self._text, self._splits)
        return value


class StaticEmbedder:
    """Word-piece vectors kept as shipped (int8 rows and one float32 scale per row), scaled when looked up.

    Why not one float32 table: it is 15 MB resident in every worker (a tenth of its memory budget); the
    int8 rows are 3.7 MB. A lookup scales only the rows it reads, with the same float32 multiplication the
    full table was built with, so every vector, and every decision, is bit for bit what it was
    (``tests/core/test_embeddings.py``).
    """

    def __init__(
        self,
        vectors: NDArray[np.int8],
        scales: Vector,
        tokenizer: Tokenizer,
        fast: AsciiWordPiece | None = None,
    ) -> None:
        if vectors.shape[0] != scales.shape[0]:
            raise ValueError(f"{vectors.shape[0]} vectors but {scales.shape[0]} scales")
        self._quantized = vectors
        self._scales = scales
        self._tokenizer = tokenizer
        #: The same ids and offsets as ``tokenizer`` for plain-ASCII texts, in Python (see its module).
        self._fast = fast
        self.dim = int(vectors.shape[1])
        #: The last text's word pieces and the last id array's vectors. A customer message is read twice
        #: in a row through the same window: featurised for the trained detectors, then encoded as the
        #: knowledge query; the second read takes the first's arrays (never written to) instead of
        #: tokenising and gathering again. One slot each, replaced whole (safe across threads).
        self._last_pieces: tuple[str, tuple[IntArray, PieceOffsets]] | None = None
        self._last_vectors: tuple[object, Vector] | None = None

    def vectors(self, ids: NDArray[np.int64] | Sequence[int]) -> Vector:
        """The float32 vectors of ``ids`` (one row each): the int8 row times its scale."""
        last = self._last_vectors
        if last is not None and last[0] is ids:
            return last[1]
        # ``take`` gathers the same rows as indexing with the ids, in about half the time.
        rows: Vector = self._quantized.take(ids, axis=0).astype(np.float32) * self._scales.take(ids)[:, None]
        if isinstance(ids, np.ndarray):
            self._last_vectors = (ids, rows)  # holds ``ids``, so its identity cannot be reused meanwhile
        return rows

    def tokenize(self, texts: Sequence[str]) -> list[Encoding]:
        """Word-piece encodings (ids and character offsets), shared with :mod:`handoff_core.features`."""
        if len(texts) >= 64:
            batch: list[Encoding] = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
            return batch
        # A conversation's few messages one by one: the batch call hands them to a thread pool, which costs
        # far more than the encoding itself on a busy machine.
        return [self._tokenizer.encode(text, add_special_tokens=False) for text in texts]

    def word_pieces(self, texts: Sequence[str]) -> list[tuple[IntArray, IntArray]]:
        """Word-piece ids and their ``(start, end)`` character offsets (an n x 2 array) for each text.

        Plain-ASCII texts take the Python path (:mod:`handoff_core.text.wordpiece`: the same ids and
        offsets, without the Rust call's fixed cost); the others the Rust tokenizer.
        """
        return [(ids, offsets.get()) for ids, offsets in map(self.piece_ids, texts)]

    def piece_ids(self, text: str) -> tuple[IntArray, PieceOffsets]:
        """The ids of :meth:`word_pieces`, and their offsets worked out when first read.

        Only quoted evidence reads offsets (about two messages in five): a plain-ASCII text's ids are
        found without them, and :class:`PieceOffsets` works them out from the text if asked.
        """
        last = self._last_pieces
        if last is not None and last[0] == text:
            return last[1]
        fast = self._fast
        taken = fast.ids(text) if fast is not None else None
        found: tuple[IntArray, PieceOffsets]
        if taken is not None:
            found = (taken[0], PieceOffsets(None, text, taken[1]))
        else:
            encoding = self._tokenizer.encode(text, add_special_tokens=False)
            offsets = np.array(encoding.offsets, dtype=np.int64).reshape(-1, 2)
            found = (np.array(encoding.ids, dtype=np.int64), PieceOffsets(offsets))
        self._last_pieces = (text, found)
        return found

    def pool(self, ids: NDArray[np.int64]) -> Vector:
        """The L2-normalised mean of the word-piece vectors (zeros for no ids)."""
        if not len(ids):
            return np.zeros(self.dim, dtype=np.float32)
        mean = self.vectors(ids).sum(axis=0)
        norm = float(np.sqrt(mean @ mean))
        result: Vector = (mean / norm if norm else mean).astype(np.float32)
        return result

    def encode(self, texts: Sequence[str]) -> Vector:
        if len(texts) == 1:
            return self._encode_one(texts[0])
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        rows: list[Sequence[int] | IntArray]
        if len(texts) >= 64:
            rows = [e.ids for e in self._tokenizer.encode_batch(list(texts), add_special_tokens=False)]
        else:  # a knowledge query: one text, where the batch call's thread pool costs more than the work
            rows = [self.piece_ids(text)[0] for text in texts]
        for row, ids in enumerate(rows):
            if len(ids):
                out[row] = self.vectors(ids).mean(axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        result: Vector = out / norms
        return result

    def _encode_one(self, text: str) -> Vector:
        """:meth:`encode` of one text (a knowledge query) without the batch's arrays around it.

        The same operations on the one row: ``linalg.norm`` along a row is the square root of
        ``add.reduce`` of the squares, the same pairwise sum over the same contiguous floats; the same
        float32 division (``tests/core/test_fast_paths.py`` compares both bit for bit).
        """
        ids = self.piece_ids(text)[0]
        if not len(ids):
            return np.zeros((1, self.dim), dtype=np.float32)
        mean = self.vectors(ids).mean(axis=0)
        norm = np.sqrt(np.add.reduce(mean * mean))
        result: Vector = (mean / norm if norm else mean)[None, :]
        return result


@lru_cache(maxsize=1)
def bundled_embedder() -> StaticEmbedder:
    """The embedder shipped with the package (loaded once, about 3.8 MB in memory)."""
    data = resources.files("handoff_core") / "data"
    with (data / "static_minilm_128.npz").open("rb") as handle, np.load(handle) as arrays:
        vectors = np.ascontiguousarray(arrays["vectors"], dtype=np.int8)
        scales = arrays["scales"].astype(np.float32)
    config = (data / "static_minilm_tokenizer.json").read_text(encoding="utf-8")
    tokenizer = Tokenizer.from_str(config)
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return StaticEmbedder(vectors, scales, tokenizer, AsciiWordPiece.from_json(config, tokenizer.token_to_id))

"""The shipped weight tables stay in their compact file dtypes in memory, and give exactly the float32 results.

Why: every worker holds these tables for weeks within a 150 MB budget (docs/volume.md). The static
embeddings were a 15 MB float32 table built from int8 rows; the detectors' hashed weights a 5 MB float32
copy of a float16 table. Both are now kept as shipped and widened per lookup; these tests fail if a table
is widened again at load, or if a widened lookup differs by one bit from the float32 table it replaced.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np

from handoff_core.detectors import bundled_detectors
from handoff_core.embeddings import bundled_embedder
from handoff_core.features import bundled_featurizer

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "bench" / "corpus" / "messages.jsonl"


def _float32_table() -> np.ndarray:
    """The embedding table as it was built before: every row widened and scaled at load."""
    data = resources.files("handoff_core") / "data" / "static_minilm_128.npz"
    with data.open("rb") as handle, np.load(handle) as arrays:
        table: np.ndarray = (
            arrays["vectors"].astype(np.float32) * arrays["scales"].astype(np.float32)[:, None]
        ).astype(np.float32)
    return table


def test_embedder_holds_int8_rows_not_a_float32_table() -> None:
    """The embedder's arrays take under 5 MB (the float32 table alone was 15 MB)."""
    embedder = bundled_embedder()
    held = sum(a.nbytes for a in vars(embedder).values() if isinstance(a, np.ndarray))
    assert embedder._quantized.dtype == np.int8
    assert held < 5 * 2**20, held


def test_scaled_lookup_equals_the_float32_table_bit_for_bit() -> None:
    """Every row, and the pooled vector of real messages, equal what the float32 table gave."""
    embedder = bundled_embedder()
    table = _float32_table()
    every = np.arange(table.shape[0], dtype=np.int64)
    assert np.array_equal(embedder.vectors(every), table)
    texts = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines()[:200]]
    for encoding in embedder.tokenize(texts):
        ids = np.asarray(encoding.ids, dtype=np.int64)
        if not len(ids):
            continue
        mean = table[ids].sum(axis=0)
        norm = float(np.sqrt(mean @ mean))
        expected = (mean / norm if norm else mean).astype(np.float32)
        assert embedder.pool(ids).tobytes() == expected.tobytes()
    assert embedder.encode(texts[:20]).tobytes() == _encode_with(table, texts[:20]).tobytes()


def _encode_with(table: np.ndarray, texts: list[str]) -> np.ndarray:
    """``StaticEmbedder.encode`` as it was, over a float32 table."""
    out = np.zeros((len(texts), table.shape[1]), dtype=np.float32)
    for row, encoding in enumerate(bundled_embedder().tokenize(texts)):
        if encoding.ids:
            out[row] = table[encoding.ids].mean(axis=0)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    result: np.ndarray = out / norms
    return result


def test_detector_weights_stay_float16_and_score_as_float32() -> None:
    """The hashed weights stay float16 (2.5 MB); logits equal those of a float32 copy, bit for bit."""
    detectors = bundled_detectors()
    assert detectors._hashed.dtype == np.float16
    assert detectors._hashed.nbytes <= 2_621_440
    wide = detectors._hashed.astype(np.float32)
    texts = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines()[:200]]
    for features in bundled_featurizer().featurize_many(texts):
        dense = np.concatenate([features.embedding, features.style])
        expected = features.values @ wide[features.buckets] + detectors._dense @ dense + detectors._bias
        shift = detectors._length_shift(features)  # round 7: long messages' offset, added in float32
        if shift is not None:
            expected = expected + shift
        assert detectors.logits(features).tobytes() == expected.tobytes()

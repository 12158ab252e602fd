"""The numpy MiniLM encoder reproduces sentence-transformers' all-MiniLM-L6-v2 embeddings."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from handoff_core.transformer import installed_minilm, minilm_available

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "minilm_reference.json"

pytestmark = pytest.mark.skipif(not minilm_available(), reason="the 'semantic' extra is not installed")


def test_matches_sentence_transformers_reference() -> None:
    """Embeddings equal those computed by sentence-transformers (stored once) to within 1e-5."""
    reference = json.loads(REFERENCE.read_text())
    encoder = installed_minilm()
    assert encoder is not None
    ours = encoder.encode(reference["texts"])
    theirs = np.asarray(reference["embeddings"], dtype=np.float32)
    assert ours.shape == theirs.shape == (len(reference["texts"]), 384)
    assert float(np.abs(ours - theirs).max()) < 1e-5


def test_paraphrases_are_closer_than_unrelated_questions() -> None:
    """A paraphrase with no shared content word scores higher than an unrelated question."""
    encoder = installed_minilm()
    assert encoder is not None
    v = encoder.encode(
        ["Need a PDF bill for my expense report", "How do I get an invoice?", "Do you sell ski insurance?"]
    )
    assert float(v[0] @ v[1]) > float(v[0] @ v[2]) + 0.2


def test_batch_larger_than_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch with more new texts than the cache holds is encoded whole (no row lost to its own eviction)."""
    from handoff_core import transformer

    encoder = installed_minilm()
    assert encoder is not None
    texts = ["reset my password", "where is my parcel", "set an alarm for six", "play some jazz", "refund me"]
    expected = encoder.encode(texts)
    encoder.clear_cache()
    monkeypatch.setattr(transformer, "CACHE_BYTES", 4_000)  # two entries
    got = encoder.encode(texts)
    assert float(np.abs(got - expected).max()) < 1e-6
    assert len(encoder._cache) == 2
    encoder.clear_cache()


def test_cache_is_bounded_in_bytes_however_long_the_texts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Long texts (pasted messages) fill the encoder's cache only up to its byte budget, as tracemalloc sees it."""
    import tracemalloc

    from handoff_core import transformer

    encoder = installed_minilm()
    assert encoder is not None
    encoder.clear_cache()
    monkeypatch.setattr(transformer, "CACHE_BYTES", 200_000)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(30):
            encoder.encode([f"message {n}: " + "my parcel never arrived and nobody answers " * 500])
            assert encoder._cache_bytes <= 200_000
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
        encoder.clear_cache()
    assert 0 < held <= 200_000

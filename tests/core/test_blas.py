"""The engine's numpy work runs with one BLAS thread, whatever the process set before (issue 7, finding 2).

OpenBLAS threads on a busy 2-core machine made loading the knowledge base with the transformer take 49 s
instead of 7 s; the limit must come from the engine itself so the worker gets it too, not only the tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pytest
from threadpoolctl import ThreadpoolController, threadpool_limits

from handoff_core.blas import single_threaded_blas
from handoff_core.transformer import MiniLMEncoder

HIDDEN, INTER, VOCAB = 8, 16, 10


def _blas_threads() -> list[int]:
    return [int(lib["num_threads"]) for lib in ThreadpoolController().select(user_api="blas").info()]


@dataclass
class _Encoding:
    ids: list[int]


class RecordingTokenizer:
    """Stands in for a ``tokenizers.Tokenizer`` and records the BLAS thread counts seen while the encoder runs."""

    def __init__(self) -> None:
        self.seen: list[list[int]] = []

    def enable_truncation(self, max_length: int) -> None:
        pass

    def no_padding(self) -> None:
        pass

    def encode_batch(self, texts: Sequence[str]) -> list[_Encoding]:
        self.seen.append(_blas_threads())
        return [_Encoding([1 + len(t) % (VOCAB - 1), 2]) for t in texts]


def _tiny_weights() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)

    def m(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape).astype(np.float32)

    w = {
        "embeddings.word_embeddings.weight": m(VOCAB, HIDDEN),
        "embeddings.position_embeddings.weight": m(16, HIDDEN),
        "embeddings.token_type_embeddings.weight": m(2, HIDDEN),
        "embeddings.LayerNorm.weight": m(HIDDEN),
        "embeddings.LayerNorm.bias": m(HIDDEN),
    }
    p = "encoder.layer.0."
    for name in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
        w[p + name + ".weight"], w[p + name + ".bias"] = m(HIDDEN, HIDDEN), m(HIDDEN)
    for name in ("attention.output.LayerNorm", "output.LayerNorm"):
        w[p + name + ".weight"], w[p + name + ".bias"] = m(HIDDEN), m(HIDDEN)
    w[p + "intermediate.dense.weight"], w[p + "intermediate.dense.bias"] = m(INTER, HIDDEN), m(INTER)
    w[p + "output.dense.weight"], w[p + "output.dense.bias"] = m(HIDDEN, INTER), m(HIDDEN)
    return w


pytestmark = pytest.mark.skipif(not _blas_threads(), reason="numpy is not linked to a BLAS threadpoolctl knows")


def test_single_threaded_blas_limits_and_restores() -> None:
    """Inside the block every BLAS library runs one thread; afterwards the caller's setting is back."""
    with threadpool_limits(limits=2, user_api="blas"):
        with single_threaded_blas():
            assert set(_blas_threads()) == {1}
        assert set(_blas_threads()) == {2}


def test_transformer_encodes_with_one_blas_thread() -> None:
    """The MiniLM encoder runs its forward pass under the one-thread limit even if the process allows two."""
    tokenizer = RecordingTokenizer()
    encoder = MiniLMEncoder(
        _tiny_weights(),
        {"num_hidden_layers": 1, "num_attention_heads": 2, "layer_norm_eps": 1e-12},
        tokenizer,  # type: ignore[arg-type]
    )
    with threadpool_limits(limits=2, user_api="blas"):
        vectors = encoder.encode(["hello there", "a refund please"])
    assert vectors.shape == (2, HIDDEN)
    assert tokenizer.seen == [[1] * len(_blas_threads())]


def test_single_threaded_blas_when_already_one_thread() -> None:
    """With every BLAS already at one thread the body runs on one thread and the limit stays one after it."""
    with threadpool_limits(limits=1, user_api="blas"):
        with single_threaded_blas():
            assert set(_blas_threads()) == {1}
        assert set(_blas_threads()) == {1}
    with threadpool_limits(limits=2, user_api="blas"):  # and the full limit still applies after that path
        with single_threaded_blas():
            assert set(_blas_threads()) == {1}
        assert set(_blas_threads()) == {2}

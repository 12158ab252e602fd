"""The Python word-piece path gives exactly the Rust tokenizer's ids and offsets, and steps aside otherwise.

Inputs: every message of the benchmark corpus (real CFPB, Bitext and non-English messages; regression
inputs, not accuracy evidence), generated ASCII strings heavy in punctuation, whitespace, control
characters and long or unknown words, and the special tokens written literally.
"""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from tokenizers import Tokenizer

from handoff_core.embeddings import StaticEmbedder, bundled_embedder
from handoff_core.text.wordpiece import AsciiWordPiece

from .conftest import ROOT

CORPUS = ROOT / "bench" / "corpus" / "messages.jsonl"
_ALPHABET = "abcdeXYZ0189 .,!?'\"-#@$%&*+/:;<=>[]^_`{|}~()\\\t\n\r\x0b\x01\x7fé’"


@pytest.fixture(scope="module")
def embedder() -> StaticEmbedder:
    return bundled_embedder()


def _rust(tokenizer: Tokenizer, text: str) -> tuple[list[int], list[int]]:
    encoding = tokenizer.encode(text, add_special_tokens=False)
    return list(encoding.ids), [o for pair in encoding.offsets for o in pair]


def _texts() -> list[str]:
    texts = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    rnd = random.Random(12)
    texts += ["".join(rnd.choice(_ALPHABET) for _ in range(rnd.randint(0, 60))) for _ in range(3_000)]
    words = ["refund", "unaffable", "xqzvb", "chargeback", "re-activate", "iphone15", "a" * 101, "b" * 100]
    texts += [" ".join(rnd.choice(words) for _ in range(rnd.randint(1, 8))) for _ in range(300)]
    texts += ["", "   ", "[UNK] there", "a [PAD] b", "x" * 150 + " ok", "supercalifragilisticexpialidocious!!"]
    return texts


def test_fast_path_equals_the_rust_tokenizer(embedder: StaticEmbedder) -> None:
    """Every text the Python path takes gets the Rust tokenizer's ids and offsets, and most corpus texts take it."""
    fast = embedder._fast
    assert fast is not None, "the bundled tokenizer is the BERT setup the fast path is made for"
    taken = 0
    for text in _texts():
        got = fast.encode(text)
        if got is None:
            continue
        taken += 1
        ids, offsets = got
        assert (ids.tolist(), offsets.ravel().tolist()) == _rust(embedder._tokenizer, text), text[:80]
    assert taken > 1_000


def test_ids_without_offsets_equal_the_full_path(embedder: StaticEmbedder) -> None:
    """The ids-only path (the featuriser's) gives exactly the ids of ``encode``, and its late offsets its offsets."""
    fast = embedder._fast
    assert fast is not None
    split_texts = 0
    for round_ in range(2):  # the second round with the split cache emptied: fresh splits agree too
        if round_:
            fast._split.clear()
        for text in _texts():
            full = fast.encode(text)
            taken = fast.ids(text)
            assert (taken is None) == (full is None), text[:80]
            if taken is None or full is None:
                continue
            ids, splits = taken
            assert ids.dtype == full[0].dtype and ids.tolist() == full[0].tolist(), text[:80]
            offsets = AsciiWordPiece.offsets(text, splits)
            assert offsets.dtype == full[1].dtype and offsets.shape == full[1].shape, text[:80]
            assert offsets.ravel().tolist() == full[1].ravel().tolist(), text[:80]
            split_texts += bool(splits)
    assert split_texts > 500  # words that split into pieces (and unknown words) are exercised


def test_features_offsets_read_late_are_the_tokenizers(embedder: StaticEmbedder) -> None:
    """A message featurised without offsets gets, when quoted, the offsets the Rust tokenizer gives."""
    from handoff_core.features import Featurizer

    featurizer = Featurizer(embedder)
    for text in _texts()[::7]:
        features = featurizer.featurize(text)
        expected = _rust(embedder._tokenizer, text)
        assert features.offsets.ravel().tolist() == expected[1], text[:80]
        assert features.offsets is features.offsets  # worked out once


def test_texts_outside_plain_ascii_go_to_rust(embedder: StaticEmbedder) -> None:
    """Accents, curly quotes, control characters and the literal special tokens are left to the Rust tokenizer."""
    fast = embedder._fast
    assert fast is not None
    for text in ["Rückerstattung bitte", "it’s broken", "bad\x01byte", "tab\x0bvertical", "[UNK]", "[PAD] x"]:
        assert fast.encode(text) is None
        ids, offsets = embedder.word_pieces([text])[0]
        assert (ids.tolist(), offsets.ravel().tolist()) == _rust(embedder._tokenizer, text)


def test_other_tokenizer_setups_get_no_fast_path() -> None:
    """A tokenizer that is not the lower-casing BERT word-piece setup is never imitated."""
    config = json.loads((ROOT / "handoff_core" / "data" / "static_minilm_tokenizer.json").read_text(encoding="utf-8"))
    assert AsciiWordPiece.from_json(json.dumps(config)) is not None
    for key, value in [("normalizer", {**config["normalizer"], "lowercase": False}), ("pre_tokenizer", None)]:
        assert AsciiWordPiece.from_json(json.dumps({**config, key: value})) is None


def test_embeddings_are_unchanged(embedder: StaticEmbedder) -> None:
    """A knowledge query's embedding through the fast path equals the batch (Rust) encoding's, bit for bit."""
    texts = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines()][:200]
    batch = embedder.encode(texts * 1)  # 200 texts: the Rust batch path
    singles = np.stack([embedder.encode([t])[0] for t in texts])
    assert np.array_equal(batch, singles)

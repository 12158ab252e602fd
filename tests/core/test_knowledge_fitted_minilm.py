"""The ``fitted`` knowledge head reads the MiniLM embedding when the knowledge is loaded with the
transformer encoder (the ``semantic`` extra), and the engine's static features are re-encoded, not reused."""

from __future__ import annotations

import numpy as np
import pytest

from handoff_core.features import bundled_featurizer
from handoff_core.knowledge import EncodedFeaturizer, KnowledgeBase, load_knowledge
from handoff_core.policy.schema import KnowledgeCoverageConfig
from handoff_core.transformer import installed_minilm, minilm_available

from .conftest import ROOT

pytestmark = pytest.mark.skipif(not minilm_available(), reason="the 'semantic' extra is not installed")

FITTED = KnowledgeCoverageConfig(scorer="fitted")
KNOWLEDGE = ROOT / "config" / "examples" / "knowledge.jsonl"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge(KNOWLEDGE, encoder="transformer")


def test_fitted_head_reads_minilm_vectors(kb: KnowledgeBase) -> None:
    """The head's examples carry the MiniLM vector of each question, and the same n-grams as the bundled ones."""
    matcher = kb.fitted.matcher
    assert isinstance(matcher.featurizer, EncodedFeaturizer)
    encoder = installed_minilm()
    assert encoder is not None
    first = matcher.features[0]
    np.testing.assert_allclose(first.embedding, encoder.encode([first.text])[0], atol=1e-6)
    static = bundled_featurizer().featurize(first.text)
    assert np.array_equal(first.buckets, static.buckets) and first.embedding.shape != static.embedding.shape


def test_engine_features_are_re_encoded_with_the_same_coverage(kb: KnowledgeBase) -> None:
    """The engine's static features give the same coverage as featurising with the MiniLM featuriser."""
    for text in ("how long does it take for my refund to arrive?", "can you write me a short poem about cats"):
        features = bundled_featurizer().featurize(text)
        assert kb.coverage(text, FITTED, features) == kb.coverage(text, FITTED)


def test_static_knowledge_keeps_the_bundled_matcher() -> None:
    """Without the transformer encoder the fitted head reads the examples scorer's questions with the bundled
    featuriser (plus its own char n-gram view, round 9)."""
    static = load_knowledge(KNOWLEDGE, encoder="static")
    assert static.fitted.matcher.examples == static._examples.examples
    assert static.fitted.matcher.featurizer is bundled_featurizer()

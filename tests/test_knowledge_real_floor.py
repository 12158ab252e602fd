"""A real-data floor for knowledge coverage on a TUNING split (Bitext dev, the bitext protocol's seed 0
hold-out of ``bench/eval_knowledge.py``): the shipped ``fitted`` score separates covered from held-out
questions above a floor the round 8 head (no char n-gram view in its kernel) stays under, and its
self-set threshold flags close to the asked share of covered questions. The report split (Bitext test)
is never read here. Skips when the datasets folder is absent.

Round 9 moved this floor from HWU64 fold 9 (about 5,300 questions to fit and 1,000 to score) to Bitext dev
(about 2,700 and 470): half the time, and the char view's gain there is wider than the noise."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

import eval_knowledge
from eval_real import auroc

from connectors.training.data import bitext, default_datasets
from handoff_core.embeddings import bundled_embedder
from handoff_core.knowledge import KnowledgeBase, KnowledgeEntry

DATA = default_datasets()
#: Seed 0's Bitext dev AUROC: 0.953 with round 8's head (share of outputs, kernel over embedding and IDF
#: n-grams), 0.965 with the char 2-4-gram TF-IDF cosine in the kernel (round 9; docs/models.md).
FLOOR = 0.96

pytestmark = pytest.mark.skipif(
    not (DATA / "bitext_customer_support" / "bitext_customer_support_4514.csv").exists(),
    reason=f"no Bitext data under {DATA}",
)


@pytest.fixture(scope="module")
def tuning() -> tuple[KnowledgeBase, list[str], np.ndarray]:
    rows = bitext(DATA)
    covered, _ = eval_knowledge._split(rows, 0, "bitext")
    questions = {i: tuple(r.text for r in rows if r.labels[0] == i and r.split == "train") for i in covered}
    entries = [KnowledgeEntry(i, i.replace("_", " "), "", questions[i]) for i in sorted(covered)]
    tune = [r for r in rows if r.split == "dev"]
    kb = KnowledgeBase(entries, source="bitext seed 0", embedder=bundled_embedder())
    return kb, [r.text for r in tune], np.asarray([r.labels[0] in covered for r in tune])


def test_fitted_score_beats_the_floor_the_round_8_head_misses(
    tuning: tuple[KnowledgeBase, list[str], np.ndarray],
) -> None:
    """On the tuning split the shipped score's AUROC is at least the floor (round 8's head: 0.953)."""
    kb, texts, covered = tuning
    scores = eval_knowledge.fitted_scorer(kb)(texts)  # what the engine's coverage reports
    assert auroc(covered.astype(int).tolist(), scores.tolist()) >= FLOOR


def test_self_set_threshold_flags_close_to_the_asked_rate(tuning: tuple[KnowledgeBase, list[str], np.ndarray]) -> None:
    """The threshold calibrated from the knowledge alone flags 5-15 % of the tuning split's covered questions
    when 10 % is asked (about 350 covered questions: two standard errors are 3.2 points, plus the threshold's)."""
    kb, texts, covered = tuning
    scores = eval_knowledge.fitted_scorer(kb)([t for t, c in zip(texts, covered, strict=True) if c])
    flagged = float((scores < kb.fitted.threshold(0.1)).mean())
    assert 0.05 <= flagged <= 0.15, flagged

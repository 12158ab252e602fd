"""The fitted head's self-set threshold flags about the asked share of *new* in-scope questions, on a
generated knowledge base (regression data written for the tests, not evidence of accuracy: public-data
calibration is in docs/models.md)."""

from __future__ import annotations

import numpy as np
import pytest

from handoff_core.embeddings import bundled_embedder
from handoff_core.knowledge import FittedCoverage, KnowledgeBase, KnowledgeEntry
from tests.core.generated_knowledge import split_questions

#: Allowed gap at the 10 % rate between the asked and the measured in-scope false rate on the 168 new questions
#: (the in-sample test below): about two standard errors of a 10 % rate over 168 questions plus the threshold's.
TOLERANCE = 0.06


def tolerance(rate: float, probes: int, held_out: int) -> float:
    """Two standard errors of the measured rate: binomial over the new questions, and over the cross-fitted
    scores the threshold is the quantile of (5.6 points at 10 % with 168 and 348; 7.5 at 20 %). Round 9's
    char n-gram view put the 20 % point at 13.1 % (round 8: 16.1 %); the fixed 6 points then failed it
    while the real tuning folds kept 8.0-9.9 % for 10 % asked (docs/models.md)."""
    return 2 * float(np.sqrt(rate * (1 - rate) * (1 / probes + 1 / held_out)))


@pytest.fixture(scope="module")
def calibrated() -> tuple[KnowledgeBase, np.ndarray]:
    known, probes = split_questions(per_subject=28)
    kb = KnowledgeBase([KnowledgeEntry(s, s, "", tuple(q)) for s, q in known.items()], embedder=bundled_embedder())
    scores = np.asarray([kb.fitted_search(q, 1)[0][0].score for _, q in probes])
    return kb, scores


@pytest.mark.parametrize("rate", [0.05, 0.1, 0.2])
def test_threshold_flags_about_the_asked_share_of_new_questions(
    calibrated: tuple[KnowledgeBase, np.ndarray], rate: float
) -> None:
    """Cross-fitted (leave-one-out) scores stand in for questions the head has not seen: the threshold
    set from them flags close to ``rate`` of 168 new in-scope questions."""
    kb, scores = calibrated
    flagged = float((scores < kb.fitted.threshold(rate)).mean())
    assert abs(flagged - rate) <= tolerance(rate, len(scores), len(kb.fitted.held_out_scores)), (rate, flagged)


def test_in_sample_scores_would_not_calibrate(calibrated: tuple[KnowledgeBase, np.ndarray]) -> None:
    """Why the scores are cross-fitted: the head's scores of its own questions are near 1, and a threshold
    taken from them would flag most new in-scope questions (so the test above can fail)."""
    kb, scores = calibrated
    head: FittedCoverage = kb.fitted
    own = [float(head.scores(f)[0].max()) for f in kb._examples.features]
    in_sample = float(np.quantile(own, 0.1))
    assert float((scores < in_sample).mean()) > 0.1 + 2 * TOLERANCE

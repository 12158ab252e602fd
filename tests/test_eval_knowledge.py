"""The knowledge evaluation's operating point: the share of out-of-scope questions caught at most at the
asked in-scope false rate, read from the scores alone (the number docs/accuracy.md reports beside AUROC)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import eval_knowledge


@pytest.mark.parametrize(
    ("in_scope", "out_of_scope", "rate", "caught"),
    [
        # 10 in-scope scores: at 10 % one may fall below, so the threshold is the second lowest (0.2).
        ([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], [0.05, 0.15, 0.25, 0.95], 0.10, 0.5),
        # at 20 % two may fall below: threshold 0.3 catches 0.05, 0.15, 0.25.
        ([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], [0.05, 0.15, 0.25, 0.95], 0.20, 0.75),
        # fewer than 10 in-scope: none may fall below, so only scores under the lowest are caught.
        ([0.4, 0.6, 0.8], [0.3, 0.4, 0.9], 0.10, 1 / 3),
        # a tie at the threshold is not caught (flagged means strictly below).
        ([0.5] * 10, [0.5, 0.49], 0.10, 0.5),
        # separable scores: everything out of scope is caught.
        ([0.7, 0.8, 0.9], [0.1, 0.2], 0.10, 1.0),
    ],
)
def test_caught_at_false_rate(in_scope: list[float], out_of_scope: list[float], rate: float, caught: float) -> None:
    """caught_at flags the out-of-scope scores below the highest threshold that keeps the in-scope ones
    flagged at or under the rate."""
    got = eval_knowledge.caught_at(np.asarray(in_scope), np.asarray(out_of_scope), rate)
    assert got == pytest.approx(caught)
    ordered = np.sort(in_scope)
    threshold = ordered[int(np.floor(rate * len(ordered) + 1e-9))]
    assert float((np.asarray(in_scope) < threshold).mean()) <= rate

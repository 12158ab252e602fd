"""Unanswered questions are grouped by (hashed) TF-IDF cosine similarity over words and character n-grams."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from connectors.report import clusters
from connectors.report.clusters import cluster, cosine, label, vectors

QUESTIONS = [
    "How do I get a refund for my gift card?",  # 0
    "Do you ship to Norway?",  # 1
    "Can I get a refund on a gift card",  # 2
    "Shipping to Norway possible?",  # 3
    "What are your opening hours",  # 4
    "refnd gift cards?",  # 5 (typo: caught by character n-grams)
    "is there shipping to norway",  # 6
    "How can I delete my account",  # 7
    "delete account how",  # 8
]


def test_paraphrases_group_and_unrelated_questions_stay_apart() -> None:
    """Paraphrases (even misspelt) share a group; the largest group comes first; singletons stay alone."""
    assert cluster(QUESTIONS) == [[0, 2, 5], [1, 3, 6], [7, 8], [4]]


def test_identical_questions_are_one_item_with_weight() -> None:
    """The same words asked many times land in one group and count every time."""
    texts = ["Where is my parcel?"] * 5 + ["where is my parcel", "Opening hours on Sunday?"]
    assert cluster(texts) == [[0, 1, 2, 3, 4, 5], [6]]


def test_threshold_controls_grouping() -> None:
    """At threshold 1.0 nothing but identical wording groups; at 0.0 everything does."""
    assert len(cluster(QUESTIONS, threshold=1.01)) == len(QUESTIONS)
    assert len(cluster(QUESTIONS, threshold=0.0)) == 1


def test_vectors_are_unit_length_and_cosine_is_symmetric() -> None:
    """Rows are L2-normalised, so a vector's cosine with itself is 1; paraphrases score above strangers."""
    rows = vectors(QUESTIONS)
    for v in rows:
        assert cosine(v, v) == pytest.approx(1.0, abs=1e-5)
    assert cosine(rows[0], rows[2]) == pytest.approx(cosine(rows[2], rows[0]))
    assert cosine(rows[0], rows[2]) > cosine(rows[0], rows[1])


def test_grouping_is_deterministic_and_ignores_block_boundaries() -> None:
    """The same texts give the same groups in any run, and the block size does not change the result."""
    texts = [f"{q} {n % 3}" for n, q in enumerate(QUESTIONS * 30)]
    first = cluster(texts)
    assert cluster(list(texts)) == first
    original = clusters.BLOCK
    try:
        clusters.BLOCK = 1
        assert cluster(texts) == first
    finally:
        clusters.BLOCK = original


def test_many_distinct_questions_are_grouped_in_blocks() -> None:
    """Thousands of distinct questions of a few kinds come back as a few large groups, not one each."""
    kinds = ["refund for my gift card", "shipping to norway", "delete my account", "opening hours sunday"]
    texts = [f"{kinds[n % 4]} please ticket {n}" for n in range(2000)]
    groups = cluster(texts)
    assert sum(len(g) for g in groups) == 2000
    assert len(groups) <= 40
    assert all(len({n % 4 for n in g}) == 1 for g in groups[:4])


def test_grouping_is_the_same_under_any_string_hash_seed() -> None:
    """Columns come from CRC-32, not Python's per-process string hash: two processes with different
    PYTHONHASHSEED build the same vectors and the same groups."""
    script = (
        "from connectors.report.clusters import cluster, vectors; import hashlib;"
        f"q = {QUESTIONS!r};"
        "print(cluster(q), hashlib.sha256(vectors(q).tobytes()).hexdigest())"
    )
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        outputs.add(done.stdout)
    assert len(outputs) == 1
    assert outputs.pop().startswith(str(cluster(QUESTIONS)))


def test_label_uses_common_content_words() -> None:
    """A group is named by its most frequent content words, not by stop words."""
    assert label([QUESTIONS[i] for i in (0, 2, 5)]).startswith("gift")
    assert label(["the the the", "a of"]) == "(no common words)"


def test_empty_input() -> None:
    """No questions, no groups."""
    assert cluster([]) == []

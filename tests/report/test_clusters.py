"""Unanswered questions are grouped by TF-IDF cosine similarity over words and character n-grams."""

from __future__ import annotations

import pytest

from connectors.report.clusters import cluster, cosine, label, tfidf

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
    """TF-IDF vectors are L2-normalised, so a vector's cosine with itself is 1."""
    vectors = tfidf(QUESTIONS)
    for v in vectors:
        assert cosine(v, v) == pytest.approx(1.0)
    assert cosine(vectors[0], vectors[2]) == pytest.approx(cosine(vectors[2], vectors[0]))
    assert cosine(vectors[0], vectors[2]) > cosine(vectors[0], vectors[1])


def test_label_uses_common_content_words() -> None:
    """A group is named by its most frequent content words, not by stop words."""
    assert label([QUESTIONS[i] for i in (0, 2, 5)]).startswith("gift")
    assert label(["the the the", "a of"]) == "(no common words)"


def test_empty_input() -> None:
    """No questions, no groups."""
    assert cluster([]) == []

"""The trained heads and the cues combine into the angry band as the model card says (docs/models.md)."""

from __future__ import annotations

import pytest

from handoff_core.detectors import DetectorScore
from handoff_core.policy.schema import SentimentConfig
from handoff_core.sentiment import (
    CUE_ANGRY_SHARE,
    CUE_NEGATIVE_PROBABILITY,
    FOREIGN_ANGRY_PROBABILITY,
    ModelSentiment,
    SentimentScorer,
)
from handoff_core.text.phrases import Analyzer, Vocabulary, phrase_words

ANGRY_AT, NEGATIVE_AT = 0.55, 0.46
CONFIG = SentimentConfig.model_validate(
    {"use_lexicon": False, "cues": [{"weight": 0.95, "phrases": ["worst company ever"]}]}
)
VOCABULARY = Vocabulary(w for group in CONFIG.cues for p in group.phrases for w in phrase_words(p))
SCORER = SentimentScorer(CONFIG, VOCABULARY)
ANALYZER = Analyzer(VOCABULARY)


def _heads(angry: float, negative: float) -> ModelSentiment:
    return ModelSentiment(
        DetectorScore("angry", angry, ANGRY_AT, ()), DetectorScore("negative", negative, NEGATIVE_AT, ())
    )


def _angry(text: str, language: str, angry: float, negative: float) -> bool:
    result = SCORER.score(0, ANALYZER.analyze(text, language), _heads(angry, negative))
    return result.score <= CONFIG.angry_below


@pytest.mark.parametrize(
    ("text", "language", "angry", "negative", "expected"),
    [
        # The angry head at its threshold with the negative head agreeing: angry, cues or not.
        ("you ruined my weekend", "en", ANGRY_AT, 0.9, True),
        # The negative head does not agree: never angry.
        ("you ruined my weekend", "en", 0.99, NEGATIVE_AT - 0.01, False),
        # Strong cues, but neither head backs them firmly: not angry (the false alarms on GoEmotions dev).
        ("worst company ever", "en", CUE_ANGRY_SHARE * ANGRY_AT - 0.01, CUE_NEGATIVE_PROBABILITY - 0.01, False),
        # Strong cues and the angry head leaning: angry.
        ("worst company ever", "en", CUE_ANGRY_SHARE * ANGRY_AT, 0.6, True),
        # Strong cues and a very sure negative head (support-style anger the angry head misses): angry.
        ("worst company ever", "en", 0.1, CUE_NEGATIVE_PROBABILITY, True),
        # Outside English without cues, a head at its threshold is not trusted ...
        ("habéis arruinado mi fin de semana", "es", 0.8, 0.9, False),
        # ... unless the angry head is very sure.
        ("habéis arruinado mi fin de semana", "es", FOREIGN_ANGRY_PROBABILITY, 0.9, True),
    ],
)
def test_angry_band(text: str, language: str, angry: float, negative: float, expected: bool) -> None:
    """Each rule of the angry band holds at its documented edge."""
    assert _angry(text, language, angry, negative) is expected

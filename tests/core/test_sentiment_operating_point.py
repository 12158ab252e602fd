"""The trained heads and the cues combine into the angry band as the model card says (docs/models.md)."""

from __future__ import annotations

import pytest

from handoff_core.detectors import DetectorScore
from handoff_core.policy.schema import SentimentConfig
from handoff_core.sentiment import (
    CUE_ANGRY_SHARE,
    CUE_NEGATIVE_PROBABILITY,
    FOREIGN_ANGRY_PROBABILITY,
    LANGUAGE_ANGRY_PROBABILITY,
    STRONG_CUES,
    ModelSentiment,
    SentimentScorer,
)
from handoff_core.text.phrases import Analyzer, Vocabulary, phrase_words

ANGRY_AT, NEGATIVE_AT = 0.55, 0.46
CONFIG = SentimentConfig.model_validate(
    {
        "use_lexicon": False,
        "hedges": ["a bit"],
        "cues": [
            {"weight": 0.95, "phrases": ["worst company ever"]},
            {"weight": 0.7, "phrases": ["really bad service"]},
        ],
    }
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
        # Strong cues, but the angry head does not back them: not angry (the false alarms on GoEmotions dev).
        ("worst company ever", "en", CUE_ANGRY_SHARE * ANGRY_AT - 0.01, 0.9, False),
        # Strong cues and the angry head leaning: angry.
        ("worst company ever", "en", CUE_ANGRY_SHARE * ANGRY_AT, 0.6, True),
        # Cues at the angry line with a very sure negative head: no longer angry (round 4: on complaints that
        # head is ~1 for calm letters too; this path was most of the false alarms on CFPB dev) ...
        ("really bad service", "en", 0.1, 0.99, False),
        # ... unless the cues are very strong (at least STRONG_CUES): angry.
        ("worst company ever", "en", 0.1, CUE_NEGATIVE_PROBABILITY, True),
        ("worst company ever", "en", 0.1, CUE_NEGATIVE_PROBABILITY - 0.01, False),
        # A hedge ("a bit") keeps any verdict below angry: annoyed, not angry.
        ("a bit annoying, you ruined my weekend", "en", 0.99, 0.99, False),
        # Outside English without cues, a head at its threshold is not trusted ...
        ("habéis arruinado mi fin de semana", "es", LANGUAGE_ANGRY_PROBABILITY["es"] - 0.01, 0.9, False),
        # ... unless the angry head reaches the language's own bar (round 9, chosen on XED dev) ...
        ("habéis arruinado mi fin de semana", "es", LANGUAGE_ANGRY_PROBABILITY["es"], 0.9, True),
        ("vous avez gâché mon week-end", "fr", LANGUAGE_ANGRY_PROBABILITY["fr"], 0.9, True),
        ("ihr habt mein Wochenende ruiniert", "de", LANGUAGE_ANGRY_PROBABILITY["de"] - 0.01, 0.9, False),
        ("vocês estragaram meu fim de semana", "pt", LANGUAGE_ANGRY_PROBABILITY["pt"], 0.9, True),
        # ... and a language without a bar of its own keeps the strict one.
        ("avete rovinato il mio fine settimana", "it", LANGUAGE_ANGRY_PROBABILITY["es"], 0.9, False),
        ("avete rovinato il mio fine settimana", "it", FOREIGN_ANGRY_PROBABILITY, 0.9, True),
    ],
)
def test_angry_band(text: str, language: str, angry: float, negative: float, expected: bool) -> None:
    """Each rule of the angry band holds at its documented edge."""
    assert STRONG_CUES <= 0.95
    assert all(ANGRY_AT < bar < FOREIGN_ANGRY_PROBABILITY for bar in LANGUAGE_ANGRY_PROBABILITY.values())
    assert _angry(text, language, angry, negative) is expected


def test_negative_band_is_ranked_by_the_angry_head() -> None:
    """Below the angry band, a message the angry head rates higher is more negative, whatever the negative head says."""
    text = ANALYZER.analyze("my statement is wrong again", "en")
    scores = [SCORER.score(0, text, _heads(angry, 0.999)).score for angry in (0.05, 0.2, 0.4, ANGRY_AT - 0.01)]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == 4
    assert all(CONFIG.angry_below < s <= CONFIG.negative_below for s in scores)

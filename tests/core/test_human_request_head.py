"""WRITTEN REGRESSION CASES (not evidence): the shipped ``human_request`` head in five languages.

Round 6 trained the head on written requests in en/es/fr/de/pt beside Bitext (docs/models.md). These
messages are not in its training rows; they keep a retrain from silently losing a language or starting to
fire on look-alikes. Real-data accuracy is in ``bench/eval_real.py`` (Rasa test half, XED lines per language).
"""

from __future__ import annotations

import pytest

from handoff_core.detectors import bundled_detectors
from handoff_core.features import bundled_featurizer


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        ("i would like to speak to an actual human please", True),
        ("hablar con un humano", True),
        ("parler à un humain", True),
        ("mit einem Mitarbeiter verbinden bitte", True),
        ("quero um atendente humano", True),
        ("can you check my order status", False),
        ("I talked to your agent last week", False),
        ("please don't transfer me", False),
        ("do you have human support on weekends?", False),
        ("¿cuánto tarda el envío?", False),
        ("Je voudrais changer mon adresse de livraison", False),
    ],
)
def test_head_alone_per_language(text: str, fires: bool) -> None:
    """The head alone, at the default policy's threshold (0.7), takes written requests and leaves look-alikes."""
    score = bundled_detectors().score(bundled_featurizer().featurize(text), "human_request")
    assert (score.probability >= 0.7) is fires, score

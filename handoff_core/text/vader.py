"""VADER's scores in linear time: the same numbers as ``vaderSentiment``, without its quadratic steps.

Why: on real support messages (a complaint of a page or two) VADER was a third of the engine's time.
``vaderSentiment`` lower-cases the *whole* message again for every sentiment word it meets (in its
negation and idiom checks), and its "but" rule looks each score up with ``list.index``: cost grows with
the square of the message length. Each of those checks only reads the three words before and two after
the word being scored, so handing them that window gives identical results in time linear in the
message. The "but" rule is replayed exactly, quirks included, by looking only among the non-zero
scores. Messages without emoji skip the character-by-character emoji pass.

Only the scoring steps are overridden; the lexicon, the rules and their constants are VADER's own, and
``tests/core/test_vader.py`` compares both on real long texts.
"""

from __future__ import annotations

from typing import Any

from vaderSentiment.vaderSentiment import BOOSTER_DICT, SentimentIntensityAnalyzer, SentiText

#: Words before the scored word that VADER's negation and idiom checks read.
_BEFORE = 3
#: Words after it that the idiom check reads.
_AFTER = 2


class LinearVader(SentimentIntensityAnalyzer):  # type: ignore[misc]
    """``polarity_scores`` as VADER computes it, in time linear in the text."""

    def __init__(self) -> None:
        super().__init__()
        self._emoji_chars = frozenset(self.emojis)

    def polarity_scores(self, text: str) -> dict[str, float]:
        if not self._emoji_chars.isdisjoint(text):
            return dict(super().polarity_scores(text))  # rare: emoji are replaced by their names first
        text = text.strip()
        sentitext = SentiText(text)
        sentiments: list[Any] = []
        words = sentitext.words_and_emoticons
        lowered = [w.lower() for w in words]
        boosters = BOOSTER_DICT
        lexicon = self.lexicon
        last = len(words) - 1
        for i, item in enumerate(words):
            low = lowered[i]
            if low not in lexicon or low in boosters or (i < last and low == "kind" and lowered[i + 1] == "of"):
                sentiments.append(0)  # what sentiment_valence gives a word outside the lexicon
                continue
            sentiments = self.sentiment_valence(0, sentitext, item, i, sentiments)
        sentiments = self._but_check(words, sentiments)
        return dict(self.score_valence(sentiments, text))

    @staticmethod
    def _negation_check(valence: float, words: list[str], start_i: int, i: int) -> float:
        low = max(0, i - _BEFORE)
        return float(SentimentIntensityAnalyzer._negation_check(valence, words[low : i + 1], start_i, i - low))

    @staticmethod
    def _special_idioms_check(valence: float, words: list[str], i: int) -> float:
        low = max(0, i - _BEFORE)
        window = words[low : i + _AFTER + 1]
        return float(SentimentIntensityAnalyzer._special_idioms_check(valence, window, i - low))

    @staticmethod
    def _but_check(words: list[str], sentiments: list[Any]) -> list[Any]:
        """VADER's rule: scores before the first "but" count half, after it one and a half times.

        VADER walks the scores and finds each one's position with ``list.index`` (the first equal
        value), so equal scores can be scaled at another position than their own. Zero scores stay zero
        either way, so only non-zero positions are searched: the same result, without the square.
        """
        lowered = [w.lower() for w in words]
        if "but" not in lowered:
            return sentiments
        bi = lowered.index("but")
        nonzero = [p for p, s in enumerate(sentiments) if s != 0]
        for k in range(len(sentiments)):
            value = sentiments[k]
            if value == 0:
                continue
            si = next(p for p in nonzero if sentiments[p] == value)
            if si < bi:
                sentiments[si] = value * 0.5
            elif si > bi:
                sentiments[si] = value * 1.5
        return sentiments

"""VADER's scores in linear time: the same numbers as ``vaderSentiment``, without its quadratic steps.

Why: on real support messages (a complaint of a page or two) VADER was a third of the engine's time.
``vaderSentiment`` lower-cases the *whole* message again for every sentiment word it meets (in its
negation and idiom checks), and its "but" rule looks each score up with ``list.index``: cost grows with
the square of the message length. Each of those checks only reads the three words before and two after
the word being scored, so handing them that window gives identical results in time linear in the
message. The "but" rule is replayed exactly, quirks included, by looking only among the non-zero
scores. Messages without emoji skip the character-by-character emoji pass. Round 9 (issue 12) skips the
calls that cannot change a valence: the booster look-up of a word that is no booster, the idiom check
where none of its sequences can hold an idiom's words, and ``SentiText``'s per-word method calls (the
same words and capitals flag, built in comprehensions and C).

Only the scoring steps are overridden; the lexicon, the rules and their constants are VADER's own, and
``tests/core/test_vader.py`` compares both on real long texts.
"""

from __future__ import annotations

import string
from typing import Any

from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    C_INCR,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
    scalar_inc_dec,
)

#: Words before the scored word that VADER's negation and idiom checks read.
_BEFORE = 3
#: Words after it that the idiom check reads.
_AFTER = 2
#: VADER's negation words, as a set (``negated`` builds a list of them for every word it checks).
_NEGATE = frozenset(NEGATE)
_SO_THIS = ("so", "this")
#: What ``SentiText`` strips from each whitespace-separated word (when more than two characters are left).
_PUNCTUATION = string.punctuation
#: Every word of VADER's multi-word idioms and multi-word boosters ("kiss of death", "kind of"). Each
#: sequence its idiom check builds holds the scored word or one of the two before it, so when none of the
#: three is one of these words the check cannot change the valence and is skipped.
_IDIOM_WORDS = frozenset(w for key in (*SPECIAL_CASES, *BOOSTER_DICT) if " " in key for w in key.split())


class LinearVader(SentimentIntensityAnalyzer):  # type: ignore[misc]
    """``polarity_scores`` as VADER computes it, in time linear in the text."""

    def __init__(self) -> None:
        super().__init__()
        self._emoji_chars = frozenset(self.emojis)

    def polarity_scores(self, text: str) -> dict[str, float]:
        if not self._emoji_chars.isdisjoint(text):
            return dict(super().polarity_scores(text))  # rare: emoji are replaced by their names first
        text = text.strip()
        words, is_cap_diff = _senti_words(text)
        sentiments: list[Any] = []
        lowered = list(map(str.lower, words))
        boosters = BOOSTER_DICT
        lexicon = self.lexicon
        last = len(words) - 1
        for i, low in enumerate(lowered):
            if low not in lexicon or low in boosters or (i < last and low == "kind" and lowered[i + 1] == "of"):
                sentiments.append(0)  # what sentiment_valence gives a word outside the lexicon
                continue
            sentiments.append(self._valence(words, lowered, i, is_cap_diff))
        sentiments = self._but_check(lowered, sentiments)
        return dict(self.score_valence(sentiments, text))

    def _valence(self, words: list[str], lowered: list[str], i: int, is_cap_diff: bool) -> float:
        """``sentiment_valence`` of the lexicon word at ``i``, reading the words lower-cased once.

        VADER's steps in VADER's order (negating "no", capitals, the three preceding boosters with the
        negation and idiom checks, "least"); its own helpers lower-case the window again for every check.
        """
        lexicon = self.lexicon
        item, low = words[i], lowered[i]
        valence = lexicon[low]
        if low == "no" and i != len(words) - 1 and lowered[i + 1] in lexicon:
            valence = 0.0
        if (
            (i > 0 and lowered[i - 1] == "no")
            or (i > 1 and lowered[i - 2] == "no")
            or (i > 2 and lowered[i - 3] == "no" and lowered[i - 1] in ["or", "nor"])
        ):
            valence = lexicon[low] * N_SCALAR
        if item.isupper() and is_cap_diff:
            if valence > 0:
                valence += C_INCR
            else:
                valence -= C_INCR
        for start_i in range(0, 3):
            if i > start_i and lowered[i - (start_i + 1)] not in lexicon:
                if lowered[i - (start_i + 1)] in BOOSTER_DICT:
                    s = scalar_inc_dec(words[i - (start_i + 1)], valence, is_cap_diff)
                    if start_i == 1 and s != 0:
                        s = s * 0.95
                    if start_i == 2 and s != 0:
                        s = s * 0.9
                    valence = valence + s
                else:
                    valence = valence + 0.0  # what scalar_inc_dec gives a word that is no booster (-0.0 becomes 0.0)
                valence = _negation(valence, lowered, start_i, i)
                if start_i == 2 and not _IDIOM_WORDS.isdisjoint((low, lowered[i - 1], lowered[i - 2])):
                    valence = self._special_idioms_check(valence, words, i)
        # VADER's _least_check.
        if i > 1 and lowered[i - 1] not in lexicon and lowered[i - 1] == "least":
            if lowered[i - 2] != "at" and lowered[i - 2] != "very":
                valence = valence * N_SCALAR
        elif i > 0 and lowered[i - 1] not in lexicon and lowered[i - 1] == "least":
            valence = valence * N_SCALAR
        return float(valence)

    @staticmethod
    def _special_idioms_check(valence: float, words: list[str], i: int) -> float:
        low = max(0, i - _BEFORE)
        window = words[low : i + _AFTER + 1]
        return float(SentimentIntensityAnalyzer._special_idioms_check(valence, window, i - low))

    @staticmethod
    def _but_check(lowered: list[str], sentiments: list[Any]) -> list[Any]:
        """VADER's rule: scores before the first "but" count half, after it one and a half times.

        VADER walks the scores and finds each one's position with ``list.index`` (the first equal
        value), so equal scores can be scaled at another position than their own. Zero scores stay zero
        either way, so only non-zero positions are searched: the same result, without the square.
        """
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


def _senti_words(text: str) -> tuple[list[str], bool]:
    """``SentiText(text)``'s ``words_and_emoticons`` and ``is_cap_diff``, without its per-word method calls.

    Each whitespace-separated word loses its leading and trailing punctuation unless that leaves two
    characters or fewer (an emoticon); the capitals differential counts the words ``str.isupper`` in C.
    """
    words = [stripped if len(stripped := word.strip(_PUNCTUATION)) > 2 else word for word in text.split()]
    capitals = sum(map(str.isupper, words))
    return words, 0 < len(words) - capitals < len(words)


def _negated(word: str) -> bool:
    """VADER's ``negated([word])``: a negation word, or any word with "n't"."""
    lowered = word.lower()
    return lowered in _NEGATE or "n't" in lowered


def _negation(valence: float, lowered: list[str], start_i: int, i: int) -> float:
    """VADER's ``_negation_check`` on the words lower-cased once (the same branches, in its order)."""
    if start_i == 0 and _negated(lowered[i - 1]):
        valence = valence * N_SCALAR
    if start_i == 1:
        if lowered[i - 2] == "never" and (lowered[i - 1] == "so" or lowered[i - 1] == "this"):
            valence = valence * 1.25
        elif lowered[i - 2] == "without" and lowered[i - 1] == "doubt":
            pass
        elif _negated(lowered[i - 2]):
            valence = valence * N_SCALAR
    if start_i == 2:
        if (lowered[i - 3] == "never" and lowered[i - 2] in _SO_THIS) or lowered[i - 1] in _SO_THIS:
            valence = valence * 1.25
        elif lowered[i - 3] == "without" and (lowered[i - 2] == "doubt" or lowered[i - 1] == "doubt"):
            pass
        elif _negated(lowered[i - 3]):
            valence = valence * N_SCALAR
    return valence

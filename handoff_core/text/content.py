"""Content words: what a message is about once function words are dropped (for similarity measures)."""

from __future__ import annotations

from collections.abc import Sequence

from handoff_core.text.languages import STOPWORDS, detect_language
from handoff_core.text.normalize import tokenize
from handoff_core.text.stem import stem

ALL_STOPWORDS = frozenset().union(*STOPWORDS.values()) | frozenset(
    {"get", "got", "want", "need", "like", "would", "know", "tell", "much", "many", "way", "one"}
)


def content_words(text: str) -> tuple[list[str], str]:
    """Folded non-function words of ``text`` and the detected language."""
    norms = tokenize(text).norms
    lang = detect_language(norms)
    return [n for n in norms if n not in ALL_STOPWORDS and (len(n) > 1 or n.isdigit())], lang


def content_stems(text: str) -> frozenset[str]:
    words, lang = content_words(text)
    return frozenset(stem(w, lang) for w in words)


def content_stems_of(norms: Sequence[str], lang: str) -> frozenset[str]:
    """Like :func:`content_stems` for text that is already tokenised."""
    return frozenset(stem(n, lang) for n in norms if n not in ALL_STOPWORDS and (len(n) > 1 or n.isdigit()))

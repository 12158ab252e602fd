"""Snowball stemming with a cache, so ``refunded``, ``refunds`` and ``refunding`` meet at ``refund``.

``snowballstemmer`` uses the C implementation (PyStemmer, the ``fast`` extra) when it is installed and
falls back to pure Python otherwise; the cache makes repeated words (most of support language) cost a
dictionary lookup either way.
"""

from __future__ import annotations

from functools import lru_cache

import snowballstemmer

from handoff_core.text.languages import STEMMER_NAMES

_STEMMERS = {lang: snowballstemmer.stemmer(name) for lang, name in STEMMER_NAMES.items()}


@lru_cache(maxsize=262_144)
def stem(word: str, lang: str) -> str:
    """Stem a folded word in ``lang``; unknown languages are stemmed as English."""
    stemmer = _STEMMERS.get(lang) or _STEMMERS["en"]
    return str(stemmer.stemWord(word))


def all_stems(word: str, min_length: int = 4) -> frozenset[str]:
    """Every language's stem of ``word``, dropping stems so short they would match unrelated words."""
    stems = {word}
    for lang in _STEMMERS:
        s = stem(word, lang)
        if len(s) >= min_length or s == word:
            stems.add(s)
    return frozenset(stems)

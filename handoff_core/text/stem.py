"""Snowball stemming with a cache, so ``refunded``, ``refunds`` and ``refunding`` meet at ``refund``.

``snowballstemmer`` uses the C implementation (PyStemmer, the ``fast`` extra) when it is installed and
falls back to pure Python otherwise; the cache makes repeated words (most of support language) cost a
dictionary lookup either way.

Why PyStemmer's own cache is turned off: every PyStemmer stemmer keeps a cache of 10,000 words by
default, seven stemmers here, bounded in entries only and filled by every new word customers write
(and by the policy's whole vocabulary at start-up). Filled, the seven held about 17 MB of a worker's
memory, and stemming a word it had not seen cost 3.3 microseconds instead of 0.9 (its eviction is
slow). The :func:`stem` cache in front of it (4,096 words, all languages) already serves the repeats.
"""

from __future__ import annotations

from functools import lru_cache

import snowballstemmer

from handoff_core.text.cache import CACHED_WORD_CHARS, WORD_CACHE_ENTRIES
from handoff_core.text.languages import STEMMER_NAMES

_STEMMERS = {lang: snowballstemmer.stemmer(name) for lang, name in STEMMER_NAMES.items()}
for _stemmer in _STEMMERS.values():
    if hasattr(_stemmer, "maxCacheSize"):  # PyStemmer (C); the pure-Python fallback keeps no cache
        _stemmer.maxCacheSize = 0


def stem(word: str, lang: str) -> str:
    """Stem a folded word in ``lang``; unknown languages are stemmed as English.

    Cached for words up to :data:`CACHED_WORD_CHARS` characters (:data:`stem_cache`: ~250 B an entry,
    about 1 MB, at most :data:`WORD_ENTRY_BYTES` each whatever customers write; docs/volume.md).
    """
    return stem_cache(word, lang) if len(word) <= CACHED_WORD_CHARS else _stem(word, lang)


def _stem(word: str, lang: str) -> str:
    stemmer = _STEMMERS.get(lang) or _STEMMERS["en"]
    return str(stemmer.stemWord(word))


stem_cache = lru_cache(maxsize=WORD_CACHE_ENTRIES)(_stem)


def stem_key(word: str, lang: str) -> str:
    """A stem tagged with its language (``pt:process``).

    Tagging keeps stems of different languages apart: the Portuguese stem of "processar" and the
    English stem of "processing" are both "process", but a customer writing English about processing
    is not talking about a lawsuit.
    """
    return f"{lang}:{stem(word, lang)}"


def all_stems(word: str, min_length: int = 4) -> frozenset[str]:
    """``word`` and its tagged stem in every language, dropping stems too short to be telling."""
    stems = {word}
    for lang in _STEMMERS:
        s = stem(word, lang)
        if len(s) >= min_length or s == word:
            stems.add(f"{lang}:{s}")
    return frozenset(stems)

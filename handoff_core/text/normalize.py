"""Folding and tokenising text so that matching survives case, accents, punctuation and apostrophes.

A token keeps its span in the original text, so evidence can quote exactly what the customer wrote.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from handoff_core.text.cache import CACHED_WORD_CHARS, WORD_CACHE_ENTRIES

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?¿¡…])\s+|\n+|(?<=[.!?])(?=[A-ZÀ-Ý¿¡])")
#: The characters some alternative of :data:`_SENTENCE_END` needs: without any, a text is one sentence.
_ENDS_OR_BREAKS = frozenset(".!?¿¡…\n")


def fold(word: str) -> str:
    """Lower-case, strip accents and apostrophes: ``Rückerstattung`` -> ``ruckerstattung``.

    Cached for words up to :data:`CACHED_WORD_CHARS` characters (:data:`fold_cache`): a bound in bytes,
    see :mod:`handoff_core.text.cache`.
    """
    return fold_cache(word) if len(word) <= CACHED_WORD_CHARS else _fold(word)


def _fold(word: str) -> str:
    lowered = word.casefold()
    if lowered.isascii():
        return lowered.replace("'", "")
    decomposed = unicodedata.normalize("NFKD", lowered)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.replace("'", "").replace("’", "").replace("ß", "ss")


#: ~200 B an entry with ordinary words (at most :data:`WORD_ENTRY_BYTES`): about 1 MB, 4 MiB at worst.
fold_cache = lru_cache(maxsize=WORD_CACHE_ENTRIES)(_fold)


def _fold_all(words: list[str]) -> tuple[str, ...]:
    """``fold`` of every word; straight through the cache when none is too long to keep (the usual case)."""
    if max(map(len, words), default=0) <= CACHED_WORD_CHARS:
        return tuple(map(fold_cache, words))
    return tuple(map(fold, words))


@dataclass(frozen=True, slots=True)
class Tokens:
    """The word tokens of a text as parallel arrays: no per-token objects on the hot path.

    Spans (offsets into the text) are only needed to quote evidence, so they are computed on demand by
    :func:`token_spans` rather than for every token of every message.
    """

    words: tuple[str, ...]  # as written
    norms: tuple[str, ...]  # folded
    sentences: tuple[int, ...]  # sentence number of each token


#: The last text tokenised and its tokens, one slot replaced whole (safe across threads; a
#: :class:`Tokens` is immutable). The engine tokenises a customer message when it arrives, and the
#: knowledge search reads the same text again a moment later (``content_words``): the second call
#: takes the first's tokens.
_LAST: list[tuple[str, Tokens]] = []


def tokenize(text: str) -> Tokens:
    """Split into word tokens with their sentence number; punctuation is dropped.

    A sentence boundary never falls inside a word, so each sentence is cut out first and its words are
    found with ``findall`` (strings only, no match objects).
    """
    last = _LAST[0] if _LAST else None
    if last is not None and last[0] == text:
        return last[1]
    found = _tokenize(text)
    _LAST[:] = ((text, found),)
    return found


def _tokenize(text: str) -> Tokens:
    if not _ENDS_OR_BREAKS.intersection(text):
        # No character a sentence boundary needs (every alternative of _SENTENCE_END reads one): one sentence.
        words = _WORD.findall(text)
        return Tokens(tuple(words), _fold_all(words), (0,) * len(words))
    words = []
    sentences: list[int] = []
    start = 0
    sentence = 0
    for m in _SENTENCE_END.finditer(text):
        end = m.end()
        found = _WORD.findall(text, start, end)
        if found:
            words += found
            sentences += [sentence] * len(found)
        sentence += 1
        start = end
    found = _WORD.findall(text, start)
    if found:
        words += found
        sentences += [sentence] * len(found)
    return Tokens(tuple(words), _fold_all(words), tuple(sentences))


def token_spans(text: str) -> tuple[tuple[int, int], ...]:
    """``(start, end)`` of every token :func:`tokenize` finds, in the same order."""
    return tuple([m.span() for m in _WORD.finditer(text)])


def word_spans(text: str, words: Sequence[str]) -> array[int]:
    """:func:`token_spans` flat (start, end, start, end, ...) from the words :func:`tokenize` found.

    Each word is looked for from the end of the one before: between two tokens there is no character a
    token can start with, so the first occurrence is the token itself. One ``str.find`` a word instead of
    the token pattern's second scan of the text (half the time on a 2 KB message).
    """
    spans = array("i")
    append, find, end = spans.append, text.find, 0
    for word in words:
        start = find(word, end)
        end = start + len(word)
        append(start)
        append(end)
    return spans


#: A word at a quote's cut that may be part of personal data: it holds a digit or an "@".
_SHAPED_WORD = re.compile(r"[\d@]")


def quote(text: str, start: int, end: int, width: int = 60) -> str:
    """A short excerpt of ``text`` around ``[start, end)`` for evidence.

    Why the cut moves to a word boundary and drops words with a digit or "@" at either cut: the redaction
    edge recognises an e-mail, card or phone number by its whole shape, so a quote cut through one
    ("mail ann@exa…", "…1111 1111 1111") would carry the half the edge no longer sees. The words of the
    match itself are always kept.
    """
    left = max(0, start - width)
    right = min(len(text), end + width)
    if left > 0:
        words = text[left:start].split(" ")
        # The first word goes if it was cut, or if it may be part of a number cut before it.
        drop = 1 if text[left - 1] != " " or _SHAPED_WORD.search(words[0]) else 0
        while drop < len(words) - 1 and _SHAPED_WORD.search(words[drop]):  # the rest of a cut number
            drop += 1
        left = start - len(" ".join(words[drop:])) if drop < len(words) else start
    if right < len(text):
        words = text[end:right].split(" ")
        drop = 1 if text[right] != " " or _SHAPED_WORD.search(words[-1]) else 0
        while drop < len(words) - 1 and _SHAPED_WORD.search(words[-1 - drop]):
            drop += 1
        right = end + len(" ".join(words[: len(words) - drop])) if drop < len(words) else end
    snippet = text[left:right].strip().replace("\n", " ")
    return ("…" if left > 0 else "") + snippet + ("…" if right < len(text) else "")

"""Folding and tokenising text so that matching survives case, accents, punctuation and apostrophes.

A token keeps its span in the original text, so evidence can quote exactly what the customer wrote.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?¿¡…])\s+|\n+|(?<=[.!?])(?=[A-ZÀ-Ý¿¡])")


#: ~200 B an entry: 32,768 keep it near 7 MB with endless new words (docs/volume.md).
@lru_cache(maxsize=32_768)
def fold(word: str) -> str:
    """Lower-case, strip accents and apostrophes: ``Rückerstattung`` -> ``ruckerstattung``."""
    lowered = word.casefold()
    if lowered.isascii():
        return lowered.replace("'", "")
    decomposed = unicodedata.normalize("NFKD", lowered)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.replace("'", "").replace("’", "").replace("ß", "ss")


@dataclass(frozen=True, slots=True)
class Token:
    text: str  # as written
    norm: str  # folded
    start: int
    end: int
    sentence: int


def tokenize(text: str) -> list[Token]:
    """Split into word tokens with their sentence number; punctuation is dropped."""
    tokens: list[Token] = []
    sentence = 0
    boundaries = [m.end() for m in _SENTENCE_END.finditer(text)]
    b = 0
    for m in _WORD.finditer(text):
        while b < len(boundaries) and boundaries[b] <= m.start():
            sentence += 1
            b += 1
        word = m.group(0)
        tokens.append(Token(word, fold(word), m.start(), m.end(), sentence))
    return tokens


def quote(text: str, start: int, end: int, width: int = 60) -> str:
    """A short excerpt of ``text`` around ``[start, end)`` for evidence."""
    left = max(0, start - width)
    right = min(len(text), end + width)
    snippet = text[left:right].strip().replace("\n", " ")
    return ("…" if left > 0 else "") + snippet + ("…" if right < len(text) else "")

"""Phrase matching whose cost does not grow with the number of phrases.

Support leads write topic and cue lists as plain phrases ("money back", "talk to a human", "gehackt").
Each phrase is compiled into a sequence of token *key sets* (the folded word plus its stems in every
supported language); every message token gets keys too (folded form, English stem, stem in the detected
language, and the policy word it is a likely typo of). Matching looks each message token up in a hash
index keyed by a phrase's first token, so a policy with 5,000 phrases costs about the same per message
as one with 50: the work is proportional to the message, not to the policy.

Typo tolerance uses a symmetric-deletion index over the policy's own vocabulary: a message word that is
not a policy word but is one edit away from one (a dropped, added or swapped letter; a substituted one
in long words) also carries that word's keys. Only words of six letters or more that are not function
words are corrected, because short words are too often another real word ("card"/"care",
"hacer"/"hacker").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from handoff_core.text.cache import ByteBoundedCache
from handoff_core.text.content import ALL_STOPWORDS
from handoff_core.text.languages import detect_language
from handoff_core.text.normalize import Token, fold, tokenize
from handoff_core.text.stem import all_stems, stem_key

T = TypeVar("T")

#: Memory the token-key cache of one analyser may use (see :mod:`handoff_core.text.cache`): about
#: 45,000 distinct (word, language) pairs at some 700 bytes each, far more than the words support
#: customers repeat, and a fixed share of the worker's 150 MB whatever they write.
TOKEN_CACHE_BYTES = 32 * 1024 * 1024

#: Articles and fillers skipped when matching, so "talk to a human" also matches "talk to human".
SKIP = frozenset(
    """a an the un une des le la les l el los las una unos unas der die das den dem ein eine einen einem
    o os um uma some any""".split()
)

MIN_TYPO_LENGTH = 6
MIN_SUBSTITUTION_LENGTH = 8


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


@dataclass(frozen=True, slots=True)
class AnalyzedText:
    """A message prepared once and shared by every trigger."""

    text: str
    language: str
    tokens: tuple[Token, ...]
    #: Indexes into ``tokens`` of the tokens matching looks at (fillers skipped).
    content: tuple[int, ...]
    #: The match keys of each token in ``tokens``.
    keys: tuple[frozenset[str], ...]

    @property
    def norms(self) -> list[str]:
        return [t.norm for t in self.tokens]


class Vocabulary:
    """The folded words of every phrase in a policy, with a deletion index for typo correction."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = frozenset(w for w in words if w)
        self._deletion_index: dict[str, set[str]] = {}
        for word in self.words:
            if len(word) < MIN_TYPO_LENGTH or not word.isalpha():
                continue
            for d in _deletes(word):
                self._deletion_index.setdefault(d, set()).add(word)
        self._keys: dict[str, frozenset[str]] = {}

    def correct(self, token: str) -> str | None:
        """The policy word ``token`` is most likely a typo of, or None."""
        if (
            token in self.words
            or len(token) < MIN_TYPO_LENGTH
            or not token.isalpha()
            or token in ALL_STOPWORDS
        ):
            return None
        # The customer dropped a letter: ``token`` is a deletion of a policy word.
        candidates = [w for w in self._deletion_index.get(token, ()) if len(w) == len(token) + 1]
        for d in _deletes(token):
            # The customer added a letter.
            if d in self.words and len(d) >= MIN_TYPO_LENGTH:
                candidates.append(d)
            # Swapped or substituted a letter: both words share a deletion.
            for w in self._deletion_index.get(d, ()):
                if len(w) == len(token) and (
                    _is_transposition(token, w) or len(w) >= MIN_SUBSTITUTION_LENGTH
                ):
                    candidates.append(w)
        candidates = [c for c in candidates if c[0] == token[0]]
        return min(candidates) if candidates else None

    def keys_of(self, word: str) -> frozenset[str]:
        """Keys a policy word is indexed under (cached)."""
        cached = self._keys.get(word)
        if cached is None:
            cached = all_stems(word)
            self._keys[word] = cached
        return cached


def _is_transposition(a: str, b: str) -> bool:
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


class Analyzer:
    """Turns raw text into :class:`AnalyzedText` against one policy's vocabulary."""

    def __init__(self, vocabulary: Vocabulary, cache_bytes: int = TOKEN_CACHE_BYTES) -> None:
        self.vocabulary = vocabulary
        self.token_cache: ByteBoundedCache[tuple[str, str], frozenset[str]] = ByteBoundedCache(cache_bytes)

    def analyze(
        self, text: str, language: str | None = None, tokens: list[Token] | None = None
    ) -> AnalyzedText:
        """Prepare ``text``; pass ``tokens`` when the caller already tokenised it."""
        tokens = tokenize(text) if tokens is None else tokens
        norms = [t.norm for t in tokens]
        lang = language or detect_language(norms)
        keys = tuple(self._keys(n, lang) for n in norms)
        content = tuple(i for i, n in enumerate(norms) if n not in SKIP)
        return AnalyzedText(text, lang, tuple(tokens), content, keys)

    def _keys(self, norm: str, lang: str) -> frozenset[str]:
        cache_key = (norm, lang)
        cached = self.token_cache.get(cache_key)
        if cached is not None:
            return cached
        keys = {norm, stem_key(norm, "en"), stem_key(norm, lang)}
        corrected = self.vocabulary.correct(norm)
        if corrected is not None:
            keys |= self.vocabulary.keys_of(corrected)
        result = frozenset(keys)
        self.token_cache.put(cache_key, result)
        return result


@dataclass(frozen=True, slots=True)
class PhraseHit(Generic[T]):
    payload: T
    phrase: str
    #: Indexes into ``AnalyzedText.tokens`` of the first and last matched token.
    first: int
    last: int
    sentence: int


@dataclass(frozen=True, slots=True)
class _Compiled(Generic[T]):
    phrase: str
    payload: T
    keys: tuple[frozenset[str], ...]


def phrase_words(phrase: str) -> list[str]:
    """The folded, non-filler words of a phrase as written in a policy."""
    return [t.norm for t in tokenize(phrase) if t.norm not in SKIP]


@dataclass
class PhraseMatcher(Generic[T]):
    """Finds which of many phrases occur in a text; see the module docstring for why it is flat in size.

    ``max_gap`` extra words may stand between two words of a phrase ("money sent back").
    """

    vocabulary: Vocabulary
    max_gap: int = 1
    _index: dict[str, list[_Compiled[T]]] = field(default_factory=dict)
    size: int = 0

    def add(self, phrase: str, payload: T) -> None:
        words = phrase_words(phrase)
        if not words:
            return
        compiled = _Compiled(phrase, payload, tuple(self.vocabulary.keys_of(w) for w in words))
        for key in compiled.keys[0]:
            self._index.setdefault(key, []).append(compiled)
        self.size += 1

    def add_all(self, phrases: Iterable[str], payload: T) -> None:
        for phrase in phrases:
            self.add(phrase, payload)

    def find(self, text: AnalyzedText, within: Sequence[int] | None = None) -> list[PhraseHit[T]]:
        """All phrase occurrences, each phrase reported once per start position, within one sentence."""
        content = text.content if within is None else within
        keys = text.keys
        tokens = text.tokens
        hits: list[PhraseHit[T]] = []
        n = len(content)
        for pos in range(n):
            first = content[pos]
            seen: set[int] = set()
            for key in keys[first]:
                for compiled in self._index.get(key, ()):
                    if id(compiled) in seen:
                        continue
                    seen.add(id(compiled))
                    last = self._match_rest(compiled, content, pos, keys, tokens)
                    if last is not None:
                        hits.append(
                            PhraseHit(compiled.payload, compiled.phrase, first, last, tokens[first].sentence)
                        )
        return hits

    def _match_rest(
        self,
        compiled: _Compiled[T],
        content: Sequence[int],
        pos: int,
        keys: tuple[frozenset[str], ...],
        tokens: tuple[Token, ...],
    ) -> int | None:
        sentence = tokens[content[pos]].sentence
        last = content[pos]
        j = pos + 1
        for want in compiled.keys[1:]:
            found = False
            for k in range(j, min(j + 1 + self.max_gap, len(content))):
                idx = content[k]
                if tokens[idx].sentence != sentence:
                    break
                if keys[idx] & want:
                    last, j, found = idx, k + 1, True
                    break
            if not found:
                return None
        return last


def vocabulary_of(phrase_lists: Iterable[Iterable[str]]) -> Vocabulary:
    words: set[str] = set()
    for phrases in phrase_lists:
        for phrase in phrases:
            words.update(phrase_words(phrase))
    return Vocabulary(words)


def fold_all(words: Iterable[str]) -> frozenset[str]:
    return frozenset(fold(w) for w in words)

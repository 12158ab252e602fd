"""Phrase matching whose cost does not grow with the number of phrases.

Support leads write topic and cue lists as plain phrases ("money back", "talk to a human", "gehackt").
Each phrase word is a policy word with an integer id; a word is indexed under its *keys* (the folded
word plus its stems in every supported language). Every message token gets keys too (folded form,
English stem, stem in the detected language, and the policy word it is a likely typo of), and from them
the set of policy-word ids it matches, cached per word and language. All phrases of all matchers built
on one :class:`Vocabulary` live in one trie over word ids, walked once per message when the message is
analysed: the work is linear in the message's tokens with a small constant (a few integer dictionary
look-ups per token), and a policy with 5,000 phrases costs about the same per message as one with 50.

Typo tolerance uses a symmetric-deletion index over the policy's own vocabulary: a message word that is
not a policy word but is one edit away from one (a dropped, added or swapped letter; a substituted one
in long words) also carries that word's keys. Only words of six letters or more that are not function
words are corrected, because short words are too often another real word ("card"/"care",
"hacer"/"hacker").
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import compress, count, repeat
from operator import attrgetter, not_
from typing import Generic, NamedTuple, TypeVar

from handoff_core.text.cache import ByteBoundedCache
from handoff_core.text.content import ALL_STOPWORDS
from handoff_core.text.languages import detect_language
from handoff_core.text.normalize import Tokens, fold, token_spans, tokenize, word_spans
from handoff_core.text.stem import all_stems, stem_key

T = TypeVar("T")

#: Memory the token-key cache of one analyser may use (see :mod:`handoff_core.text.cache`): about
#: 4,500 distinct (word, language) pairs at some 700 bytes each, the words support customers repeat
#: within minutes, and a fixed share of the worker's 150 MB whatever they write (docs/volume.md).
TOKEN_CACHE_BYTES = 3 * 1024 * 1024

#: Articles and fillers skipped when matching, so "talk to a human" also matches "talk to human".
SKIP = frozenset(
    """a an the un une des le la les l el los las una unos unas der die das den dem ein eine einen einem
    o os um uma some any""".split()
)

MIN_TYPO_LENGTH = 6
MIN_SUBSTITUTION_LENGTH = 8
#: Extra words allowed between two words of a phrase ("money sent back").
MAX_GAP = 1


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class PhraseHit(NamedTuple, Generic[T]):
    """One occurrence of a phrase (a named tuple: messages produce many, and tuples are cheap)."""

    payload: T
    phrase: str
    #: Token indexes (into the :class:`AnalyzedText` arrays) of the first and last matched token.
    first: int
    last: int
    sentence: int


@dataclass(frozen=True, slots=True)
class _Compiled:
    #: Insertion order: hits at one start position are reported in this order.
    seq: int
    matcher: int
    phrase: str
    payload: object


@dataclass(slots=True)
class _Node:
    children: dict[int, _Node] = field(default_factory=dict)
    phrases: list[_Compiled] = field(default_factory=list)


_NO_IDS: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class AnalyzedText:
    """A message prepared once and shared by every trigger (token arrays, not token objects)."""

    text: str
    language: str
    #: Tokens as written, folded, and their sentence numbers (parallel arrays).
    words: tuple[str, ...]
    norms: tuple[str, ...]
    sentences: tuple[int, ...]
    #: Indexes into the token arrays of the tokens matching looks at (fillers skipped).
    content: tuple[int, ...]
    #: The policy-word ids each token matches.
    ids: tuple[frozenset[int], ...]
    #: Phrase hits of every matcher of the vocabulary, by matcher id, from the one pass at analysis.
    hits: dict[int, list[PhraseHit[object]]]
    #: The vocabulary (and its generation) the ids and hits belong to.
    vocabulary: Vocabulary
    generation: int
    #: Start and end offsets of every token, flat (computed on first use: only quoting needs them).
    _spans: array[int] = field(default_factory=lambda: array("i"), compare=False, repr=False)

    def span(self, index: int) -> tuple[int, int]:
        """``(start, end)`` of token ``index`` in :attr:`text`."""
        spans = self._spans
        if not spans and self.norms:
            if self.words:  # the words as written are kept until the record is slimmed
                spans.extend(word_spans(self.text, self.words))
            else:
                spans.extend(offset for pair in token_spans(self.text) for offset in pair)
        return spans[2 * index], spans[2 * index + 1]

    def token_at(self, offset: int) -> int:
        """Index of the last token starting at or before character ``offset`` (-1 when none does).

        Token starts increase, so this is a bisection over the spans, not a walk back over every token.
        """
        if not self.norms:
            return -1
        self.span(0)  # the spans are computed on first use
        return bisect_right(self._spans[0::2], offset) - 1

    def excerpt(self, first: int, last: int) -> str:
        """The text from token ``first`` to token ``last`` as the customer wrote it."""
        return self.text[self.span(first)[0] : self.span(last)[1]]

    def slim(self) -> AnalyzedText:
        """What is worth keeping once the detectors have run: text, folded words, sentence numbers.

        The words as written, the word ids and the phrase hits are most of a long message's memory and
        only the detectors read them. The slim copy is marked stale (generation -1), so a matcher asked
        about it later analyses the text again rather than answer from nothing. It shares the token spans
        (8 bytes a token, a pure function of the text): when the detectors already worked them out, the
        triggers quoting evidence from the record do not find every token again.
        """
        return AnalyzedText(
            self.text,
            self.language,
            (),
            self.norms,
            self.sentences,
            self.content,
            (),
            {},
            self.vocabulary,
            -1,
            self._spans,
        )


class Vocabulary:
    """The folded words of every phrase in a policy: word ids, typo correction, and the phrase trie."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = frozenset(w for w in words if w)
        # Every table below lives as long as the engine, in every worker, and holds one entry per policy
        # word or per key or deletion of one (about 4,000 words, 15,000 keys, 10,000 deletions in the
        # default policy): so the values are tuples (56 bytes for one item), not sets (216 bytes), and a
        # word's keys are not kept once indexed (all_stems works them out again from the stem cache).
        # Together 4.6 MB less than sets and a key cache (docs/volume.md); lookups read them the same way.
        deletion_index: dict[str, tuple[str, ...]] = {}
        for word in sorted(self.words):
            if len(word) < MIN_TYPO_LENGTH or not word.isalpha():
                continue
            for d in _deletes(word):
                deletion_index[d] = (*deletion_index.get(d, ()), word)
        self._deletion_index = deletion_index
        self._ids: dict[str, int] = {}
        #: key -> ids of the words indexed under it (in the order the words were added).
        self._by_key: dict[str, tuple[int, ...]] = {}
        self.root = _Node()
        #: The root nodes a token's id set starts phrases at (id sets are shared per word and language).
        self._roots: dict[frozenset[int], _Start] = {}
        self._roots_generation = -1
        self._matchers = 0
        self._phrases = 0
        #: Bumped whenever a word or phrase is added: analyses of an older generation are redone.
        self.generation = 0
        for word in sorted(self.words):
            self.word_id(word)

    def correct(self, token: str) -> str | None:
        """The policy word ``token`` is most likely a typo of, or None."""
        if token in self.words or len(token) < MIN_TYPO_LENGTH or not token.isalpha() or token in ALL_STOPWORDS:
            return None
        # The customer dropped a letter: ``token`` is a deletion of a policy word.
        candidates = [w for w in self._deletion_index.get(token, ()) if len(w) == len(token) + 1]
        for d in _deletes(token):
            # The customer added a letter.
            if d in self.words and len(d) >= MIN_TYPO_LENGTH:
                candidates.append(d)
            # Swapped or substituted a letter: both words share a deletion.
            for w in self._deletion_index.get(d, ()):
                if len(w) == len(token) and (_is_transposition(token, w) or len(w) >= MIN_SUBSTITUTION_LENGTH):
                    candidates.append(w)
        candidates = [c for c in candidates if c[0] == token[0]]
        return min(candidates) if candidates else None

    def keys_of(self, word: str) -> frozenset[str]:
        """Keys a policy word is indexed under (not kept: the stems are cached per word and language)."""
        return all_stems(word)

    def word_id(self, word: str) -> int:
        """The integer id of a phrase word, indexed under its keys on first sight."""
        found = self._ids.get(word)
        if found is not None:
            return found
        new = len(self._ids)
        self._ids[word] = new
        by_key = self._by_key
        for key in self.keys_of(word):
            by_key[key] = (*by_key.get(key, ()), new)
        self.generation += 1
        return new

    def ids_for(self, keys: Iterable[str]) -> frozenset[int]:
        """Ids of the phrase words a token with ``keys`` matches."""
        found: set[int] = set()
        for key in keys:
            ids = self._by_key.get(key)
            if ids:
                found.update(ids)
        return frozenset(found) if found else _NO_IDS

    def new_matcher(self) -> int:
        self._matchers += 1
        return self._matchers

    def add_phrase(self, matcher: int, phrase: str, payload: object) -> bool:
        words = phrase_words(phrase)
        if not words:
            return False
        node = self.root
        for word in words:
            wid = self.word_id(word)
            child = node.children.get(wid)
            if child is None:
                child = node.children[wid] = _Node()
            node = child
        self._phrases += 1
        node.phrases.append(_Compiled(self._phrases, matcher, phrase, payload))
        self.generation += 1
        return True

    def match(
        self, content: Sequence[int], ids: Sequence[frozenset[int]], sentences: Sequence[int]
    ) -> dict[int, list[PhraseHit[object]]]:
        """One pass of the trie over a message: every phrase of every matcher, by matcher id.

        A phrase matches from a start token when each next word occurs within ``MAX_GAP`` extra tokens
        in the same sentence; each word takes its first occurrence (greedy, as a reader would).

        Compiled per start: a token's id set (shared per word and language) is looked up once in
        :attr:`_roots`, which keeps for it a :class:`_Start`: the one-word phrases it completes, already
        in insertion order, and the nodes it may continue from with the word ids of their children. A
        continuation is followed only when a token within the gap holds one of those ids (about one
        start in twenty in the corpus), so most starts emit their precompiled hits and nothing else.
        Hits at one start are reported in insertion order, as the plain walk
        (``tests/core/test_phrase_trie.py`` keeps it and compares both).
        """
        if self._roots_generation != self.generation:
            self._roots.clear()
            self._roots_generation = self.generation
        roots = self._roots
        found: dict[int, list[PhraseHit[object]]] = {}
        n = len(content)
        for pos in range(n):
            first = content[pos]
            first_ids = ids[first]
            if not first_ids:
                continue
            start = roots.get(first_ids)
            if start is None:
                start = roots[first_ids] = self._start(first_ids)
            if start is _NO_START:
                continue
            sentence = sentences[first]
            at_start: list[tuple[_Compiled, int]] | None = None
            for node, child_ids in start.inner:
                # Descend only when a token within the gap, in the same sentence, holds a child word.
                for k in range(pos + 1, min(pos + 2 + MAX_GAP, n)):
                    idx = content[k]
                    if sentences[idx] != sentence:
                        break
                    if not child_ids.isdisjoint(ids[idx]):
                        if at_start is None:
                            at_start = [(compiled, first) for compiled in start.emits]
                        _descend(node, pos + 1, sentence, content, ids, sentences, at_start)
                        break
            if at_start is None:
                # The common case: only the start's own one-word phrases, already in insertion order.
                for compiled in start.emits:
                    hit: PhraseHit[object] = _tuple_new(
                        PhraseHit, (compiled.payload, compiled.phrase, first, first, sentence)
                    )
                    bucket = found.get(compiled.matcher)
                    if bucket is None:
                        found[compiled.matcher] = [hit]
                    else:
                        bucket.append(hit)
                continue
            if len(at_start) > 1:
                at_start.sort(key=_seq)
            for compiled, last in at_start:
                # tuple.__new__ skips the named tuple's Python-level __new__ (the same tuple, a third of the cost).
                hit = _tuple_new(PhraseHit, (compiled.payload, compiled.phrase, first, last, sentence))
                bucket = found.get(compiled.matcher)
                if bucket is None:
                    found[compiled.matcher] = [hit]
                else:
                    bucket.append(hit)
        return found

    def _starts(self, first_ids: frozenset[int]) -> tuple[_Node, ...]:
        """The root's children a token with ``first_ids`` starts, in word-id order."""
        children = self.root.children
        return tuple(children[w] for w in sorted(first_ids) if w in children)

    def _start(self, first_ids: frozenset[int]) -> _Start:
        """What a token with ``first_ids`` starts, compiled (:data:`_NO_START` when nothing)."""
        nodes = self._starts(first_ids)
        if not nodes:
            return _NO_START
        emits = sorted((compiled for node in nodes for compiled in node.phrases), key=attrgetter("seq"))
        inner = tuple((node, frozenset(node.children)) for node in nodes if node.children)
        return _Start(tuple(emits), inner)


@dataclass(frozen=True, slots=True)
class _Start:
    """What one token id set starts in the trie: its one-word phrases and the nodes to continue from."""

    #: The phrases the start nodes complete themselves, in insertion order.
    emits: tuple[_Compiled, ...]
    #: Start nodes with children, each with the word ids of its children (a frozenset, for ``isdisjoint``).
    inner: tuple[tuple[_Node, frozenset[int]], ...]


_NO_START = _Start((), ())
_tuple_new = tuple.__new__


def _seq(item: tuple[_Compiled, int]) -> int:
    return item[0].seq


def _descend(
    node: _Node,
    j: int,
    sentence: int,
    content: Sequence[int],
    ids: Sequence[frozenset[int]],
    sentences: Sequence[int],
    out: list[tuple[_Compiled, int]],
) -> None:
    """Follow ``node``'s children from content position ``j``: each child word at its first occurrence."""
    children = node.children
    taken: dict[int, int] = {}
    for k in range(j, min(j + 1 + MAX_GAP, len(content))):
        idx = content[k]
        if sentences[idx] != sentence:
            break
        for w in ids[idx]:
            if w in children and w not in taken:
                taken[w] = k
    for w, k in taken.items():
        child = children[w]
        last = content[k]
        for compiled in child.phrases:
            out.append((compiled, last))
        if child.children:
            _descend(child, k + 1, sentence, content, ids, sentences, out)


def _is_transposition(a: str, b: str) -> bool:
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


class Analyzer:
    """Turns raw text into :class:`AnalyzedText` against one policy's vocabulary."""

    def __init__(self, vocabulary: Vocabulary, cache_bytes: int = TOKEN_CACHE_BYTES) -> None:
        self.vocabulary = vocabulary
        self._cache_bytes = cache_bytes
        self.token_cache: ByteBoundedCache[tuple[str, str], frozenset[int]] = ByteBoundedCache(cache_bytes)
        self._generation = vocabulary.generation

    def analyze(self, text: str, language: str | None = None, tokens: Tokens | None = None) -> AnalyzedText:
        """Prepare ``text``; pass ``tokens`` when the caller already tokenised it."""
        vocabulary = self.vocabulary
        if self._generation != vocabulary.generation:
            self.token_cache = ByteBoundedCache(self._cache_bytes)
            self._generation = vocabulary.generation
        tokens = tokenize(text) if tokens is None else tokens
        norms = tokens.norms
        lang = language or detect_language(norms)
        # Every token's ids in one C-level map over the cache; the words not in it yet are worked out.
        found = self.token_cache.get_many(zip(norms, repeat(lang)))
        if None in found:
            found = [f if f is not None else self._ids(n, lang) for f, n in zip(found, norms, strict=True)]
        ids: tuple[frozenset[int], ...] = tuple(found)  # type: ignore[arg-type]  # no None left
        content = tuple(compress(count(), map(not_, map(SKIP.__contains__, norms))))
        hits = vocabulary.match(content, ids, tokens.sentences)
        return AnalyzedText(
            text, lang, tokens.words, norms, tokens.sentences, content, ids, hits, vocabulary, self._generation
        )

    def _ids(self, norm: str, lang: str) -> frozenset[int]:
        keys = {norm, stem_key(norm, "en"), stem_key(norm, lang)}
        corrected = self.vocabulary.correct(norm)
        if corrected is not None:
            keys |= self.vocabulary.keys_of(corrected)
        result = self.vocabulary.ids_for(keys)
        self.token_cache.put((norm, lang), result)
        return result


def phrase_words(phrase: str) -> list[str]:
    """The folded, non-filler words of a phrase as written in a policy."""
    return [n for n in tokenize(phrase).norms if n not in SKIP]


class PhraseMatcher(Generic[T]):
    """Finds which of many phrases occur in a text; see the module docstring for why it is flat in size.

    The phrases live in the vocabulary's shared trie, so the matching itself happens once per message
    in :meth:`Analyzer.analyze`; :meth:`find` reads this matcher's share of the hits.
    """

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self.id = vocabulary.new_matcher()
        self.size = 0
        self._analyzer: Analyzer | None = None

    def add(self, phrase: str, payload: T) -> None:
        if self.vocabulary.add_phrase(self.id, phrase, payload):
            self.size += 1

    def add_all(self, phrases: Iterable[str], payload: T) -> None:
        for phrase in phrases:
            self.add(phrase, payload)

    def find(self, text: AnalyzedText) -> list[PhraseHit[T]]:
        """All phrase occurrences, each phrase reported once per start position, within one sentence."""
        if text.vocabulary is not self.vocabulary or text.generation != self.vocabulary.generation:
            # Analysed against another vocabulary, or before phrases were added: analyse again.
            if self._analyzer is None:
                self._analyzer = Analyzer(self.vocabulary)
            text = self._analyzer.analyze(text.text, text.language)
        return text.hits.get(self.id, [])  # type: ignore[return-value]


def vocabulary_of(phrase_lists: Iterable[Iterable[str]]) -> Vocabulary:
    words: set[str] = set()
    for phrases in phrase_lists:
        for phrase in phrases:
            words.update(phrase_words(phrase))
    return Vocabulary(words)


def fold_all(words: Iterable[str]) -> frozenset[str]:
    return frozenset(fold(w) for w in words)

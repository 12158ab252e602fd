"""The bundled word-piece tokenizer's ids and offsets for plain-ASCII texts, without a call into Rust.

Why: the static embedding and the trained detectors read every customer message through the bundled
BERT word-piece tokenizer (``tokenizers``). Its ``encode`` costs a fixed toll per call (normalising,
pre-tokenising and offset tracking in several passes, plus building a Python ``Encoding``) that was the
largest single item of a realistic decision. For a text made only of printable ASCII (most support
messages), every step of that tokenizer reduces to something short and exact:

- the BERT normaliser (clean text, strip accents, lower-case) is ``str.lower`` (no control character,
  no accent, no CJK character can occur);
- the BERT pre-tokeniser splits on whitespace and isolates each ASCII punctuation character, which is
  the regular expression :data:`_PIECE`;
- word-piece is greedy longest-match-first over the vocabulary, with ``##`` for continuations and
  ``[UNK]`` for a word it cannot cover or that is longer than ``max_input_chars_per_word``.

Most words are whole entries of the vocabulary, so a word costs one dictionary look-up; words that split
into pieces are cached. Any other text (non-ASCII, control characters, the literal special tokens),
and any tokenizer whose configuration is not exactly that BERT setup, goes to the Rust tokenizer, so the
ids and offsets are always the ones ``tokenizers`` gives (``tests/core/test_wordpiece.py`` compares both
on the realistic corpus and on generated texts).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from itertools import accumulate

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
#: Words of a text that split into several pieces (or one unknown token): the word's number among the
#: text's pre-tokens and its flat ``(id, start, end)`` triples, offsets within the word.
Splits = tuple[tuple[int, tuple[int, ...]], ...]

#: A word (letters and digits) or one ASCII punctuation character: the BERT pre-tokeniser on ASCII.
_PIECE = re.compile(r"[A-Za-z0-9]+|[!-/:-@\[-`{-~]")
#: The same pre-tokens, captured: ``split`` returns separators and pre-tokens alternately (case does not
#: change an ASCII text's length, so the original text splits at the same places as its lower case).
_PIECE_PARTS = re.compile(f"({_PIECE.pattern})")
#: Characters the BERT normaliser removes or that this path does not handle (control characters).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
#: Most words split into pieces that are remembered (plain dict, emptied when full: about 0.5 MB).
_SPLIT_CACHE_SIZE = 4_096
#: Longest word whose split is remembered, and what one remembered split can hold at most: the word
#: (ASCII) and up to one piece a character, three ints each (the piece id, and offsets under 257, which
#: CPython shares): 2 KiB, so the cache holds at most 8 MiB whatever customers write (tests/core/test_cache.py).
SPLIT_CACHED_CHARS = 32
SPLIT_ENTRY_BYTES = 2_048


class AsciiWordPiece:
    """Greedy longest-match-first word-piece over ASCII text, exactly as the BERT tokenizer does it."""

    def __init__(
        self,
        vocab: Mapping[str, int],
        unk_token: str,
        prefix: str,
        max_chars: int,
        specials: tuple[str, ...],
        lookup: Callable[[str], int | None] | None = None,
    ):
        #: The id of a piece, or None. Given the Rust tokenizer's ``token_to_id`` (the same vocabulary,
        #: ~0.17 us a call against ~0.10 for a dict), no 30,000-entry dict is kept: 3.8 MB less in a worker.
        self._lookup: Callable[[str], int | None] = lookup if lookup is not None else dict(vocab).get
        self._unk = vocab[unk_token]
        self._prefix = prefix
        self._max_chars = max_chars
        self._specials = specials
        self._split: dict[str, tuple[int, ...]] = {}
        #: No vocabulary entry is longer than the word limit, so a whole-word hit never needs the check.
        self._whole_words_fit = max(map(len, vocab), default=0) <= max_chars

    @classmethod
    def from_json(cls, config: str, lookup: Callable[[str], int | None] | None = None) -> AsciiWordPiece | None:
        """The fast path for a tokenizer's JSON, or None when its configuration is not the BERT one.

        ``lookup`` is that tokenizer's ``token_to_id``; without it the vocabulary is kept as a dict.
        """
        data = json.loads(config)
        normalizer = data.get("normalizer") or {}
        model = data.get("model") or {}
        bert_normalizer = (
            normalizer.get("type") == "BertNormalizer"
            and normalizer.get("clean_text") is True
            and normalizer.get("lowercase") is True
            and normalizer.get("strip_accents") in (None, True)
        )
        if (
            not bert_normalizer
            or (data.get("pre_tokenizer") or {}).get("type") != "BertPreTokenizer"
            or model.get("type") != "WordPiece"
            or data.get("post_processor") is not None
            or model.get("unk_token") not in model.get("vocab", {})
        ):
            return None
        specials = tuple(str(t["content"]) for t in data.get("added_tokens") or ())
        return cls(
            model["vocab"],
            model["unk_token"],
            model.get("continuing_subword_prefix", "##"),
            int(model.get("max_input_chars_per_word", 100)),
            specials,
            lookup,
        )

    def encode(self, text: str) -> tuple[IntArray, IntArray] | None:
        """Ids and ``(start, end)`` offsets (an n x 2 array), or None when the text needs the Rust path."""
        if not text.isascii() or _CONTROL.search(text) or any(s in text for s in self._specials):
            return None
        lookup = self._lookup
        fit = self._whole_words_fit
        ids: list[int] = []
        offsets: list[int] = []  # flat: one list append per word is cheaper than a tuple per word
        for m in _PIECE.finditer(text.lower()):
            word = m.group()
            found = lookup(word)
            if found is not None and (fit or len(word) <= self._max_chars):
                ids.append(found)
                offsets += m.span()
                continue
            start = m.start()
            split = self._split.get(word)
            if split is None:
                split = self._pieces(word)
            for k in range(0, len(split), 3):
                ids.append(split[k])
                offsets += (start + split[k + 1], start + split[k + 2])
        return np.array(ids, dtype=np.int64), np.array(offsets, dtype=np.int64).reshape(-1, 2)

    def ids(self, text: str) -> tuple[IntArray, Splits] | None:
        """The ids :meth:`encode` gives, without offsets (None when the text needs the Rust path).

        A message's offsets are read only when evidence quotes one of its n-grams, so the hot path finds
        the words with ``findall`` (strings, no match objects) and looks them all up with one ``map``; a
        word that is not one vocabulary entry takes the same split as in :meth:`encode`. Also returns
        those splits (word number and its ``(id, start, end)`` triples), which :meth:`offsets` needs.
        """
        if not self._whole_words_fit:
            return None  # a long whole-word entry must be checked against the limit: encode() does
        if not text.isascii() or _CONTROL.search(text) or any(s in text for s in self._specials):
            return None
        words = _PIECE.findall(text.lower())
        ids: list[int | None] = list(map(self._lookup, words))
        splits: Splits = ()
        if None in ids:
            whole, ids, found_splits = ids, [], []
            for number, (word, found) in enumerate(zip(words, whole, strict=True)):
                if found is not None:
                    ids.append(found)
                    continue
                split = self._split.get(word)
                if split is None:
                    split = self._pieces(word)
                ids += split[0::3]
                found_splits.append((number, split))
            splits = tuple(found_splits)
        return np.array(ids, dtype=np.int64), splits

    @staticmethod
    def offsets(text: str, splits: Splits) -> IntArray:
        """The ``(start, end)`` offsets :meth:`encode` gives for a text :meth:`ids` took, from its splits.

        Splitting the text around its pre-tokens (a capturing split: separators and pre-tokens
        alternate) and adding up the parts' lengths gives every pre-token's bounds in C, without a match
        object per word; a word that split into pieces then takes its pieces' offsets within the word.
        """
        bounds = list(accumulate(map(len, _PIECE_PARTS.split(text))))
        del bounds[-1]  # the end of the text (after the last separator)
        if splits:
            flat: list[int] = []
            done = 0
            for number, split in splits:
                flat += bounds[2 * done : 2 * number]
                start = bounds[2 * number]
                for k in range(0, len(split), 3):
                    flat += (start + split[k + 1], start + split[k + 2])
                done = number + 1
            flat += bounds[2 * done :]
            bounds = flat
        return np.array(bounds, dtype=np.int64).reshape(-1, 2)

    def _pieces(self, word: str) -> tuple[int, ...]:
        """``(id, start, end)`` triples of one lower-cased word, flat; remembered."""
        lookup, prefix, n = self._lookup, self._prefix, len(word)
        out: list[int] = []
        if n > self._max_chars:
            out = [self._unk, 0, n]
        else:
            start = 0
            while start < n:
                end = n
                found = None
                while start < end:
                    found = lookup(word[start:end] if start == 0 else prefix + word[start:end])
                    if found is not None:
                        break
                    end -= 1
                if found is None:
                    out = [self._unk, 0, n]  # a word no pieces cover is one unknown token
                    break
                out += (found, start, end)
                start = end
        split = tuple(out)
        if len(word) <= SPLIT_CACHED_CHARS:
            if len(self._split) >= _SPLIT_CACHE_SIZE:
                self._split.clear()
            self._split[word] = split
        return split

"""One message prepared once for the summary: content sentences with their word keys, and the details.

Every summary section reads messages through :func:`analyze_message`, so cleaning, sentence splitting,
word keys and the detail patterns run once per message. The result depends on the text alone and is
cached by it: when the engine decides again on a conversation that grew by one message, only the new
message is analysed, which keeps summarising a long conversation linear and cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from handoff_core.details import DEVICE_WORDS, TRACKING_WORDS, TRIED_WORDS, message_details
from handoff_core.text.content import ALL_STOPWORDS
from handoff_core.text.normalize import fold
from handoff_core.text.sentences import (
    COURTESY,
    EMOTION,
    META,
    NEGATIONS,
    PROBLEM_WORDS,
    clean,
    split_sentences,
    trim,
    word_key,
    words,
)

#: Flags of a content word, for salience.
PROBLEM = 1
NUMBER = 2
NAME = 4
_TITLE = 8  # capitalised; a name only when not the first word of its sentence
_NEGATION = 16

#: Words of advice ("try", "restart", "go to settings", "we recommend"): a sentence with one is a suggestion.
SUGGESTION_WORDS = frozenset(
    """try trying restart reboot reinstall update reset check tap open turn unpair repair re-pair remove
    settings recommend suggest clear sign log make ensure delete uninstall install enable disable select
    click visit follow""".split()
)
ANSWER_WORDS = frozenset("yes yeah yep yup no nope nah sure correct si sí oui non ja nein sim não".split())
_YOU_MODALS = frozenset("can could should may might".split())

_DETAIL_WORDS = DEVICE_WORDS | TRIED_WORDS | TRACKING_WORDS
_PROBLEM_KEYS = frozenset(word_key(w) for w in PROBLEM_WORDS)
_NOT_CONTENT = ALL_STOPWORDS | COURTESY | META | EMOTION


#: ~300 B an entry: 32,768 keep it near 10 MB with endless new words (docs/volume.md).
@lru_cache(maxsize=32_768)
def _word(word: str) -> tuple[str, str, int]:
    """``(folded, key, flags)``; ``key`` is empty for function, courtesy, meta and emotion words."""
    norm = fold(word)
    if norm in NEGATIONS:
        return norm, "", _NEGATION
    if norm in _NOT_CONTENT or (len(norm) < 2 and not norm.isdigit()):
        return norm, "", 0
    key = word_key(word)
    flags = PROBLEM if key in _PROBLEM_KEYS else 0
    if not word.isalpha() and any(ch.isdigit() for ch in word):
        flags |= NUMBER
    elif not word.islower():
        if word.isupper():
            flags |= NAME if 2 <= len(word) <= 5 else 0  # "GPS", "iOS" yes; shouting no
        elif any(ch.isupper() for ch in word[1:]):
            flags |= NAME  # "iPhone", "PlayStation"
        else:
            flags |= _TITLE
    return norm, key, flags


@dataclass(frozen=True, slots=True)
class SentenceText:
    text: str
    #: Content keys in order of first use, and their flags (``PROBLEM | NUMBER | NAME``).
    keys: tuple[str, ...]
    flags: tuple[int, ...]
    n_words: int
    negated: bool
    #: A question ("…?") or a suggestion ("try …", "please restart …"): what the assistant asked or advised.
    question: bool
    suggestion: bool
    #: Opens with "yes", "no", "sure"…: most likely an answer to the bot's question.
    answer: bool


@dataclass(frozen=True, slots=True)
class MessageText:
    #: The message without links, handles and signature, whitespace kept.
    cleaned: str
    #: Sentences that carry content (at least one content key), in order.
    sentences: tuple[SentenceText, ...]
    #: The first folded word of the message ("yes", "no", …), "" when empty.
    opening: str
    #: ``(kind, value)`` pairs: ``version``, ``device``, ``tracking``, ``tried``, in order of appearance.
    details: tuple[tuple[str, str], ...]


def _sentence(text: str, seen: set[str]) -> SentenceText | None:
    infos = [_word(w) for w in words(text)]
    norms = [info[0] for info in infos]
    seen.update(norms)
    keys: dict[str, int] = {}
    negated = False
    for position, (_, key, flags) in enumerate(infos):
        if not key:
            negated = negated or flags == _NEGATION
            continue
        kept = (flags & ~_TITLE) | (NAME if flags & _TITLE and position > 0 else 0)
        keys[key] = keys.get(key, 0) | kept
    if not keys:
        return None
    suggestion = not SUGGESTION_WORDS.isdisjoint(norms) or ("you" in norms and not _YOU_MODALS.isdisjoint(norms))
    return SentenceText(
        text,
        tuple(keys),
        tuple(keys.values()),
        len(infos),
        negated,
        text.endswith("?"),
        suggestion,
        bool(norms) and norms[0] in ANSWER_WORDS,
    )


@lru_cache(maxsize=4096)
def analyze_message(text: str) -> MessageText:
    cleaned = clean(text)
    seen: set[str] = set()
    sentences = []
    for piece in split_sentences(cleaned):
        s = _sentence(trim(piece), seen)
        if s is not None:
            sentences.append(s)
    first = words(cleaned[:40])
    opening = fold(first[0]) if first else ""
    details = message_details(cleaned, starts=sorted(seen & _DETAIL_WORDS))
    return MessageText(cleaned, tuple(sentences), opening, details)

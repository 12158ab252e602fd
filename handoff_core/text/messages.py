"""One message prepared once for the summary: content sentences with their word keys, and the details.

Every summary section reads messages through :func:`analyze_message`, so cleaning, sentence splitting,
word keys and the detail patterns run once per message. The result depends on the text alone and is
cached by it: when the engine decides again on a conversation that grew by one message, only the new
message is analysed, which keeps summarising a long conversation linear and cheap.

Why whitespace tokens, tuples and ``map`` rather than regexes, dataclasses and loops: a 1,000-message
conversation seen for the first time must be summarised in under 20 ms, about 20 µs a message of some
twenty words. So a message is split once on whitespace (``str.split``, in C) and every token is looked
up in a cache that already knows its folded form, content key, flags and whether it ends a sentence;
sentences, fillers to trim, negation and suggestion words then fall out of slices, ``compress``,
``reduce`` and set operations, also in C. Python only loops over the few flagged words of a sentence.
bench/bench_summary.py measures it.
"""

from __future__ import annotations

import re
from functools import reduce
from itertools import chain, compress
from operator import itemgetter, or_
from typing import NamedTuple

from handoff_core.details import (
    DEVICE_WORDS,
    MAY_DEVICE,
    MAY_TRACKING,
    MAY_TRIED,
    MAY_VERSION,
    TRACKING_WORDS,
    TRIED_WORDS,
    has_dotted_number,
    message_details,
    starts_for,
)
from handoff_core.text.cache import CACHED_WORD_CHARS, byte_bounded
from handoff_core.text.content import ALL_STOPWORDS
from handoff_core.text.normalize import fold
from handoff_core.text.sentences import (
    COURTESY,
    EMOTION,
    META,
    NEGATIONS,
    PROBLEM_WORDS,
    clean,
    word_key,
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
#: Contractions whose folded form is not in the function-word lists ("I'll" folds to "ill", "I'd" to "id",
#: "that's" to "thats"): function words, but only when written with the apostrophe ("ID card" is content).
_CONTRACTIONS = frozenset(
    """ill id ive youre youve youll youd hes shes hed theyre theyve theyll theyd weve wed hell thats whats
    wheres whos hows theres heres lets its itll itd thatll whatll wholl wouldve couldve shouldve mustve
    """.split()
)


#: A value masked before the text reached us ("XXXX", "XX/XX/2019", "****1234"): a placeholder says nothing
#: about the problem, so it is no content word (nor, being upper case, a product name).
_AROUND_MASK = "\"'“”‘’«»()[]{}<>.,;:!?…"
_DIGIT = re.compile(r"\d")
_MASKED = re.compile(r"[X*]{2,}(?:[-/.,:]?(?:[X*]{2,}|\d{1,4}))*")


#: Bits of a token for sentence-level tests (ORed over the sentence in C).
_SUGGEST = 1
_NEGATED = 2
_YOU = 4
_MODAL = 8
_ANSWER = 16
_ALNUM = 32
#: A filler that may be trimmed at the start or end of a sentence (checked on the word with its apostrophe:
#: "we'll" is not "well").
_LEAD = 64
_TRAIL = 128
#: The token is a device, "tried" or "tracking" word, or holds a dotted number or a postal item number:
#: the detail patterns only run on messages with one of these.
_DEVICE_WORD = 256
_TRIED_WORD = 512
_TRACKING_WORD = 1024
_DOTTED = 2048
#: At least 8 characters with a digit: a token that may hold a tracking number ("1Z999AA10123456784"). The
#: tracking pattern needs one, so "where is my tracking?" alone is not searched (round 8).
_ID_LIKE = 4096
_DETAIL_BITS = _DEVICE_WORD | _TRIED_WORD | _TRACKING_WORD
#: How a token ends: not a sentence end, the end of a statement, the end of a question.
_GOES_ON, _STATEMENT, _QUESTION = 0, 1, 2

#: Stripped from both ends of a whitespace token to get the word ("(iPhone)," -> "iPhone", "#88123" -> "88123").
_PUNCT = "\"'“”‘’«»()[]{}<>*_~`.,;:!?…$€£¿¡#/\\|+=-–—"
_CLOSERS = "\"'“”‘’»)]}*_"

#: Fillers trimmed from the start of a sentence ("Yes, well, so …") and its end ("…, please").
_LEADING = frozenset(
    "yes yeah yep no nope ok okay well oh ah um uh so and but also actually hi hello hey sure alright right "
    "please thanks hola bonjour hallo ola olá ciao".split()
)
_LEADING_PAIRS = frozenset({("excuse", "me"), ("thank", "you")})
_TRAILING = frozenset("please pls plz thanks sir madam maam ma'am ma’am bitte".split())
_TRAILING_PAIRS = frozenset({("thank", "you"), ("por", "favor"), ("vous", "plait"), ("vous", "plaît")})
#: Words that may start a filler to trim: "" is a bare punctuation token; "excuse me", "thank you" are pairs.
_LEADING_ANY = _LEADING | {"excuse", "thank"}
_TRAILING_ANY = _TRAILING | {"you", "favor", "plait", "plaît"}


#: Digit strings any word list of :func:`_make_token` holds: such a number takes the general path.
_LISTED_NUMBERS = frozenset(
    w
    for w in chain(
        _DETAIL_WORDS,
        _LEADING_ANY,
        _TRAILING_ANY,
        SUGGESTION_WORDS,
        ANSWER_WORDS,
        _YOU_MODALS,
        NEGATIONS,
        _NOT_CONTENT,
        _CONTRACTIONS,
        _PROBLEM_KEYS,
    )
    if w.isdigit()
)


class Token(NamedTuple):
    norm: str
    #: The content key, "" for function, courtesy, meta and emotion words and for bare punctuation.
    key: str
    flags: int
    #: The flags when the token opens its sentence (a capitalised first word is not a name).
    first_flags: int
    end: int
    bits: int


_NORM = itemgetter(0)
_KEY = itemgetter(1)
_FLAGS = itemgetter(2)
_END = itemgetter(4)
_BITS = itemgetter(5)


#: Every token seen, by spelling. A plain dict, not ``lru_cache``: ``map(dict.get, tokens)`` is the hot
#: path of the summary and costs a third as much. Emptied when it reaches :data:`_TOKEN_CACHE_SIZE`
#: entries (~400 B each: about 1.6 MB with endless new tokens; the worker's 150 MB, docs/volume.md).
_TOKENS: dict[str, Token] = {}
_TOKEN_CACHE_SIZE = 4_096


def clear_token_cache() -> None:
    _TOKENS.clear()


def _tokens(tokens: list[str]) -> list[Token]:
    """The :class:`Token` of every whitespace token, from the cache where known."""
    infos = list(map(_TOKENS.get, tokens))
    if all(infos):
        return infos  # type: ignore[return-value]  # no None left
    # Round 9: only the tokens not known are filled in, found by ``list.index`` (in C): a long thread's
    # message usually has one new token (a number) among twenty known ones, which a loop over every token
    # paid for. A token new twice in one message is worked out once and looked up the second time.
    at = infos.index(None)
    while True:
        infos[at] = _token(tokens[at])
        try:
            at = infos.index(None, at + 1)
        except ValueError:
            return infos  # type: ignore[return-value]  # no None left


def _token(raw: str) -> Token:
    """One token, from the cache or worked out and remembered."""
    token = _TOKENS.get(raw)
    if token is None:
        token = _make_token(raw)
        if len(raw) <= CACHED_WORD_CHARS:  # a bound in bytes too: see handoff_core/text/cache.py
            if len(_TOKENS) >= _TOKEN_CACHE_SIZE:
                _TOKENS.clear()
            _TOKENS[raw] = token
    return token


def _make_token(raw: str) -> Token:
    """What the summary needs to know about one whitespace-separated token, computed once per spelling.

    Round 9: a plain number ("88123", "#4471,", "(12)") is the commonest new token of a long thread (order,
    ticket and message numbers) and its record follows from its length alone: folded and keyed it is
    itself (ASCII digits have no case, accent or suffix), it is a content word flagged as a number, and
    it holds no dotted number. Only a "*" around it (a masked value, "**1234") or a number one of the word
    lists names (:data:`_LISTED_NUMBERS`) takes the general path. The same records
    (tests/core/test_summary_cold_paths.py compares both paths).
    """
    tail = raw.rstrip(_CLOSERS)
    last = tail[-1:]
    end = _QUESTION if last == "?" else _STATEMENT if last in (".", "!", "…") else _GOES_ON
    word = raw.strip(_PUNCT)
    if word.isdigit() and word.isascii() and "*" not in raw and word not in _LISTED_NUMBERS:
        return Token(word, word, NUMBER, NUMBER, end, _ALNUM | _ID_LIKE if len(raw) >= 8 else _ALNUM)
    return _general_token(raw, word, end)


def _general_token(raw: str, word: str, end: int) -> Token:
    """:func:`_make_token` worked out in full (every token that is not a plain number)."""
    if not word:
        return Token("", "", 0, 0, end, 0)
    norm = fold(word)
    # The digits of ``raw`` are those of ``word`` (``_PUNCT`` holds none), and a letters-only word has none:
    # the three digit patterns below run only on the few tokens that hold one (round 9, the same bits).
    digit = not word.isalpha() and _DIGIT.search(word) is not None
    bits = _ALNUM | (_DOTTED if digit and has_dotted_number(raw) else 0)
    if digit and len(raw) >= 8:
        bits |= _ID_LIKE
    if norm in _DETAIL_WORDS:
        bits |= _DEVICE_WORD if norm in DEVICE_WORDS else _TRACKING_WORD if norm in TRACKING_WORDS else _TRIED_WORD
    lowered = word.casefold()
    bits |= _LEAD if lowered in _LEADING_ANY else 0
    bits |= _TRAIL if lowered in _TRAILING_ANY else 0
    bits |= _SUGGEST if norm in SUGGESTION_WORDS else 0
    bits |= _ANSWER if norm in ANSWER_WORDS else 0
    bits |= _YOU if norm == "you" else _MODAL if norm in _YOU_MODALS else 0
    if norm in NEGATIONS:
        return Token(norm, "", 0, 0, end, bits | _NEGATED)
    if (
        norm in _NOT_CONTENT
        or (len(norm) < 2 and not norm.isdigit())
        or (("X" in raw or "*" in raw) and _MASKED.fullmatch(raw.strip(_AROUND_MASK)) is not None)
        or (norm in _CONTRACTIONS and ("'" in word or "’" in word))
    ):
        return Token(norm, "", 0, 0, end, bits)
    key = word_key(word)
    flags = PROBLEM if key in _PROBLEM_KEYS else 0
    if digit:
        flags |= NUMBER
    elif not word.islower():
        if word.isupper():
            flags |= NAME if 2 <= len(word) <= 5 else 0  # "GPS", "iOS" yes; shouting no
        elif any(ch.isupper() for ch in word[1:]):
            flags |= NAME  # "iPhone", "PlayStation"
        else:
            return Token(norm, key, flags | NAME, flags, end, bits)  # "Health": a name unless it opens the sentence
    return Token(norm, key, flags, flags, end, bits)


class SentenceText(NamedTuple):
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


class MessageText(NamedTuple):
    #: The message without links, handles and signature, whitespace kept.
    cleaned: str
    #: Sentences that carry content (at least one content key), in order.
    sentences: tuple[SentenceText, ...]
    #: The first folded word of the message ("yes", "no", …), "" when empty.
    opening: str
    #: ``(kind, value)`` pairs: ``version``, ``device``, ``tracking``, ``tried``, in order of appearance.
    details: tuple[tuple[str, str], ...]
    #: Every content key of the message (for "did the assistant echo this word?").
    keys: frozenset[str]


_NO_KEYS: frozenset[str] = frozenset()


def _trimmed(tokens: list[str], infos: list[Token], a: int, b: int) -> tuple[int, int, str]:
    """Sentence ``[a, b)`` without leading fillers and a trailing "please"/"thanks": new bounds and last token.

    A sentence made only of fillers ("Yes, please.") is kept whole.
    """
    i = a
    while i < b:
        token = infos[i]
        if not token.bits & _LEAD:
            if token.norm:
                break
            i += 1  # bare punctuation before the first word
        elif i + 1 < b and (token.norm, infos[i + 1].norm) in _LEADING_PAIRS:
            i += 2
        elif token.norm in _LEADING:
            i += 1
        else:
            break
    j = b
    while j > i:
        token = infos[j - 1]
        if not token.bits & _TRAIL:
            break
        if token.norm in _TRAILING or tokens[j - 1].strip(_PUNCT).casefold() in _TRAILING:
            j -= 1
        elif j - 2 >= i and (infos[j - 2].norm, token.norm) in _TRAILING_PAIRS:
            j -= 2
        else:
            break
    if i >= j:
        return a, b, tokens[b - 1]
    last = tokens[j - 1]
    if j < b:  # the end punctuation of what was cut moves to the new last word: "so, please." -> "so."
        tail = tokens[b - 1]
        cut = len(tail.rstrip(".!?…"))
        last = last.rstrip(",;:") + tail[cut:]
    return i, j, last


def _sentence(tokens: list[str], infos: list[Token], a: int, b: int) -> SentenceText | None:
    span = infos[a:b]
    keys = dict.fromkeys(filter(None, map(_KEY, span)), 0)
    if not keys:
        return None
    last = tokens[b - 1]
    if span[0][5] & _LEAD or not span[0][0] or span[-1][5] & _TRAIL:
        a, b, last = _trimmed(tokens, infos, a, b)
        span = infos[a:b]
        keys = dict.fromkeys(filter(None, map(_KEY, span)), 0)
    first = span[0]
    if first[1]:
        keys[first[1]] = first[3]
    for token in filter(_FLAGS, span[1:]):
        keys[token[1]] |= token[2]
    bits = reduce(or_, map(_BITS, span), 0)
    text = " ".join(tokens[a : b - 1]) + " " + last if b - a > 1 else last
    return tuple.__new__(
        SentenceText,
        (
            text.strip(" ,;:-–—"),
            tuple(keys),
            tuple(keys.values()),
            b - a,
            bool(bits & _NEGATED),
            last.rstrip(_CLOSERS).endswith("?"),
            bool(bits & _SUGGEST) or (bits & (_YOU | _MODAL)) == _YOU | _MODAL,
            bool(first[5] & _ANSWER),
        ),
    )


def _line_sentences(tokens: list[str], infos: list[Token], out: list[SentenceText]) -> None:
    start = 0
    n = len(infos)
    for end in compress(range(1, n + 1), map(_END, infos)):
        if end - start == 1 and not infos[start][1]:
            start = end  # a one-word sentence without content: "Thanks!", "Hi."
            continue
        s = _sentence(tokens, infos, start, end)
        if s is not None:
            out.append(s)
        start = end
    if start < n:
        s = _sentence(tokens, infos, start, n)
        if s is not None:
            out.append(s)


def trim(sentence: str) -> str:
    """``sentence`` without leading fillers ("Yes, well, …") or a trailing "please"/"thanks"."""
    tokens = sentence.split()
    if not tokens:
        return sentence
    infos = _tokens(tokens)
    a, b, last = _trimmed(tokens, infos, 0, len(tokens))
    return " ".join([*tokens[a : b - 1], last])


class MessageScan(NamedTuple):
    """The cheap first look at a message: tokens and content keys, no sentences yet.

    A long conversation is scanned whole; only the messages that can matter are split into sentences
    (see :func:`handoff_core.summary.summarize`).
    """

    cleaned: str
    #: Every content key of the message's tokens.
    keys: frozenset[str]
    n_words: int
    #: ``(tokens, token infos)`` per non-empty line, so the sentence pass does not tokenise again.
    lines: tuple[tuple[list[str], list[Token]], ...]
    #: The folded device, tracking and "tried" words the message contains (where detail patterns run).
    detail_words: tuple[str, ...]
    #: Which kinds of detail the message may hold (``MAY_*`` bits), so a full Details line skips it.
    detail_kinds: int


#: Memory the per-message caches of the summary may use. Each is keyed by the message's text and its
#: result grows with it, so an entry count (4,096 each) meant anything from a few MB to gigabytes,
#: depending on how long customers write. Charged per character (at least what ``tracemalloc`` sees on
#: the benchmark corpus: tests/core/test_cache.py); the worker's 150 MB is in docs/volume.md.
#: Sized by their hit rates in a live soak (bench/soak_worker.py --live --stop-at-handoff, 12,000
#: decisions): the scan memo missed 28.4 % of look-ups at 2 MB and 29.2 % at 1 MB; the details memo
#: missed 96.6 % at 512 KB (a worker rarely asks twice for one message's details: the analysis cache
#: keeps them with the conversation), so it keeps only the last few; the message memo missed 60 % at
#: 1 MB and 64 % at 512 KB, and stays. The same CPU per decision; 1.4 MB less (docs/volume.md).
SCAN_CACHE_BYTES = 1 * 1024 * 1024
DETAILS_CACHE_BYTES = 128 * 1024
MESSAGE_CACHE_BYTES = 1 * 1024 * 1024


def _scan_cost(text: str, _result: MessageScan) -> int:
    return 1_500 + 40 * len(text)


def _details_cost(text: str, _result: tuple[tuple[str, str], ...]) -> int:
    return 500 + 2 * len(text)


def _message_cost(text: str, _result: MessageText) -> int:
    return 1_500 + 8 * len(text)


@byte_bounded(SCAN_CACHE_BYTES, _scan_cost)
def scan_message(text: str) -> MessageScan:
    cleaned = clean(text)
    lines = []
    for line in cleaned.splitlines() if "\n" in cleaned else (cleaned,):
        tokens = line.split()
        if tokens:
            lines.append((tokens, _tokens(tokens)))
    if len(lines) == 1:
        infos = lines[0][1]
        n_words = len(infos)
    else:
        infos = [info for _, line_infos in lines for info in line_infos]
        n_words = len(infos)
    keys = frozenset(filter(None, map(_KEY, infos)))
    bits = 0
    for token_bits in set(map(_BITS, infos)):  # a few distinct values: cheaper than or-ing every token's
        bits |= token_bits
    kinds = _kinds(bits)
    found: tuple[str, ...] = ()
    if bits & _DETAIL_BITS:
        found = tuple(sorted(_DETAIL_WORDS.intersection(map(_NORM, infos))))
    return tuple.__new__(MessageScan, (cleaned, keys, n_words, tuple(lines), found, kinds))


def _kinds(bits: int) -> int:
    """Which kinds of detail (``MAY_*``) a message whose tokens' bits OR to ``bits`` may hold."""
    kinds = MAY_VERSION | MAY_TRACKING if bits & _DOTTED else 0
    if bits & _DETAIL_BITS:
        kinds |= MAY_DEVICE if bits & _DEVICE_WORD else 0
        kinds |= MAY_TRIED if bits & _TRIED_WORD else 0
        # The tracking pattern needs a number of 8 characters or more after the word: without such a
        # token nothing can match (round 8: a necessary test, so the same details).
        kinds |= MAY_TRACKING if bits & _TRACKING_WORD and bits & _ID_LIKE else 0
    return kinds


class MessageCount(NamedTuple):
    """What a long conversation's counting pass needs of a customer message (round 8): the fields of its
    :class:`MessageScan` that every message pays for, without the per-line token lists and detail words
    (only the pool's messages and those the Details line still wants are scanned whole).

    Round 9: it also holds the whitespace tokens and their :class:`Token` records it looked up anyway (two
    references, nothing copied), so a message the pool splits into sentences, or the Details line
    searches, is not cleaned, split and looked up a second time (:func:`scan_of_count`,
    :func:`details_of_count`).
    """

    cleaned: str
    keys: frozenset[str]
    n_words: int
    detail_kinds: int
    tokens: list[str]
    infos: list[Token]
    #: The OR of every token's bits (what :class:`MessageScan` derives its detail words from).
    bits: int


def count_message(text: str) -> MessageCount:
    """:class:`MessageCount` of one message: the same values as :func:`scan_message`'s fields, for less."""
    cleaned = clean(text)
    tokens = cleaned.split()
    infos = _tokens(tokens)
    bits = 0
    for token_bits in set(map(_BITS, infos)):
        bits |= token_bits
    keys = frozenset(filter(None, map(_KEY, infos)))
    return tuple.__new__(MessageCount, (cleaned, keys, len(infos), _kinds(bits), tokens, infos, bits))


def scan_of_count(count: MessageCount) -> MessageScan:
    """The :class:`MessageScan` of a message already counted: the same fields as :func:`scan_message`'s,
    from the tokens the count looked up (a text of several lines is split per line, as the scan does)."""
    cleaned, infos = count.cleaned, count.infos
    if "\n" in cleaned:
        lines = []
        for line in cleaned.splitlines():
            tokens = line.split()
            if tokens:
                lines.append((tokens, _tokens(tokens)))
        split = tuple(lines)
    else:
        split = ((count.tokens, infos),) if infos else ()
    found: tuple[str, ...] = ()
    if count.bits & _DETAIL_BITS:
        found = tuple(sorted(_DETAIL_WORDS.intersection(map(_NORM, infos))))
    return tuple.__new__(MessageScan, (cleaned, count.keys, count.n_words, split, found, count.detail_kinds))


@byte_bounded(DETAILS_CACHE_BYTES, _details_cost)
def message_details_of(text: str) -> tuple[tuple[str, str], ...]:
    """The details of one message (versions, devices, tracking numbers, what was tried)."""
    return details_of_scan(scan_message(text))


#: Every kind of detail: a caller that does not say searches for all of them.
ALL_KINDS = MAY_DEVICE | MAY_TRIED | MAY_TRACKING | MAY_VERSION


def _dotted(may: int, kinds: int) -> bool:
    """Whether the version and postal-number patterns run: the message may hold one (``MAY_VERSION``, as
    before round 9) and a version or a tracking number is still wanted (they find nothing else)."""
    return bool(may & MAY_VERSION and kinds & (MAY_VERSION | MAY_TRACKING))


def details_of_scan(scan: MessageScan, kinds: int = ALL_KINDS) -> tuple[tuple[str, str], ...]:
    """:func:`message_details_of` for a message already scanned (not cached: the caller holds the scan).

    ``kinds`` (``MAY_*`` bits): only the details of these kinds are searched for (round 9: the Details line
    passes the kinds it still has room for; the others' values would be dropped).
    """
    kinds &= scan.detail_kinds
    if not kinds:
        return ()
    starts = scan.detail_words if kinds == scan.detail_kinds else starts_for(scan.detail_words, kinds)
    return message_details(scan.cleaned, starts=starts, dotted=_dotted(scan.detail_kinds, kinds))


def details_of_count(count: MessageCount, kinds: int = ALL_KINDS) -> tuple[tuple[str, str], ...]:
    """:func:`details_of_scan` for a message only counted: its tokens from the cache, nothing kept."""
    kinds &= count.detail_kinds
    if not kinds:
        return ()
    found = sorted(_DETAIL_WORDS.intersection(map(_NORM, count.infos)))
    starts = found if kinds == count.detail_kinds else starts_for(found, kinds)
    return message_details(count.cleaned, starts=starts, dotted=_dotted(count.detail_kinds, kinds))


#: A bot reply in the middle of a long conversation that is counted but not read (see issue.window).
UNREAD = MessageText("", (), "", (), _NO_KEYS)


def light_message(scan: MessageScan) -> MessageText:
    """A message that is not split into sentences: its keys count, none of its sentences is quoted.

    Its details are left out here; the Details line reads them with :func:`message_details_of` when
    it still has room for their kind.
    """
    return tuple.__new__(MessageText, (scan.cleaned, (), "", (), scan.keys))


@byte_bounded(MESSAGE_CACHE_BYTES, _message_cost)
def analyze_message(text: str) -> MessageText:
    return split_scan(scan_message(text), message_details_of(text))


def split_scan(scan: MessageScan, details: tuple[tuple[str, str], ...] = ()) -> MessageText:
    """:func:`analyze_message` of a scanned message, with ``details`` as its details (round 9: a long
    conversation's cold view searches the pool's messages only for the kinds of detail it still wants,
    so it splits their scans without the full search)."""
    sentences: list[SentenceText] = []
    for tokens, infos in scan.lines:
        _line_sentences(tokens, infos, sentences)
    keys = frozenset().union(*(s.keys for s in sentences)) if sentences else _NO_KEYS
    opening = next(filter(None, map(_NORM, map(_token, scan.cleaned[:60].split()))), "")
    return MessageText(scan.cleaned, tuple(sentences), opening, details, keys)

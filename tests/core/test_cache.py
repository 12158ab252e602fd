"""The core's caches are bounded in bytes: new words and long messages evict old entries instead of growing memory."""

from __future__ import annotations

import json
import random
import threading
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

import handoff_core
from handoff_core import issue, summary
from handoff_core.text import cache as cache_module
from handoff_core.text import messages, normalize, sentences, stem, wordpiece
from handoff_core.text.cache import ByteBoundedCache, ByteBoundedMemo
from handoff_core.text.phrases import Analyzer, Vocabulary
from handoff_core.text.wordpiece import AsciiWordPiece

CORPUS = Path(__file__).resolve().parents[2] / "bench" / "corpus" / "messages.jsonl"


def test_budget_holds_and_oldest_entries_go_first() -> None:
    """Past the budget the oldest entries are evicted; the newest stay; the estimate never exceeds it."""
    cache: ByteBoundedCache[str, frozenset[str]] = ByteBoundedCache(20_000)
    for n in range(1_000):
        cache.put(f"word{n}", frozenset({f"word{n}", f"en:word{n}"}))
        assert cache.bytes <= cache.max_bytes
    assert cache.evictions > 0
    assert cache.get("word999") == frozenset({"word999", "en:word999"})
    assert cache.get("word0") is None
    assert 0 < len(cache) < 1_000


def test_replacing_a_key_does_not_leak_its_old_cost() -> None:
    """Storing the same key again charges it once."""
    cache: ByteBoundedCache[str, str] = ByteBoundedCache(10_000)
    cache.put("a", "x")
    first = cache.bytes
    cache.put("a", "y")
    assert (cache.bytes, len(cache), cache.get("a")) == (first, 1, "y")


def test_too_large_entries_and_bad_budgets() -> None:
    """An entry bigger than the whole budget is not stored; a budget must be positive."""
    cache: ByteBoundedCache[str, str] = ByteBoundedCache(200)
    cache.put("big", "x" * 1_000)
    assert cache.get("big") is None and cache.bytes == 0
    with pytest.raises(ValueError, match="positive"):
        ByteBoundedCache(0)


def test_estimate_is_close_to_real_memory() -> None:
    """What the cache charges is within a factor of 1.5 of what Python really allocates for the entries."""
    cache: ByteBoundedCache[tuple[str, str], frozenset[str]] = ByteBoundedCache(10**9)
    tracemalloc.start()
    try:
        for n in range(20_000):
            word = f"neword{n:06d}"
            cache.put((word, "en"), frozenset({word, f"en:{word[:-1]}", f"de:{word[:-2]}"}))
        real = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert real / 1.5 < cache.bytes < real * 1.5


def test_analyzer_cache_stays_within_its_budget_on_endless_new_words() -> None:
    """An analyser fed 30,000 never-seen words keeps its token cache inside the byte budget."""
    analyzer = Analyzer(Vocabulary(["refund", "password"]), cache_bytes=256 * 1024)
    for n in range(300):
        analyzer.analyze(" ".join(f"zq{n}x{m}word" for m in range(100)))
    assert analyzer.token_cache.bytes <= 256 * 1024
    assert analyzer.token_cache.evictions > 0
    assert analyzer.analyze("I want a refund").ids


def test_memo_bounds_a_function_by_the_size_of_its_results() -> None:
    """A byte-bounded memo computes once per input, keeps within its budget however long the inputs are."""
    calls: list[str] = []

    def shout(text: str) -> str:
        calls.append(text)
        return text.upper()

    memo = ByteBoundedMemo(shout, 50_000, lambda key, value: 2 * len(key) + 100)
    assert memo("abc") == "ABC" and memo("abc") == "ABC" and calls == ["abc"]
    for n in range(200):
        memo(f"{n} " + "x" * 1_000)
        assert memo.cache.bytes <= 50_000
    assert memo.cache.evictions > 0
    memo.cache_clear()
    assert len(memo.cache) == 0 and memo.cache.bytes == 0


@pytest.mark.parametrize(
    ("memo", "cost"),
    [
        (messages.scan_message, messages._scan_cost),
        (messages.message_details_of, messages._details_cost),
        (messages.analyze_message, messages._message_cost),
    ],
    ids=["scan_message", "message_details_of", "analyze_message"],
)
def test_summary_memos_charge_at_least_what_a_result_holds(memo: Any, cost: Any) -> None:
    """Each per-message memo of the summary charges at least what tracemalloc sees its results (and keys)
    take on the benchmark corpus, so its byte budget is not an undercount."""
    # 50 messages: their scans (which the other two reuse) all stay within the scan memo's budget
    texts = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines()[:50]]
    assert sum(messages._scan_cost(t, None) for t in texts) < messages.SCAN_CACHE_BYTES  # type: ignore[arg-type]
    for text in texts:  # the token, per-word and scan caches warm first: only the results are measured
        memo(text)
    memo.cache_clear()
    tracemalloc.start()
    try:
        kept = [memo.__wrapped__(t) for t in texts]
        real = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    charged = sum(cost(t, k) for t, k in zip(texts, kept, strict=True))
    assert charged >= real


def test_cache_stays_consistent_under_threads() -> None:
    """The decision pool's threads store into one cache at once: no error, no lost byte count."""
    cache: ByteBoundedCache[str, str] = ByteBoundedCache(30_000)

    def fill(prefix: str) -> None:
        for n in range(3_000):
            cache.put(f"{prefix}{n}", "v" * (n % 50))

    threads = [threading.Thread(target=fill, args=(p,)) for p in "abcd"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.bytes == sum(cache._costs.values())
    assert cache.bytes <= cache.max_bytes


def _worst_word(n: int, length: int) -> str:
    """A never-seen word of ``length`` 4-byte characters (Deseret capitals: each also folds to 4 bytes)."""
    head = "".join(chr(0x10400 + (n // 40**k) % 40) for k in range(4))
    return head + "\U00010400" * (length - 4)


def _clear_word_caches() -> None:
    normalize.fold_cache.cache_clear()
    sentences.word_key_cache.cache_clear()
    stem.stem_cache.cache_clear()
    messages.clear_token_cache()


def test_word_caches_hold_at_most_their_bound_in_bytes_whatever_words_come() -> None:
    """Filled with never-seen words of the longest kept length in 4-byte characters (the largest entries
    they can hold), the per-word caches (``fold``, ``word_key``, ``stem``, the summary's tokens) hold at
    most entries x WORD_ENTRY_BYTES each, measured with tracemalloc; longer words are not kept at all."""
    _clear_word_caches()
    caches = [normalize.fold_cache, sentences.word_key_cache, stem.stem_cache]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(cache_module.WORD_CACHE_ENTRIES + 1_000):  # past full: eviction runs too
            word = _worst_word(n, cache_module.CACHED_WORD_CHARS)
            messages._token(word)  # the summary's token, through fold and word_key
            stem.stem(word, "en")
        full = tracemalloc.get_traced_memory()[0] - before
        assert [c.cache_info().currsize for c in caches] == [cache_module.WORD_CACHE_ENTRIES] * 3
        assert len(messages._TOKENS) > 0
        bound = (3 * cache_module.WORD_CACHE_ENTRIES + messages._TOKEN_CACHE_SIZE) * cache_module.WORD_ENTRY_BYTES
        assert full <= bound
        # A word one character too long, and a pasted 20,000-character block, are worked out but not kept.
        for n in range(2_000):
            word = _worst_word(n + 10**6, cache_module.CACHED_WORD_CHARS + 1 + (20_000 if n % 100 == 0 else 0))
            messages._token(word)
            stem.stem(word, "de")
        assert tracemalloc.get_traced_memory()[0] - before <= full + 64 * 1024
    finally:
        tracemalloc.stop()
        _clear_word_caches()
    # The cached and uncached paths answer the same.
    long_word = "Überweisungen" * 6
    assert normalize.fold(long_word) == normalize.fold_cache(long_word)
    assert sentences.word_key(long_word) == sentences.word_key_cache(long_word)
    assert stem.stem("refunding", "en") == stem.stem_cache("refunding", "en") == "refund"


def test_word_piece_splits_hold_at_most_their_bound_in_bytes() -> None:
    """The static embedder's remembered word-piece splits: never-seen ASCII words of the longest kept length
    (many pieces each) fill it to at most entries x SPLIT_ENTRY_BYTES, measured with tracemalloc; longer
    words are split every time and not kept."""
    fast = AsciiWordPiece.from_json(
        (Path(handoff_core.__file__).parent / "data" / "static_minilm_tokenizer.json").read_text(encoding="utf-8")
    )
    assert fast is not None
    rnd = random.Random(5)
    letters = "qxzjvkwfy"  # rare letters: many short pieces per word

    def word(length: int) -> str:
        return "".join(rnd.choice(letters) for _ in range(length))

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(wordpiece._SPLIT_CACHE_SIZE - 1):  # full, not yet emptied
            fast.encode(word(wordpiece.SPLIT_CACHED_CHARS))
        full = tracemalloc.get_traced_memory()[0] - before
        assert len(fast._split) == wordpiece._SPLIT_CACHE_SIZE - 1
        assert full <= wordpiece._SPLIT_CACHE_SIZE * wordpiece.SPLIT_ENTRY_BYTES
        for _ in range(500):
            fast.encode(word(wordpiece.SPLIT_CACHED_CHARS + 1))
        assert len(fast._split) == wordpiece._SPLIT_CACHE_SIZE - 1
    finally:
        tracemalloc.stop()


def test_get_many_reads_as_get_does_through_evictions() -> None:
    """get_many gives each key's get(), in order, also for keys evicted or stored again."""
    cache: ByteBoundedCache[tuple[str, str], frozenset[int]] = ByteBoundedCache(8_000)
    for n in range(200):
        cache.put((f"w{n % 70}", "en"), frozenset({n}))
        keys = [(f"w{m}", "en") for m in range(0, 80, 3)]
        assert cache.get_many(keys) == [cache.get(key) for key in keys]
    assert cache.evictions > 0
    assert len(cache) == len(cache._values) == len(cache._costs)


@pytest.mark.parametrize(
    ("memo", "cost"),
    [
        (issue._squeeze, issue._squeeze_cost),
        (summary._keys, summary._keys_cost),
        (summary._redacted, summary._redacted_cost),
    ],
    ids=["squeeze", "keys", "redacted"],
)
def test_summary_line_memos_charge_at_least_what_a_result_holds(memo: Any, cost: Any) -> None:
    """The round-10 memos of the summary's sentences and lines charge at least what tracemalloc sees their
    keys and results take (on corpus texts with e-mails and numbers to redact), so their budgets hold."""
    texts = [json.loads(line)["text"][:400] for line in CORPUS.read_text(encoding="utf-8").splitlines()[:60]]
    texts += [f"Mail jane.doe{n}@example.com, call +44 20 7946 09{n:02d}, card 4111 1111 1111 1111" for n in range(20)]
    for text in texts:  # per-word caches warm first: only the memo's keys and results are measured
        memo(text)
    memo.cache_clear()
    tracemalloc.start()
    try:
        kept = [(memo.__wrapped__(t[:-1] + "."), t[:-1] + ".") for t in texts]  # keys not shared with ``texts``
        real = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert sum(cost(t, k) for k, t in kept) >= real

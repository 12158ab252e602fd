"""A cache bounded in bytes, for per-word results the core works out again and again.

Why bytes and not entries: customers keep writing words the cache has never seen (names, typos, order
numbers, other languages). A cap of 500,000 entries let the token cache of a long-running worker grow
to about 350 MB, well past the 150 MB a worker may use, and the size of an entry depends on the word.
So each entry is charged what it really takes (the key and value objects, measured with
``sys.getsizeof``, plus the dictionary slot), and when the budget is spent the oldest entries go first.

Why oldest-first (insertion order) rather than least-recently-used: a hit must stay a single dictionary
lookup, because it is on the path of every word of every message. The words support customers use most
come back within minutes, so an evicted common word is simply computed and stored again.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: Longest word (characters) the per-word caches (``fold``, ``word_key``, ``stem``, the summary's tokens,
#: the word-piece splits) keep. Support words are short; a longer "word" is a pasted key, hash or block of
#: base64, worked out each time instead of kept, so that no entry of those caches can be large.
CACHED_WORD_CHARS = 64

#: Most bytes one entry of a per-word cache can hold: a key and a value of :data:`CACHED_WORD_CHARS`
#: characters at 4 bytes each (CPython stores a string at 1, 2 or 4 bytes a character; 332 bytes each),
#: plus the cache's own link, the dictionary slot and a tuple key (``stem`` takes a language too). So a
#: per-word cache of ``n`` entries holds at most ``n * WORD_ENTRY_BYTES`` bytes, whatever customers write
#: (``tests/core/test_cache.py`` fills each with the worst words and measures it with ``tracemalloc``).
WORD_ENTRY_BYTES = 1_024

#: Entries of each per-word cache: 4 MiB at most each (:data:`WORD_ENTRY_BYTES`), about 1 MB of
#: ordinary words.
WORD_CACHE_ENTRIES = 4_096

#: What an entry costs on top of its key and value objects: two dictionary slots (values and costs: hash,
#: pointers, index, spare capacity) and the cost's int. Measured with ``tracemalloc`` on CPython 3.11: ~91
#: bytes an entry (~118 when the values were kept in (value, cost) pairs), so this stays an upper bound.
SLOT_BYTES = 148


def deep_size(obj: object) -> int:
    """Bytes of ``obj`` and, for tuples and (frozen)sets, of the strings or numbers inside them."""
    size = sys.getsizeof(obj)
    if isinstance(obj, tuple | frozenset | set | list):
        size += sum(sys.getsizeof(item) for item in obj)
    return size


class ByteBoundedCache(Generic[K, V]):
    """A mapping that keeps its entries within ``max_bytes`` (estimated), evicting the oldest first."""

    def __init__(self, max_bytes: int, size_of: Callable[[K, V], int] | None = None) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self.max_bytes = max_bytes
        self._size_of = size_of or (lambda key, value: deep_size(key) + deep_size(value))
        #: Values and their charged costs in two dicts of the same keys and order (a hit reads ``_values``
        #: alone; :meth:`get_many` maps a whole message's keys over it in C).
        self._values: dict[K, V] = {}
        self._costs: dict[K, int] = {}
        self.bytes = 0
        self.evictions = 0
        # The worker decides in a small thread pool: stores (misses only) take the lock so that two
        # threads never evict the same entry or lose a byte count; a hit stays one lock-free lookup.
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._costs)

    def get(self, key: K) -> V | None:
        return self._values.get(key)

    def get_many(self, keys: Iterable[K]) -> list[V | None]:
        """:meth:`get` of every key, in order (one ``map`` in C: no Python call per key)."""
        return list(map(self._values.get, keys))

    def put(self, key: K, value: V) -> None:
        """Store ``value``; entries larger than the whole budget are not stored at all."""
        cost = self._size_of(key, value) + SLOT_BYTES
        if cost > self.max_bytes:
            return
        with self._lock:
            values, costs = self._values, self._costs
            old = costs.pop(key, None)
            if old is not None:
                del values[key]
                self.bytes -= old
            while self.bytes + cost > self.max_bytes and costs:
                oldest = next(iter(costs))
                self.bytes -= costs.pop(oldest)
                del values[oldest]
                self.evictions += 1
            values[key] = value
            costs[key] = cost
            self.bytes += cost

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._costs.clear()
            self.bytes = 0


class ByteBoundedMemo(Generic[K, V]):
    """``function`` memoised in a :class:`ByteBoundedCache` (``functools.lru_cache`` counts entries only).

    For results whose size follows their input (a message's analysis follows its length): an entry
    count would let a few long inputs take any amount of memory.
    """

    def __init__(self, function: Callable[[K], V], max_bytes: int, size_of: Callable[[K, V], int]) -> None:
        self.__wrapped__ = function
        self.__doc__ = function.__doc__
        self.cache: ByteBoundedCache[K, V] = ByteBoundedCache(max_bytes, size_of)

    def __call__(self, key: K) -> V:
        found = self.cache.get(key)
        if found is None:
            found = self.__wrapped__(key)
            self.cache.put(key, found)
        return found

    def cache_clear(self) -> None:
        self.cache.clear()


def byte_bounded(max_bytes: int, size_of: Callable[[K, V], int]) -> Callable[[Callable[[K], V]], ByteBoundedMemo[K, V]]:
    """Decorator form of :class:`ByteBoundedMemo`."""

    def wrap(function: Callable[[K], V]) -> ByteBoundedMemo[K, V]:
        return ByteBoundedMemo(function, max_bytes, size_of)

    return wrap

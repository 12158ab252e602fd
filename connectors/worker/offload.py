"""Where the worker's store and audit calls run: inline on SQLite, in a bounded thread pool on PostgreSQL.

The store ports are synchronous (both drivers, the CLI and the tests share them). Called on the event loop,
a call blocks every other request for as long as it takes. What that costs depends on the driver, so
the driver decides (``WorkerStore.remote``), and every worker call site goes through one
:class:`StoreCalls` (``await calls(store.inbox_add, ...)``):

- **SQLite** (:class:`Inline`): a call is a local WAL write or an index read, well under a millisecond,
  and the store serialises all calls on one lock anyway, so a thread buys no parallelism; a thread hop
  (~50-100 us on this machine, several per web-chat turn) would cost more than the call and the single
  process's webhook acknowledgement must stay within 10 % of before. Measured in docs/replicas.md.
- **PostgreSQL** (:class:`Offload`): a call is one or more network round trips, and while the database
  is slow or unreachable it waits up to the pool timeout. In a thread pool bounded by the connection
  pool's size, the event loop keeps answering (``/healthz``, other conversations, Slack's 3-second
  acks) and calls of different requests overlap on several connections.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, Protocol, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class StoreCalls(Protocol):
    """Runs one blocking store or audit call for the event loop."""

    async def __call__(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T: ...

    def close(self) -> None: ...


class Inline:
    """Run the call right here: for stores whose calls are local and sub-millisecond (SQLite)."""

    async def __call__(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        return fn(*args, **kwargs)

    def close(self) -> None:
        return None


class Offload:
    """Run the call in at most ``workers`` threads: for stores whose calls are network round trips."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError("the store thread pool needs at least one thread")
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="store")

    async def __call__(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        call = functools.partial(fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    def close(self) -> None:
        self._executor.shutdown(wait=True)


def store_calls(*, remote: bool, workers: int) -> StoreCalls:
    """:class:`Offload` for a remote store (PostgreSQL), :class:`Inline` for the embedded one."""
    return Offload(workers) if remote else Inline()

"""Decisions run off the event loop, in a bounded pool, each within a time budget.

The engine is pure CPU work. Run on the event loop, one slow decision (a 50 KB paste used to take
seconds) stops every other request, ``/healthz`` included, and Zendesk and Slack then time out and
retry. So every decision runs in a small thread pool:

- at most ``workers`` decisions run at once; further ones wait for a slot (the loop stays free), first
  come first served: under overload every request waits about as long as the queue ahead of it, rather
  than some winning every race for a freed slot while others starve into the budget;
- a decision that is not finished within ``budget`` seconds, waiting included, raises
  :class:`DecisionTimeout`: the web chat answers 503 (nothing stored, the same message can be posted
  again) and the Zendesk inbox retries the delivery later with backoff;
- a thread cannot be stopped, so a timed-out decision keeps its slot until it really finishes: the pool
  never runs more than ``workers`` decisions, however many time out;
- a caller that must answer quickly (the web chat) may ask to be *shed* instead of queued: when every
  slot is busy and its expected wait for one (the decisions ahead of it times the recent mean time a
  decision holds a slot, over ``workers``) exceeds ``max_wait``, it gets :class:`DecisionOverload` at
  once (the web chat answers 503 + ``Retry-After``). Without it, an overloaded worker answers every
  request late (seconds, then the budget's 503); with it, the requests it serves wait about ``max_wait``
  at most and the others are told to come back. A wait, not a count: 20 short continuing decisions
  wait less than 3 handoffs of 2 KB messages. Background callers (the Zendesk inbox, which retries
  with backoff anyway) always queue.

Threads, not processes: the engine holds large read-only tables (phrase indexes, embeddings) that a
process pool would copy per worker, and with every detector bounded in the message length a decision
takes milliseconds; the GIL is released to the event loop every few milliseconds meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any, Protocol, TypeVar

from connectors.errors import TransientError
from handoff_core import Conversation, Decision
from handoff_core.analysis import ConversationAnalysis

T = TypeVar("T")


class Decider(Protocol):
    def decide(self, conversation: Conversation, now: datetime | None = None) -> Decision: ...

    def step(
        self, conversation: Conversation, previous: ConversationAnalysis | None = None, now: datetime | None = None
    ) -> tuple[Decision, ConversationAnalysis | None]: ...


class DecisionTimeout(TransientError):
    """The decision did not finish within the budget; try again later."""

    def __init__(self, budget: float) -> None:
        super().__init__(f"the decision took longer than {budget:g} s", vendor="core", retry_after=1.0)
        self.budget = budget


class DecisionOverload(TransientError):
    """The expected wait for a decision slot is over the limit; the caller asked not to queue."""

    def __init__(self, waiting: int, expected: float) -> None:
        super().__init__(
            f"{waiting} decisions wait for a slot (about {expected * 1000:.0f} ms)", vendor="core", retry_after=1.0
        )
        self.waiting = waiting


#: Weight of the newest decision in the running mean of slot time (about the last 20 decisions count).
_MEAN_WEIGHT = 0.05


class DecisionPool:
    """Runs :meth:`Decider.decide` in at most ``workers`` threads, each call within ``budget`` seconds.

    ``max_wait``: the longest expected wait for a slot (seconds) before a caller that may be shed is
    turned away (None: never shed).
    """

    def __init__(self, engine: Decider, *, workers: int, budget: float, max_wait: float | None = None) -> None:
        if workers < 1:
            raise ValueError("the decision pool needs at least one worker")
        if max_wait is not None and max_wait < 0:
            raise ValueError("the longest wait for a decision slot cannot be negative")
        self.engine = engine
        self.workers = workers
        self.budget = budget
        self.max_wait = max_wait
        #: Decisions waiting for a slot now (not yet running).
        self.waiting = 0
        #: Callers turned away since start-up (read by tests and diagnostics).
        self.shed = 0
        #: Running mean of the wall time a decision holds its slot (seconds; 0 until one has finished).
        self.mean_seconds = 0.0
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decide")
        # Free slots, queued in arrival order (asyncio's semaphore wakes its waiters first in, first out).
        # A slot is given back when the decision really ends, not when its caller stops waiting, so
        # timed-out decisions still count against the bound. Created on first use, in the running loop.
        self._slots: asyncio.Semaphore | None = None

    async def decide(self, conversation: Conversation, now: datetime | None = None) -> Decision:
        """The engine's decision at ``now`` (business hours), off the event loop and within the budget."""
        return await self._run(self.engine.decide, conversation, now)

    async def step(
        self,
        conversation: Conversation,
        previous: ConversationAnalysis | None,
        now: datetime | None = None,
        *,
        may_shed: bool = False,
    ) -> tuple[Decision, ConversationAnalysis | None]:
        """:meth:`DecisionEngine.step` in the pool: decide reusing the kept per-message analysis.

        ``may_shed``: raise :class:`DecisionOverload` instead of waiting longer than ``max_wait`` for a slot.
        """
        return await self._run(self.engine.step, conversation, previous, now, may_shed=may_shed)

    def expected_wait(self) -> float:
        """Seconds a decision asked for now would wait for a slot (0 while a slot is free)."""
        slots = self._slots
        # A free slot means no wait, whatever the count says (a waiter woken but not yet run).
        if slots is None or not slots.locked():
            return 0.0
        return (self.waiting + 1) * self.mean_seconds / self.workers

    def admit(self) -> None:
        """Raise :class:`DecisionOverload` if a decision that may be shed would be shed now.

        For a caller to turn a request away *before* doing the work that leads to its decision (parsing,
        store reads): under overload a refusal must cost far less than a decision.
        """
        slots = self._slots
        if self.max_wait is None or slots is None or not slots.locked():
            return
        expected = self.expected_wait()
        if expected > self.max_wait or self.max_wait == 0:  # 0: never wait for a slot
            self.shed += 1
            raise DecisionOverload(self.waiting, expected)

    async def _run(self, call: Callable[..., T], *args: Any, may_shed: bool = False) -> T:
        loop = asyncio.get_running_loop()
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.workers)
        slots = self._slots
        if may_shed:
            self.admit()
        try:
            async with asyncio.timeout(self.budget):
                self.waiting += 1
                try:
                    await slots.acquire()
                finally:
                    self.waiting -= 1
                try:
                    future: Future[T] = self._executor.submit(self._timed, call, *args)
                except BaseException:
                    slots.release()
                    raise
                # Runs in the thread when the decision ends, or here if it is cancelled before it starts.
                future.add_done_callback(lambda _: self._give_back(loop, slots))
                return await asyncio.wrap_future(future)
        except TimeoutError as exc:
            raise DecisionTimeout(self.budget) from exc

    def _timed(self, call: Callable[..., T], *args: Any) -> T:
        started = time.perf_counter()
        try:
            return call(*args)
        finally:
            # One float written by the decision threads, read by the loop: a torn update cannot happen
            # under the GIL, and a lost one only delays the mean by one decision.
            took = time.perf_counter() - started
            self.mean_seconds = (
                took if not self.mean_seconds else self.mean_seconds + _MEAN_WEIGHT * (took - self.mean_seconds)
            )

    @staticmethod
    def _give_back(loop: asyncio.AbstractEventLoop, slots: asyncio.Semaphore) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed while the decision ran
            loop.call_soon_threadsafe(slots.release)

    def close(self) -> None:
        """Stop accepting work; running decisions finish in their threads (not awaited)."""
        self._executor.shutdown(wait=False, cancel_futures=True)

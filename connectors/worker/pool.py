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
  never runs more than ``workers`` decisions, however many time out.

Threads, not processes: the engine holds large read-only tables (phrase indexes, embeddings) that a
process pool would copy per worker, and with every detector bounded in the message length a decision
takes milliseconds; the GIL is released to the event loop every few milliseconds meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
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


class DecisionPool:
    """Runs :meth:`Decider.decide` in at most ``workers`` threads, each call within ``budget`` seconds."""

    def __init__(self, engine: Decider, *, workers: int, budget: float) -> None:
        if workers < 1:
            raise ValueError("the decision pool needs at least one worker")
        self.engine = engine
        self.workers = workers
        self.budget = budget
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decide")
        # Free slots, queued in arrival order (asyncio's semaphore wakes its waiters first in, first out).
        # A slot is given back when the decision really ends, not when its caller stops waiting, so
        # timed-out decisions still count against the bound. Created on first use, in the running loop.
        self._slots: asyncio.Semaphore | None = None

    async def decide(self, conversation: Conversation, now: datetime | None = None) -> Decision:
        """The engine's decision at ``now`` (business hours), off the event loop and within the budget."""
        return await self._run(self.engine.decide, conversation, now)

    async def step(
        self, conversation: Conversation, previous: ConversationAnalysis | None, now: datetime | None = None
    ) -> tuple[Decision, ConversationAnalysis | None]:
        """:meth:`DecisionEngine.step` in the pool: decide reusing the kept per-message analysis."""
        return await self._run(self.engine.step, conversation, previous, now)

    async def _run(self, call: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.workers)
        slots = self._slots
        try:
            async with asyncio.timeout(self.budget):
                await slots.acquire()
                try:
                    future: Future[T] = self._executor.submit(call, *args)
                except BaseException:
                    slots.release()
                    raise
                # Runs in the thread when the decision ends, or here if it is cancelled before it starts.
                future.add_done_callback(lambda _: self._give_back(loop, slots))
                return await asyncio.wrap_future(future)
        except TimeoutError as exc:
            raise DecisionTimeout(self.budget) from exc

    @staticmethod
    def _give_back(loop: asyncio.AbstractEventLoop, slots: asyncio.Semaphore) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed while the decision ran
            loop.call_soon_threadsafe(slots.release)

    def close(self) -> None:
        """Stop accepting work; running decisions finish in their threads (not awaited)."""
        self._executor.shutdown(wait=False, cancel_futures=True)

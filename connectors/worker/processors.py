"""Background processors started in the lifespan: the Zendesk inbox and one outbox lane per destination.

All follow the same loop: claim due rows with a lease, run up to ``concurrency`` of them at once,
renew the leases of running rows, sleep until woken (new work was stored) or the poll interval passes.
A worker that dies leaves its rows leased; they are picked up again when the lease expires, and the
executors are idempotent, so nothing is lost and nothing happens twice.

Each processor is built once at start-up with only what it uses (a store port, the executors or the
decision path, the audit log's write side, metrics, its :class:`QueueTuning`), never the settings or a
bag of everything; store calls go through :mod:`connectors.worker.offload`.

Lanes: each destination (``zendesk``, ``slack``) drains its own rows with its own concurrency slots and
its own back-off state, so an outage of one never delays the other. When a vendor answers 429 with
``Retry-After``, the whole lane pauses (stored in the database, so every replica pauses); an optional
per-minute budget (``ZENDESK_ACTIONS_PER_MINUTE``) is shared by all replicas the same way.

Outcome of one run of a row:

- success -> ``done`` (audit: delivery ok);
- :class:`TransientError` after the quick tenacity attempts -> rescheduled with exponential backoff
  stored in the row (never sooner than ``Retry-After``), ``dead`` after ``outbox_max_attempts``;
- :class:`PermanentError` or a bug -> ``dead`` at once, shown by ``handoff outbox list``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, Protocol, TypeVar

from connectors.audit import AuditWriter
from connectors.errors import ConnectorError, PermanentError, TransientError
from connectors.metrics import Metrics
from connectors.settings import Settings
from connectors.store import ConversationStore, InboxItem, InboxStatus, InboxStore, LaneStore, OutboxItem, OutboxStore
from connectors.worker.executors import Executor
from connectors.worker.handoffs import DELIVERY_TARGETS, Handoffs, to_send
from connectors.worker.offload import StoreCalls
from connectors.worker.ports import TicketSink
from connectors.worker.retrying import backoff_delay, inline_retrying
from connectors.zendesk.transcript import conversation_id, latest_is_own, local_conversation, to_conversation
from connectors.zendesk.webhooks import ZendeskNotification

log = logging.getLogger(__name__)
Item = TypeVar("Item", InboxItem, OutboxItem)
T = TypeVar("T")
WRONG_TAG = "handoff_wrong"
#: One outbox lane per destination; a row's lane is its ``target``.
LANES: tuple[str, ...] = ("zendesk", "slack")


@dataclass(frozen=True)
class QueueTuning:
    """How a queue is drained and retried (``OUTBOX_*`` settings, read once at start-up)."""

    lease_seconds: float
    poll_interval: float
    concurrency: int
    max_attempts: int
    backoff_base: float
    backoff_cap: float
    inline_attempts: int
    inline_wait_cap: float

    @classmethod
    def from_settings(cls, settings: Settings) -> QueueTuning:
        return cls(
            lease_seconds=settings.outbox_lease_seconds,
            poll_interval=settings.outbox_poll_interval,
            concurrency=settings.outbox_concurrency,
            max_attempts=settings.outbox_max_attempts,
            backoff_base=settings.outbox_backoff_base,
            backoff_cap=settings.outbox_backoff_cap,
            inline_attempts=settings.outbox_inline_attempts,
            inline_wait_cap=settings.outbox_inline_wait_cap,
        )

    def backoff(self, attempts: int, retry_after: float | None) -> float:
        return backoff_delay(attempts, base=self.backoff_base, cap=self.backoff_cap, retry_after=retry_after)


async def with_quick_retries(tuning: QueueTuning, call: Callable[[], Awaitable[T]]) -> T:
    """Run ``call`` with a few quick tenacity attempts on transient errors (see :mod:`retrying`)."""
    retrying = inline_retrying(tuning.inline_attempts, cap=tuning.inline_wait_cap)
    async for attempt in retrying:
        with attempt:
            return await call()
    raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover


class _Processor(Generic[Item]):
    name = "processor"

    def __init__(self, tuning: QueueTuning, calls: StoreCalls, wakeup: asyncio.Event) -> None:
        self.tuning = tuning
        self.calls = calls
        self.wakeup = wakeup
        self.running: dict[int, asyncio.Task[None]] = {}

    async def paused_for(self, now: float) -> float:
        """Seconds this processor must not claim anything (its lane is paused); 0 when it may."""
        return 0.0

    def defer_for(self, now: float) -> float:
        """Seconds to hold back before claiming, to leave the event loop to more urgent work (0: none)."""
        return 0.0

    def claim(self, now: float, lease: float, limit: int) -> list[Item]:
        raise NotImplementedError

    async def handle(self, item: Item) -> None:
        raise NotImplementedError

    def extend(self, ids: Sequence[int], until: float) -> None:
        raise NotImplementedError

    async def run(self) -> None:
        tuning = self.tuning
        lease = tuning.lease_seconds
        last_renew = time.time()
        try:
            while True:
                self.wakeup.clear()
                free = tuning.concurrency - len(self.running)
                defer = self.defer_for(time.monotonic()) if free > 0 else 0.0
                if free > 0 and defer <= 0 and await self.paused_for(time.time()) <= 0:
                    for item in await self.calls(self.claim, time.time(), lease, free):
                        task = asyncio.create_task(self._guarded(item), name=f"{self.name}-{item.id}")
                        self.running[item.id] = task
                        task.add_done_callback(self._forget(item.id))
                if self.running and time.time() - last_renew > lease / 3:
                    await self.calls(self.extend, list(self.running), time.time() + lease)
                    last_renew = time.time()
                if defer > 0:
                    await asyncio.sleep(defer)
                    continue
                if len(self.running) >= tuning.concurrency:
                    # Every slot is busy: new work cannot start before a row finishes, so only that wakes
                    # the loop (under a stream of webhooks the wake-up is set per delivery; waiting on it
                    # here made the loop turn once per acknowledgement for nothing).
                    await asyncio.wait(
                        self.running.values(), timeout=tuning.poll_interval, return_when=asyncio.FIRST_COMPLETED
                    )
                    continue
                waiter = asyncio.create_task(self.wakeup.wait())
                await asyncio.wait(
                    {waiter, *self.running.values()},
                    timeout=tuning.poll_interval,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                waiter.cancel()
        finally:
            ids = list(self.running)
            for task in list(self.running.values()):
                task.cancel()
            with contextlib.suppress(Exception):
                self.extend(ids, 0.0)  # release: the next start picks them up at once

    def _forget(self, item_id: int) -> Callable[[asyncio.Task[None]], None]:
        def forget(_task: asyncio.Task[None]) -> None:
            self.running.pop(item_id, None)

        return forget

    async def _guarded(self, item: Item) -> None:
        try:
            await self.handle(item)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug must not kill the loop; the row stays leased and is retried later
            log.exception("%s: unexpected failure on row %s", self.name, item.id)


class OutboxLanes(OutboxStore, LaneStore, Protocol):
    """What an outbox lane uses of the store: its rows, and the lane's shared pause and budget."""


class OutboxProcessor(_Processor[OutboxItem]):
    """Sends one lane's outbox actions, concurrently, retried and parked as described above."""

    def __init__(
        self,
        lane: str,
        *,
        store: OutboxLanes,
        executors: Mapping[str, Executor],
        audit: AuditWriter,
        metrics: Metrics,
        tuning: QueueTuning,
        calls: StoreCalls,
        wakeup: asyncio.Event,
        actions_per_minute: int = 0,
    ) -> None:
        super().__init__(tuning, calls, wakeup)
        self.lane = lane
        self.name = f"outbox-{lane}"
        self.store = store
        self.executors = executors
        self.audit = audit
        self.metrics = metrics
        #: The lane's per-minute budget shared by every replica (``ZENDESK_ACTIONS_PER_MINUTE``; 0 = none).
        self.actions_per_minute = actions_per_minute
        self._paused_until = 0.0
        self._checked_at = 0.0

    async def paused_for(self, now: float) -> float:
        if now - self._checked_at >= self.tuning.poll_interval:
            self._paused_until = await self.calls(self.store.lane_paused_until, self.lane)
            self._checked_at = now
        return max(self._paused_until - now, 0.0)

    def claim(self, now: float, lease: float, limit: int) -> list[OutboxItem]:
        return self.store.outbox_claim(now, lease, limit, lane=self.lane)

    def extend(self, ids: Sequence[int], until: float) -> None:
        self.store.outbox_extend(ids, until)

    async def _budget(self) -> None:
        """Wait for a call from the lane's shared per-minute budget (0 = no budget)."""
        while self.actions_per_minute > 0:
            wait = await self.calls(self.store.lane_take, self.lane, time.time(), self.actions_per_minute)
            if wait <= 0:
                return
            await asyncio.sleep(min(wait, self.tuning.lease_seconds / 3))

    async def handle(self, item: OutboxItem) -> None:
        tuning, store, calls = self.tuning, self.store, self.calls
        vendor = item.kind.split(".", 1)[0]
        executor = self.executors.get(item.kind)
        started = time.perf_counter()
        try:
            if executor is None:
                raise PermanentError(f"unknown action kind {item.kind!r}")
            await self._budget()
            runs = 0

            async def run() -> dict[str, Any]:
                nonlocal runs
                runs += 1
                # A second run in the same claim follows a failure that may have reached the vendor.
                current = replace(item, claims=item.claims + 1) if runs > 1 else item
                return await executor(current)

            result = await with_quick_retries(tuning, run)
        except TransientError as exc:
            attempts = item.attempts + 1
            dead = attempts >= tuning.max_attempts
            delay = tuning.backoff(attempts, exc.retry_after)
            if exc.rate_limited and exc.retry_after:
                await calls(store.lane_pause, self.lane, time.time() + exc.retry_after)
            await calls(store.outbox_failed, item.id, f"transient: {exc}", time.time() + delay, dead=dead)
            self._observe(vendor, item, started, "rate_limited" if exc.rate_limited else "error")
            if dead:
                await self._delivery(item, ok=False, detail=f"dead after {attempts} attempts: {exc}")
            log.warning(
                "outbox %s (%s) failed: %s; %s",
                item.id,
                item.kind,
                exc,
                "parked as dead" if dead else f"retry in {delay:.1f}s",
            )
        except ConnectorError as exc:
            await calls(store.outbox_failed, item.id, f"permanent: {exc}", time.time(), dead=True)
            self._observe(vendor, item, started, "error")
            await self._delivery(item, ok=False, detail=str(exc))
            log.warning("outbox %s (%s) parked as dead: %s", item.id, item.kind, exc)
        except Exception as exc:
            await calls(store.outbox_failed, item.id, f"internal error: {type(exc).__name__}", time.time(), dead=True)
            await self._delivery(item, ok=False, detail=f"internal error: {type(exc).__name__}")
            log.exception("outbox %s (%s) crashed; parked as dead", item.id, item.kind)
        else:
            await calls(store.outbox_done, item.id, result if isinstance(result, dict) else None)
            self._observe(vendor, item, started, "ok")
            await self._delivery(item, ok=True, detail=None)

    def _observe(self, vendor: str, item: OutboxItem, started: float, outcome: str) -> None:
        if vendor in {"zendesk", "slack"}:
            self.metrics.vendor_call(vendor, item.kind.split(".", 1)[1], time.perf_counter() - started, outcome)

    async def _delivery(self, item: OutboxItem, *, ok: bool, detail: str | None) -> None:
        target = DELIVERY_TARGETS.get(item.kind)
        if target is None or item.decision_id is None:
            return
        try:
            await self.calls(self.audit.record_delivery, item.decision_id, target, ok, detail)
        except Exception:  # the audit must not turn a delivered action into a retried one
            log.exception("could not record the delivery of outbox row %s in the audit log", item.id)


_UNDECIDABLE = (
    "local mode: no Zendesk credentials to read the ticket, and the payload carries no "
    "ticket.latest_comment to decide on"
)


class _ThrottledWarning:
    """The local-mode "cannot decide" warning, at most once per ``every`` seconds with a count.

    Every such delivery is marked ``ignored`` with the reason in its row; the log only has to say it
    happens. A line per delivery measured a tenth of the worker's time under a stream of them (the log
    redaction filter runs over each line).
    """

    def __init__(self, every: float = 60.0) -> None:
        self.every = every
        self._last = -every
        self._since = 0

    def warn(self, item_id: int, ticket_id: int) -> None:
        self._since += 1
        now = time.monotonic()
        if now - self._last < self.every:
            return
        more = f" ({self._since - 1} more since the last report)" if self._since > 1 else ""
        log.warning("inbox %s (ticket %s) not decided: %s%s", item_id, ticket_id, _UNDECIDABLE, more)
        self._last, self._since = now, 0


#: How long the inbox holds back while acknowledgements wait, and how long at most before it claims anyway.
YIELD_SECONDS = 0.005
MAX_DEFER_SECONDS = 0.1


class AckBacklog(Protocol):
    """Webhook acknowledgements in progress, for the inbox to give way to."""

    @property
    def waiting(self) -> int: ...


class InboxWork(InboxStore, ConversationStore, Protocol):
    """What the inbox uses of the store: its rows, and the conversations it decides."""


class InboxProcessor(_Processor[InboxItem]):
    """Turns stored Zendesk webhooks into decisions and outbox actions, exactly once per delivery."""

    name = "inbox"

    def __init__(
        self,
        *,
        store: InboxWork,
        tickets: TicketSink,
        handoffs: Handoffs,
        audit: AuditWriter,
        tuning: QueueTuning,
        calls: StoreCalls,
        wakeup: asyncio.Event,
        outbox_wakeup: asyncio.Event,
        assistant_user_ids: tuple[int, ...] = (),
        acks: AckBacklog | None = None,
    ) -> None:
        super().__init__(tuning, calls, wakeup)
        self.store = store
        self.tickets = tickets
        #: The acknowledgements waiting for their commit (the group commit); None: never defer to them.
        self.acks = acks
        self._deferring_since: float | None = None
        #: Batches claimed after a full deferral, while acknowledgements were still waiting (diagnostics).
        self.deferred_batches = 0
        self.handoffs = handoffs
        self.audit = audit
        self.outbox_wakeup = outbox_wakeup
        self.assistant_user_ids = assistant_user_ids
        self._undecidable = _ThrottledWarning()

    def defer_for(self, now: float) -> float:
        """Acknowledgements first: while deliveries wait for their commit, claim at most once per
        :data:`MAX_DEFER_SECONDS`, looking again every :data:`YIELD_SECONDS`.

        The inbox's work (a decision, store writes) runs on the same event loop and GIL as the
        acknowledgements; under a burst it took about half of the loop and made every 202 wait behind it.
        Deferred deliveries are stored and are processed as soon as the burst ends, and a steady stream
        still gets a batch through every 100 ms: nothing waits for ever.
        """
        if self.acks is None or not self.acks.waiting:
            self._deferring_since = None
            return 0.0
        if self._deferring_since is None:
            self._deferring_since = now
        if now - self._deferring_since >= MAX_DEFER_SECONDS:
            self._deferring_since = None
            self.deferred_batches += 1
            return 0.0
        return YIELD_SECONDS

    def claim(self, now: float, lease: float, limit: int) -> list[InboxItem]:
        return self.store.inbox_claim(now, lease, limit)

    def extend(self, ids: Sequence[int], until: float) -> None:
        self.store.inbox_extend(ids, until)

    async def handle(self, item: InboxItem) -> None:
        tuning, retry_later = self.tuning, self.store.inbox_retry_later
        try:
            await self._process(item)
        except TransientError as exc:
            dead = item.attempts >= tuning.max_attempts
            delay = tuning.backoff(item.attempts, exc.retry_after)
            await self.calls(retry_later, item.id, f"transient: {exc}", time.time() + delay, dead=dead)
            log.warning("inbox %s: %s; %s", item.id, exc, "parked as dead" if dead else f"retry in {delay:.1f}s")
        except ConnectorError as exc:
            await self.calls(retry_later, item.id, f"permanent: {exc}", time.time(), dead=True)
            log.warning("inbox %s parked as dead: %s", item.id, exc)
        except Exception as exc:
            await self.calls(retry_later, item.id, f"internal error: {type(exc).__name__}", time.time(), dead=True)
            log.exception("inbox %s crashed; parked as dead", item.id)

    async def _wrong(self, ticket: str) -> None:
        await self.calls(self.audit.record_event, "handoff_wrong", ticket_id=ticket)

    async def _process_local(self, item: InboxItem, note: ZendeskNotification) -> None:
        """Local mode cannot read the ticket, so it decides on the text the payload carried, if any."""
        store, calls = self.store, self.calls
        if note.text is None:
            self._undecidable.warn(item.id, note.ticket_id)
            await calls(store.inbox_finish, item.id, InboxStatus.IGNORED, error=_UNDECIDABLE)
            return
        key = conversation_id(note.ticket_id)
        async with store.conversation_lock(key):
            previous = await calls(store.conversation_get, key)
            conversation = local_conversation(note, previous.state if previous else None)
            outcome = await self.handoffs.decide(conversation, previous)
            await calls(store.inbox_finish, item.id, InboxStatus.DONE, record=outcome.record, actions=outcome.actions)
        log.info("inbox %s (ticket %s) decided in local mode from the payload text", item.id, note.ticket_id)

    async def _process(self, item: InboxItem) -> None:
        store, calls = self.store, self.calls
        note = ZendeskNotification.model_validate(item.payload)
        ticket = str(note.ticket_id)
        if WRONG_TAG in note.tags:
            await self._wrong(ticket)
        if self.tickets.lane == "local":  # no credentials: reading the ticket could only raise NotConfigured
            await self._process_local(item, note)
            return
        snapshot = await with_quick_retries(self.tuning, lambda: self.tickets.read_ticket(note.ticket_id))
        if WRONG_TAG in snapshot.ticket.tags and WRONG_TAG not in note.tags:
            await self._wrong(ticket)
        if latest_is_own(snapshot):
            await calls(store.inbox_finish, item.id, InboxStatus.IGNORED, error="caused by our own update")
            return
        key = conversation_id(note.ticket_id)
        async with store.conversation_lock(key):  # one decision at a time per ticket, on every replica
            previous = await calls(store.conversation_get, key)
            conversation = to_conversation(
                snapshot, assistant_user_ids=self.assistant_user_ids, state=previous.state if previous else None
            )
            if conversation is None:
                await calls(store.inbox_finish, item.id, InboxStatus.IGNORED, error="no customer message to decide on")
                return
            outcome = await self.handoffs.decide(conversation, previous)
            await calls(store.inbox_finish, item.id, InboxStatus.DONE, record=outcome.record, actions=outcome.actions)
        if to_send(outcome.actions):
            self.outbox_wakeup.set()

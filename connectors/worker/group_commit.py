"""Group commit for webhook acknowledgements: many deliveries stored in one transaction.

An acknowledgement (202) must mean the delivery is durably stored, so each request waits for the commit
of its own row. Committing once per request made the commit most of the acknowledgement's store cost;
here the requests that reach the store together share one transaction instead:

- a request hands its delivery over and waits; the first one starts a flush task, which runs on the
  next turn of the event loop, by which time every other request of this turn has joined the batch;
- the flush stores the batch with :meth:`InboxStore.inbox_add_many` (one transaction, all or none)
  through the worker's :class:`~connectors.worker.offload.StoreCalls` (inline on SQLite, a thread on
  PostgreSQL: while one batch commits there, the next one gathers) and only then answers each waiting
  request with "stored" or "seen before";
- if the transaction fails, every request of the batch gets the error and answers 503: nothing of it
  was acknowledged, so Zendesk delivers it again.

A lone request costs one extra turn of the loop (microseconds); under load a batch holds as many
deliveries as arrived together, at most ``max_batch``.
"""

from __future__ import annotations

import asyncio

from connectors.store import InboxStore, NewDelivery
from connectors.worker.offload import StoreCalls


class InboxGroupCommit:
    """Stores deliveries for the acknowledgement route, one transaction per batch of waiting requests."""

    def __init__(self, store: InboxStore, calls: StoreCalls, *, max_batch: int = 256) -> None:
        self.store = store
        self.calls = calls
        self.max_batch = max_batch
        self._pending: list[tuple[NewDelivery, asyncio.Future[bool]]] = []
        self._flusher: asyncio.Task[None] | None = None
        #: Requests waiting for their commit now (the inbox processor gives way while there are any).
        self.waiting = 0
        #: Transactions committed and the deliveries they held (read by tests and diagnostics).
        self.commits = 0
        self.deliveries = 0

    async def add(self, delivery: NewDelivery) -> bool:
        """Store ``delivery`` durably; True if it is new, False if it was stored before."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((delivery, future))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush(), name="inbox-group-commit")
        self.waiting += 1
        try:
            return await future
        finally:
            self.waiting -= 1

    async def _flush(self) -> None:
        batch: list[tuple[NewDelivery, asyncio.Future[bool]]] = []
        try:
            while self._pending:
                batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
                try:
                    stored = await self.calls(self.store.inbox_add_many, [delivery for delivery, _ in batch])
                except Exception as exc:  # StoreError or a bug: no request of the batch may answer "accepted"
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                self.commits += 1
                self.deliveries += len(batch)
                for (_, future), new in zip(batch, stored, strict=True):
                    if not future.done():  # a request cancelled meanwhile: its row is stored, nobody waits
                        future.set_result(new)
        except asyncio.CancelledError:  # shutdown: nobody is left waiting for an answer that will not come
            for _, future in (*batch, *self._pending):
                if not future.done():
                    future.cancel()
            self._pending = []
            raise
        finally:
            self._flusher = None

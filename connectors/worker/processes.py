"""Decisions in a few forked processes (``DECISION_PROCESSES``), each conversation always in the same one.

Why processes: a decision is milliseconds of pure Python. In the thread pool (:mod:`connectors.worker.pool`)
it holds the GIL, so the event loop (HTTP, store, redaction, the outbox) and the decisions share one core
however many the machine has: a 2 KB web-chat handoff was ~5.5 ms in the decision thread plus ~2.5 ms on
the loop, all on one core. A decision process runs beside the loop on another core.

How it keeps the thread pool's promises:

- **Shared engine.** The processes are forked once the engine is loaded (and its schedules read), after
  ``gc.collect(); gc.freeze()``: the engine's tables are inherited, not rebuilt or copied, and the
  collector of a process never writes to their pages (reference counts still do, for what a decision
  touches; the memory section of docs/performance.md gives RSS, PSS and USS).
- **Sticky routing, kept analyses.** A conversation goes to process ``crc32(id) % n``, always the same one,
  which keeps that conversation's per-message analysis in its own :class:`AnalysisCache` (the budget of
  ``ANALYSIS_CACHE_*`` split between the processes): message n+1 costs one message's analysis there as it
  does in a thread. The conversation crosses the boundary pickled (the store had read it whole anyway); the
  decision comes back. The process decides exactly what the engine decides in-process (tested end to end).
- **Bounded, first come first served.** Each process decides one message at a time with ``DEPTH`` messages
  sent ahead (so it never waits for the event loop between two), further ones wait in FIFO order.
- **Load shedding** as in the pool: a caller that may be shed is turned away (:class:`DecisionOverload`)
  when its process's expected wait (messages ahead of it times the mean decision time the process reports)
  is over ``max_wait``; :meth:`admit`, before the body is read, sheds when *every* process is over it.
- **Budget.** A decision not answered within ``budget`` seconds (waiting included) raises
  :class:`DecisionTimeout`. Unlike a thread, a process can be stopped: one still deciding that same
  message a whole budget later is stuck, and is killed and restarted, so a pathological message cannot
  hold a slot for ever (a process that is merely slow, a queue under load, is not killed for it).
- **A crashed process** (killed, out of memory, a bug in C code) is noticed by the end of its socket, and
  restarted at once; the messages it held get :class:`DecisionLost`, a :class:`TransientError`: the web
  chat answers ``503 decision_lost`` + ``Retry-After`` with nothing stored (posting again is safe), the
  Zendesk inbox retries the delivery. Never a 500, never a half-stored turn.
- **Clean shutdown.** :meth:`close` closes the sockets (a process exits at the end of its input), waits a
  moment, then kills what is left; a process whose parent died exits by itself within seconds.

Forking later (a restart) happens in a parent that may have threads; a decision process touches nothing
but the engine, its cache and its socket, and it closes every other file it inherited (the HTTP
listener, client and database connections, its siblings' sockets, the store's lock) first thing.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import multiprocessing
import os
import pickle
import select
import signal
import socket
import struct
import time
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.process import BaseProcess
from operator import attrgetter, is_
from typing import Any, Protocol

from connectors.audit.sql import RedactedTexts, redacted_texts
from connectors.errors import TransientError
from connectors.redaction import known_values, scrub_decision
from connectors.store import NewAction
from connectors.worker.analyses import AnalysisCache
from connectors.worker.pool import Decider, DecisionOverload, DecisionTimeout
from handoff_core import Conversation, Decision, Message
from handoff_core.state import advance, is_new_handoff

log = logging.getLogger(__name__)

#: Messages sent to a process ahead of the one it decides (so it never waits for the loop between two).
DEPTH = 2
#: How often an idle decision process checks that its parent is still alive (seconds).
PARENT_CHECK_SECONDS = 2.0
#: A process that died this soon after it started is restarted only after this pause (a crash loop
#: must not keep a core busy forking).
RESTART_PAUSE_SECONDS = 1.0
_HEADER = struct.Struct(">I")
#: Every field of a message: a kept message stands for a new one only if all of them are equal.
_MESSAGE = attrgetter(*Message.model_fields)
#: Weight of the newest decision in the running mean of decision time (about the last 20 count).
_MEAN_WEIGHT = 0.05


class DecisionLost(TransientError):
    """The decision process holding the message died before it answered; nothing was decided."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the decision process {reason}", vendor="core", retry_after=1.0)


class DecisionFailed(Exception):
    """The engine raised in a decision process (a bug): the message is not decided."""


class Planner(Protocol):
    """Plans a new handoff's outbox actions (:class:`connectors.worker.handoffs.ActionPlanner`)."""

    def plan(self, decision: Decision, decision_id: str, conversation: Conversation) -> list[NewAction]: ...


@dataclass(frozen=True)
class Prepared:
    """Pure work on a decision that its process does beside it, so the event loop does not.

    Each is what the worker would otherwise compute on its loop from the same decision and conversation,
    by the same functions: the web chat's redacted answer, the audit log's redacted texts (from the
    answer's scrubbed reasons: one redaction, not two), and a new handoff's planned actions (for the
    audit id the caller chose, :meth:`DecisionProcesses.step`'s ``plan``).
    """

    #: The decision as the web chat shows it (``scrub_decision``, JSON-ready), when asked for.
    answer: dict[str, Any] | None
    texts: RedactedTexts
    #: The actions planned for the given audit id ([] when the decision is not a new handoff); None when
    #: no plan was asked for.
    actions: list[NewAction] | None


def _prepare(
    decision: Decision, conversation: Conversation, answer: bool, plan: tuple[Planner, str] | None
) -> Prepared:
    scrubbed = scrub_decision(decision, known_values(conversation)) if answer else None
    texts = redacted_texts(decision, conversation, scrubbed.reasons if scrubbed is not None else None)
    actions = None
    if plan is not None:
        planner, decision_id = plan
        new = is_new_handoff(conversation.state, decision)
        actions = planner.plan(decision, decision_id, conversation) if new else []
    return Prepared(scrubbed.model_dump(mode="json") if scrubbed is not None else None, texts, actions)


def default_processes(cpus: int | None) -> int:
    """Decision processes for ``cpus`` cores when ``DECISION_PROCESSES`` is not set: one core stays with
    the event loop, the others decide (at most 4); one core: 0, decisions in threads as before."""
    return max(0, min((cpus or 1) - 1, 4))


# -- the decision process ---------------------------------------------------------------------------------


def _send_frame(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(_HEADER.pack(len(payload)) + payload)


def _recv_exactly(sock: socket.socket, size: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


def _close_inherited_files(keep: int) -> None:
    """Close every file descriptor but ours and stdio: the HTTP listener, client and database connections,
    siblings' sockets, the SQLite store's ``flock``.

    A copy held here would keep a client's connection or a sibling's end open after the parent closed it,
    or the store's lock held after the parent died (a restarted worker would be refused for seconds).
    """
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd != keep:
            with contextlib.suppress(OSError):
                os.close(fd)


def _serve(sock: socket.socket, engine: Decider, cache_messages: int, cache_bytes: int) -> None:
    """A decision process: read a conversation, decide it with the kept analysis, answer; until EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent shuts us down
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the server's handler, inherited with the fork
    with contextlib.suppress(ValueError):
        signal.set_wakeup_fd(-1)
    _close_inherited_files(sock.fileno())
    parent = os.getppid()
    cache = AnalysisCache(cache_messages, max_bytes=cache_bytes)
    #: The transcripts the parent knows this process keeps (it says which to forget): the parent sends a
    #: conversation's new messages only.
    transcripts: dict[str, tuple[Message, ...]] = {}
    while True:
        ready, _, _ = select.select([sock], [], [], PARENT_CHECK_SECONDS)
        if not ready:
            if os.getppid() != parent:  # the parent died without closing our socket (killed)
                return
            continue
        header = _recv_exactly(sock, _HEADER.size)
        if header is None:
            return  # the parent closed our socket: shutdown
        frame = _recv_exactly(sock, _HEADER.unpack(header)[0])
        if frame is None:
            return
        request, sent, base, keep, forget, now, answer, plan = pickle.loads(frame)  # noqa: S301 (our own parent)
        for gone in forget:
            transcripts.pop(gone, None)
        # ``base`` messages of the transcript are the ones this process kept from the conversation's last
        # message (the parent checked they are unchanged); only the rest crossed the socket.
        started = time.perf_counter()
        try:
            kept = transcripts.pop(sent.id, ())
            if len(kept) < base:  # cannot happen while parent and process agree; never decide on a guess
                raise LookupError(f"{base} kept messages expected, {len(kept)} kept")
            conversation = sent.model_copy(update={"messages": (*kept[:base], *sent.messages)}) if base else sent
            if keep:  # the parent's bounds: it tells which to forget when they are reached
                transcripts[sent.id] = conversation.messages
            decision, analysis = engine.step(conversation, cache.get(conversation.id), now)
            # As Handoffs does in-process: a handed-off conversation is decided without its analysis.
            cache.put(conversation.id, None if advance(conversation.state, decision).handed_off else analysis)
            # The web-chat answer, the audit's redacted texts and a new handoff's actions: pure work, done
            # here rather than on the loop.
            prepared = _prepare(decision, conversation, answer, plan)
            reply: tuple[Any, ...] = (request, True, (decision, prepared), time.perf_counter() - started)
        except Exception as exc:  # a bug in the engine: the parent reports it, the process goes on
            reply = (request, False, f"{type(exc).__name__}: {exc}", time.perf_counter() - started)
        try:
            _send_frame(sock, pickle.dumps(reply, pickle.HIGHEST_PROTOCOL))
        except OSError:
            return  # the parent is gone


# -- the parent's side --------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Lane:
    """One decision process as the event loop sees it; the lane outlives the process (restarts)."""

    index: int
    slots: asyncio.Semaphore
    ready: asyncio.Event
    process: BaseProcess | None = None
    writer: asyncio.StreamWriter | None = None
    #: The parent's end of the process's socket (shut down synchronously at close, so the process sees EOF).
    sock: socket.socket | None = None
    reader_task: asyncio.Task[None] | None = None
    started_at: float = 0.0
    #: Messages sent and not answered yet, by request number (each holds one of ``slots``).
    pending: dict[int, asyncio.Future[tuple[Decision, Prepared]]] = field(default_factory=dict)
    #: Callers waiting for a slot now.
    waiting: int = 0
    restarts: int = 0
    #: Which process of the lane this is (a restarted one keeps nothing of its predecessor).
    generation: int = 0
    #: Conversations whose kept transcript the process may forget (sent with its next message).
    forget: list[str] = field(default_factory=list)

    def expected_wait(self, mean: float) -> float:
        """Seconds a message asked for now would wait before this process starts deciding it."""
        return (len(self.pending) + self.waiting) * mean


class DecisionProcesses:
    """``processes`` forked decision processes; see the module docstring for what each promise means."""

    def __init__(
        self,
        engine: Decider,
        *,
        processes: int,
        budget: float,
        max_wait: float | None = None,
        cache_messages: int = 2_000,
        cache_bytes: int = 3 * 1024 * 1024,
    ) -> None:
        if processes < 1:
            raise ValueError("the decision process pool needs at least one process")
        if max_wait is not None and max_wait < 0:
            raise ValueError("the longest wait for a decision slot cannot be negative")
        self.engine = engine
        self.budget = budget
        self.max_wait = max_wait
        self.cache_messages = max(cache_messages // processes, 0)
        self.cache_bytes = max(cache_bytes // processes, 0)
        self._count = processes
        self._lanes: list[_Lane] = []
        self._requests = 0
        self._closing = False
        self._context = multiprocessing.get_context("fork")
        #: Per conversation, the transcript its process keeps: (the process's generation, the messages).
        #: Bounded like the analyses (messages and text bytes, least recently used out).
        self._kept: OrderedDict[str, tuple[int, tuple[Message, ...], int]] = OrderedDict()
        self._kept_messages = 0
        self._kept_bytes = 0
        self._kept_limits = (cache_messages, cache_bytes)
        #: Running mean of the time a process spends on one decision (reported by the process; seconds).
        self.mean_seconds = 0.0
        #: Callers turned away, and processes restarted, since start-up (tests and diagnostics).
        self.shed = 0
        self.restarts = 0
        #: Messages sent with their conversation's kept transcript reused / sent whole (diagnostics, tests).
        self.sent_new_only = 0
        self.sent_whole = 0

    # -- life cycle

    async def start(self) -> None:
        """Fork the processes (call once the engine is complete: schedules read, nothing left to load)."""
        gc.collect()
        gc.freeze()  # the engine's objects stay out of every collector's reach: its pages stay shared
        for index in range(self._count):
            lane = _Lane(index, asyncio.Semaphore(DEPTH), asyncio.Event())
            self._lanes.append(lane)
            await self._spawn(lane)

    async def _spawn(self, lane: _Lane) -> None:
        ours, theirs = socket.socketpair()
        process = self._context.Process(
            target=_serve,
            args=(theirs, self.engine, self.cache_messages, self.cache_bytes),
            name=f"decide-{lane.index}",
            daemon=True,
        )
        process.start()
        theirs.close()
        reader, writer = await asyncio.open_unix_connection(sock=ours)
        if self._closing:  # the worker shut down while this (re)start was under way
            writer.close()
            process.kill()
            return
        lane.process, lane.writer, lane.sock, lane.started_at = process, writer, ours, time.monotonic()
        lane.generation += 1
        lane.forget.clear()
        lane.reader_task = asyncio.create_task(self._read(lane, reader), name=f"decide-{lane.index}-answers")
        lane.ready.set()

    async def _read(self, lane: _Lane, reader: asyncio.StreamReader) -> None:
        """Hand each answer to its caller; when the process ends, fail what it held and start another."""
        try:
            while True:
                header = await reader.readexactly(_HEADER.size)
                frame = await reader.readexactly(_HEADER.unpack(header)[0])
                request, ok, payload, seconds = pickle.loads(frame)  # noqa: S301 (our own child, over a socketpair)
                future = lane.pending.pop(request, None)
                if future is None:
                    continue
                lane.slots.release()
                self.mean_seconds = (
                    seconds
                    if not self.mean_seconds
                    else self.mean_seconds + _MEAN_WEIGHT * (seconds - self.mean_seconds)
                )
                if future.done():  # its caller gave up (budget) while the process was still on it
                    continue
                if ok:
                    future.set_result(payload)
                else:
                    future.set_exception(DecisionFailed(payload))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        await self._lost(lane, "ended")

    async def _lost(self, lane: _Lane, reason: str) -> None:
        """The process of ``lane`` is gone: its messages get :class:`DecisionLost`, and a new one starts."""
        lane.ready.clear()
        process, lane.process = lane.process, None
        if lane.writer is not None:
            lane.writer.close()
            lane.writer = None
        for future in lane.pending.values():
            lane.slots.release()
            if not future.done():
                future.set_exception(DecisionLost(reason))
        lane.pending.clear()
        code = None
        if process is not None:
            with contextlib.suppress(ValueError):
                process.kill()
            await asyncio.to_thread(process.join, 5)
            code = process.exitcode
        if self._closing:
            return
        log.warning("decision process %d %s (exit code %s); starting another", lane.index, reason, code)
        while not self._closing:
            if time.monotonic() - lane.started_at < RESTART_PAUSE_SECONDS:
                await asyncio.sleep(RESTART_PAUSE_SECONDS)  # died at once: no crash loop on a busy core
            lane.restarts += 1
            self.restarts += 1
            try:
                await self._spawn(lane)
                return
            except OSError as exc:  # no memory or no process slot left to fork: try again shortly
                log.error("decision process %d could not be started: %s", lane.index, exc)
                lane.started_at = time.monotonic()

    def close(self) -> None:
        """Stop every process: close its socket (it exits at the end of its input), then kill stragglers."""
        self._closing = True
        for lane in self._lanes:
            lane.ready.clear()
            if lane.reader_task is not None:
                lane.reader_task.cancel()
            if lane.sock is not None:
                with contextlib.suppress(OSError):
                    lane.sock.shutdown(socket.SHUT_RDWR)  # now: the loop will not run before we join
            if lane.writer is not None:
                lane.writer.close()
            for future in lane.pending.values():
                if not future.done():
                    future.set_exception(DecisionLost("was stopped (shutdown)"))
            lane.pending.clear()
        deadline = time.monotonic() + 2.0
        for lane in self._lanes:
            if lane.process is None:
                continue
            lane.process.join(max(deadline - time.monotonic(), 0.0))
            if lane.process.exitcode is None:
                lane.process.kill()
                lane.process.join(2.0)
            lane.process = None

    # -- what the worker calls

    @property
    def pids(self) -> list[int | None]:
        """The decision processes' ids, by lane (None while one is being restarted): tests and diagnostics."""
        return [lane.process.pid if lane.process is not None else None for lane in self._lanes]

    @property
    def in_flight(self) -> int:
        """Messages sent to a process and not answered yet."""
        return sum(len(lane.pending) for lane in self._lanes)

    def lane_of(self, conversation_id: str) -> int:
        """The process a conversation is always decided in."""
        return zlib.crc32(conversation_id.encode("utf-8", "surrogatepass")) % self._count

    def _delta(self, lane: _Lane, conversation: Conversation) -> tuple[Conversation, int, bool]:
        """What to send: the conversation with only the messages its process does not keep, how many of its
        first messages the process keeps (0: everything is sent), and whether it keeps the transcript for the
        next message (within the bounds). Records what the process will keep.

        A kept message stands for a new one only if every field is equal (a transcript replaced through
        ``/v1/webchat/conversations`` or by another replica is sent whole): the process then decides on
        exactly the transcript the store gave.
        """
        messages = conversation.messages
        cid = conversation.id
        base = 0
        kept = self._kept.get(cid)
        self._forget(cid)
        size = -1
        if kept is not None:
            generation, old, old_size = kept
            k = len(old)
            if (
                generation == lane.generation
                and len(messages) >= k
                # The same message objects (the store's transcript cache hands them back, and the web chat
                # appends to them): one pointer comparison each, in C. Else every field, as before.
                and (all(map(is_, messages[:k], old)) or list(map(_MESSAGE, messages[:k])) == list(map(_MESSAGE, old)))
            ):
                base = k
                size = old_size + sum(len(m.text) for m in messages[k:])
        if size < 0:
            size = sum(len(m.text) for m in messages)
        limit_messages, limit_bytes = self._kept_limits
        keep = len(messages) <= limit_messages and size <= limit_bytes
        if keep:
            self._kept[cid] = (lane.generation, messages, size)
            self._kept_messages += len(messages)
            self._kept_bytes += size
            while self._kept_messages > limit_messages or self._kept_bytes > limit_bytes:
                gone, (gen, old, old_size) = self._kept.popitem(last=False)
                self._kept_messages -= len(old)
                self._kept_bytes -= old_size
                owner = self._lanes[self.lane_of(gone)]
                if gen == owner.generation:
                    owner.forget.append(gone)
        if base:
            self.sent_new_only += 1
            return conversation.model_copy(update={"messages": messages[base:]}), base, keep
        self.sent_whole += 1
        return conversation, 0, keep

    def _kill_if_stuck(self, lane: _Lane, request: int, generation: int) -> None:
        """Kill the process of ``lane`` if it is still deciding ``request`` (the oldest it holds)."""
        if lane.generation != generation or next(iter(lane.pending), None) != request or lane.process is None:
            return
        log.warning("decision process %d is stuck on one message past twice the %g s budget; restarting it",
                    lane.index, self.budget)  # fmt: skip
        with contextlib.suppress(ValueError):
            lane.process.kill()

    def _forget(self, conversation_id: str) -> None:
        kept = self._kept.pop(conversation_id, None)
        if kept is not None:
            self._kept_messages -= len(kept[1])
            self._kept_bytes -= kept[2]

    def _over(self, lane: _Lane) -> bool:
        if self.max_wait is None or len(lane.pending) < DEPTH:
            return False  # a free slot: no wait
        return self.max_wait == 0 or lane.expected_wait(self.mean_seconds) > self.max_wait

    def admit(self) -> None:
        """Raise :class:`DecisionOverload` when every process is over its wait: before the body is read,
        the conversation (and so its process) is not known yet; :meth:`step` checks its own process."""
        if self._lanes and all(self._over(lane) for lane in self._lanes):
            self.shed += 1
            lane = min(self._lanes, key=lambda x: x.expected_wait(self.mean_seconds))
            raise DecisionOverload(lane.waiting, lane.expected_wait(self.mean_seconds))

    async def step(
        self,
        conversation: Conversation,
        now: datetime | None,
        *,
        may_shed: bool = False,
        answer: bool = False,
        plan: tuple[Planner, str] | None = None,
    ) -> tuple[Decision, Prepared]:
        """The engine's decision for ``conversation`` in its process, which keeps the analysis for the next
        message (not kept once the conversation is handed off, as in-process), with what is made from it
        there (:class:`Prepared`). ``answer``: also the decision as the web chat shows it
        (:func:`~connectors.redaction.scrub_decision`, JSON-ready); ``plan``: a planner and the audit id
        to plan a new handoff's actions for."""
        lane = self._lanes[self.lane_of(conversation.id)]
        if may_shed and self._over(lane):
            self.shed += 1
            raise DecisionOverload(lane.waiting, lane.expected_wait(self.mean_seconds))
        frame: bytes | None = None
        request = -1
        try:
            async with asyncio.timeout(self.budget):
                lane.waiting += 1
                try:
                    await lane.slots.acquire()
                finally:
                    lane.waiting -= 1
                try:
                    await lane.ready.wait()  # a restart in progress
                    writer = lane.writer
                    if writer is None:
                        raise DecisionLost("is being restarted")
                    self._requests += 1
                    request = self._requests
                    sent, base, keep = self._delta(lane, conversation)
                    forget, lane.forget = lane.forget, []
                    frame = pickle.dumps(
                        (request, sent, base, keep, forget, now, answer, plan), pickle.HIGHEST_PROTOCOL
                    )
                    future: asyncio.Future[tuple[Decision, Prepared]]
                    future = asyncio.get_running_loop().create_future()
                    lane.pending[request] = future
                except BaseException:
                    if request not in lane.pending:
                        lane.slots.release()
                    raise
                writer.write(_HEADER.pack(len(frame)) + frame)
                try:
                    return await future
                except DecisionFailed:
                    self._forget(conversation.id)  # the next message of it is sent whole
                    raise
        except TimeoutError as exc:
            if request in lane.pending:
                # The caller gives up now; the process may only be busy (a queue under load). If a whole
                # budget later it is still on this very message, it is stuck: a process, unlike a thread,
                # can be stopped, and its reader fails what else it held and starts another.
                asyncio.get_running_loop().call_later(self.budget, self._kill_if_stuck, lane, request, lane.generation)
            raise DecisionTimeout(self.budget) from exc

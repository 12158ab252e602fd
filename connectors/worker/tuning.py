"""Interpreter settings the worker makes once, at start-up: the GIL switch interval and a frozen start-up heap
(malloc arenas: :mod:`connectors.worker.memory`).

Why: decisions run in threads of the worker process (:mod:`connectors.worker.pool`), next to the event
loop that acknowledges webhooks and answers web chat. A decision is milliseconds of pure Python holding
the GIL. Each time the event loop lets the GIL go (every socket write, every SQLite call) it then waits
up to the switch interval to get it back from a busy decision thread; so does a decision thread after
each NumPy call or after waking the loop. With CPython's default of 5 ms, requests queued behind those
waits: under web-chat load the worker used barely half of its core (``bench/bench_webhooks.py``, CPU
column; docs/performance.md). 0.5 ms keeps the waits short for a few microseconds of extra switching
per millisecond. The interval is process-wide, which is why it is set here and not by the pool.
"""

from __future__ import annotations

import gc
import sys

#: Seconds a thread may hold the GIL while another waits for it (CPython's default: 0.005).
SWITCH_INTERVAL_SECONDS = 0.0005


def shorten_switch_interval() -> None:
    """Let a waiting thread (the event loop, above all) take the GIL after at most 0.5 ms."""
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)


def freeze_start_up_heap() -> None:
    """Move every object alive after start-up (the engine's tables, lexicons, models: ~100,000 objects)
    out of the garbage collector's reach.

    Why: they live as long as the process, yet each full collection walked all of them: 60-90 ms with the
    event loop stopped, measured on this machine, whenever enough objects had survived since the last one
    (a few times a minute under web-chat load). That pause was every request's p99. Frozen, a full
    collection walks only what was made since start-up; reference counting still frees objects as before.
    """
    gc.collect()
    gc.freeze()


def thaw_heap() -> None:
    """Undo :func:`freeze_start_up_heap` at shutdown, so the objects of a stopped worker can be collected."""
    gc.unfreeze()

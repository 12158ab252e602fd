"""The GIL switch interval the worker sets once, at start-up (malloc arenas: :mod:`connectors.worker.memory`).

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

import sys

#: Seconds a thread may hold the GIL while another waits for it (CPython's default: 0.005).
SWITCH_INTERVAL_SECONDS = 0.0005


def shorten_switch_interval() -> None:
    """Let a waiting thread (the event loop, above all) take the GIL after at most 0.5 ms."""
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)

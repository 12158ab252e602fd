"""Process-wide interpreter and allocator settings the worker applies once, at start-up.

Both follow from one design choice (:mod:`connectors.worker.pool`): decisions run in threads of the
worker process, next to the event loop that acknowledges webhooks.

- **GIL switch interval.** A decision is milliseconds of pure Python holding the GIL. Each time the
  event loop lets the GIL go (every socket write, every SQLite call), it then waits up to the switch
  interval to get it back from a busy decision thread; so does a decision thread after each NumPy call
  or after waking the loop. With CPython's default of 5 ms, requests queued behind those waits: under
  web-chat load the worker used barely half of its core (``bench/bench_webhooks.py``, CPU column).
  0.5 ms keeps the waits short for a few microseconds of extra switching per millisecond.
- **malloc arenas.** glibc gives every thread that allocates its own arena (up to 8 per core), and
  memory freed in one arena is not reused by another: with the loop and the decision threads each
  allocating, RSS grew well past the live data. Two arenas bound that growth for a small amount of lock
  contention. Only glibc has ``mallopt``; elsewhere nothing is changed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

#: Seconds a thread may hold the GIL while another waits for it (CPython's default: 0.005).
SWITCH_INTERVAL_SECONDS = 0.0005
#: glibc arenas (``M_ARENA_MAX``); the environment variable ``MALLOC_ARENA_MAX`` is the same knob.
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8


def apply_process_tuning() -> None:
    """Set the switch interval and bound glibc's arenas (before the decision threads first allocate)."""
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    name = ctypes.util.find_library("c")
    if not name or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt): nothing to bound
        return
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    mallopt(_M_ARENA_MAX, MALLOC_ARENAS)

"""Keep the worker's resident memory near what it really holds, over weeks without a restart.

Why: the worker's caches are bounded (the core's in bytes, the analysis cache in messages and bytes),
yet a process that has decided a million times can still hold far more than those bounds. Two things of
glibc's allocator, not of Python, make the difference:

- **Arenas.** glibc gives every thread that allocates its own malloc arena (up to 8 per core). The
  decision pool, the store's threads and the event loop each fragment their own arena, and memory freed
  in one is never reused by another. :func:`limit_arenas` caps them (``mallopt(M_ARENA_MAX)``, the same
  as the ``MALLOC_ARENA_MAX`` environment variable, but set by the worker itself so that no deployment
  can forget it). It must run before the pool's threads first allocate: the lifespan calls it first.
- **Freed memory kept.** glibc returns memory to the system only from the top of the main heap; freed
  chunks below a live one stay resident. :func:`trim` (``malloc_trim(0)``) hands every free page back;
  the lifespan runs it every ``MEMORY_TRIM_SECONDS`` (a few milliseconds each time).

Both are no-ops where the C library is not glibc (musl, macOS): there is nothing to tune the same way.
Measured effect and the soak that checks the 150 MB budget: docs/volume.md.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
from functools import lru_cache

log = logging.getLogger(__name__)

#: ``mallopt`` parameter number of ``M_ARENA_MAX`` in glibc's ``malloc.h``.
M_ARENA_MAX = -8


@lru_cache(maxsize=1)
def _glibc() -> ctypes.CDLL | None:
    """The process's C library when it is glibc (it has ``malloc_trim``), else None."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    if not hasattr(libc, "malloc_trim") or not hasattr(libc, "mallopt"):
        return None
    return libc


def limit_arenas(arenas: int) -> bool:
    """Let glibc use at most ``arenas`` malloc arenas (0: leave glibc's default). True when applied."""
    libc = _glibc()
    if libc is None or arenas <= 0:
        return False
    return bool(libc.mallopt(M_ARENA_MAX, arenas))


def trim() -> bool:
    """Give free heap pages back to the system; True when glibc released something."""
    libc = _glibc()
    return bool(libc is not None and libc.malloc_trim(0))


async def trim_every(seconds: float) -> None:
    """Run :func:`trim` every ``seconds`` for the life of the worker (a lifespan task)."""
    if seconds <= 0 or _glibc() is None:
        return
    while True:
        await asyncio.sleep(seconds)
        trim()


def resident_mb() -> float | None:
    """This process's resident set size in MB (Linux), for logs and benchmarks; None elsewhere."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None

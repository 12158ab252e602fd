"""The worker keeps nothing per conversation in memory once a turn has ended (docs/volume.md, round 6).

A live soak decides for hundreds of thousands of conversations; anything kept per conversation id would
grow with them. The SQLite store's in-process conversation locks are the one per-conversation structure
on the worker's path: they live only while a turn holds or waits for them.
"""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from pathlib import Path

from connectors.store import SQLiteStore


def test_conversation_locks_leave_nothing_behind(tmp_path: Path) -> None:
    """Locking 5,000 distinct conversations one after another leaves under 64 KB traced (kept: 0.8 MB)."""
    store = SQLiteStore(tmp_path / "s.db")

    async def turns(prefix: str, count: int) -> None:
        for n in range(count):
            async with store.conversation_lock(f"{prefix}-{n}"):
                await asyncio.sleep(0)

    try:
        asyncio.run(turns("warm", 100))
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            asyncio.run(turns("soak", 5_000))
            gc.collect()
            grown = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
    finally:
        store.close()
    assert grown < 64 * 1024, grown

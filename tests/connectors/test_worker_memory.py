"""The worker bounds glibc's share of its memory: capped malloc arenas and free pages handed back."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from connectors.settings import Settings
from connectors.worker import memory
from connectors.worker.app import create_app

pytestmark = pytest.mark.skipif(memory._glibc() is None, reason="glibc only (malloc_trim, mallopt)")


#: Run in a fresh interpreter: in the test process earlier tests leave free heap that these blocks would
#: reuse, and the numbers would say nothing.
TRIM_SCRIPT = """
import json
from connectors.worker import memory
before = memory.resident_mb()
chunks = [bytes(1024) + bytes([n % 256]) for n in range(60_000)]  # ~60 MB of malloc'd blocks
pinned = chunks[::64]  # one live block every 64 KB: glibc cannot shrink the heap from the top
del chunks
held = memory.resident_mb()
memory.trim()
print(json.dumps([before, held, memory.resident_mb(), len(pinned)]))
"""


def test_trim_hands_freed_holes_back_to_the_system() -> None:
    """Memory freed between live objects stays resident until trim() gives its pages back."""
    done = subprocess.run([sys.executable, "-c", TRIM_SCRIPT], capture_output=True, text=True, check=True)
    before, held, after, pinned = json.loads(done.stdout)
    assert held > before + 40, (before, held)
    assert after < held - 30, (before, held, after)
    assert pinned == 938


def test_arena_cap_is_applied_and_zero_keeps_the_default() -> None:
    """limit_arenas sets M_ARENA_MAX through mallopt; 0 means glibc's own default (nothing set)."""
    assert memory.limit_arenas(2) is True
    assert memory.limit_arenas(0) is False


def test_lifespan_caps_arenas_and_runs_the_trim_task(tmp_path: Path) -> None:
    """The worker's own start-up (the app lifespan) starts the periodic trim, so no deployment forgets it."""

    async def run() -> list[str]:
        settings = Settings(handoff_database_url=f"sqlite:///{tmp_path / 'store.sqlite3'}", memory_trim_seconds=0.01)
        app = create_app(settings, processors=False)
        async with app.router.lifespan_context(app):
            await asyncio.sleep(0.05)
            return [task.get_name() for task in asyncio.all_tasks()]

    assert "trim" in asyncio.run(run())

"""Store calls run where the driver says: inline for SQLite, in a bounded thread pool for PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from connectors.store import SQLiteStore
from connectors.worker.offload import Inline, Offload, store_calls


def _thread_name() -> str:
    return threading.current_thread().name


def test_inline_runs_on_the_event_loop_thread() -> None:
    """An inline call runs in the caller's thread and returns its value."""

    async def main() -> tuple[str, str]:
        return threading.current_thread().name, await Inline()(_thread_name)

    loop_thread, call_thread = asyncio.run(main())
    assert call_thread == loop_thread


def test_offload_runs_in_at_most_its_threads_and_passes_arguments() -> None:
    """Offloaded calls run in 'store' threads, never more at once than the pool has, with their arguments."""
    pool = Offload(2)
    running = 0
    most = 0
    guard = threading.Lock()
    release = threading.Event()

    def call(n: int, *, scale: int) -> tuple[int, str]:
        nonlocal running, most
        with guard:
            running += 1
            most = max(most, running)
        release.wait(5)
        with guard:
            running -= 1
        return n * scale, threading.current_thread().name

    async def main() -> list[tuple[int, str]]:
        tasks = [asyncio.ensure_future(pool(call, n, scale=10)) for n in range(5)]
        # Wait for the pool to fill (however slow thread start-up is under load), then give a third
        # thread, if the bound were broken, a moment to join before releasing them all.
        for _ in range(1000):
            if most >= 2:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        release.set()
        return await asyncio.gather(*tasks)

    try:
        results = asyncio.run(main())
    finally:
        pool.close()
    assert [value for value, _ in results] == [0, 10, 20, 30, 40]
    assert all(name.startswith("store") for _, name in results)
    assert most == 2


@pytest.mark.parametrize(("remote", "kind"), [(False, Inline), (True, Offload)])
def test_the_driver_decides_where_calls_run(remote: bool, kind: type) -> None:
    """A remote store (PostgreSQL) gets the thread pool; the embedded SQLite store runs inline."""
    calls = store_calls(remote=remote, workers=2)
    try:
        assert isinstance(calls, kind)
    finally:
        calls.close()


def test_sqlite_store_is_not_remote(tmp_path: Path) -> None:
    """The SQLite store says its calls are local, so the worker runs them inline."""
    store = SQLiteStore(tmp_path / "s.sqlite3")
    try:
        assert store.remote is False
    finally:
        store.close()

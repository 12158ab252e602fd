"""The store fixture every store test module shares: one database per test, on SQLite and on PostgreSQL.

One definition, so the contract suite and the lag tests always run on the same pair of drivers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from connectors.store import WorkerStore, open_store


@pytest.fixture(params=["sqlite", "postgres"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], WorkerStore]]:
    """Opens store objects on one database; several objects stand for several replicas."""
    url = f"sqlite:///{tmp_path}/s.db" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    opened: list[WorkerStore] = []

    def open_one() -> WorkerStore:
        store = open_store(url)
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.close()

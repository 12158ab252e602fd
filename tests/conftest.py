"""Session-wide fixtures: one throw-away PostgreSQL cluster for every test that needs a real PostgreSQL."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pg import SKIP_REASON, Cluster, cluster_fixture


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster | None]:
    """Started on first use only, so runs without PostgreSQL tests never pay for it."""
    yield from cluster_fixture()


@pytest.fixture
def pg_url(pg_cluster: Cluster | None) -> str:
    """A fresh empty PostgreSQL database for one test (skips with a clear message without PostgreSQL)."""
    if pg_cluster is None:
        pytest.skip(SKIP_REASON)
    return pg_cluster.new_database()

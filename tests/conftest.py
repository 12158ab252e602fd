"""Session-wide fixtures and the rules that let the suite run in several processes at once (pytest-xdist).

``tools/test`` runs the suite on 2 workers (``--dist loadfile``: a file's tests stay on one worker, so a
module's heavy fixtures are built once). Three things keep workers from meeting each other:

* Files: every process gets its own ``XDG_DATA_HOME`` under its own pytest temp folder, so the store,
  the knowledge cache and anything else that defaults to ``~/.local/share`` never lands in (or is read from)
  a folder another worker, another test run or the developer's own worker uses.
* PostgreSQL: one throw-away cluster per worker process on an OS-chosen port (tests/pg.py), started on
  first use only; every test gets its own fresh database in it.
* Order: the heaviest files are handed out first (:data:`HEAVY_FIRST`), so the last minute of a run is not
  one worker alone on a 30 s file while the other waits.

Servers bind port 0 and ask the OS which port it gave (tests/fakes/server.py), never a fixed port.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pg import SKIP_REASON, Cluster, cluster_fixture

#: The test files that take longest, handed out first in this order (longest first: two workers then end
#: close together); every other file keeps its place after them. Only the order changes, nothing is skipped;
#: a name that is not collected is ignored. Measured with ``--durations=0`` (seconds of a file at load ~10,
#: where the wall time includes waiting for the worker subprocesses and servers a test starts).
HEAVY_FIRST = (
    "tests/test_static_checks.py",  # mypy --strict from a cold cache in a fresh clone, ruff, import-linter
    "tests/e2e/test_replicas.py",  # three `handoff serve` processes on PostgreSQL, one killed
    "tests/test_knowledge_real_floor.py",  # a coverage head fitted on real Bitext questions (with ../shared)
    "tests/core/test_accuracy.py",
    "tests/core/test_fast_paths.py",
    "tests/report/test_weekly_review.py",  # a generated week through the core, then Chromium
    "tests/core/test_cache.py",
    "tests/e2e/test_restart.py",  # a `handoff serve` process SIGKILLed and started again
    "tests/cli/test_policy_commands.py",
    "tests/core/test_transformer.py",
    "tests/e2e/test_zendesk_flow.py",
    "tests/e2e/test_hardening.py",
    "tests/core/test_knowledge.py",
    "tests/store/test_query_plans_pg.py",  # 20,000-row PostgreSQL tables, EXPLAIN of every statement
    "tests/core/test_summary.py",
    "tests/core/test_sales_and_hours.py",
    "tests/e2e/test_bad_input.py",
    "tests/e2e/test_ack_durability.py",
    "tests/e2e/test_decision_processes.py",
    "tests/report/test_review_figures_unchanged.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Heavy files first (stable: within a file, and among the other files, the order is unchanged)."""
    rank = {name: n for n, name in enumerate(HEAVY_FIRST)}
    root = Path(str(config.rootpath))

    def key(item: pytest.Item) -> int:
        try:
            relative = Path(str(item.path)).relative_to(root).as_posix()
        except ValueError:
            return len(rank)
        return rank.get(relative, len(rank))

    items.sort(key=key)


@pytest.fixture(scope="session", autouse=True)
def _own_data_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """This process's own ``XDG_DATA_HOME`` (default store and knowledge cache), removed with its temp dir."""
    folder = tmp_path_factory.mktemp("xdg-data-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_DATA_HOME", str(folder))
        yield folder


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster | None]:
    """Started on first use only, so runs without PostgreSQL tests never pay for it; one per xdist worker."""
    yield from cluster_fixture()


@pytest.fixture
def pg_url(pg_cluster: Cluster | None) -> Iterator[str]:
    """A fresh empty PostgreSQL database for one test (skips with a clear message without PostgreSQL),
    dropped after it."""
    if pg_cluster is None:
        pytest.skip(SKIP_REASON)
    url = pg_cluster.new_database()
    yield url
    pg_cluster.drop_database(url)

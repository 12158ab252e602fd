"""How many decision processes the worker forks: DECISION_PROCESSES, or one per usable core but one."""

from __future__ import annotations

import os

import pytest

from connectors.settings import Settings
from connectors.worker.processes import default_processes
from connectors.worker.wiring import decision_processes


@pytest.mark.parametrize(
    ("cores", "expected"),
    [(None, 0), (1, 0), (2, 1), (3, 2), (5, 4), (64, 4)],
)
def test_default_is_one_per_core_but_one_at_most_four(cores: int | None, expected: int) -> None:
    """One core (or an unknown count) keeps decisions in threads; more cores leave one to the event loop."""
    assert default_processes(cores) == expected


def test_the_setting_wins_and_unset_follows_the_usable_cores() -> None:
    """DECISION_PROCESSES=0 or 3 is taken as given; unset, the cores this process may run on decide."""
    assert decision_processes(Settings(_env_file=None, decision_processes=0)) == 0
    assert decision_processes(Settings(_env_file=None, decision_processes=3)) == 3
    usable = len(os.sched_getaffinity(0))
    assert decision_processes(Settings(_env_file=None, decision_processes=None)) == default_processes(usable)

"""The launch checklist (``handoff check``) as part of the review.

Why an adapter: the checklist itself belongs to the core (``handoff_core.checklist.run_checklist``);
the review only shows its result. A policy that does not load, or a core without the checklist, must
not stop the weekly review: the section then says why it could not be run.

Errors: none escape; every failure becomes ``Checklist(error=...)``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from connectors.report.data import Checklist, ChecklistEntry
from handoff_core.errors import HandoffError
from handoff_core.policy import load_policy


def _runner() -> Callable[[Any], Sequence[Any]] | None:
    try:
        module = importlib.import_module("handoff_core.checklist")
    except ImportError:
        return None
    run: Callable[[Any], Sequence[Any]] = module.run_checklist
    return run


def load_checklist(policy_path: Path) -> Checklist:
    """Run the core's launch checklist on the policy at ``policy_path``."""
    run = _runner()
    if run is None:
        return Checklist(error="this version of handoff_core has no launch checklist")
    try:
        policy = load_policy(policy_path)
    except (HandoffError, OSError) as exc:
        return Checklist(error=f"the policy {policy_path} does not load: {exc}")
    items = run(policy)
    return Checklist(
        entries=tuple(ChecklistEntry(str(i.name), bool(i.passed), str(i.fix or "")) for i in items)
    )

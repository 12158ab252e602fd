"""The launch checklist (``handoff check``) as part of the review.

Why an adapter: the checklist itself belongs to the core (:func:`handoff_core.checklist.run_checklist`);
the review only shows its result. A policy that does not load must not stop the weekly review: the
section then says why the checklist could not be run.

Errors: none escape; a policy that does not load becomes ``Checklist(error=...)``.
"""

from __future__ import annotations

from pathlib import Path

from connectors.report.data import Checklist, ChecklistEntry
from handoff_core.checklist import run_checklist
from handoff_core.errors import HandoffError
from handoff_core.policy import load_policy


def load_checklist(policy_path: Path) -> Checklist:
    """Run the core's launch checklist on the policy at ``policy_path``."""
    try:
        policy = load_policy(policy_path)
    except (HandoffError, OSError) as exc:
        return Checklist(error=f"the policy {policy_path} does not load: {exc}")
    return Checklist(entries=tuple(ChecklistEntry(i.name, i.passed, i.fix) for i in run_checklist(policy)))

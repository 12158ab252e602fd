"""Build a review straight from the store: the one entry point the CLI and the Slack schedule share.

Why: both must read the same decisions (live only unless simulated ones are asked for, the previous
period the same length right before) so that the scheduled post and ``handoff report`` never disagree.

Errors: none of its own (see :mod:`connectors.audit.log`).
"""

from __future__ import annotations

from connectors.audit.log import AuditLog
from connectors.audit.queries import DecisionFilter, fetch_decisions
from connectors.report.data import Checklist, Review, build_review
from connectors.report.period import Period


def review_from_store(
    log: AuditLog,
    period: Period,
    *,
    include_simulated: bool = False,
    compare_previous: bool = False,
    checklist: Checklist | None = None,
) -> Review:
    """The review of ``period`` (and of the previous period of the same length when asked)."""
    simulated = None if include_simulated else False
    previous = None
    if compare_previous:
        before = period.previous()
        records = fetch_decisions(log, DecisionFilter(since=before.start, until=before.end, simulated=simulated))
        previous = build_review(records, before, include_simulated=include_simulated, group_questions=False)
    records = fetch_decisions(log, DecisionFilter(since=period.start, until=period.end, simulated=simulated))
    return build_review(records, period, include_simulated=include_simulated, checklist=checklist, previous=previous)

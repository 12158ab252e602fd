"""Build a review straight from the store: the one entry point the CLI and the Slack schedule share.

Why: both must read the same decisions (live only unless simulated ones are asked for, the previous
period the same length right before) so that the scheduled post and ``handoff report`` never disagree.

The decisions are streamed (:func:`connectors.report.queries.iter_review_rows`), never loaded whole.

Errors: none of its own (see :mod:`connectors.audit.log`).
"""

from __future__ import annotations

from connectors.audit.port import AuditReader
from connectors.report.data import Checklist, Review, build_review
from connectors.report.period import Period
from connectors.report.queries import iter_review_rows


def review_from_store(
    log: AuditReader,
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
        rows = iter_review_rows(log, before.start, before.end, simulated)
        previous = build_review(rows, before, include_simulated=include_simulated, group_questions=False)
    rows = iter_review_rows(log, period.start, period.end, simulated)
    return build_review(rows, period, include_simulated=include_simulated, checklist=checklist, previous=previous)

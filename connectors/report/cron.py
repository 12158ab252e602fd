"""When the weekly review is next due: the cron arithmetic alone.

Why its own module: the worker's review schedule sleeps until the next run for the whole life of the
process, and importing :mod:`connectors.report.schedule` for it would load the review's grouping,
figures and queries (~2.7 MB) into every live worker days before a review is due (docs/volume.md).
"""

from __future__ import annotations

from datetime import UTC, datetime

from croniter import croniter


def next_run(cron: str, after: datetime) -> datetime:
    """The first time strictly after ``after`` that matches ``cron`` (UTC; naive ``after`` is UTC)."""
    if not croniter.is_valid(cron):
        raise ValueError(f"not a valid cron expression: {cron!r} (example: '0 9 * * MON')")
    start = after.replace(tzinfo=UTC) if after.tzinfo is None else after.astimezone(UTC)
    result: datetime = croniter(cron, start).get_next(datetime)
    return result.astimezone(UTC)

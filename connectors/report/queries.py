"""The review's read of the audit log: one lean row per decision, streamed in pages, summed up in SQL.

Why not :func:`connectors.audit.queries.fetch_decisions`: it builds every record with every reason's
evidence, every delivery and every event, all in memory at once. A 100,000-decision week read that way
held a gigabyte. The review needs a handful of facts per decision (:class:`ReviewRow`), and the database
works most of them out where the rows are; the SQL lives with the audit log's drivers
(:func:`connectors.audit.sql.review_rows_sql`, one statement for SQLite and PostgreSQL but for three
named fragments), behind :meth:`connectors.audit.port.AuditReader.review_rows`.

Errors: none of its own; database errors propagate (the CLI turns them into one line).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from connectors.audit.port import AuditReader
from connectors.audit.queries import ReviewRow
from connectors.audit.sql import review_rows_sql

__all__ = ["ReviewRow", "dialect_of", "iter_review_rows", "review_rows_sql"]


def dialect_of(log: AuditReader) -> str:
    """``sqlite`` for the default store, ``postgresql`` when the log runs on PostgreSQL."""
    return log.dialect


def iter_review_rows(log: AuditReader, since: datetime, until: datetime, simulated: bool | None) -> Iterator[ReviewRow]:
    """Decisions in ``[since, until)`` (live, simulated or both when ``simulated`` is None), in time order."""
    return log.review_rows(since, until, simulated)

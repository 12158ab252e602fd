"""The time window a review or a query covers, and the strings people type to name one.

Why its own module: ``--since 7d`` and ``--from 2024-06-03 --to 2024-06-09`` must mean the same thing in
``handoff decisions``, ``handoff report`` and the scheduled Slack post. Days are UTC days: the audit log
stores UTC, and a review that shifted with the reader's time zone would not match the export.

Errors: ``ValueError`` with a message that says what was expected (the CLI turns it into a usage error).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """``"7d"``, ``"24h"``, ``"30m"``, ``"2w"``, ``"90s"`` as a timedelta (must be positive)."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"expected a duration such as 7d, 24h, 30m or 2w, got {text!r}")
    amount = int(match.group(1))
    if amount <= 0:
        raise ValueError(f"the duration must be positive, got {text!r}")
    return timedelta(**{_UNITS[match.group(2).lower()]: amount})


def parse_instant(text: str) -> datetime:
    """An ISO 8601 date or date-time as an aware UTC datetime (a date means its UTC midnight)."""
    try:
        if len(text.strip()) == 10:
            return datetime.combine(date.fromisoformat(text.strip()), time(), tzinfo=UTC)
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"expected a date like 2024-06-03 or 2024-06-03T09:00:00Z, got {text!r}") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_since(text: str, now: datetime) -> datetime:
    """``--since``: a duration back from ``now`` (``7d``) or an absolute date/time."""
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        return parse_instant(text)
    except ValueError:
        raise ValueError(f"--since expects a duration (7d, 24h) or a date (2024-06-03), got {text!r}") from None


@dataclass(frozen=True)
class Period:
    """A half-open window ``[start, end)`` in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"the period must end after it starts ({self.start:%Y-%m-%d} .. {self.end:%Y-%m-%d})")

    @classmethod
    def last(cls, duration: timedelta, now: datetime) -> Period:
        return cls(now - duration, now)

    @classmethod
    def between(cls, first: str, last: str) -> Period:
        """``--from``/``--to``: a date ``--to`` includes that whole day; a date-time is the exact end."""
        start = parse_instant(first)
        end = parse_instant(last)
        if len(last.strip()) == 10:
            end += timedelta(days=1)
        return cls(start, end)

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def previous(self) -> Period:
        """The period of the same length that ends where this one starts."""
        return Period(self.start - self.length, self.start)

    def days(self) -> list[date]:
        """Every UTC day the period touches, in order."""
        first = self.start.date()
        last = (self.end - timedelta(microseconds=1)).date()
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def label(self) -> str:
        last = self.end - timedelta(microseconds=1)
        return f"{self.start:%Y-%m-%d %H:%M} – {last:%Y-%m-%d %H:%M} UTC"

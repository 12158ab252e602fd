"""Business hours: whether a person is there now, and if not, when one will be.

Why this lives in the core: the customer-facing text of a handoff depends on it ("a person will reply by
Monday 09:00 CET"), and decisions must be reproducible, so the current time is always an *input* (the
worker passes the clock, ``simulate`` passes ``--now`` or the conversation's own timestamps). Nothing
here reads the clock, the network or the environment.

A :class:`Schedule` is weekly opening intervals in one IANA time zone plus whole-day holidays, the shape
of both the policy's ``business_hours.schedules`` and Zendesk's business-hours schedules (the connector
turns those into this class). Opening times are *wall-clock* times in the schedule's zone: 09:00 stays
09:00 across a daylight-saving change, and a time that does not exist on the spring-forward night is
read the way :mod:`zoneinfo` reads it (with the offset before the change).

Errors::

    ValueError     an unknown time zone or a malformed interval (raised while building a Schedule; the
                   policy schema turns it into a PolicyProblem with the line)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: Weekday keys in the policy, Monday first (``datetime.weekday()`` order).
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
#: How far ahead to look for the next opening (a year covers any run of holidays a policy may name).
LOOKAHEAD_DAYS = 370

#: Weekday names for the customer text, Monday first. A policy may add languages (``messages.weekdays``).
WEEKDAY_NAMES: dict[str, tuple[str, ...]] = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "pt": ("segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira", "sábado", "domingo"),
    "it": ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"),
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
}


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``, or a ValueError that names it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Europe/Madrid)") from exc


def parse_range(text: str) -> tuple[int, int]:
    """``"09:00-17:30"`` as minutes after local midnight; ``24:00`` is allowed as an end."""

    def minutes(part: str) -> int:
        hours, _, mins = part.strip().partition(":")
        if not (hours.isdigit() and mins.isdigit() and len(mins) == 2):
            raise ValueError(f"{text!r} is not a range like 09:00-17:00")
        value = int(hours) * 60 + int(mins)
        if int(mins) > 59 or value > MINUTES_PER_DAY:
            raise ValueError(f"{text!r} has a time outside 00:00-24:00")
        return value

    start, sep, end = text.partition("-")
    if not sep:
        raise ValueError(f"{text!r} is not a range like 09:00-17:00")
    first, last = minutes(start), minutes(end)
    if first >= last:
        raise ValueError(
            f"{text!r} ends before it starts; a shift past midnight is two ranges (22:00-24:00 and 00:00-06:00)"
        )
    return first, last


@dataclass(frozen=True, slots=True)
class Interval:
    """Open on ``weekday`` (0 = Monday) from ``start`` to ``end``, in minutes after local midnight."""

    weekday: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Holiday:
    """Closed all day from ``first`` to ``last`` (inclusive), in the schedule's zone."""

    first: date
    last: date
    name: str | None = None

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last


@dataclass(frozen=True, slots=True)
class Availability:
    """Whether a person is there at ``now``, and when one will be (``next_open``; ``now`` when open)."""

    open: bool
    next_open: datetime | None
    schedule: str


@dataclass(frozen=True, slots=True)
class Schedule:
    name: str
    timezone: str
    intervals: tuple[Interval, ...]
    holidays: tuple[Holiday, ...] = ()

    def __post_init__(self) -> None:
        zone(self.timezone)
        for i in self.intervals:
            if not (0 <= i.weekday < 7 and 0 <= i.start < i.end <= MINUTES_PER_DAY):
                raise ValueError(f"schedule {self.name!r}: bad interval {i}")

    @classmethod
    def weekly(
        cls,
        name: str,
        timezone: str,
        hours: Mapping[str, Sequence[str]],
        holidays: Iterable[Holiday] = (),
    ) -> Schedule:
        """From the policy's shape: ``{"mon": ["09:00-17:00"], ...}``."""
        intervals = []
        for key, ranges in hours.items():
            if key not in WEEKDAYS:
                raise ValueError(f"{key!r} is not a weekday ({', '.join(WEEKDAYS)})")
            for text in ranges:
                start, end = parse_range(text)
                intervals.append(Interval(WEEKDAYS.index(key), start, end))
        return cls(name, timezone, tuple(sorted(intervals, key=lambda i: (i.weekday, i.start))), tuple(holidays))

    @classmethod
    def from_week_minutes(
        cls, name: str, timezone: str, intervals: Iterable[tuple[int, int]], holidays: Iterable[Holiday] = ()
    ) -> Schedule:
        """From Zendesk's shape: minutes since Sunday 00:00, intervals within one calendar day."""
        out = []
        for start, end in intervals:
            day, offset = divmod(start, MINUTES_PER_DAY)
            if not (0 <= start < end <= 7 * MINUTES_PER_DAY) or end - day * MINUTES_PER_DAY > MINUTES_PER_DAY:
                raise ValueError(f"schedule {name!r}: interval {start}-{end} spans calendar days")
            out.append(Interval((day + 6) % 7, offset, end - day * MINUTES_PER_DAY))
        return cls(name, timezone, tuple(sorted(out, key=lambda i: (i.weekday, i.start))), tuple(holidays))

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)

    def _openings(self, day: date) -> Iterable[tuple[datetime, datetime]]:
        if any(h.covers(day) for h in self.holidays):
            return
        tz = self.tz
        for i in self.intervals:
            if i.weekday != day.weekday():
                continue
            start = datetime.combine(day, time(i.start // 60, i.start % 60), tzinfo=tz)
            if i.end == MINUTES_PER_DAY:
                end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
            else:
                end = datetime.combine(day, time(i.end // 60, i.end % 60), tzinfo=tz)
            yield start.astimezone(UTC), end.astimezone(UTC)

    def availability(self, now: datetime) -> Availability:
        """Open at ``now`` (an aware datetime; naive is taken as UTC)? If not, the next opening."""
        now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
        # Start a day early: an interval of yesterday (in this zone) cannot reach today, but a negative
        # offset zone's "today" may still be yesterday in UTC terms.
        day = now.astimezone(self.tz).date() - timedelta(days=1)
        for _ in range(LOOKAHEAD_DAYS):
            for start, end in self._openings(day):
                if start <= now < end:
                    return Availability(True, now, self.name)
                if start > now:
                    return Availability(False, start, self.name)
            day += timedelta(days=1)
        return Availability(False, None, self.name)


def zone_label(at: datetime) -> str:
    """``CET``, ``CEST``, ``EST``; zones without a letter abbreviation read as ``UTC-03``."""
    abbreviation = at.strftime("%Z")
    if abbreviation and abbreviation[0] in "+-":
        offset = at.utcoffset() or timedelta(0)
        total = int(offset.total_seconds() // 60)
        sign = "-" if total < 0 else "+"
        hours, minutes = divmod(abs(total), 60)
        return f"UTC{sign}{hours:02d}" + (f":{minutes:02d}" if minutes else "")
    return abbreviation or "UTC"


def format_reply_by(
    at: datetime,
    schedule: Schedule,
    language: str,
    now: datetime,
    names: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """``Monday 09:00 CET`` in the customer's language; beyond the coming week the date is added."""
    local = at.astimezone(schedule.tz)
    table = {**WEEKDAY_NAMES, **(names or {})}
    weekdays = table.get(language) or table["en"]
    day = weekdays[local.weekday()]
    now_local = now.astimezone(schedule.tz)
    when = f"{day} {local:%H:%M} {zone_label(local)}"
    if (local.date() - now_local.date()).days >= 7:
        when = f"{day} {local.date().isoformat()} {local:%H:%M} {zone_label(local)}"
    return when

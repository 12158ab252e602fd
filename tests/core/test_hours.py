"""Business hours: open or closed at a given instant, and the next opening, across the awkward cases."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from handoff_core.hours import Holiday, Schedule, format_reply_by, parse_range, zone_label

WEEKDAYS_9_TO_17 = {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
MADRID = Schedule.weekly(
    "support",
    "Europe/Madrid",
    WEEKDAYS_9_TO_17,
    [Holiday(date(2026, 12, 25), date(2026, 12, 25), "Christmas"), Holiday(date(2026, 12, 31), date(2027, 1, 1))],
)
#: A night shift across midnight is two ranges; Saturday has none.
NIGHTS = Schedule.weekly(
    "nights",
    "America/New_York",
    {"fri": ["22:00-24:00"], "sat": ["00:00-06:00"], "mon": ["09:00-17:00"]},
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


CASES = [
    # (schedule, now (UTC), open?, next opening (UTC) or None when open)
    ("weekday 10:00 Madrid (09:00 UTC in winter) is open", MADRID, utc(2026, 11, 25, 9, 0), True, None),
    ("08:59 Madrid is closed, opens at 09:00 CET", MADRID, utc(2026, 11, 25, 7, 59), False, utc(2026, 11, 25, 8, 0)),
    ("17:00 Madrid is closed (end is exclusive)", MADRID, utc(2026, 11, 25, 16, 0), False, utc(2026, 11, 26, 8, 0)),
    ("Sunday 03:00 waits for Monday 09:00", MADRID, utc(2026, 11, 29, 2, 0), False, utc(2026, 11, 30, 8, 0)),
    ("Friday evening waits over the weekend", MADRID, utc(2026, 11, 27, 18, 0), False, utc(2026, 11, 30, 8, 0)),
    ("midnight exactly, Wednesday", MADRID, utc(2026, 11, 24, 23, 0), False, utc(2026, 11, 25, 8, 0)),
    ("Christmas Day is a holiday", MADRID, utc(2026, 12, 25, 10, 0), False, utc(2026, 12, 28, 8, 0)),
    ("New Year closure spans two days", MADRID, utc(2026, 12, 30, 17, 0), False, utc(2027, 1, 4, 8, 0)),
    # DST: Madrid moves to CEST on Sunday 29 March 2026; 09:00 local is then 07:00 UTC, not 08:00.
    ("after the spring change 09:00 CEST is 07:00 UTC", MADRID, utc(2026, 3, 28, 12, 0), False, utc(2026, 3, 30, 7, 0)),
    ("07:30 UTC on the Monday after the change is open", MADRID, utc(2026, 3, 30, 7, 30), True, None),
    # Autumn: back to CET on Sunday 25 October 2026.
    (
        "after the autumn change 09:00 CET is 08:00 UTC",
        MADRID,
        utc(2026, 10, 24, 12, 0),
        False,
        utc(2026, 10, 26, 8, 0),
    ),
    (
        "07:30 UTC on the Monday after the autumn change is closed",
        MADRID,
        utc(2026, 10, 26, 7, 30),
        False,
        utc(2026, 10, 26, 8, 0),
    ),
    # Another zone than the worker's: New York, with a shift across midnight.
    ("Friday 23:00 New York is open (night shift)", NIGHTS, utc(2026, 11, 28, 4, 0), True, None),
    ("Saturday 00:30 New York is open (second half of the shift)", NIGHTS, utc(2026, 11, 28, 5, 30), True, None),
    (
        "Saturday 06:00 New York closes until Monday 09:00 EST",
        NIGHTS,
        utc(2026, 11, 28, 11, 0),
        False,
        utc(2026, 11, 30, 14, 0),
    ),
    (
        "US DST starts 8 March 2026: Monday 09:00 EDT is 13:00 UTC",
        NIGHTS,
        utc(2026, 3, 8, 12, 0),
        False,
        utc(2026, 3, 9, 13, 0),
    ),
]


@pytest.mark.parametrize(("case", "schedule", "now", "is_open", "next_open"), CASES, ids=[c[0] for c in CASES])
def test_availability(case: str, schedule: Schedule, now: datetime, is_open: bool, next_open: datetime | None) -> None:
    """The schedule is open or closed as a person reading the wall clock in its zone would say."""
    found = schedule.availability(now)
    assert found.open is is_open, case
    if is_open:
        assert found.next_open == now
    else:
        assert found.next_open == next_open, case


def test_naive_now_is_utc() -> None:
    """A naive instant is read as UTC rather than the worker's local time."""
    assert MADRID.availability(datetime(2026, 11, 25, 9, 0)).open


def test_schedule_with_no_hours_never_opens() -> None:
    """A schedule whose every day is a holiday reports no next opening instead of looping."""
    closed = Schedule.weekly("x", "UTC", {"mon": ["09:00-10:00"]}, [Holiday(date(2026, 1, 1), date(2028, 1, 1))])
    assert closed.availability(utc(2026, 6, 1)).next_open is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("9-17", "not a range"),
        ("17:00-09:00", "ends before it starts"),
        ("09:00-25:00", "outside"),
        ("09:60-10:00", "outside"),
    ],
)
def test_bad_ranges_are_explained(text: str, problem: str) -> None:
    """Malformed opening hours fail with a message saying what is wrong."""
    with pytest.raises(ValueError, match=problem):
        parse_range(text)


def test_unknown_time_zone_is_an_error() -> None:
    """A misspelt zone is rejected when the schedule is built, naming the zone."""
    with pytest.raises(ValueError, match="Europe/Madird"):
        Schedule.weekly("x", "Europe/Madird", {"mon": ["09:00-17:00"]})


def test_zendesk_week_minutes() -> None:
    """Zendesk's minutes-since-Sunday intervals map to the same weekdays (Monday 09:00-17:00 = 1980-2460)."""
    s = Schedule.from_week_minutes("z", "Europe/Madrid", [(1980, 2460), (0, 60)])
    assert [(i.weekday, i.start, i.end) for i in s.intervals] == [(0, 540, 1020), (6, 0, 60)]
    with pytest.raises(ValueError, match="spans calendar days"):
        Schedule.from_week_minutes("z", "UTC", [(1980, 3900)])


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "Monday 09:00 CET"), ("es", "lunes 09:00 CET"), ("de", "Montag 09:00 CET"), ("xx", "Monday 09:00 CET")],
)
def test_reply_by_in_the_customers_language(language: str, expected: str) -> None:
    """The reply time reads like "Monday 09:00 CET" in the customer's language (English when unknown)."""
    at = MADRID.availability(utc(2026, 11, 29, 2, 0)).next_open
    assert at is not None
    assert format_reply_by(at, MADRID, language, utc(2026, 11, 29, 2, 0)) == expected


def test_reply_by_far_ahead_names_the_date() -> None:
    """Beyond the coming week the weekday alone would be ambiguous, so the date is added."""
    at = utc(2027, 1, 4, 8, 0)
    assert format_reply_by(at, MADRID, "en", utc(2026, 12, 24, 20, 0)) == "Monday 2027-01-04 09:00 CET"


def test_zone_without_abbreviation_reads_as_offset() -> None:
    """Zones whose abbreviation is a number (São Paulo: "-03") are shown as UTC-03."""
    sp = Schedule.weekly("sp", "America/Sao_Paulo", {"mon": ["09:00-17:00"]})
    assert zone_label(utc(2026, 11, 30, 12, 0).astimezone(sp.tz)) == "UTC-03"

"""Zendesk business-hours schedules as the core's :class:`~handoff_core.hours.Schedule`.

Why a translator of its own: Zendesk names time zones the Rails way ("Pacific Time (US & Canada)") and
counts opening minutes from Sunday 00:00, while the core takes IANA zones and weekdays from Monday. The
policy names which Zendesk schedule stands behind which of its schedules (``zendesk: "Sales EMEA"`` or a
numeric id); everything that cannot be matched or read is returned as a problem for ``/readyz``, never
silently dropped.
"""

from __future__ import annotations

from collections.abc import Iterable

from connectors.zendesk.models import ZSchedule
from handoff_core.hours import Holiday, Schedule, zone
from handoff_core.policy import Policy

#: Rails (ActiveSupport::TimeZone) names Zendesk reports, to IANA zones. IANA names pass through unchanged.
RAILS_ZONES: dict[str, str] = {
    "International Date Line West": "Etc/GMT+12",
    "Midway Island": "Pacific/Midway",
    "American Samoa": "Pacific/Pago_Pago",
    "Hawaii": "Pacific/Honolulu",
    "Alaska": "America/Juneau",
    "Pacific Time (US & Canada)": "America/Los_Angeles",
    "Tijuana": "America/Tijuana",
    "Mountain Time (US & Canada)": "America/Denver",
    "Arizona": "America/Phoenix",
    "Chihuahua": "America/Chihuahua",
    "Mazatlan": "America/Mazatlan",
    "Central Time (US & Canada)": "America/Chicago",
    "Saskatchewan": "America/Regina",
    "Guadalajara": "America/Mexico_City",
    "Mexico City": "America/Mexico_City",
    "Monterrey": "America/Monterrey",
    "Central America": "America/Guatemala",
    "Eastern Time (US & Canada)": "America/New_York",
    "Indiana (East)": "America/Indiana/Indianapolis",
    "Bogota": "America/Bogota",
    "Lima": "America/Lima",
    "Quito": "America/Lima",
    "Atlantic Time (Canada)": "America/Halifax",
    "Caracas": "America/Caracas",
    "La Paz": "America/La_Paz",
    "Santiago": "America/Santiago",
    "Newfoundland": "America/St_Johns",
    "Brasilia": "America/Sao_Paulo",
    "Buenos Aires": "America/Argentina/Buenos_Aires",
    "Montevideo": "America/Montevideo",
    "Georgetown": "America/Guyana",
    "Greenland": "America/Godthab",
    "Mid-Atlantic": "Atlantic/South_Georgia",
    "Azores": "Atlantic/Azores",
    "Cape Verde Is.": "Atlantic/Cape_Verde",
    "Dublin": "Europe/Dublin",
    "Edinburgh": "Europe/London",
    "Lisbon": "Europe/Lisbon",
    "London": "Europe/London",
    "Casablanca": "Africa/Casablanca",
    "Monrovia": "Africa/Monrovia",
    "UTC": "Etc/UTC",
    "Amsterdam": "Europe/Amsterdam",
    "Belgrade": "Europe/Belgrade",
    "Berlin": "Europe/Berlin",
    "Bern": "Europe/Zurich",
    "Bratislava": "Europe/Bratislava",
    "Brussels": "Europe/Brussels",
    "Budapest": "Europe/Budapest",
    "Copenhagen": "Europe/Copenhagen",
    "Ljubljana": "Europe/Ljubljana",
    "Madrid": "Europe/Madrid",
    "Paris": "Europe/Paris",
    "Prague": "Europe/Prague",
    "Rome": "Europe/Rome",
    "Sarajevo": "Europe/Sarajevo",
    "Skopje": "Europe/Skopje",
    "Stockholm": "Europe/Stockholm",
    "Vienna": "Europe/Vienna",
    "Warsaw": "Europe/Warsaw",
    "West Central Africa": "Africa/Algiers",
    "Zagreb": "Europe/Zagreb",
    "Zurich": "Europe/Zurich",
    "Athens": "Europe/Athens",
    "Bucharest": "Europe/Bucharest",
    "Cairo": "Africa/Cairo",
    "Harare": "Africa/Harare",
    "Helsinki": "Europe/Helsinki",
    "Jerusalem": "Asia/Jerusalem",
    "Kaliningrad": "Europe/Kaliningrad",
    "Kyiv": "Europe/Kiev",
    "Pretoria": "Africa/Johannesburg",
    "Riga": "Europe/Riga",
    "Sofia": "Europe/Sofia",
    "Tallinn": "Europe/Tallinn",
    "Vilnius": "Europe/Vilnius",
    "Baghdad": "Asia/Baghdad",
    "Istanbul": "Europe/Istanbul",
    "Kuwait": "Asia/Kuwait",
    "Minsk": "Europe/Minsk",
    "Moscow": "Europe/Moscow",
    "Nairobi": "Africa/Nairobi",
    "Riyadh": "Asia/Riyadh",
    "St. Petersburg": "Europe/Moscow",
    "Tehran": "Asia/Tehran",
    "Abu Dhabi": "Asia/Muscat",
    "Baku": "Asia/Baku",
    "Muscat": "Asia/Muscat",
    "Tbilisi": "Asia/Tbilisi",
    "Yerevan": "Asia/Yerevan",
    "Kabul": "Asia/Kabul",
    "Karachi": "Asia/Karachi",
    "Tashkent": "Asia/Tashkent",
    "Chennai": "Asia/Kolkata",
    "Kolkata": "Asia/Kolkata",
    "Mumbai": "Asia/Kolkata",
    "New Delhi": "Asia/Kolkata",
    "Sri Jayawardenepura": "Asia/Colombo",
    "Kathmandu": "Asia/Kathmandu",
    "Astana": "Asia/Dhaka",
    "Dhaka": "Asia/Dhaka",
    "Almaty": "Asia/Almaty",
    "Rangoon": "Asia/Rangoon",
    "Bangkok": "Asia/Bangkok",
    "Hanoi": "Asia/Bangkok",
    "Jakarta": "Asia/Jakarta",
    "Novosibirsk": "Asia/Novosibirsk",
    "Krasnoyarsk": "Asia/Krasnoyarsk",
    "Beijing": "Asia/Shanghai",
    "Chongqing": "Asia/Chongqing",
    "Hong Kong": "Asia/Hong_Kong",
    "Kuala Lumpur": "Asia/Kuala_Lumpur",
    "Perth": "Australia/Perth",
    "Singapore": "Asia/Singapore",
    "Taipei": "Asia/Taipei",
    "Ulaanbaatar": "Asia/Ulaanbaatar",
    "Urumqi": "Asia/Urumqi",
    "Irkutsk": "Asia/Irkutsk",
    "Osaka": "Asia/Tokyo",
    "Sapporo": "Asia/Tokyo",
    "Seoul": "Asia/Seoul",
    "Tokyo": "Asia/Tokyo",
    "Yakutsk": "Asia/Yakutsk",
    "Adelaide": "Australia/Adelaide",
    "Darwin": "Australia/Darwin",
    "Brisbane": "Australia/Brisbane",
    "Canberra": "Australia/Melbourne",
    "Guam": "Pacific/Guam",
    "Hobart": "Australia/Hobart",
    "Melbourne": "Australia/Melbourne",
    "Port Moresby": "Pacific/Port_Moresby",
    "Sydney": "Australia/Sydney",
    "Vladivostok": "Asia/Vladivostok",
    "Magadan": "Asia/Magadan",
    "New Caledonia": "Pacific/Noumea",
    "Solomon Is.": "Pacific/Guadalcanal",
    "Auckland": "Pacific/Auckland",
    "Wellington": "Pacific/Auckland",
    "Fiji": "Pacific/Fiji",
    "Kamchatka": "Asia/Kamchatka",
    "Marshall Is.": "Pacific/Majuro",
    "Nuku'alofa": "Pacific/Tongatapu",
    "Samoa": "Pacific/Apia",
}


def iana_zone(name: str) -> str:
    """The IANA zone for a Rails or IANA time-zone name; ValueError for one we do not know."""
    iana = RAILS_ZONES.get(name, name)
    zone(iana)
    return iana


def to_schedule(name: str, found: ZSchedule) -> Schedule:
    """The Zendesk schedule ``found`` as the policy's schedule ``name``."""
    holidays = (Holiday(h.start_date, h.end_date, h.name) for h in found.holidays)
    return Schedule.from_week_minutes(
        name, iana_zone(found.time_zone), ((i.start_time, i.end_time) for i in found.intervals), holidays
    )


def resolve_schedules(policy: Policy, found: Iterable[ZSchedule]) -> tuple[dict[str, Schedule], list[str]]:
    """The policy's Zendesk-sourced schedules, matched by id or (case-insensitive) name, and the problems."""
    listed = list(found)
    by_id = {str(s.id): s for s in listed}
    by_name = {s.name.strip().casefold(): s for s in listed}
    schedules: dict[str, Schedule] = {}
    problems: list[str] = []
    for name, config in policy.business_hours.schedules.items():
        if config.zendesk is None:
            continue
        ref = config.zendesk.strip()
        match = by_id.get(ref) or by_name.get(ref.casefold())
        if match is None:
            problems.append(
                f"business_hours.schedules.{name}: no Zendesk schedule named or numbered {ref!r} "
                f"(found: {', '.join(s.name for s in listed) or 'none'})"
            )
            continue
        try:
            schedules[name] = to_schedule(name, match)
        except ValueError as exc:
            problems.append(f"business_hours.schedules.{name}: Zendesk schedule {match.name!r}: {exc}")
    return schedules, problems


def wants_zendesk_schedules(policy: Policy) -> bool:
    return any(s.zendesk is not None for s in policy.business_hours.schedules.values())

"""Zendesk business-hours schedules read through the real zenpy client from the fake Zendesk, every page."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from connectors.errors import PermanentError
from connectors.zendesk.gateway import ZendeskConfig, ZendeskGateway
from connectors.zendesk.schedules import iana_zone, resolve_schedules
from handoff_core.policy import parse_policy

MON_TO_FRI_9_TO_17 = [(day * 1440 + 540, day * 1440 + 1020) for day in range(1, 6)]


def _gateway(fake, **kw) -> ZendeskGateway:
    return ZendeskGateway(
        ZendeskConfig(subdomain="acme", email=fake.email, token=kw.pop("token", fake.token), ratelimit_budget=3.0)
    )


def _seed(fake) -> dict[str, int]:
    ids = {
        "Support EMEA": fake.add_schedule(
            "Support EMEA",
            "Madrid",
            MON_TO_FRI_9_TO_17,
            [
                ("Christmas", "2026-12-25", "2026-12-25"),
                ("New Year", "2026-12-31", "2027-01-01"),
                ("Kings", "2027-01-06", "2027-01-06"),
            ],
        ),
        "Sales US": fake.add_schedule("Sales US", "Eastern Time (US & Canada)", MON_TO_FRI_9_TO_17),
        "Weekend": fake.add_schedule("Weekend", "UTC", [(0, 1440), (6 * 1440, 7 * 1440)]),
    }
    return ids


POLICY = """
version: "1"
defaults: {route: {group: Support, schedule: support}}
routes: {sales: {group: Sales, schedule: sales}}
business_hours:
  schedules:
    support: {zendesk: "support emea"}
    sales: {zendesk: "%s"}
"""


@pytest.mark.anyio
async def test_schedules_and_holidays_are_read_across_pages(fake_zendesk):
    """Three schedules (page size 2 -> 2 pages) and three holidays (2 pages) arrive complete via zenpy."""
    fake, _ = fake_zendesk
    ids = _seed(fake)
    gateway = _gateway(fake)
    found = await gateway.read_schedules()
    gateway.close()
    assert [s.name for s in found] == ["Support EMEA", "Sales US", "Weekend"]
    assert len(fake.requests_to("GET", "/business_hours/schedules.json")) == 2
    emea = found[0]
    assert [h.name for h in emea.holidays] == ["Christmas", "New Year", "Kings"]
    assert len(fake.requests_to("GET", f"/business_hours/schedules/{ids['Support EMEA']}/holidays.json")) == 2
    assert emea.holidays[1].end_date == date(2027, 1, 1)
    assert fake.requests[-1].headers["authorization"].startswith("Basic ")


@pytest.mark.anyio
async def test_zendesk_schedules_drive_availability(fake_zendesk):
    """A policy naming Zendesk schedules (by name and by id) gets them as core schedules in the right zones."""
    fake, _ = fake_zendesk
    ids = _seed(fake)
    gateway = _gateway(fake)
    found = await gateway.read_schedules()
    gateway.close()
    policy = parse_policy(POLICY % ids["Sales US"])
    schedules, problems = resolve_schedules(policy, found)
    assert problems == []
    support, sales = schedules["support"], schedules["sales"]
    assert support.timezone == "Europe/Madrid" and sales.timezone == "America/New_York"
    monday_8_utc = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 09:00 Madrid, 03:00 New York
    assert support.availability(monday_8_utc).open
    assert sales.availability(monday_8_utc).next_open == datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
    christmas = datetime(2026, 12, 25, 10, 0, tzinfo=UTC)
    assert support.availability(christmas).next_open == datetime(2026, 12, 28, 8, 0, tzinfo=UTC)


@pytest.mark.anyio
async def test_unknown_schedule_is_a_problem_not_a_guess(fake_zendesk):
    """A policy naming a Zendesk schedule that does not exist reports it, listing what exists."""
    fake, _ = fake_zendesk
    _seed(fake)
    gateway = _gateway(fake)
    found = await gateway.read_schedules()
    gateway.close()
    schedules, problems = resolve_schedules(parse_policy(POLICY % "Sales APAC"), found)
    assert set(schedules) == {"support"}
    assert problems and "'Sales APAC'" in problems[0] and "Support EMEA" in problems[0]


@pytest.mark.anyio
async def test_bad_credentials_are_a_permanent_error(fake_zendesk):
    """A 401 from the schedules API is mapped to the connector's permanent error, not a zenpy exception."""
    fake, _ = fake_zendesk
    gateway = _gateway(fake, token="wrong")
    with pytest.raises(PermanentError):
        await gateway.read_schedules()
    gateway.close()


def test_rails_and_iana_zone_names() -> None:
    """Zendesk's Rails zone names map to IANA zones; IANA names pass; unknown names are an error."""
    assert iana_zone("Pacific Time (US & Canada)") == "America/Los_Angeles"
    assert iana_zone("Europe/Lisbon") == "Europe/Lisbon"
    with pytest.raises(ValueError, match="Atlantis"):
        iana_zone("Atlantis")

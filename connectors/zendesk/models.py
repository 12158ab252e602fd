"""Zendesk records as we read them (parsed at the boundary from zenpy objects) and the writes we make.

Vendor records ignore fields we do not use (Zendesk adds fields over time); our own write requests
forbid unknown keys.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from handoff_core import Priority


class _Vendor(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ZTicket(_Vendor):
    id: int
    subject: str | None = None
    description: str | None = None
    requester_id: int | None = None
    organization_id: int | None = None
    group_id: int | None = None
    assignee_id: int | None = None
    tags: tuple[str, ...] = ()
    priority: str | None = None
    status: str | None = None
    external_id: str | None = None


class ZComment(_Vendor):
    id: int
    author_id: int | None = None
    body: str | None = None
    plain_body: str | None = None
    public: bool = True
    created_at: datetime | None = None

    @property
    def text(self) -> str:
        return self.plain_body or self.body or ""


class ZUser(_Vendor):
    id: int
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    role: str | None = None
    tags: tuple[str, ...] = ()
    organization_id: int | None = None
    user_fields: dict[str, Any] | None = None


class ZOrganization(_Vendor):
    id: int
    name: str | None = None
    tags: tuple[str, ...] = ()
    organization_fields: dict[str, Any] | None = None


class TicketSnapshot(_Vendor):
    """A ticket read fresh from Zendesk with everything the core needs to decide."""

    ticket: ZTicket
    comments: tuple[ZComment, ...]
    requester: ZUser | None = None
    organization: ZOrganization | None = None


class _Write(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HandoffUpdate(_Write):
    """Hand an existing ticket over: tags, priority, group and one private note marked with ``marker``."""

    ticket_id: int
    tags: tuple[str, ...]
    priority: Priority
    group: str | None = None
    note: str
    marker: str


class NewTicket(_Write):
    """A ticket for a web-chat handoff. ``external_id`` makes the create idempotent (looked up first)."""

    external_id: str = Field(min_length=1, max_length=255)
    subject: str
    requester_name: str
    requester_email: str | None = None
    tags: tuple[str, ...]
    priority: Priority
    group: str | None = None
    note: str


class ZInterval(_Vendor):
    #: Minutes since Sunday 00:00 in the schedule's time zone; an interval stays within one calendar day.
    start_time: int
    end_time: int


class ZHoliday(_Vendor):
    id: int | None = None
    name: str | None = None
    start_date: date
    end_date: date


class ZSchedule(_Vendor):
    """A business-hours schedule (GET /api/v2/business_hours/schedules), with its holidays."""

    id: int
    name: str
    #: A Rails time-zone name ("Pacific Time (US & Canada)"), as Zendesk reports it.
    time_zone: str
    intervals: tuple[ZInterval, ...] = ()
    holidays: tuple[ZHoliday, ...] = ()

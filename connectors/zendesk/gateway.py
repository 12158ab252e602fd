"""The only place that talks to Zendesk: zenpy, run in worker threads, behind async methods.

Why this shape:

- zenpy is synchronous (requests) and sleeps with ``time.sleep`` on a 429, so every call runs in a
  thread (``anyio.to_thread``), never on the event loop.
- zenpy's per-request state is not safe to share across threads, and its ``ratelimit_budget`` is a
  counter that only ever goes down. So each operation builds a fresh, cheap ``Zenpy`` client (well under
  a millisecond) on the calling thread, sharing only a per-thread ``requests.Session`` for keep-alive.
- ``disable_cache=True``: VIP tags and organizations must be read fresh.
- Every vendor exception is mapped here, with ``raise ... from exc``, into the connector tree of
  :mod:`connectors.errors`; nothing zenpy- or requests-specific escapes this module.

::

    ConnectorError
    ├── TransientError          429 (with the Retry-After we saw), 5xx, connection errors, timeouts
    └── PermanentError          401/403/422, client-side zenpy errors
        └── ZendeskNotFound     404 RecordNotFound (the ticket or user does not exist)
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import anyio.to_thread
import requests
from zenpy import Zenpy
from zenpy.lib.api_objects import Comment, Ticket, User
from zenpy.lib.endpoint import EndpointFactory
from zenpy.lib.exception import APIException, RatelimitBudgetExceeded, RecordNotFoundException, ZenpyException

from connectors.errors import PermanentError, TransientError
from connectors.zendesk.models import (
    HandoffUpdate,
    NewTicket,
    TicketSnapshot,
    ZComment,
    ZHoliday,
    ZOrganization,
    ZSchedule,
    ZTicket,
    ZUser,
)
from handoff_core import Priority

log = logging.getLogger(__name__)
T = TypeVar("T")
#: Most pages followed for one list (a guard against a server that never says it is done).
MAX_PAGES = 100

_PRIORITY_RANK = {p.value: p.rank for p in Priority}


class ZendeskNotFound(PermanentError):
    """The ticket or user does not exist (404)."""


@dataclass(frozen=True)
class ZendeskConfig:
    subdomain: str
    email: str
    token: str
    timeout: float = 10.0
    ratelimit_budget: float = 30.0

    def ticket_url(self, ticket_id: int | str) -> str:
        return f"https://{self.subdomain}.zendesk.com/agent/tickets/{ticket_id}"


class _ThreadState(threading.local):
    session: requests.Session | None = None
    retry_after: float | None = None


class ZendeskGateway:
    """Async facade over zenpy. One instance per app (created in the lifespan, closed on shutdown)."""

    #: The outbox lane this gateway's actions travel in (the worker's ``TicketSink`` port).
    lane = "zendesk"

    def __init__(self, config: ZendeskConfig) -> None:
        self.config = config
        self._local = _ThreadState()
        #: Every live thread's session, so that :meth:`close` closes them. Weak: anyio's worker threads end
        #: after 10 s idle and new ones start, and a list kept the session of every thread that ever ran
        #: a call (with its open keep-alive connection): a live soak's worker held 200 of them after an hour,
        #: one more every ~20 s, and its memory crept with them (docs/volume.md). A thread's session now goes
        #: with the thread (its thread-local state is the only strong reference).
        self._sessions: weakref.WeakSet[requests.Session] = weakref.WeakSet()
        self._sessions_lock = threading.Lock()
        self._groups: dict[str, int] = {}
        self._groups_lock = threading.Lock()
        self._limiter = anyio.CapacityLimiter(8)

    def close(self) -> None:
        with self._sessions_lock:
            for session in list(self._sessions):
                session.close()
            self._sessions.clear()

    def ticket_url(self, ticket_id: int | str | None) -> str | None:
        return self.config.ticket_url(ticket_id) if ticket_id is not None else None

    # ------------------------------------------------------------------ async API
    async def read_ticket(self, ticket_id: int) -> TicketSnapshot:
        """The ticket, all its comments (every page), its requester and organization, fresh."""
        return await self._run(partial(self._read_ticket, ticket_id))

    async def apply_handoff(self, update: HandoffUpdate) -> dict[str, Any]:
        """Tag, prioritise, route and add one private note; a second call for the same marker is a no-op."""
        return await self._run(partial(self._apply_handoff, update))

    async def create_ticket(self, new: NewTicket) -> dict[str, Any]:
        """Create the web-chat ticket unless one with the same ``external_id`` exists; return its id."""
        return await self._run(partial(self._create_ticket, new))

    async def assign(self, ticket_id: int | None, agent_email: str) -> dict[str, Any]:
        """Assign the ticket to the agent with this email (matched through user search)."""
        if ticket_id is None:
            raise TransientError("the Zendesk ticket does not exist yet", vendor="zendesk")
        return await self._run(partial(self._assign, ticket_id, agent_email))

    async def read_schedules(self) -> tuple[ZSchedule, ...]:
        """Every business-hours schedule with its holidays (both lists followed through every page)."""
        return await self._run(self._read_schedules)

    # ------------------------------------------------------------------ plumbing
    async def _run(self, func: Callable[[], T]) -> T:
        return await anyio.to_thread.run_sync(self._mapped(func), limiter=self._limiter)

    def _mapped(self, func: Callable[[], T]) -> Callable[[], T]:
        def call() -> T:
            self._local.retry_after = None
            with self._map_errors():
                return func()

        return call

    def _session(self) -> requests.Session:
        if self._local.session is None:
            session = requests.Session()
            session.hooks["response"].append(self._remember_retry_after)
            self._local.session = session
            with self._sessions_lock:
                self._sessions.add(session)
        return self._local.session

    def _remember_retry_after(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if response.status_code == 429:
            self._local.retry_after = _seconds(response.headers.get("Retry-After"))

    def _client(self) -> Zenpy:
        return Zenpy(
            subdomain=self.config.subdomain,
            email=self.config.email,
            token=self.config.token,
            timeout=self.config.timeout,
            ratelimit_budget=self.config.ratelimit_budget,
            disable_cache=True,
            session=self._session(),
        )

    @contextmanager
    def _map_errors(self) -> Iterator[None]:
        try:
            yield
        except RatelimitBudgetExceeded as exc:
            raise TransientError(
                "Zendesk rate limit: budget exhausted",
                vendor="zendesk",
                retry_after=self._local.retry_after,
                rate_limited=True,
            ) from exc
        except RecordNotFoundException as exc:
            raise ZendeskNotFound("Zendesk record not found (404)", vendor="zendesk") from exc
        except APIException as exc:
            raise _from_status(getattr(exc, "response", None), self._local.retry_after) from exc
        except requests.HTTPError as exc:
            raise _from_status(exc.response, self._local.retry_after) from exc
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientError(f"Zendesk unreachable: {type(exc).__name__}", vendor="zendesk") from exc
        except ZenpyException as exc:
            raise PermanentError(f"Zendesk client error: {exc}", vendor="zendesk") from exc

    # ------------------------------------------------------------------ sync operations (in a thread)
    def _read_ticket(self, ticket_id: int) -> TicketSnapshot:
        zd = self._client()
        ticket = ZTicket.model_validate(zd.tickets(id=ticket_id).to_dict())
        comments = tuple(ZComment.model_validate(c.to_dict()) for c in zd.tickets.comments(ticket=ticket_id))
        requester = organization = None
        if ticket.requester_id is not None:
            requester = ZUser.model_validate(zd.users(id=ticket.requester_id).to_dict())
        org_id = ticket.organization_id or (requester.organization_id if requester else None)
        if org_id is not None:
            organization = ZOrganization.model_validate(zd.organizations(id=org_id).to_dict())
        return TicketSnapshot(ticket=ticket, comments=comments, requester=requester, organization=organization)

    def _apply_handoff(self, update: HandoffUpdate) -> dict[str, Any]:
        zd = self._client()
        current = ZTicket.model_validate(zd.tickets(id=update.ticket_id).to_dict())
        for raw in zd.tickets.comments(ticket=update.ticket_id):
            if update.marker in (raw.body or ""):
                return {"ticket_id": update.ticket_id, "already_applied": True}
        warnings: list[str] = []
        group_id = self._group_id(zd, update.group, warnings) if update.group else None
        fields: dict[str, Any] = {"additional_tags": list(update.tags)}
        if _PRIORITY_RANK.get(current.priority or "", -1) < update.priority.rank:
            fields["priority"] = update.priority.value
        if group_id is not None:
            fields["group_id"] = group_id
        zd.tickets.update(Ticket(id=update.ticket_id, comment=Comment(body=update.note, public=False), **fields))
        return {"ticket_id": update.ticket_id, "group_id": group_id, "warnings": warnings}

    def _create_ticket(self, new: NewTicket) -> dict[str, Any]:
        zd = self._client()
        for existing in zd.tickets(external_id=new.external_id):
            return {"ticket_id": int(existing.id), "created": False}
        warnings: list[str] = []
        group_id = self._group_id(zd, new.group, warnings) if new.group else None
        requester = (
            User(name=new.requester_name, email=new.requester_email)
            if new.requester_email
            else User(name=new.requester_name)
        )
        fields: dict[str, Any] = {"group_id": group_id} if group_id is not None else {}
        ticket = Ticket(
            subject=new.subject,
            requester=requester,
            comment=Comment(body=new.note, public=False),
            tags=list(new.tags),
            priority=new.priority.value,
            external_id=new.external_id,
            **fields,
        )
        audit = zd.tickets.create(ticket)
        return {"ticket_id": int(audit.ticket.id), "created": True, "warnings": warnings}

    def _assign(self, ticket_id: int, agent_email: str) -> dict[str, Any]:
        zd = self._client()
        agents = [ZUser.model_validate(u.to_dict()) for u in zd.search(type="user", email=agent_email)]
        agents = [a for a in agents if a.role in {"agent", "admin"} and (a.email or "").lower() == agent_email.lower()]
        if not agents:
            raise PermanentError(
                f"no Zendesk agent has the email of the Slack user (ticket {ticket_id})", vendor="zendesk"
            )
        zd.tickets.update(Ticket(id=ticket_id, assignee_id=agents[0].id))
        return {"ticket_id": ticket_id, "assignee_id": agents[0].id}

    def _read_schedules(self) -> tuple[ZSchedule, ...]:
        # zenpy knows the endpoint's URL but has no API object for it: we GET through zenpy's own request
        # path (auth, rate limits, error checks) and parse the pages here.
        api = self._client().tickets
        schedules = [
            ZSchedule.model_validate(s)
            for s in _pages(api, api._build_url(EndpointFactory("schedules")()), "schedules")
        ]
        out = []
        for schedule in schedules:
            url = api._build_url(EndpointFactory("schedules")(id=schedule.id)).removesuffix(".json") + "/holidays.json"
            holidays = tuple(ZHoliday.model_validate(h) for h in _pages(api, url, "holidays"))
            out.append(schedule.model_copy(update={"holidays": holidays}))
        return tuple(out)

    def _group_id(self, zd: Zenpy, group: str, warnings: list[str]) -> int | None:
        """A group given by id or by name; names are resolved through the paginated groups API, cached."""
        if group.isdigit():
            return int(group)
        key = group.strip().casefold()
        with self._groups_lock:
            if key in self._groups:
                return self._groups[key]
        found: dict[str, int] = {}
        for g in zd.groups():
            if g.name:
                found[str(g.name).strip().casefold()] = int(g.id)
        with self._groups_lock:
            self._groups.update(found)
        if key not in found:
            warnings.append(f"group {group!r} does not exist in Zendesk; routed without a group")
            log.warning("Zendesk group %r not found; ticket left in its current group", group)
            return None
        return found[key]


def _pages(api: Any, url: str, key: str) -> Iterator[dict[str, Any]]:
    """The items under ``key`` of every page: offset pages (``next_page``) and cursor pages (``links.next``)."""
    seen = 0
    next_url: str | None = url
    while next_url and seen < MAX_PAGES:
        seen += 1
        data = api._get(next_url, raw_response=True).json()
        if not isinstance(data, dict):
            raise PermanentError(f"Zendesk answered {key} with something that is not an object", vendor="zendesk")
        items = data.get(key) or []
        yield from (item for item in items if isinstance(item, dict))
        links, meta = data.get("links"), data.get("meta")
        cursor_next = (
            links.get("next") if isinstance(links, dict) and isinstance(meta, dict) and meta.get("has_more") else None
        )
        next_url = data.get("next_page") or cursor_next


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _from_status(response: requests.Response | None, retry_after: float | None) -> Exception:
    status = response.status_code if response is not None else 0
    if status == 429:
        header = _seconds(response.headers.get("Retry-After")) if response is not None else None
        return TransientError(
            "Zendesk answered 429",
            vendor="zendesk",
            retry_after=header if header is not None else retry_after,
            rate_limited=True,
        )
    if status >= 500 or status == 0:
        return TransientError(f"Zendesk answered {status}", vendor="zendesk")
    if status == 404:
        return ZendeskNotFound("Zendesk record not found (404)", vendor="zendesk")
    return PermanentError(f"Zendesk refused the request ({status})", vendor="zendesk")

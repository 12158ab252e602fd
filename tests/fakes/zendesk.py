"""A fake Zendesk Support API on a real socket, close enough that the real zenpy client runs unmodified.

What it speaks: basic auth ``email/token:TOKEN`` (401 with Zendesk's error body otherwise), tickets
(show, update with ``comment``/``tags``/``additional_tags``/``priority``/``group_id``/``assignee_id``,
create with ``Idempotency-Key``, list by ``external_id``), ticket comments, users, organizations, groups,
user search, and business-hours schedules with their holidays. Lists paginate with a small page size,
both ways Zendesk does: offset pagination with a ``next_page`` URL, and cursor pagination
(``page[size]``) with ``meta.has_more`` and ``links.next``.

Fault injection for tests: :meth:`FakeZendesk.fail_next` answers the next N matching requests with a
status (429 with ``Retry-After``, 5xx); :attr:`FakeZendesk.down` answers 503 to everything. Every
request is recorded in :attr:`FakeZendesk.requests` (method, path, query, JSON body, headers).

Point zenpy at it with ``ZENPY_FORCE_SCHEME=http`` and ``ZENPY_FORCE_NETLOC=127.0.0.1:<port>``.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]


@dataclass
class Fault:
    status: int
    remaining: int
    method: str | None = None
    path_contains: str | None = None
    retry_after: int | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method != method:
            return False
        return not (self.path_contains and self.path_contains not in path)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FakeZendesk:
    """In-memory Zendesk account. Mutate the dictionaries directly to seed data."""

    email: str = "bot@example.com"
    token: str = "zd-api-token-for-tests"
    page_size: int = 2
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    organizations: dict[int, dict[str, Any]] = field(default_factory=dict)
    groups: dict[int, dict[str, Any]] = field(default_factory=dict)
    schedules: dict[int, dict[str, Any]] = field(default_factory=dict)
    holidays: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    down: bool = False
    base_url: str = "http://127.0.0.1"
    idempotency: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1000)
        self._lock = threading.Lock()
        self.api_user_id = self.add_user(name="Handoff Bot", email=self.email, role="admin")

    # ------------------------------------------------------------------ seeding helpers
    def _next_id(self) -> int:
        return next(self._ids)

    def add_user(
        self,
        *,
        name: str,
        email: str,
        role: str = "end-user",
        tags: list[str] | None = None,
        organization_id: int | None = None,
        **extra: Any,
    ) -> int:
        uid = self._next_id()
        self.users[uid] = {
            "id": uid,
            "name": name,
            "email": email,
            "role": role,
            "tags": tags or [],
            "organization_id": organization_id,
            "created_at": _now(),
            **extra,
        }
        return uid

    def add_organization(self, *, name: str, tags: list[str] | None = None, **extra: Any) -> int:
        oid = self._next_id()
        self.organizations[oid] = {"id": oid, "name": name, "tags": tags or [], **extra}
        return oid

    def add_group(self, name: str) -> int:
        gid = self._next_id()
        self.groups[gid] = {"id": gid, "name": name, "deleted": False}
        return gid

    def add_schedule(
        self,
        name: str,
        time_zone: str,
        intervals: list[tuple[int, int]],
        holidays: list[tuple[str, str, str]] = (),  # type: ignore[assignment]
    ) -> int:
        """A business-hours schedule: intervals in minutes since Sunday 00:00, holidays (name, start, end)."""
        sid = self._next_id()
        self.schedules[sid] = {
            "id": sid,
            "name": name,
            "time_zone": time_zone,
            "intervals": [{"start_time": a, "end_time": b} for a, b in intervals],
            "created_at": _now(),
            "updated_at": _now(),
        }
        self.holidays[sid] = [
            {"id": self._next_id(), "name": n, "start_date": start, "end_date": end} for n, start, end in holidays
        ]
        return sid

    def add_ticket(
        self,
        *,
        requester_id: int,
        subject: str,
        comments: list[tuple[int, str]],
        tags: list[str] | None = None,
        organization_id: int | None = None,
        **extra: Any,
    ) -> int:
        tid = self._next_id()
        self.tickets[tid] = {
            "id": tid,
            "subject": subject,
            "description": comments[0][1] if comments else "",
            "requester_id": requester_id,
            "submitter_id": requester_id,
            "assignee_id": None,
            "organization_id": organization_id,
            "group_id": None,
            "tags": tags or [],
            "priority": None,
            "status": "open",
            "external_id": None,
            "via": {"channel": "web"},
            "created_at": _now(),
            "updated_at": _now(),
            **extra,
        }
        self.comments[tid] = []
        for author, body in comments:
            self.add_comment(tid, author_id=author, body=body, public=True)
        return tid

    def add_comment(self, ticket_id: int, *, author_id: int, body: str, public: bool = True) -> int:
        cid = self._next_id()
        self.comments.setdefault(ticket_id, []).append(
            {
                "id": cid,
                "type": "Comment",
                "author_id": author_id,
                "body": body,
                "html_body": body,
                "plain_body": body,
                "public": public,
                "created_at": _now(),
                "attachments": [],
            }
        )
        return cid

    def fail_next(
        self,
        status: int,
        times: int = 1,
        *,
        method: str | None = None,
        path_contains: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        self.faults.append(Fault(status, times, method, path_contains, retry_after))

    def requests_to(self, method: str, path_contains: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and path_contains in r.path]

    def private_notes(self, ticket_id: int) -> list[dict[str, Any]]:
        return [c for c in self.comments.get(ticket_id, []) if not c["public"]]

    # ------------------------------------------------------------------ ASGI app
    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/api/v2/tickets.json", self._tickets, methods=["GET", "POST"]),
                Route("/api/v2/tickets/{tid:int}.json", self._ticket, methods=["GET", "PUT"]),
                Route("/api/v2/tickets/{tid:int}/comments.json", self._comments, methods=["GET"]),
                Route("/api/v2/users/me.json", self._me, methods=["GET"]),
                Route("/api/v2/users/{uid:int}.json", self._user, methods=["GET"]),
                Route("/api/v2/organizations/{oid:int}.json", self._organization, methods=["GET"]),
                Route("/api/v2/groups.json", self._groups, methods=["GET"]),
                Route("/api/v2/search.json", self._search, methods=["GET"]),
                Route("/api/v2/business_hours/schedules.json", self._schedules, methods=["GET"]),
                Route("/api/v2/business_hours/schedules/{sid:int}/holidays.json", self._holidays, methods=["GET"]),
            ],
            middleware=[],
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if not hasattr(self, "_app"):
            self._app = self.app()
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        request = Request(scope, receive)
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        self.requests.append(
            RecordedRequest(
                request.method,
                request.url.path,
                dict(request.query_params),
                body,
                {k.lower(): v for k, v in request.headers.items()},
            )
        )
        early = self._gate(request)
        if early is not None:
            await early(scope, receive, send)
            return
        # Re-inject the body we consumed so the routed endpoint can read it.
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": raw, "more_body": False}
            return await receive()  # type: ignore[no-any-return]

        await self._app(scope, replay, send)

    def _gate(self, request: Request) -> Response | None:
        if self.down:
            return Response("<html>Service Unavailable</html>", status_code=503, media_type="text/html")
        for fault in self.faults:
            if fault.remaining > 0 and fault.matches(request.method, request.url.path):
                fault.remaining -= 1
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                if fault.status == 429:
                    return Response("Too Many Requests", status_code=429, headers=headers)
                return JSONResponse({"error": "ServerError", "description": "injected"}, fault.status, headers=headers)
        auth = request.headers.get("authorization", "")
        expected = "Basic " + base64.b64encode(f"{self.email}/token:{self.token}".encode()).decode()
        if auth != expected:
            return JSONResponse({"error": "Couldn't authenticate you"}, status_code=401)
        return None

    # ------------------------------------------------------------------ pagination
    def _page(self, request: Request, key: str, items: list[dict[str, Any]]) -> JSONResponse:
        q = request.query_params
        base = f"{self.base_url}{request.url.path}"
        if "page[size]" in q or "page[after]" in q:
            size = min(int(q.get("page[size]", self.page_size)), self.page_size)
            start = int(q.get("page[after]", "0") or 0)
            chunk = items[start : start + size]
            has_more = start + size < len(items)
            nxt = f"{base}?page[size]={size}&page[after]={start + size}" if has_more else None
            return JSONResponse(
                {
                    key: chunk,
                    "meta": {"has_more": has_more, "after_cursor": str(start + size)},
                    "links": {"next": nxt, "prev": None},
                }
            )
        size = min(int(q.get("per_page", self.page_size)), self.page_size)
        page = int(q.get("page", "1"))
        start = (page - 1) * size
        chunk = items[start : start + size]
        nxt = f"{base}?page={page + 1}&per_page={size}" if start + size < len(items) else None
        return JSONResponse({key: chunk, "next_page": nxt, "previous_page": None, "count": len(items)})

    @staticmethod
    def _not_found() -> JSONResponse:
        return JSONResponse({"error": "RecordNotFound", "description": "Not found"}, status_code=404)

    # ------------------------------------------------------------------ endpoints
    async def _schedules(self, request: Request) -> Response:
        return self._page(request, "schedules", list(self.schedules.values()))

    async def _holidays(self, request: Request) -> Response:
        sid = request.path_params["sid"]
        if sid not in self.schedules:
            return self._not_found()
        return self._page(request, "holidays", self.holidays.get(sid, []))

    async def _me(self, request: Request) -> Response:
        return JSONResponse({"user": self.users[self.api_user_id]})

    async def _ticket(self, request: Request) -> Response:
        tid = request.path_params["tid"]
        ticket = self.tickets.get(tid)
        if ticket is None:
            return self._not_found()
        if request.method == "GET":
            return JSONResponse({"ticket": ticket})
        payload = json.loads(await request.body())
        data = payload.get("ticket") if isinstance(payload, dict) else None
        if not isinstance(data, dict):
            return JSONResponse({"error": "InvalidEndpoint", "description": "ticket expected"}, 400)
        with self._lock:
            for key in ("priority", "group_id", "assignee_id", "status", "subject", "external_id"):
                if key in data:
                    ticket[key] = data[key]
            if "tags" in data:
                ticket["tags"] = list(dict.fromkeys(data["tags"]))
            for tag in data.get("additional_tags", []):
                if tag not in ticket["tags"]:
                    ticket["tags"].append(tag)
            comment = data.get("comment")
            if isinstance(comment, dict):
                self.add_comment(
                    tid,
                    author_id=comment.get("author_id", self.api_user_id),
                    body=comment.get("body") or comment.get("html_body", ""),
                    public=comment.get("public", True),
                )
            ticket["updated_at"] = _now()
        return JSONResponse({"ticket": ticket, "audit": {"id": self._next_id(), "ticket_id": tid}})

    async def _tickets(self, request: Request) -> Response:
        if request.method == "GET":
            external_id = request.query_params.get("external_id")
            items = [t for t in self.tickets.values() if external_id is None or t.get("external_id") == external_id]
            return self._page(request, "tickets", items)
        key = request.headers.get("idempotency-key")
        if key and key in self.idempotency:
            return JSONResponse(
                {"ticket": self.tickets[self.idempotency[key]]},
                status_code=201,
                headers={"x-idempotency-lookup": "hit"},
            )
        data = (json.loads(await request.body()) or {}).get("ticket") or {}
        comment = data.get("comment") or {}
        requester = data.get("requester") or {}
        requester_id = data.get("requester_id")
        if requester_id is None and requester.get("email"):
            found = [u for u in self.users.values() if u["email"] == requester["email"]]
            requester_id = (
                found[0]["id"]
                if found
                else self.add_user(name=requester.get("name") or requester["email"], email=requester["email"])
            )
        if requester_id is None:
            return JSONResponse(
                {
                    "error": "RecordInvalid",
                    "description": "Record validation errors",
                    "details": {"requester": [{"description": "Requester: cannot be blank"}]},
                },
                status_code=422,
            )
        with self._lock:
            tid = self.add_ticket(
                requester_id=requester_id,
                subject=data.get("subject", ""),
                comments=[],
                tags=list(data.get("tags", [])),
                external_id=data.get("external_id"),
                priority=data.get("priority"),
                group_id=data.get("group_id"),
            )
            self.add_comment(
                tid,
                author_id=comment.get("author_id", self.api_user_id),
                body=comment.get("body", ""),
                public=comment.get("public", True),
            )
            if key:
                self.idempotency[key] = tid
        return JSONResponse({"ticket": self.tickets[tid], "audit": {"id": self._next_id()}}, status_code=201)

    async def _comments(self, request: Request) -> Response:
        tid = request.path_params["tid"]
        if tid not in self.tickets:
            return self._not_found()
        return self._page(request, "comments", list(self.comments.get(tid, [])))

    async def _user(self, request: Request) -> Response:
        user = self.users.get(request.path_params["uid"])
        return JSONResponse({"user": user}) if user else self._not_found()

    async def _organization(self, request: Request) -> Response:
        org = self.organizations.get(request.path_params["oid"])
        return JSONResponse({"organization": org}) if org else self._not_found()

    async def _groups(self, request: Request) -> Response:
        return self._page(request, "groups", list(self.groups.values()))

    async def _search(self, request: Request) -> Response:
        query = request.query_params.get("query", "")
        terms = dict(part.split(":", 1) for part in query.split() if ":" in part)
        results: list[dict[str, Any]] = []
        if terms.get("type") == "user":
            email = terms.get("email", "").strip('"').lower()
            results = [
                {**u, "result_type": "user"} for u in self.users.values() if not email or u["email"].lower() == email
            ]
        return JSONResponse({"results": results, "next_page": None, "previous_page": None, "count": len(results)})

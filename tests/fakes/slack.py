"""A fake Slack Web API on a real socket, close enough that ``slack_sdk``'s clients run unmodified.

Speaks ``auth.test``, ``chat.postMessage`` (message metadata kept), ``chat.update``, ``users.info`` and
``conversations.history`` (``include_all_metadata``, ``oldest``, cursor pages) as Slack does: every answer
is HTTP 200 with ``{"ok": false, "error": ...}`` for API errors (``not_authed``, ``invalid_auth``,
``channel_not_found``, ``user_not_found``), 429 with ``Retry-After`` when rate limited. Bodies may be JSON,
form-encoded or a query string, as the SDK sends them.

Fault injection: :meth:`FakeSlack.fail_next` (429 with ``Retry-After`` or 5xx for the next N calls of a
method), :attr:`FakeSlack.down` (503 for everything). Every call is recorded in :attr:`FakeSlack.calls`;
posted messages are kept in :attr:`FakeSlack.messages` keyed by ``(channel, ts)``.

Point a client at it with ``AsyncWebClient(base_url=f"{server.url}/api/")``.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


@dataclass
class SlackCall:
    method: str
    args: dict[str, Any]
    headers: dict[str, str]


@dataclass
class SlackFault:
    status: int
    remaining: int
    method: str | None = None
    retry_after: int | None = None


@dataclass
class FakeSlack:
    token: str = "xoxb-test-token-for-tests"
    team_id: str = "T0001"
    bot_user_id: str = "U0BOT"
    channels: set[str] = field(default_factory=lambda: {"C0ALERTS", "C0REVIEW"})
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[SlackCall] = field(default_factory=list)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    faults: list[SlackFault] = field(default_factory=list)
    down: bool = False
    #: Page size of conversations.history (small, so callers must follow the cursor as with Slack).
    history_page_size: int = 20

    def __post_init__(self) -> None:
        self._ts = itertools.count(1)

    def add_user(self, user_id: str, *, email: str, name: str = "Agent") -> None:
        self.users[user_id] = {
            "id": user_id,
            "name": name,
            "real_name": name,
            "profile": {"email": email, "real_name": name, "display_name": name},
        }

    def fail_next(
        self, status: int, times: int = 1, *, method: str | None = None, retry_after: int | None = None
    ) -> None:
        self.faults.append(SlackFault(status, times, method, retry_after))

    def calls_to(self, method: str) -> list[SlackCall]:
        return [c for c in self.calls if c.method == method]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        request = Request(scope, receive)
        response = await self._handle(request)
        await response(scope, receive, send)

    async def _handle(self, request: Request) -> Response:
        path = request.url.path
        if not path.startswith("/api/"):
            return Response("not found", status_code=404)
        method = path.removeprefix("/api/")
        raw = await request.body()
        args: dict[str, Any] = dict(request.query_params)
        ctype = request.headers.get("content-type", "")
        if raw and "json" in ctype:
            args.update(json.loads(raw))
        elif raw:
            args.update(parse_qsl(raw.decode()))
        for key in ("blocks", "attachments"):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        self.calls.append(SlackCall(method, args, {k.lower(): v for k, v in request.headers.items()}))
        if self.down:
            return Response("upstream connect error", status_code=503)
        for fault in self.faults:
            if fault.remaining > 0 and (fault.method is None or fault.method == method):
                fault.remaining -= 1
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                if fault.status == 429:
                    return JSONResponse({"ok": False, "error": "ratelimited"}, 429, headers=headers)
                return Response("server error", status_code=fault.status, headers=headers)
        auth = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else args.get("token")
        if not token:
            return JSONResponse({"ok": False, "error": "not_authed"})
        if token != self.token:
            return JSONResponse({"ok": False, "error": "invalid_auth"})
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return JSONResponse({"ok": False, "error": "unknown_method"})
        result: dict[str, Any] = handler(args)
        return JSONResponse(result)

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://acme.slack.com/",
            "team": "Acme",
            "user": "handoff",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": "B0BOT",
        }

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        message = {
            "type": "message",
            "text": args.get("text", ""),
            "blocks": args.get("blocks", []),
            "ts": ts,
            "user": self.bot_user_id,
            "bot_id": "B0BOT",
        }
        metadata = args.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        if isinstance(metadata, dict):
            message["metadata"] = metadata
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        """Newest first, ``oldest`` inclusive, cursor paginated; metadata only with include_all_metadata."""
        channel = args.get("channel")
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        oldest = float(args.get("oldest") or 0)
        limit = int(args.get("limit") or self.history_page_size)
        start = int(args.get("cursor") or 0)
        with_metadata = str(args.get("include_all_metadata", "")).lower() in {"1", "true"}
        found = sorted(
            (m for (c, ts), m in self.messages.items() if c == channel and float(ts) >= oldest),
            key=lambda m: (float(m["ts"].split(".")[0]), int(m["ts"].split(".")[1])),
            reverse=True,
        )
        size = min(limit, self.history_page_size)
        page = [
            m if with_metadata else {k: v for k, v in m.items() if k != "metadata"}
            for m in found[start : start + size]
        ]
        more = start + size < len(found)
        return {
            "ok": True,
            "messages": page,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + size) if more else ""},
        }

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        key = (args.get("channel"), args.get("ts"))
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        message = self.messages[key]  # type: ignore[index]
        message.update({"text": args.get("text", message["text"]), "blocks": args.get("blocks", [])})
        return {"ok": True, "channel": key[0], "ts": key[1], "text": message["text"], "message": message}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(args.get("user", ""))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user}

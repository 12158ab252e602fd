"""The hot endpoints served ahead of the middleware stack answer exactly as the routes behind it.

The worker app sends ``POST /webhooks/zendesk`` straight to :func:`connectors.worker.zendesk_webhook.serve`
and a web-chat post to its handler (``docs/performance.md``); the ordinary Starlette routes stay for any
other way in. Both are driven here as
raw ASGI calls on one app, inside its real lifespan, with the same table of requests: every status, error
code, ``Retry-After`` and body must match. Also here: the inbox gives way to acknowledgements waiting for
their commit, and the local-mode "cannot decide" warning is throttled.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fakes.fixtures import ZENDESK_SECRET
from fakes.signing import zendesk_headers
from fastapi import FastAPI

from connectors.settings import Settings
from connectors.worker import processors
from connectors.worker.app import create_app
from connectors.worker.processors import _ThrottledWarning

Asgi = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
Answer = tuple[int, dict[str, str], dict[str, Any]]


def _body(ticket: int, updated_at: str) -> bytes:
    return json.dumps(
        {"handoff_guard": 1, "event": "ticket.updated", "ticket": {"id": str(ticket), "updated_at": updated_at}}
    ).encode()


async def _call(asgi: Asgi, body: bytes, headers: dict[str, str], path: str = "/webhooks/zendesk") -> Answer:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    chunks = [body[:10], body[10:]]  # two chunks: the body is read across messages

    async def receive() -> dict[str, Any]:
        if chunks:
            chunk = chunks.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await asyncio.wait_for(asgi(scope, receive, send), 30)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body_out = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    raw = {k.decode(): v.decode() for k, v in start["headers"]}
    kept = {k: raw[k] for k in ("content-type", "retry-after") if k in raw}
    assert int(raw["content-length"]) == len(body_out)
    return start["status"], kept, json.loads(body_out)


def _requests(ticket: int, stamp: str) -> list[tuple[str, bytes, dict[str, str]]]:
    good = _body(ticket, stamp)
    signed = zendesk_headers(ZENDESK_SECRET, good, invocation_id=f"inv-{ticket}")
    not_json = b"{not json"
    unknown = json.dumps({"type": "zen:event-type:user.created", "id": "e1", "detail": {"id": "1"}}).encode()
    no_ticket = json.dumps({"hello": 1}).encode()
    return [
        ("accepted", good, signed),
        ("duplicate", good, signed),
        ("bad signature", good, {**signed, "x-zendesk-webhook-signature": "AAAA"}),
        ("missing signature", good, {"content-type": "application/json"}),
        ("stale", good, zendesk_headers(ZENDESK_SECRET, good, invocation_id="x", at=datetime(2020, 1, 1, tzinfo=UTC))),
        ("bad timestamp", good, {**signed, "x-zendesk-webhook-signature-timestamp": "yesterday"}),
        ("media type", good, {**signed, "content-type": "text/plain"}),
        ("malformed", not_json, zendesk_headers(ZENDESK_SECRET, not_json, invocation_id="x")),
        ("event type", unknown, zendesk_headers(ZENDESK_SECRET, unknown, invocation_id="x")),
        ("unrecognised", no_ticket, zendesk_headers(ZENDESK_SECRET, no_ticket, invocation_id="x")),
        ("too large", b"x" * 300, {**signed, "content-length": "300"}),
        ("bad length", good, {**signed, "content-length": "many"}),
    ]


def test_fast_path_answers_as_the_route_does(tmp_path: Path) -> None:
    """Every answer of the acknowledgement (202, duplicate, each 4xx) is the same both ways in."""
    settings = Settings(
        _env_file=None,
        zendesk_webhook_secret=ZENDESK_SECRET,
        handoff_database_url=f"sqlite:///{tmp_path / 'w.sqlite3'}",
        max_body_bytes=200,
    )
    app = create_app(settings, processors=False)

    async def run() -> tuple[list[Answer], list[Answer], int]:
        async with app.router.lifespan_context(app):
            fast = [await _call(app, body, h) for _, body, h in _requests(1, "2026-01-01T00:00:00Z")]

            async def stack(scope: dict[str, Any], receive: Any, send: Any) -> None:
                await FastAPI.__call__(app, scope, receive, send)  # the ordinary way: middleware, then the route

            slow = [await _call(stack, body, h) for _, body, h in _requests(2, "2026-01-01T00:00:00Z")]
            stored = len(app.state.worker.store.inbox_list())
        return fast, slow, stored

    fast, slow, stored = asyncio.run(run())
    names = [name for name, _, _ in _requests(0, "")]
    assert fast[0] == (202, {"content-type": "application/json"}, {"status": "accepted", "ticket_id": 1})
    assert fast[1] == (200, {"content-type": "application/json"}, {"status": "duplicate", "ticket_id": 1})
    statuses = {name: answer[0] for name, answer in zip(names, fast, strict=True)}
    assert statuses["too large"] == 413 and statuses["bad signature"] == 401 and statuses["malformed"] == 400
    for name, one, other in zip(names, fast, slow, strict=True):
        same_ticket = {**other[2], "ticket_id": 1} if name in {"accepted", "duplicate"} else other[2]
        assert one == (other[0], other[1], same_ticket), name
    assert stored == 2  # one delivery each way; nothing refused was stored


class _Acks:
    def __init__(self) -> None:
        self.waiting = 0


def test_inbox_gives_way_while_acknowledgements_wait_but_not_for_ever() -> None:
    """While deliveries wait for their commit the inbox holds back, yet claims once per MAX_DEFER_SECONDS."""
    acks = _Acks()
    inbox = processors.InboxProcessor.__new__(processors.InboxProcessor)
    inbox.acks, inbox._deferring_since, inbox.deferred_batches = acks, None, 0
    assert inbox.defer_for(100.0) == 0.0  # nothing waiting: claim now
    acks.waiting = 3
    assert inbox.defer_for(100.0) == processors.YIELD_SECONDS
    assert inbox.defer_for(100.0 + processors.MAX_DEFER_SECONDS / 2) == processors.YIELD_SECONDS
    assert inbox.defer_for(100.001 + processors.MAX_DEFER_SECONDS) == 0.0  # held back long enough: one batch
    assert inbox.deferred_batches == 1
    assert inbox.defer_for(100.2) == processors.YIELD_SECONDS  # and the next wait starts again
    acks.waiting = 0
    assert inbox.defer_for(100.21) == 0.0


def test_local_mode_warning_is_throttled_with_a_count(caplog: pytest.LogCaptureFixture) -> None:
    """The "cannot decide" warning is logged for the first delivery, then once a period with the count."""
    warning = _ThrottledWarning(every=3600)
    with caplog.at_level(logging.WARNING):
        for n in range(5):
            warning.warn(n, 4242)
        warning._last -= 3600  # the period has passed
        warning.warn(5, 4242)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert "latest_comment" in lines[0] and "more since" not in lines[0]
    assert "(4 more since the last report)" in lines[1]


def _chat(conversation: str, **fields: Any) -> bytes:
    message = {"conversation_id": conversation, "message_id": "m1", "role": "customer", "text": "Where is my order?"}
    return json.dumps({**message, **fields}).encode()


def _chat_requests(conversation: str) -> list[tuple[str, bytes, dict[str, str]]]:
    plain = {"content-type": "application/json"}
    return [
        ("decided", _chat(conversation), plain),
        ("replayed", _chat(conversation), plain),
        ("angry handoff", _chat(conversation + "-b", text="This is useless, I want a human now!"), plain),
        ("unknown field", _chat(conversation, colour="red"), plain),
        ("zendesk id", _chat("zendesk:1"), plain),
        ("malformed", b"{not json", plain),
        ("media type", _chat(conversation), {"content-type": "text/plain"}),
        ("too large", b"x" * 5000, {**plain, "content-length": "5000"}),
    ]


def test_webchat_fast_path_answers_as_the_route_does(tmp_path: Path) -> None:
    """Every web-chat answer (decision, replay, handoff, each 4xx) is the same through both ways in."""
    settings = Settings(_env_file=None, handoff_database_url=f"sqlite:///{tmp_path / 'w.sqlite3'}", max_body_bytes=4096)
    app = create_app(settings, processors=False)
    path = "/v1/webchat/messages"

    async def run() -> tuple[list[Answer], list[Answer]]:
        async with app.router.lifespan_context(app):
            fast = [await _call(app, body, h, path) for _, body, h in _chat_requests("fast")]

            async def stack(scope: dict[str, Any], receive: Any, send: Any) -> None:
                await FastAPI.__call__(app, scope, receive, send)

            slow = [await _call(stack, body, h, path) for _, body, h in _chat_requests("slow")]
        return fast, slow

    def same(answer: Answer, conversation: str) -> Answer:
        status, headers, body = answer
        text = json.dumps(body).replace(conversation, "C")
        normal = json.loads(text)
        if isinstance(normal, dict) and "decision_id" in normal:
            normal["decision_id"] = "D"
        return status, headers, normal

    fast, slow = asyncio.run(run())
    names = [name for name, _, _ in _chat_requests("x")]
    statuses = dict(zip(names, (a[0] for a in fast), strict=True))
    assert statuses == {
        "decided": 200,
        "replayed": 200,
        "angry handoff": 200,
        "unknown field": 422,
        "zendesk id": 422,
        "malformed": 400,
        "media type": 415,
        "too large": 413,
    }
    assert fast[0] == fast[1]  # the same message id again: the stored answer
    assert fast[2][2]["action"] == "handoff"
    for name, one, other in zip(names, fast, slow, strict=True):
        assert same(one, "fast") == same(other, "slow"), name

"""Fuzz every inbound endpoint with correctly signed, malformed bodies: a JSON 4xx, never a 5xx.

The fixed hostile cases in ``test_hardening.py`` cover what a tester tried once; this asks hypothesis
for a few hundred more per run. Each body is a valid payload mutated at one place (a field deleted,
added or replaced by any JSON value: wrong type, huge or non-finite number, odd unicode, deep
nesting, a string holding JSON) or arbitrary JSON or bytes, and is signed exactly as Zendesk, Slack or
the web-chat client signs, so it gets past authentication and reaches the parsing and validation code.
The app runs in-process (``httpx.ASGITransport``) against the fake Zendesk and Slack, without the
background processors, so only the HTTP edge is under test. Bounded for CI: a fixed number of examples,
derandomized (the same cases on every run), no per-example deadline.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fakes.fixtures import SLACK_SIGNING_SECRET, WEBCHAT_SECRET, ZENDESK_SECRET
from fakes.signing import slack_headers, webchat_headers, zendesk_headers
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from connectors.worker.app import create_app

pytestmark = pytest.mark.e2e

FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "50")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)

HUGE = "__HUGE_NUMBER__"
DEEP = "__DEEP_NESTING__"
_RAW = {
    f'"{HUGE}"': "1" + "0" * 5_000,  # beyond Python's int/str conversion limit (4,300 digits)
    f'"{DEEP}"': "[" * 33 + "]" * 33,  # one level past the worker's limit of 32
}
ODD_STRINGS = [
    "",
    " ",
    "\x00",
    "\U0001f600" * 3,
    "\ud800",
    "\u202e\u0645\u0631\u062d\u0628\u0627",
    "e\u0301\ufeff",
    "x" * 60_000,
    "[]",
    "null",
    '{"d": [1], "c": {"x": 1}, "t": 5}',
    "NaN",
    "-1",
    "1e309",
    "19.90",
    "2025-13-45T99:99:99Z",
    "zendesk:1",
    "zen:event-type:ticket.created",
    HUGE,
    DEEP,
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()  # NaN and +/-Infinity included: Python's json reads them
    | st.text(max_size=30)
    | st.sampled_from(ODD_STRINGS)
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON document: the root and each dict key or list index below it."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


def _parent(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        doc = doc[step]
    return doc


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> Any:
    """``base`` changed at one place: a field replaced by any JSON value, deleted, or an unknown one added."""
    doc = json.loads(json.dumps(base))
    path = draw(st.sampled_from(list(_paths(doc))))
    how = draw(st.sampled_from(["replace", "delete", "add"]))
    if not path:
        return draw(json_values) if how == "replace" else doc
    parent = _parent(doc, path)
    if how == "delete" and isinstance(parent, dict):
        del parent[path[-1]]
    elif how == "add" and isinstance(parent, dict):
        parent[draw(st.text(max_size=12))] = draw(json_values)
    else:
        parent[path[-1]] = draw(json_values)
    return doc


def encode(doc: Any) -> bytes:
    text = json.dumps(doc, ensure_ascii=False)
    for marker, raw in _RAW.items():
        text = text.replace(marker, raw)
    return text.encode("utf-8", "surrogatepass")


def bodies(base: dict[str, Any]) -> st.SearchStrategy[bytes]:
    """Mostly one-place mutations of a valid payload; some arbitrary JSON; a few arbitrary bytes."""
    return st.one_of(
        mutated(base).map(encode),
        mutated(base).map(encode),
        mutated(base).map(encode),
        json_values.map(encode),
        st.binary(max_size=64),
        mutated(base).map(encode).map(lambda raw: raw[: len(raw) // 2]),
    )


MESSAGE = {
    "conversation_id": "fuzz-chat",
    "message_id": "m1",
    "role": "customer",
    "text": "My card 4111 1111 1111 1111 was charged twice, I want a refund!",
    "created_at": "2025-01-01T10:00:00Z",
    "confidence": 0.4,
    "fallback": False,
    "language": "en",
    "customer": {"id": "u1", "email": "a@b.example", "name": "Ann", "tags": ["vip"], "lifetime_value": "120.5"},
    "context": {"order_id": "1234", "order_total": "19.90", "previous_refunds": 1, "lead_value": 10},
}
CONVERSATION = {
    "id": "fuzz-sim",
    "channel": "webchat",
    "messages": [
        {"role": "customer", "text": "Where is my parcel?"},
        {"role": "assistant", "text": "Let me check.", "confidence": 0.3},
        {"role": "customer", "text": "This is useless, get me a human", "id": "last"},
    ],
    "context": {"refund_amount": 12, "currency": "EUR"},
}
TRIGGER = {
    "handoff_guard": 1,
    "event": "ticket.updated",
    "ticket": {
        "id": "77",
        "status": "open",
        "tags": "vip angry",
        "updated_at": "2025-01-01T00:00:00Z",
        "subject": "Charged twice",
        "latest_comment": "help",
        "requester": {"name": "Ann", "email": "a@b.example"},
    },
}
EVENT = {
    "type": "zen:event-type:ticket.comment_added",
    "id": "evt-1",
    "time": "2025-01-01T00:00:00Z",
    "subject": "zen:ticket:77",
    "detail": {"id": "77", "tags": ["vip"]},
}
SLACK_EVENT = {
    "type": "event_callback",
    "team_id": "T0001",
    "api_app_id": "A0APP",
    "event": {"type": "app_mention", "user": "U1", "text": "hi", "ts": "1700000000.000100", "channel": "C1"},
    "event_id": "Ev1",
    "event_time": 1700000000,
}
SLACK_ACTION = {
    "type": "block_actions",
    "team": {"id": "T0001", "domain": "acme"},
    "user": {"id": "U0AGENT", "username": "agent", "team_id": "T0001"},
    "api_app_id": "A0APP",
    "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "C0ALERTS"},
    "trigger_id": "1.2.3",
    "channel": {"id": "C0ALERTS", "name": "alerts"},
    "message": {"type": "message", "ts": "1700000000.000100", "text": "alert", "blocks": []},
    "actions": [
        {
            "action_id": "handoff_claim",
            "block_id": "handoff_actions",
            "type": "button",
            "value": '{"d": "dec-1", "c": "conv-1", "t": "77"}',
            "action_ts": "1700000001.000100",
        }
    ],
}


def _slack_form(doc: Any) -> bytes:
    """A Slack interactivity body: form-encoded ``payload=<json>`` (the JSON itself may be fuzzed)."""
    return urlencode({"payload": encode(doc).decode("utf-8", "replace")}).encode()


Send = Callable[[str, bytes, dict[str, str]], httpx.Response]


@pytest.fixture
def send(worker_settings: Callable[..., Any]) -> Iterator[Send]:
    """POST to the worker in-process; the app's lifespan runs once on one event loop for all examples."""
    app = create_app(worker_settings(max_body_bytes=200_000), processors=False)
    with asyncio.Runner() as runner:
        lifespan = app.router.lifespan_context(app)
        runner.run(lifespan.__aenter__())
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://worker")

        def post(path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
            request: Awaitable[httpx.Response] = client.post(path, content=body, headers=headers)
            return runner.run(request)  # type: ignore[arg-type]

        try:
            yield post
        finally:
            runner.run(client.aclose())
            runner.run(lifespan.__aexit__(None, None, None))


def check(response: httpx.Response, body: bytes) -> None:
    """Never a 5xx; every 4xx is JSON ``{"error": {"code": ..., "message": ...}}`` without a traceback."""
    shown = body[:300]
    assert response.status_code < 500, (response.status_code, response.text[:500], shown)
    if response.status_code >= 400:
        assert response.headers.get("content-type", "").startswith("application/json"), (response.text, shown)
        error = response.json()["error"]
        assert isinstance(error["code"], str) and error["code"], (response.text, shown)
        assert isinstance(error["message"], str), (response.text, shown)
        assert "Traceback" not in response.text


def _webchat(path: str, base: dict[str, Any], send: Send) -> None:
    @FUZZ
    @given(bodies(base))
    def fuzz(body: bytes) -> None:
        check(send(path, body, webchat_headers(WEBCHAT_SECRET, body)), body)

    fuzz()


def test_fuzz_webchat_messages(send: Send) -> None:
    """Signed, malformed bodies to /v1/webchat/messages get a JSON 4xx (or a decision), never a 5xx."""
    raw = encode(MESSAGE)
    assert send("/v1/webchat/messages", raw, webchat_headers(WEBCHAT_SECRET, raw)).status_code == 200
    _webchat("/v1/webchat/messages", MESSAGE, send)


def test_fuzz_webchat_conversations(send: Send) -> None:
    """Signed, malformed bodies to /v1/webchat/conversations get a JSON 4xx (or a decision), never a 5xx."""
    raw = encode(CONVERSATION)
    assert send("/v1/webchat/conversations", raw, webchat_headers(WEBCHAT_SECRET, raw)).status_code == 200
    _webchat("/v1/webchat/conversations", CONVERSATION, send)


@pytest.mark.parametrize("base", [TRIGGER, EVENT], ids=["trigger", "event_subscription"])
def test_fuzz_zendesk_webhooks(send: Send, base: dict[str, Any]) -> None:
    """Signed, malformed trigger and event-subscription bodies get a JSON 4xx (or 200/202), never a 5xx."""
    raw = encode(base)
    ok = send("/webhooks/zendesk", raw, zendesk_headers(ZENDESK_SECRET, raw, invocation_id="first"))
    assert ok.status_code == 202, ok.text

    @FUZZ
    @given(bodies(base))
    def fuzz(body: bytes) -> None:
        headers = zendesk_headers(ZENDESK_SECRET, body, invocation_id=str(uuid.uuid4()))
        check(send("/webhooks/zendesk", body, headers), body)

    fuzz()


def test_fuzz_slack_events_json(send: Send) -> None:
    """Signed, malformed JSON bodies to /slack/events get a JSON 4xx (or bolt's answer), never a 5xx."""

    @FUZZ
    @given(bodies(SLACK_EVENT))
    @example(encode({**SLACK_EVENT, "event": None}))  # was a 500 in bolt's middleware
    def fuzz(body: bytes) -> None:
        headers = {**slack_headers(SLACK_SIGNING_SECRET, body), "content-type": "application/json"}
        check(send("/slack/events", body, headers), body)

    fuzz()


def test_fuzz_slack_events_form(send: Send) -> None:
    """Signed forms whose payload is a malformed button click get a JSON 4xx or 200, never a 5xx."""
    forms = st.one_of(
        mutated(SLACK_ACTION).map(_slack_form),
        mutated(SLACK_ACTION).map(_slack_form),
        mutated(SLACK_ACTION).map(_slack_form),
        st.dictionaries(st.text(max_size=10), st.text(max_size=30), max_size=3).map(
            lambda form: urlencode(form).encode()
        ),
        st.binary(max_size=64),
    )

    @FUZZ
    @given(forms)
    @example(_slack_form({**SLACK_ACTION, "actions": None}))  # was a 500 in bolt's action matcher
    @example(_slack_form({**SLACK_ACTION, "actions": [{**SLACK_ACTION["actions"][0], "value": "[1]"}]}))
    def fuzz(body: bytes) -> None:
        check(send("/slack/events", body, slack_headers(SLACK_SIGNING_SECRET, body)), body)

    fuzz()

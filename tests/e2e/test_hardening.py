"""Hostile requests get a JSON 4xx, never a 500; a stuck decision never stalls the worker."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from datetime import datetime
from urllib.parse import urlencode

import httpx
import pytest
from fakes.fixtures import SLACK_SIGNING_SECRET, WEBCHAT_SECRET
from fakes.signing import slack_headers, webchat_headers

from connectors.worker.pool import DecisionPool
from e2e.helpers import trigger_body, zendesk_delivery
from handoff_core import Conversation, Decision

pytestmark = pytest.mark.e2e


def _error(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    if code is not None:
        assert response.json()["error"]["code"] == code
    assert "Traceback" not in response.text


def _deep(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def test_slack_malformed_payload_and_timestamp_are_4xx(fakes, start_worker):
    """payload=%7Bnot+json (signed) is 400; a non-numeric timestamp is 401; neither reaches bolt as a crash."""
    worker = start_worker(max_body_bytes=2_000_000)
    raw = b"payload=%7Bnot+json"
    _error(worker.http.post("/slack/events", content=raw, headers=slack_headers(SLACK_SIGNING_SECRET, raw)), 400)
    raw = urlencode({"payload": "[1, 2]"}).encode()
    _error(worker.http.post("/slack/events", content=raw, headers=slack_headers(SLACK_SIGNING_SECRET, raw)), 400)
    headers = {**slack_headers(SLACK_SIGNING_SECRET, raw), "x-slack-request-timestamp": "soon"}
    _error(worker.http.post("/slack/events", content=raw, headers=headers), 401, "bad_timestamp")
    headers = slack_headers("another-signing-secret", raw)
    _error(worker.http.post("/slack/events", content=raw, headers=headers), 401, "bad_signature")
    raw = urlencode({"payload": _deep(100_000).decode()}).encode()
    _error(worker.http.post("/slack/events", content=raw, headers=slack_headers(SLACK_SIGNING_SECRET, raw)), 400)


def test_json_nested_100000_deep_is_400_on_every_json_endpoint(fakes, start_worker):
    """Signed JSON nested 100,000 deep (and 40 deep) is refused with 400 too_deep, not a RecursionError 500."""
    worker = start_worker(max_body_bytes=2_000_000)
    for depth in (100_000, 40):
        body = _deep(depth)
        _, zheaders = zendesk_delivery(1, body=body)
        _error(worker.http.post("/webhooks/zendesk", content=body, headers=zheaders), 400, "too_deep")
        for path in ("/v1/webchat/messages", "/v1/webchat/conversations"):
            response = worker.http.post(path, content=body, headers=webchat_headers(WEBCHAT_SECRET, body))
            _error(response, 400, "too_deep")
        sbody = json.dumps({"type": "event_callback"}).encode()[:-1] + b', "x": ' + _deep(depth) + b"}"
        sheaders = {**slack_headers(SLACK_SIGNING_SECRET, sbody), "content-type": "application/json"}
        _error(worker.http.post("/slack/events", content=sbody, headers=sheaders), 400)


class GatedEngine:
    """A stand-in engine that blocks until the test releases it, like a pathological message would."""

    def __init__(self, real) -> None:
        self.real = real
        self.gate = threading.Event()
        self.entered = threading.Event()

    def decide(self, conversation: Conversation, now: datetime | None = None) -> Decision:
        self.entered.set()
        self.gate.wait(20)
        return self.real.decide(conversation, now=now)

    def step(self, conversation: Conversation, previous=None, now=None):
        self.entered.set()
        self.gate.wait(20)
        return self.real.step(conversation, previous, now)


def test_healthz_answers_while_a_decision_is_stuck(fakes, start_worker):
    """A decision that does not finish leaves /healthz answering, and the web chat gets a 503 in budget."""
    worker = start_worker(decision_budget_seconds=1.0)
    handoffs = worker.parts.handoffs
    engine = GatedEngine(handoffs.decisions.engine)
    handoffs.decisions = DecisionPool(engine, workers=1, budget=1.0)
    payload = {"conversation_id": "slow", "message_id": "m1", "role": "customer", "text": "help " * 10_000}
    raw = json.dumps(payload).encode()
    answers: list[httpx.Response] = []
    poster = threading.Thread(
        target=lambda: answers.append(
            worker.http.post("/v1/webchat/messages", content=raw, headers=webchat_headers(WEBCHAT_SECRET, raw))
        )
    )
    poster.start()
    try:
        assert engine.entered.wait(10)
        health = worker.http.get("/healthz", timeout=5)  # before: blocked until the decision finished
        assert health.status_code == 200
        poster.join(10)
        _error(answers[0], 503, "decision_timeout")
        assert answers[0].headers["retry-after"] == "1"
        assert worker.parts.store.conversation_get("slow") is None  # nothing stored; posting again is safe
    finally:
        engine.gate.set()
    time.sleep(0.1)
    again = worker.http.post("/v1/webchat/messages", content=raw, headers=webchat_headers(WEBCHAT_SECRET, raw))
    assert again.status_code == 200, again.text


def test_webchat_overload_is_503_with_retry_after_and_stores_nothing(fakes, start_worker):
    """With the only decision slot busy and DECISION_MAX_WAIT_SECONDS=0, a message is 503 overloaded at once."""
    worker = start_worker(decision_workers=1, decision_max_wait_seconds=0)
    pool = worker.parts.handoffs.decisions  # the pool the settings built
    engine = GatedEngine(pool.engine)
    pool.engine = engine

    def post(conversation_id: str) -> httpx.Response:
        payload = {"conversation_id": conversation_id, "message_id": "m1", "role": "customer", "text": "hello"}
        raw = json.dumps(payload).encode()
        return worker.http.post("/v1/webchat/messages", content=raw, headers=webchat_headers(WEBCHAT_SECRET, raw))

    answers: list[httpx.Response] = []
    holder = threading.Thread(target=lambda: answers.append(post("holds-the-slot")))
    holder.start()
    try:
        assert engine.entered.wait(10)
        shed = post("turned-away")
        _error(shed, 503, "overloaded")
        assert shed.headers["retry-after"] == "1"
        assert worker.parts.store.conversation_get("turned-away") is None  # nothing stored: posting again is safe
        metrics = worker.http.get("/metrics").text
        assert 'handoff_webhook_requests_total{outcome="overloaded",source="webchat"} 1.0' in metrics
    finally:
        engine.gate.set()
    holder.join(10)
    assert answers[0].status_code == 200, answers[0].text
    again = post("turned-away")
    assert again.status_code == 200, again.text
    assert again.json()["conversation_id"] == "turned-away"


def test_replayed_zendesk_delivery_with_a_new_invocation_id_is_a_duplicate(fakes, start_worker):
    """The same signed body and timestamp with a fresh invocation id is answered 200 duplicate, stored once."""
    worker = start_worker()
    raw, headers = zendesk_delivery(77, body=trigger_body(77, updated_at="2025-01-01T00:00:00Z"))
    first = worker.http.post("/webhooks/zendesk", content=raw, headers=headers)
    assert first.status_code == 202, first.text
    for n in range(3):
        replay = {**headers, "x-zendesk-webhook-invocation-id": f"replayed-{n}"}
        again = worker.http.post("/webhooks/zendesk", content=raw, headers=replay)
        assert again.status_code == 200, again.text
        assert again.json()["status"] == "duplicate"
    changed = raw.replace(b"2025-01-01T00:00:00Z", b"2025-01-01T00:05:00Z")  # the ticket really changed
    _, changed_headers = zendesk_delivery(77, body=changed)
    assert worker.http.post("/webhooks/zendesk", content=changed, headers=changed_headers).status_code == 202


def test_concurrent_zendesk_deliveries_are_each_stored_before_their_202(fakes, start_worker):
    """40 deliveries at once (group commit): every 202 has its own stored inbox row, none is lost or doubled."""
    worker = start_worker()
    deliveries = [zendesk_delivery(500 + n, body=trigger_body(500 + n)) for n in range(40)]
    url = str(worker.http.base_url)

    def post(n: int) -> int:
        raw, headers = deliveries[n]
        return httpx.post(f"{url}/webhooks/zendesk", content=raw, headers=headers, timeout=30).status_code

    results: list[int] = [0] * 40
    threads = [threading.Thread(target=lambda n=n: results.__setitem__(n, post(n))) for n in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [202] * 40
    store = worker.parts.store
    keys = {i.dedupe_key for i in store.inbox_list(limit=1000)}
    assert len(keys) == 40 and all(f"trigger:{500 + n}:" in " ".join(keys) for n in range(40))
    assert worker.app.state.zendesk.inbox.deliveries == 40


def test_zendesk_delivery_is_503_not_500_when_the_store_cannot_be_written(fakes, start_worker):
    """A store failure while acknowledging answers 503 with Retry-After (nothing acknowledged), never a 500."""
    worker = start_worker()
    worker.parts.store.close()
    raw, headers = zendesk_delivery(78, body=trigger_body(78))
    response = worker.http.post("/webhooks/zendesk", content=raw, headers=headers)
    _error(response, 503, "store_unavailable")
    assert response.headers["retry-after"] == "5"


def test_webchat_cannot_touch_a_ticket_it_did_not_create(fakes, start_worker):
    """context.ticket_id of another customer's ticket is refused with 403 and the ticket is untouched."""
    worker = start_worker()
    payload = {
        "conversation_id": "intruder",
        "message_id": "m1",
        "role": "customer",
        "text": "I want to talk to a human now!",
        "context": {"ticket_id": "4242"},
    }
    raw = json.dumps(payload).encode()
    response = worker.http.post("/v1/webchat/messages", content=raw, headers=webchat_headers(WEBCHAT_SECRET, raw))
    _error(response, 403, "foreign_ticket")
    assert worker.parts.store.conversation_get("intruder") is None
    assert worker.parts.store.outbox_list() == []


def test_webchat_foreign_tickets_can_be_allowed_explicitly(fakes, start_worker):
    """WEBCHAT_FOREIGN_TICKETS=true restores linking a chat to an existing ticket."""
    worker = start_worker(webchat_foreign_tickets=True)
    payload = {
        "conversation_id": "linked",
        "message_id": "m1",
        "role": "customer",
        "text": "Where is my parcel?",
        "context": {"ticket_id": "4242"},
    }
    raw = json.dumps(payload).encode()
    response = worker.http.post("/v1/webchat/messages", content=raw, headers=webchat_headers(WEBCHAT_SECRET, raw))
    assert response.status_code == 200, response.text


def test_schema_refuses_booleans_as_counts_and_accepts_decimal_strings(fakes, start_worker):
    """previous_refunds: false is a 422; the decimal strings the schema allows are accepted."""
    worker = start_worker()
    base = {"conversation_id": "schema", "role": "customer", "text": "Where is my parcel?"}
    bad = json.dumps({**base, "message_id": "m1", "context": {"previous_refunds": False}}).encode()
    response = worker.http.post("/v1/webchat/messages", content=bad, headers=webchat_headers(WEBCHAT_SECRET, bad))
    _error(response, 422, "invalid_request")
    assert "previous_refunds" in response.json()["error"]["message"]
    for n, amount in enumerate(("19.90", "+1.", ".5", "0")):
        good = json.dumps({**base, "message_id": f"d{n}", "context": {"order_total": amount}}).encode()
        ok = worker.http.post("/v1/webchat/messages", content=good, headers=webchat_headers(WEBCHAT_SECRET, good))
        assert ok.status_code == 200, (amount, ok.text)


def test_openapi_documents_every_status_code(fakes, start_worker):
    """Each endpoint lists the 4xx/5xx answers it can give, including the 401 of /slack/events."""
    schema = start_worker().http.get("/openapi.json").json()
    codes = {path: set(ops["post"]["responses"]) for path, ops in schema["paths"].items() if "post" in ops}
    assert {"400", "401", "413"} <= codes["/slack/events"]
    for path in ("/v1/webchat/messages", "/v1/webchat/conversations"):
        assert {"400", "401", "403", "413", "415", "422", "503"} <= codes[path]
    assert {"400", "401", "413", "415", "422", "503"} <= codes["/webhooks/zendesk"]
    order_total = schema["components"]["schemas"]["Context"]["properties"]["order_total"]
    assert {"minimum": 0, "type": "number"} in order_total["anyOf"]


PII = {
    "card": "4111 1111 1111 1111",
    "phone": "+1 415 555 0100",
    "email": "ann.smith@globex.example",
    "name": "Annabel Smithers",
    "street": "221 Baker Street",
}


#: Where raw text legitimately stays, for the retention period only (RAW_RETENTION_DAYS, then purged):
#: the transcript the next decision is made from, the answer a web-chat retry is replayed from, and the
#: received event while it waits in the inbox. Every other table must hold no raw value at all.
RAW_TEXT_TABLES = {"conversations", "conversation_messages", "inbox"}
#: The outbox's ticket-creation action carries the requester (name and email) as Zendesk's requester
#: field: the one place outside raw-text storage they legitimately go. Stripped before the check.
REQUESTER_FIELDS = {"requester_name", "requester_email"}


def _without_requester(text: str) -> str:
    """The JSON text with the requester fields removed at any depth (non-JSON text unchanged)."""
    try:
        value = json.loads(text)
    except ValueError:
        return text

    def strip(node):
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in REQUESTER_FIELDS}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return json.dumps(strip(value))


def _store_dump(path) -> dict[str, str]:
    """Every table of the SQLite store, every column cast to text (outbox without requester fields)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        dump: dict[str, str] = {}
        for table in tables:
            columns = [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]
            if not columns:
                continue
            select = ", ".join(f'CAST("{c}" AS TEXT)' for c in columns)
            cells = [cell or "" for row in conn.execute(f'SELECT {select} FROM "{table}"') for cell in row]
            dump[table] = "\n".join(_without_requester(cell) if table == "outbox" else cell for cell in cells)
        return dump
    finally:
        conn.close()


def test_pii_does_not_reach_zendesk_text_slack_the_outbox_logs_or_any_table(fakes, start_worker, caplog):
    """A conversation full of personal data hands off; no raw value reaches the web-chat answer, Zendesk
    text, Slack, the worker's logs (DEBUG and up, vendor clients included) or any store table outside
    raw-text storage (the stored web-chat answer included).

    The requester's email as the ticket's requester field is the one place it legitimately goes;
    RAW_TEXT_TABLES hold raw text for the retention period (purged by ``handoff purge``).
    """
    caplog.set_level(logging.DEBUG)
    worker = start_worker()
    text = (
        f"This is absolutely ridiculous!! I am {PII['name']}, my card {PII['card']} was charged twice. "
        f"Call me on {PII['phone']} or write to {PII['email']}; I live at {PII['street']}. "
        "I want to talk to a human now!"
    )
    payload = {
        "conversation_id": "pii",
        "message_id": "m1",
        "role": "customer",
        "text": text,
        "customer": {"name": PII["name"], "email": PII["email"], "phone": PII["phone"], "tags": ["vip"]},
    }
    raw = json.dumps(payload).encode()
    response = worker.http.post("/v1/webchat/messages", content=raw, headers=webchat_headers(WEBCHAT_SECRET, raw))
    assert response.status_code == 200, response.text
    assert response.json()["action"] == "handoff"
    for what, value in PII.items():
        assert value not in response.text, f"raw {what} echoed in the web-chat answer"
    quotes = [e["quote"] for r in response.json()["reasons"] for e in r["evidence"] if e["quote"]]
    assert any("[customer]" in q or "[card]" in q for q in quotes), f"the quotes were not redacted: {quotes}"
    from fakes.fixtures import wait_until

    wait_until(lambda: fakes.zendesk.tickets and fakes.slack.calls_to("chat.postMessage"))
    (ticket,) = fakes.zendesk.tickets.values()
    ticket_text = json.dumps({k: v for k, v in ticket.items() if k not in {"requester_id"}})
    comments = json.dumps(fakes.zendesk.comments[ticket["id"]])
    slack = json.dumps([c.args for c in fakes.slack.calls])
    outbox = json.dumps([item.payload for item in worker.parts.store.outbox_list(limit=1000)])
    assert "[angry]" not in ticket["subject"]
    for what, value in PII.items():
        for sink, seen in (("ticket", ticket_text), ("note", comments), ("slack", slack)):
            assert value not in seen, f"raw {what} reached {sink}"
        if what != "email" and what != "name":  # the requester field of the new ticket carries these
            assert value not in outbox, f"raw {what} stored in the outbox"
    assert "Smithers" not in slack and "Smithers" not in comments

    wait_until(lambda: all(item.status != "pending" for item in worker.parts.store.outbox_list(limit=1000)))
    logs = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''} {r.stack_info or ''}" for r in caplog.records)
    assert caplog.records, "the worker's log lines were not captured"
    tables = _store_dump(worker.settings.database_path)
    assert {"conversations", "outbox", "inbox"} <= tables.keys()
    transcript = tables["conversations"] + tables["conversation_messages"]  # a message per row, purged with it
    assert PII["card"] in transcript, "the transcript is raw for the retention period"
    for what, value in PII.items():
        assert value not in logs, f"raw {what} reached the logs"
        for table, seen in tables.items():
            if table not in RAW_TEXT_TABLES:
                assert value not in seen, f"raw {what} stored in table {table}"


def test_an_email_cut_by_the_subject_or_the_audit_question_is_still_redacted(fakes, start_worker):
    """The ticket subject keeps at most 80 characters and the audit's question the first 1,000: an e-mail
    address straddling either cut must be redacted before the cut, not leave as its first half ("ann@"),
    and the subject is cut at a word, never in half a word or half a placeholder ("mail [e")."""
    worker = start_worker()
    head = "Refund please, my card was charged twice. Write to me at once, mail "
    at_80 = "zed.quill@example.org"  # characters 68-88 of the message: across the subject's cut at 80
    filler = " ".join(["the parcel never arrived and the refund is still missing"] * 16)
    at_1000 = "yva.rook@example.net"
    text = f"{head}{at_80} right away. {filler}"  # redacted, "right" crosses the subject's cut at 80
    text = f"{text[: 1000 - 10 - 1]} {at_1000} thanks"  # across the audit question's cut at 1,000
    assert text.index(at_80) < 80 < text.index(at_80) + len(at_80)
    assert text.index(at_1000) < 1000 < text.index(at_1000) + len(at_1000)
    payload = {
        "conversation_id": "cut",
        "message_id": "m1",
        "role": "customer",
        "text": text,
        "customer": {"email": "requester@example.com"},  # a ticket needs a requester; not one in the text
    }
    raw = json.dumps(payload).encode()
    response = worker.http.post("/v1/webchat/messages", content=raw, headers=webchat_headers(WEBCHAT_SECRET, raw))
    assert response.status_code == 200, response.text
    assert response.json()["action"] == "handoff"
    from fakes.fixtures import wait_until

    wait_until(lambda: fakes.zendesk.tickets)
    (ticket,) = fakes.zendesk.tickets.values()
    assert "[email]" in ticket["subject"] or "@" not in ticket["subject"], ticket["subject"]
    tables = _store_dump(worker.settings.database_path)
    # Cut at a word after redaction: every word of the subject is a whole word of the redacted message.
    words = set(text.replace(at_80, "[email]").replace(at_1000, "[email]").split())
    cut_words = ticket["subject"].split("] ", 1)[1].removesuffix("…").split()  # after "[topic] "
    assert cut_words and set(cut_words) <= words, ticket["subject"]
    for local_part in ("zed.quill", "yva.rook"):
        assert local_part not in ticket["subject"]
        for table, seen in tables.items():
            if table not in RAW_TEXT_TABLES:
                where = seen.find(local_part)
                around = seen[max(where - 120, 0) : where + 40]
                assert where < 0, f"part of an e-mail stored in table {table}: {around!r}"

"""Three worker processes on one PostgreSQL database, vendors answering 429, one replica killed mid-run.

Expected, as for one process: 0 lost (every handoff has its ticket or note and its alert; nothing left
pending or dead) and 0 duplicates (one ticket per web chat, one private note per ticket, one alert per
handoff), although each conversation's messages and each ticket's deliveries are spread over replicas.
"""

from __future__ import annotations

import concurrent.futures
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from fakes.fixtures import wait_until

from connectors.store import OutboxStatus, open_store
from e2e.helpers import webchat_post, zendesk_delivery
from e2e.test_restart import HANDOFF, _env, _free_port

pytestmark = pytest.mark.e2e
WEB_CHATS = 18
TICKETS = 9


def _start_replicas(env: dict[str, str], cwd: Path, n: int) -> list[tuple[subprocess.Popen[bytes], str]]:
    replicas = []
    for _ in range(n):
        port = _free_port()
        proc = subprocess.Popen(
            [HANDOFF, "serve"],
            env={**env, "PORT": str(port)},
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        replicas.append((proc, f"http://127.0.0.1:{port}"))
    for proc, url in replicas:

        def ready(url: str = url) -> bool:
            try:
                return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout=90)
        assert proc.poll() is None
    return replicas


def _seed_tickets(fake) -> list[int]:
    org = fake.add_organization(name="Globex", tags=["vip"])
    ids = []
    for n in range(TICKETS):
        customer = fake.add_user(name=f"Ann {n}", email=f"ann{n}@globex.example", organization_id=org)
        ids.append(
            fake.add_ticket(
                requester_id=customer,
                subject="Charged twice",
                organization_id=org,
                comments=[(customer, f"Hello, my card was charged twice for order {n}."), (customer, "Please check.")],
            )
        )
    return ids


def _chat(url: str, cid: str, mid: str, text: str) -> int:
    customer = {"name": f"Vi {cid}", "email": f"{cid}@example.com", "tags": ["vip"]}
    body, headers = webchat_post(
        {"conversation_id": cid, "message_id": mid, "role": "customer", "text": text, "customer": customer}
    )
    try:
        return httpx.post(f"{url}/v1/webchat/messages", content=body, headers=headers, timeout=30).status_code
    except httpx.HTTPError:
        return 0


def _trigger(url: str, ticket_id: int) -> int:
    body, headers = zendesk_delivery(ticket_id)
    try:
        return httpx.post(f"{url}/webhooks/zendesk", content=body, headers=headers, timeout=30).status_code
    except httpx.HTTPError:
        return 0


def test_three_replicas_on_postgres_lose_nothing_and_duplicate_nothing(fakes, tmp_path, pg_url):
    """Round-robin over 3 replicas with 429s from both vendors and one replica SIGKILLed: 0 lost, 0 duplicates."""
    tickets = _seed_tickets(fakes.zendesk)
    env = _env(fakes, tmp_path / "unused.sqlite3", 0)
    env.update(
        {
            "HANDOFF_DATABASE_URL": pg_url,
            "ZENDESK_RATELIMIT_BUDGET": "2",
            "OUTBOX_INLINE_ATTEMPTS": "2",
            "OUTBOX_INLINE_WAIT_CAP": "1",
            "OUTBOX_LEASE_SECONDS": "3",
        }
    )
    fakes.zendesk.fail_next(429, times=12, retry_after=1)
    fakes.slack.fail_next(429, times=8, method="chat.postMessage", retry_after=1)
    replicas = _start_replicas(env, tmp_path, 3)
    urls = [url for _, url in replicas]
    victim = replicas[1][0]
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
            # First half: message 1 and message 2 of each chat go to different replicas; each ticket's
            # webhook is delivered to two replicas (a trigger and a second delivery), concurrently.
            jobs = []
            for n in range(WEB_CHATS):
                cid = f"web-{n}"
                jobs.append(pool.submit(_chat, urls[n % 3], cid, "m1", "Hello there"))
            assert all(j.result() == 200 for j in jobs), [j.result() for j in jobs]
            jobs = [
                pool.submit(_chat, urls[(n + 1) % 3], f"web-{n}", "m2", "My card was charged twice, please help")
                for n in range(WEB_CHATS // 2)
            ]
            jobs += [pool.submit(_trigger, urls[n % 3], t) for n, t in enumerate(tickets[: TICKETS // 2 + 1])]
            jobs += [pool.submit(_trigger, urls[(n + 1) % 3], t) for n, t in enumerate(tickets[: TICKETS // 2 + 1])]
            assert all(j.result() in {200, 202} for j in jobs), [j.result() for j in jobs]
            time.sleep(0.3)  # some actions in flight on every replica
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=10)
            alive = [urls[0], urls[2]]
            jobs = [
                pool.submit(_chat, alive[n % 2], f"web-{n}", "m2", "My card was charged twice, please help")
                for n in range(WEB_CHATS // 2, WEB_CHATS)
            ]
            # A chat message repeated to both live replicas at once: one answer, one effect.
            jobs += [
                pool.submit(_chat, url, f"web-{WEB_CHATS - 1}", "m2", "My card was charged twice, please help")
                for url in alive
            ]
            rest = tickets[TICKETS // 2 + 1 :]
            jobs += [pool.submit(_trigger, alive[n % 2], t) for n, t in enumerate(rest)]
            jobs += [pool.submit(_trigger, alive[(n + 1) % 2], t) for n, t in enumerate(rest)]
            assert all(j.result() in {200, 202} for j in jobs), [j.result() for j in jobs]

        store = open_store(pg_url)

        def settled() -> bool:
            counts = store.outbox_counts()
            web = {t["external_id"] for t in fakes.zendesk.tickets.values() if t.get("external_id")}
            notes = all(fakes.zendesk.private_notes(t) for t in tickets)
            return counts[OutboxStatus.PENDING] == 0 and len(web) == WEB_CHATS and notes

        try:
            wait_until(settled, timeout=120, interval=0.2)
            time.sleep(1.0)  # let any duplicate surface before counting
            counts = store.outbox_counts()
            assert counts[OutboxStatus.DEAD] == 0 and counts[OutboxStatus.PENDING] == 0
        finally:
            store.close()
    finally:
        for proc, _ in replicas:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc, _ in replicas:
            proc.wait(timeout=20)

    external = Counter(t.get("external_id") for t in fakes.zendesk.tickets.values() if t.get("external_id"))
    assert set(external) == {f"handoff-guard:web-{n}" for n in range(WEB_CHATS)}
    assert max(external.values()) == 1, f"duplicate web-chat tickets: {external.most_common(3)}"
    for ticket_id in tickets:
        assert len(fakes.zendesk.private_notes(ticket_id)) == 1, f"ticket {ticket_id} has a duplicate note"
        assert "ai_handoff" in fakes.zendesk.tickets[ticket_id]["tags"]
    for ticket in fakes.zendesk.tickets.values():
        if ticket.get("external_id"):
            assert len(fakes.zendesk.private_notes(ticket["id"])) == 1
    keys = Counter(
        (m.get("metadata") or {}).get("event_payload", {}).get("key")
        for m in fakes.slack.messages.values()
        if (m.get("metadata") or {}).get("event_type") == "handoff_guard_alert"
    )
    assert len(keys) == WEB_CHATS + TICKETS, f"{len(keys)} alerts for {WEB_CHATS + TICKETS} handoffs"
    assert max(keys.values()) == 1, f"duplicate alerts: {keys.most_common(3)}"

"""Kill the worker (SIGKILL) with actions pending, start it again: the actions complete, once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fakes.fixtures import SLACK_SIGNING_SECRET, WEBCHAT_SECRET, ZENDESK_SECRET, wait_until

from connectors.store import OutboxStatus, SQLiteStore
from e2e.helpers import seed_vip_ticket, zendesk_delivery

pytestmark = pytest.mark.e2e
HANDOFF = str(Path(sys.executable).with_name("handoff"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(fakes, db: Path, port: int) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        # This test process's own data folder (tests/conftest.py), not the user's: knowledge cache, default store.
        "XDG_DATA_HOME": os.environ["XDG_DATA_HOME"],
        "ZENPY_FORCE_SCHEME": "http",
        "ZENPY_FORCE_NETLOC": f"127.0.0.1:{fakes.zendesk_server.port}",
        "ZENDESK_SUBDOMAIN": "acme",
        "ZENDESK_EMAIL": fakes.zendesk.email,
        "ZENDESK_API_TOKEN": fakes.zendesk.token,
        "ZENDESK_WEBHOOK_SECRET": ZENDESK_SECRET,
        "SLACK_BOT_TOKEN": fakes.slack.token,
        "SLACK_SIGNING_SECRET": SLACK_SIGNING_SECRET,
        "SLACK_ALERT_CHANNEL": "C0ALERTS",
        "SLACK_API_URL": f"{fakes.slack_server.url}/api/",
        "WEBCHAT_SECRET": WEBCHAT_SECRET,
        "HANDOFF_DATABASE_URL": f"sqlite:///{db}",
        "OUTBOX_POLL_INTERVAL": "0.05",
        "OUTBOX_BACKOFF_BASE": "0.2",
        "OUTBOX_BACKOFF_CAP": "0.5",
        "OUTBOX_INLINE_ATTEMPTS": "1",
        "OUTBOX_LEASE_SECONDS": "2",
        "OUTBOX_MAX_ATTEMPTS": "1000",
        # Hang guards, not the defaults (2 s, 0.05 s): on a busy machine a starved decision overran 2 s or a web
        # chat was shed 503 (test_replicas failed so at load ~12), which is not what these tests are about.
        "DECISION_BUDGET_SECONDS": "20",
        "DECISION_MAX_WAIT_SECONDS": "10",
        "PORT": str(port),
    }


def _start(env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([HANDOFF, "serve"], env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{env['PORT']}/healthz"

    def up() -> bool:
        try:
            return httpx.get(url, timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(up, timeout=120)  # generous: a busy 2-core machine starts Python slowly; a healthy run takes ~2 s
    except AssertionError:
        proc.kill()
        proc.wait(timeout=10)
        raise
    return proc


def test_killed_worker_completes_pending_actions_after_restart(fakes, tmp_path):
    """With Zendesk and Slack down, the worker is killed; restarted with them back, the handoff completes once."""
    ticket_id = seed_vip_ticket(fakes.zendesk)
    db = tmp_path / "handoff.sqlite3"
    env = _env(fakes, db, _free_port())
    proc = _start(env, tmp_path)
    try:
        fakes.zendesk.fail_next(503, times=10_000, method="PUT")
        fakes.slack.down = True
        body, headers = zendesk_delivery(ticket_id)
        response = httpx.post(f"http://127.0.0.1:{env['PORT']}/webhooks/zendesk", content=body, headers=headers)
        assert response.status_code == 202

        def pending_with_attempts() -> bool:
            store = SQLiteStore(db)
            try:
                items = store.outbox_list([OutboxStatus.PENDING])
                return len(items) == 2 and all(i.attempts >= 1 for i in items)
            finally:
                store.close()

        wait_until(pending_with_attempts, timeout=120)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert fakes.zendesk.private_notes(ticket_id) == [] and fakes.slack.messages == {}

    fakes.zendesk.faults.clear()
    fakes.slack.down = False
    proc = _start(env, tmp_path)
    try:
        wait_until(lambda: fakes.zendesk.private_notes(ticket_id) and fakes.slack.messages, timeout=120)
        time.sleep(0.5)  # let any duplicate attempt surface before counting
        assert len(fakes.zendesk.private_notes(ticket_id)) == 1
        assert len(fakes.slack.messages) == 1
        assert "ai_handoff" in fakes.zendesk.tickets[ticket_id]["tags"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)

"""An acknowledged delivery survives SIGKILL: group commit never answers 202 before the row is committed.

A real ``handoff serve`` (local mode) receives signed deliveries from 16 concurrent senders, so they share
group commits; it is killed with SIGKILL while requests are in flight. Every delivery that got its 202 must
then be in the inbox; the ones that got no answer may or may not be (Zendesk delivers them again).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fakes.fixtures import ZENDESK_SECRET, wait_until

from connectors.store import SQLiteStore
from e2e.helpers import trigger_body, zendesk_delivery

pytestmark = pytest.mark.e2e
HANDOFF = str(Path(sys.executable).with_name("handoff"))
SENDERS = 16
#: Acknowledgements to see before the kill: enough that batches of several deliveries are committing.
KILL_AFTER = 300


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_every_acknowledged_delivery_is_stored_after_sigkill(tmp_path: Path) -> None:
    """Deliveries answered 202 before a SIGKILL in the middle of a burst are all in the inbox afterwards."""
    port, db = _free_port(), tmp_path / "handoff.sqlite3"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "ZENDESK_WEBHOOK_SECRET": ZENDESK_SECRET,
        "HANDOFF_DATABASE_URL": f"sqlite:///{db}",
        "PORT": str(port),
        "OPENBLAS_NUM_THREADS": "1",
    }
    proc = subprocess.Popen(
        [HANDOFF, "serve"], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{url}/healthz", timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    acked: list[int] = []
    lock = threading.Lock()
    enough = threading.Event()

    def sender(first: int) -> None:
        with httpx.Client(base_url=url, timeout=5) as client:
            ticket = first
            while True:
                body, headers = zendesk_delivery(ticket, body=trigger_body(ticket))
                try:
                    answer = client.post("/webhooks/zendesk", content=body, headers=headers)
                except httpx.HTTPError:
                    return  # the worker is gone
                if answer.status_code == 202:
                    with lock:
                        acked.append(ticket)
                        if len(acked) >= KILL_AFTER:
                            enough.set()
                ticket += SENDERS

    try:
        wait_until(up, timeout=120)
        with ThreadPoolExecutor(SENDERS) as pool:
            for n in range(SENDERS):
                pool.submit(sender, 1 + n)
            reached = enough.wait(120)
            proc.send_signal(signal.SIGKILL)  # in any case: the senders stop once the worker is gone
            proc.wait(timeout=30)
        assert reached, f"only {len(acked)} acknowledgements"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)

    store = SQLiteStore(db)
    try:
        stored = {int(item.payload["ticket_id"]) for item in store.inbox_list(limit=1_000_000)}
    finally:
        store.close()
    assert len(acked) >= KILL_AFTER
    missing = sorted(set(acked) - stored)
    assert not missing, f"{len(missing)} acknowledged deliveries lost, e.g. {missing[:5]}"

"""Pytest fixtures around the fakes: import them into a conftest with ``from fakes.fixtures import *``.

``fake_zendesk`` and ``fake_slack`` start real servers on 127.0.0.1 (zenpy is pointed at the fake with
ZENPY_FORCE_SCHEME/NETLOC, read by zenpy on every request); ``worker_settings`` builds settings for a
worker talking to both, with short timings so retries finish in well under a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from connectors.settings import Settings
from fakes.server import ServerThread, serve
from fakes.slack import FakeSlack
from fakes.zendesk import FakeZendesk

ZENDESK_SECRET = "zd-webhook-secret"
SLACK_SIGNING_SECRET = "slack-signing-secret"
WEBCHAT_SECRET = "webchat-secret-for-tests"

__all__ = [
    "SLACK_SIGNING_SECRET",
    "WEBCHAT_SECRET",
    "ZENDESK_SECRET",
    "Fakes",
    "fake_slack",
    "fake_zendesk",
    "fakes",
    "wait_until",
    "worker_settings",
]


@dataclass
class Fakes:
    zendesk: FakeZendesk
    zendesk_server: ServerThread
    slack: FakeSlack
    slack_server: ServerThread


def wait_until(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
    """Poll ``check`` until it returns something truthy; fail the test with a clear message otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


@pytest.fixture
def fake_zendesk(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeZendesk, ServerThread]]:
    fake = FakeZendesk()
    with serve(fake) as server:
        fake.base_url = server.url
        monkeypatch.setenv("ZENPY_FORCE_SCHEME", "http")
        monkeypatch.setenv("ZENPY_FORCE_NETLOC", f"127.0.0.1:{server.port}")
        yield fake, server


@pytest.fixture
def fake_slack() -> Iterator[tuple[FakeSlack, ServerThread]]:
    fake = FakeSlack()
    with serve(fake, lifespan="on") as server:
        yield fake, server


@pytest.fixture
def fakes(fake_zendesk: tuple[FakeZendesk, ServerThread], fake_slack: tuple[FakeSlack, ServerThread]) -> Fakes:
    return Fakes(fake_zendesk[0], fake_zendesk[1], fake_slack[0], fake_slack[1])


@pytest.fixture
def worker_settings(tmp_path: Path, fakes: Fakes) -> Callable[..., Settings]:
    """Settings for a live worker against the fakes; keyword arguments override fields."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "zendesk_subdomain": "acme",
            "zendesk_email": fakes.zendesk.email,
            "zendesk_api_token": fakes.zendesk.token,
            "zendesk_webhook_secret": ZENDESK_SECRET,
            "zendesk_ratelimit_budget": 3.0,
            "zendesk_timeout": 5.0,
            "slack_bot_token": fakes.slack.token,
            "slack_signing_secret": SLACK_SIGNING_SECRET,
            "slack_alert_channel": "C0ALERTS",
            "slack_api_url": f"{fakes.slack_server.url}/api/",
            "webchat_secret": WEBCHAT_SECRET,
            "handoff_database_url": f"sqlite:///{tmp_path}/handoff.sqlite3",
            "handoff_knowledge_cache": tmp_path / "knowledge-cache",
            "outbox_poll_interval": 0.05,
            "outbox_backoff_base": 0.2,
            "outbox_backoff_cap": 1.0,
            "outbox_inline_attempts": 2,
            "outbox_inline_wait_cap": 2.0,
            "outbox_lease_seconds": 5.0,
            "outbox_max_attempts": 3,
            # Hang guards, not the product's defaults (2 s budget, 0.05 s longest wait): on a busy shared machine
            # a starved decision can overrun 2 s and a web-chat message be shed 503 although nothing is wrong.
            # The tests of the budget and of shedding set their own values (test_hardening, test_decision_processes).
            "decision_budget_seconds": 20.0,
            "decision_max_wait_seconds": 10.0,
            # Threads, not forked decision processes (the default on a multi-core machine): many tests swap
            # the engine in the running worker; the process pool has its own tests (test_decision_processes).
            "decision_processes": 0,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return make

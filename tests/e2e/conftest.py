"""End-to-end fixtures: the worker runs for real (uvicorn on a free port) against the fake servers."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fakes.fixtures import *  # noqa: F403
from fakes.server import ServerThread

from connectors.settings import Settings
from connectors.worker.app import create_app


class Worker:
    def __init__(self, app: Any, server: ServerThread, settings: Settings) -> None:
        self.app = app
        self.server = server
        self.settings = settings
        self.http = httpx.Client(base_url=server.url, timeout=30)  # a hang guard: generous on a busy machine

    @property
    def parts(self) -> Any:
        """The running worker's wired parts (:class:`connectors.worker.wiring.Worker`): store, audit, ..."""
        return self.app.state.worker


@pytest.fixture
def start_worker(worker_settings: Callable[..., Settings]) -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []

    def start(**overrides: Any) -> Worker:
        settings = worker_settings(**overrides)
        app = create_app(settings)
        worker = Worker(app, ServerThread(app, lifespan="on").start(), settings)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.http.close()
        worker.server.stop()

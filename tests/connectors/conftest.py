"""Connector tests: real fakes on 127.0.0.1. ``tests/`` is put on sys.path so ``fakes`` imports."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pytest
from fakes.fixtures import *  # noqa: F403


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"

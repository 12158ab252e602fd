"""A worker started with knowledge the fitted scorer reads stores the head at its first start and reads it
back at the next, instead of fitting it again (connectors/knowledge_cache.py)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_second_worker_start_reads_the_stored_head(tmp_path, worker_settings, caplog: pytest.LogCaptureFixture):
    """First start: fitted and stored in HANDOFF_KNOWLEDGE_CACHE; second start with the same knowledge and
    policy: a cache hit."""
    from connectors.worker.wiring import open_worker

    policy = tmp_path / "policy.yaml"
    policy.write_text("extends: default\ntriggers:\n  low_confidence:\n    knowledge: {scorer: fitted}\n")
    settings = worker_settings(
        handoff_policy=policy,
        handoff_knowledge=ROOT / "config" / "examples" / "knowledge.jsonl",
        handoff_knowledge_cache=tmp_path / "cache",
    )

    async def start() -> None:
        async with open_worker(settings, processors=False):
            pass

    with caplog.at_level(logging.INFO, logger="connectors.worker.wiring"):
        asyncio.run(start())
        assert "knowledge coverage head: stored" in caplog.text
        assert len(list((tmp_path / "cache").glob("*.fitted.npz"))) == 1
        caplog.clear()
        asyncio.run(start())
    assert "knowledge coverage head: hit" in caplog.text

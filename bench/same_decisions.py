"""Do two checkouts decide the same? Decision JSON of this checkout against another, byte for byte.

Run: python bench/same_decisions.py --baseline DIR [--limit N]

Speed work must not change what the engine decides. ``tests/core/test_incremental.py`` proves the
incremental path equals a fresh read *within* one version; this script compares *two versions* (say hub
``main`` before a speed change, checked out in DIR, and this checkout) on the same inputs, each in its
own process with its own ``handoff_core``:

- every single message of the realistic corpus (``bench/corpus/messages.jsonl``), default policy;
- every turn of the 150 corpus conversations and of the example conversations, replayed per message
  with the analysis carried from turn to turn (the worker's path), default policy;
- the first ``--limit`` corpus messages with 500 knowledge articles (static encoder);
- every turn of three long chats of corpus messages (``bench_core.long_conversation``: 1,001 messages of
  mixed texts, whose decisions past the summary's window hand off with the long conversation's summary,
  a second with a paste longer than the message window and an agent who joins at message 801, and a third
  that opens with buying intent, so every later decision reads the lead's facts), each decided per
  message with the analysis carried (``--long 0`` leaves them out).

Inputs are read from this checkout, so both versions see the same ones. Prints how many decisions were
compared and every one that differs (first characters of both).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_DUMP = """
import json, sys
import handoff_core  # first, from the checkout's folder (PYTHONPATH): bench_core puts this one on sys.path
from handoff_core import Conversation
from handoff_core.engine import DecisionEngine
from handoff_core.policy import default_policy_path, load_policy
from handoff_core.replay import replay
sys.path.insert(0, {bench!r})
from bench_core import knowledge_500, long_conversation
assert handoff_core.__file__.startswith({checkout!r}), handoff_core.__file__

root, limit = {root!r}, {limit}
policy = load_policy(default_policy_path())
engine = DecisionEngine(policy)
out = []
texts = [json.loads(l)["text"] for l in open(root + "/bench/corpus/messages.jsonl", encoding="utf-8")]
singles = [
    Conversation.model_validate({{"id": f"c{{i}}", "messages": [{{"role": "customer", "text": t}}]}})
    for i, t in enumerate(texts)
]
out += [("single", i, engine.decide(c).model_dump_json(), len(c.messages[0].text)) for i, c in enumerate(singles)]
chats = []
for path in (root + "/bench/corpus/conversations.jsonl", root + "/config/examples/conversations.jsonl"):
    for line in open(path, encoding="utf-8"):
        if line.strip():
            data = json.loads(line)
            data.pop("expected", None)
            chats.append(Conversation.model_validate(data))
for n, conv in enumerate(chats):
    longest = max(len(m.text) for m in conv.messages)  # of the whole conversation, not only the prefix
    for t, turn in enumerate(replay(engine, conv, stop_at_handoff=False, incremental=True)):
        out.append(("turn", f"{{n}}.{{t}}", turn.decision.model_dump_json(), longest))
chat = [t for t in texts if len(t) <= 400]
sales = "We are evaluating your enterprise plan for about 300 seats, can you send pricing?"
for name, length in (("long", {long}), ("long-paste", {long}), ("long-sales", {long})):
    if not length:
        continue
    conv = long_conversation(length, [sales, *chat] if name == "long-sales" else chat)
    if name == "long-paste":
        msgs = list(conv.messages)
        msgs[40] = msgs[40].model_copy(update={{"text": "log:\\n" + "sync error 0x80070005 at step 3\\n" * 400}})
        msgs[800 % length] = msgs[800 % length].model_copy(update={{"role": "agent", "text": "Sam here, I take over."}})
        conv = conv.model_copy(update={{"messages": tuple(msgs)}})
    kept = None
    for n in range(1, length + 1):
        decision, kept = engine.step(conv.model_copy(update={{"messages": conv.messages[:n]}}), kept)
        out.append((name, n, decision.model_dump_json(), max(len(m.text) for m in conv.messages)))
with_kb = DecisionEngine(policy, knowledge_500("static"))
out += [
    ("knowledge", i, with_kb.decide(c).model_dump_json(), len(c.messages[0].text))
    for i, c in enumerate(singles[:limit])
]
json.dump(out, sys.stdout)
"""


def dump(checkout: Path, limit: int, long: int = 1001) -> list[tuple[str, str, str, int]]:
    """Decisions of ``checkout``'s ``handoff_core`` on this checkout's inputs (a fresh process)."""
    code = _DUMP.format(bench=str(ROOT / "bench"), root=str(ROOT), limit=limit, checkout=str(checkout), long=long)
    env = {**os.environ, "PYTHONPATH": str(checkout), "OPENBLAS_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=checkout, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"{checkout}: {done.stderr[-2000:]}")
    return [tuple(row) for row in json.loads(done.stdout)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="the other checkout (its handoff_core is used)")
    parser.add_argument("--limit", type=int, default=300, help="corpus messages decided with 500 articles")
    parser.add_argument("--long", type=int, default=1001, help="messages of the three long chats (0: none)")
    parser.add_argument(
        "--long-from",
        type=int,
        default=750,
        help="count the differences whose input has a message longer than this (the analysis window)",
    )
    args = parser.parse_args()
    mine, theirs = dump(ROOT, args.limit, args.long), dump(args.baseline.resolve(), args.limit, args.long)
    if [r[:2] for r in mine] != [r[:2] for r in theirs]:
        raise SystemExit("the two checkouts produced different sets of decisions (replay lengths differ)")
    differ = [(a, b) for a, b in zip(mine, theirs, strict=True) if a[2] != b[2]]
    kinds = sorted({r[0] for r in mine})
    print(f"{len(mine):,} decisions compared ({', '.join(f'{k}: {sum(r[0] == k for r in mine)}' for k in kinds)})")
    print(f"identical: {len(mine) - len(differ):,}; different: {len(differ)}")
    for kind in kinds:
        found = [a for a, _ in differ if a[0] == kind]
        long = sum(a[3] > args.long_from for a in found)
        total = sum(r[0] == kind and r[3] > args.long_from for r in mine)
        actions = sum(json.loads(a[2])["action"] != json.loads(b[2])["action"] for a, b in differ if a[0] == kind)
        print(
            f"  {kind}: {len(found)} differ ({actions} in their action), {long} of them with a message longer than"
            f" {args.long_from:,} characters ({total} such decisions in all; for turns and long chats: anywhere"
            " in the conversation)"
        )
    for a, b in differ[:20]:
        print(f"  {a[0]} {a[1]}:\n    this:     {a[2][:300]}\n    baseline: {b[2][:300]}")


if __name__ == "__main__":
    main()

"""Core speed of this checkout against another, interleaved (run: python bench/ab_core.py --baseline DIR).

On a shared machine a figure measured at 19:50 and one measured at 20:05 are not comparable: the
neighbours' load changes the CPU time of the same work by tens of percent. This script alternates the
two checkouts (baseline, this, baseline, this, ...), each in a fresh process pinned to the same core,
on the same inputs (this checkout's corpus), and prints every round and the medians:

- realistic single-message decisions per CPU-second, default policy (with ``--passes N``, the fastest
  of N timed passes over the corpus in each process: on a loaded machine the neighbours only ever add
  CPU time, through caches and frequency, so the fastest pass is the steadiest figure);
- the same with 500 knowledge articles (static encoder), when ``--knowledge``; with the ``fitted`` scorer
  forced on them, when ``--fitted``;
- the next decision (CPU ms, median of 9) after message 1,001 of a chat of messages that continue (the
  decision continues: checked, see ``bench_core.continuing_texts``), of a chat of mixed messages whose
  next decision hands off (with the handoff summary), and of the calm chat
  opened by a request for pricing (``next_sales_ms``: every decision reads the lead's facts; it hands off
  to sales);
- ``next_continue_reread_ms`` / ``next_handoff_reread_ms``: the same two decisions on a transcript read
  back from JSON (new message objects, as the worker reads a conversation from its store), so the reuse
  check compares field values instead of finding the very message objects the kept records were made from
  (``bench_core``'s figures, like ``handoff simulate --per-message``, pass the same objects again);
- ``rss_mb``: the process's resident memory (MB) with the default engine loaded and warm.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from checkouts import measure_in

ROOT = Path(__file__).resolve().parents[1]

_MEASURE = """
import json, os, statistics, sys, time
import handoff_core  # first, from the checkout (PYTHONPATH)
from handoff_core.engine import DecisionEngine
from handoff_core.policy import default_policy_path, load_policy
sys.path.insert(0, {bench!r})
from bench_core import CORPUS, _singles, continuing_texts, knowledge_500, long_conversation, next_decision_ms
assert handoff_core.__file__.startswith({checkout!r}), handoff_core.__file__
os.sched_setaffinity(0, {{sorted(os.sched_getaffinity(0))[0]}})
policy = load_policy(default_policy_path())
engine = DecisionEngine(policy)
texts = [json.loads(l)["text"] for l in (CORPUS / "messages.jsonl").read_text(encoding="utf-8").splitlines()]
singles = _singles(texts)

def rate(e):
    for c in singles:
        e.decide(c)
    best = 0.0
    for _ in range({passes}):
        start = time.process_time()
        for c in singles:
            e.decide(c)
        best = max(best, len(singles) / (time.process_time() - start))
    return best

out = {{"singles": rate(engine)}}
# Resident memory of the process with the default engine loaded and warm (before any knowledge engine).
out["rss_mb"] = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS:")) / 1024
if {knowledge}:
    out["knowledge"] = rate(DecisionEngine(policy, knowledge_500("static")))
if {fitted}:
    # The same 500 articles with the ``fitted`` scorer forced (``auto`` keeps ``classic`` for their two
    # questions per entry): what a decision costs when the head scores the question.
    data = policy.model_dump(mode="json")
    data["triggers"]["low_confidence"]["knowledge"]["scorer"] = "fitted"
    out["knowledge_fitted"] = rate(DecisionEngine(type(policy).model_validate(data), knowledge_500("static")))
chat = [t for t in texts if len(t) <= 400]
calm = continuing_texts(engine, chat)
out["next_continue_ms"] = next_decision_ms(engine, 1001, calm, incremental=True, runs=9)
out["next_handoff_ms"] = next_decision_ms(engine, 1001, chat, incremental=True, runs=9)
sales = "We are evaluating your enterprise plan for about 300 seats, can you send pricing?"
out["next_sales_ms"] = next_decision_ms(engine, 1001, [sales, *calm], incremental=True, runs=9)

def reread_ms(texts, runs=9):
    # As the worker decides: the transcript read back from the store (new message objects, parsed from
    # JSON outside the timing), the kept analysis made from the objects of the decision before.
    full = long_conversation(1001, texts)
    kept = engine.analyze(full.model_copy(update={{"messages": full.messages[:-1]}}))
    engine.step(full, kept)  # the folds up to date, as after the worker's decision at message 1,000
    times = []
    for _ in range(runs):
        again = type(full).model_validate_json(full.model_dump_json())
        start = time.process_time()
        engine.step(again, kept)
        times.append(time.process_time() - start)
    return statistics.median(times) * 1000

out["next_continue_reread_ms"] = reread_ms(calm)
out["next_handoff_reread_ms"] = reread_ms(chat)
print(json.dumps(out))
"""


def measure(checkout: Path, knowledge: bool, passes: int = 1, fitted: bool = False) -> dict[str, float]:
    code = _MEASURE.format(
        bench=str(ROOT / "bench"), checkout=str(checkout), knowledge=knowledge, passes=passes, fitted=fitted
    )
    return measure_in(checkout, code)


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--knowledge", action="store_true", help="also 500 knowledge articles (slower)")
    parser.add_argument("--fitted", action="store_true", help="also 500 articles with the fitted scorer forced")
    parser.add_argument(
        "--passes",
        type=int,
        default=1,
        help="timed passes over the corpus per process; the fastest counts (neighbours only ever add time)",
    )
    args = parser.parse_args()
    runs: dict[str, list[dict[str, float]]] = {"baseline": [], "this": []}
    for n in range(args.rounds):
        for name, checkout in (("baseline", args.baseline.resolve()), ("this", ROOT)):
            found = measure(checkout, args.knowledge, args.passes, args.fitted)
            runs[name].append(found)
            print(f"round {n + 1} {name:<8} " + "  ".join(f"{k} {v:,.2f}" for k, v in found.items()))
    print("medians (rates per CPU-second; times in CPU ms):")
    for name, found in runs.items():
        keys = found[0].keys()
        print(f"  {name:<8} " + "  ".join(f"{k} {statistics.median(r[k] for r in found):,.2f}" for k in keys))


if __name__ == "__main__":
    main()

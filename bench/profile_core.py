"""Where a realistic single-message decision's time goes, stage by stage (run: python bench/profile_core.py).

A sampling profiler (py-spy) tells shares; this script tells microseconds. It wraps the engine's stages
(tokenising, featurising for the trained heads, the heads, phrase matching, topics, sentiment and VADER,
facts, the summary's per-message read, each trigger, building the decision, the handoff summary; with
``--knowledge`` the knowledge search and its parts) with a timer of the process's CPU time, decides
every corpus message (``bench/corpus/messages.jsonl``) with the default policy, and prints each stage's
inclusive CPU time per decision, the fastest of ``--passes`` passes (on a shared machine neighbours only
ever add time). The wrappers add about a microsecond per call, so the stages add up to a little more
than a plain run; compare stages with each other and with the same stage of another checkout.

``--handoff`` profiles instead the decision after message 1,001 of a chat of mixed messages, which hands
off (``bench/ab_core.py``'s ``next_handoff_ms``: the new message's analysis, the folds, the reasons and the
handoff summary), 200 times per pass, after the decision at message 1,000 brought the folds up to date as
the worker's decision on every message does.

``--continuing`` profiles the decision after message 1,001 of a chat that continues (``ab_core.py``'s
``next_continue_ms``). ``--reread`` (with either) decides each time on the transcript parsed back from JSON,
new message objects as the worker reads them from its store: the reuse check then compares field values.

``--cold-memos`` (round 9, with ``--handoff``) empties the summary's memos of its quoted sentences and lines
before every decision, so each handoff pays for them as the first handoff of a conversation would (the
repeated decision otherwise finds them all from the run before).

A stage is counted once when it calls another wrapped under the same label (the public ``analyze()``
calls ``_kept`` and ``_analyze``: before round 8 that counted the analysis twice).

``--baseline DIR`` runs the same in DIR's checkout and in this one, alternating ``--rounds`` times, each in
a fresh process pinned to one core, and prints the medians side by side (a same-run A/B per stage).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from checkouts import measure_in

ROOT = Path(__file__).resolve().parents[1]

_MEASURE = r"""
import collections, json, os, sys, time
import handoff_core  # first, from the checkout (PYTHONPATH)
assert handoff_core.__file__.startswith({checkout!r}), handoff_core.__file__
sys.path.insert(0, {bench!r})
from bench_core import CORPUS, _singles, knowledge_500, long_conversation
import handoff_core.engine as E
import handoff_core.analysis as A
import handoff_core.detectors as D
import handoff_core.embeddings as EM
import handoff_core.features as F
import handoff_core.sentiment as S
import handoff_core.summary as SU
import handoff_core.triggers.base as TB
import handoff_core.text.phrases as P
import handoff_core.text.vader as V
import handoff_core.topics as TP
from handoff_core.policy import default_policy_path, load_policy
from handoff_core.triggers import bot_loop, human_request, low_confidence, refund_exception, restricted_topic
from handoff_core.triggers import sales_lead, sentiment as trigger_sentiment, vip

os.sched_setaffinity(0, {{sorted(os.sched_getaffinity(0))[0]}})
spent = collections.Counter()
clock = time.process_time
active = collections.Counter()  # calls of each label under way: only the outermost counts

def wrap(owner, name, label):
    function = getattr(owner, name, None)
    if function is None:  # a stage the other checkout does not have
        return
    def timed(*args, **kwargs):
        # A wrapped stage that calls another wrapped under the same label (the public analyze() calls
        # _kept and _analyze) is counted once, not once per level.
        if active[label]:
            return function(*args, **kwargs)
        active[label] += 1
        start = clock()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] += clock() - start
            active[label] -= 1
    setattr(owner, name, timed)

wrap(E.DecisionEngine, "step", "0 decision (total)")
wrap(E.DecisionEngine, "analyze", "1 analysis of the message (with the reuse check)")
# Since round 7 step() checks which records still stand (_kept) before it analyses the rest (_analyze).
wrap(E.DecisionEngine, "_kept", "1 analysis of the message (with the reuse check)")
wrap(E.DecisionEngine, "_kept", "1.0 reuse check (the fields of every message, compared with the kept records)")
wrap(E.DecisionEngine, "_analyze", "1 analysis of the message (with the reuse check)")
wrap(E, "tokenize", "1.1 tokenise")
wrap(E, "language_votes", "1.2 language votes")
wrap(F.Featurizer, "featurize_many", "1.3 featurise for the trained heads")
if hasattr(EM.StaticEmbedder, "piece_ids"):  # since round 8: ids first, offsets when quoted
    wrap(EM.StaticEmbedder, "piece_ids", "1.3.1 word pieces")
else:
    wrap(EM.StaticEmbedder, "word_pieces", "1.3.1 word pieces")
wrap(EM.StaticEmbedder, "pool", "1.3.2 sentence embedding (mean of piece vectors)")
wrap(F, "_ngram_buckets", "1.3.3 n-gram keys and hashes")
wrap(F, "_unique_packed", "1.3.4 unique buckets and counts")
wrap(F, "style_features", "1.3.5 style features")
wrap(D.Detectors, "score_all", "1.4 trained heads (one product for all)")
wrap(P.Analyzer, "analyze", "1.5 phrase analysis (word ids, trie)")
wrap(P.Vocabulary, "match", "1.5.1 trie walk")
wrap(TP.TopicDetector, "detect", "1.6 topics")
wrap(S.SentimentScorer, "score", "1.7 sentiment")
wrap(V.LinearVader, "polarity_scores", "1.7.1 VADER")
wrap(A.FunctionDetector, "analyze", "1.8 other per-message detectors")
wrap(E, "_facts_of", "1.9 facts")
wrap(E, "summary_features", "1.10 summary's read of the message (summary issue)")
wrap(P.AnalyzedText, "slim", "1.11 slim record")
wrap(E.DecisionEngine, "_prepare", "2 context (+ knowledge)")
if {knowledge}:
    import handoff_core.knowledge as K
    wrap(K.KnowledgeBase, "coverage", "2.1 knowledge coverage")
    wrap(K, "content_words", "2.1.1 content words")
    wrap(K.KnowledgeBase, "_search", "2.1.2 search")
    wrap(K.KnowledgeBase, "_terms", "2.1.2.1 terms (stems)")
    wrap(K.KnowledgeBase, "_vector", "2.1.2.2 TF-IDF query")
    wrap(K.KnowledgeBase, "_cosine_array", "2.1.2.3 TF-IDF cosines (postings)")
    wrap(EM.StaticEmbedder, "encode", "2.1.2.4 query vector")
    wrap(K.KnowledgeBase, "_blend", "2.1.2.5 blend with the semantic scores")
for module, name in (
    (human_request, "HumanRequest"), (restricted_topic, "RestrictedTopic"), (refund_exception, "RefundException"),
    (vip, "Vip"), (trigger_sentiment, "Sentiment"), (low_confidence, "LowConfidence"), (bot_loop, "BotLoop"),
    (sales_lead, "SalesLead"),
):
    wrap(getattr(module, name), "__call__", f"3 trigger {{name}}")
wrap(E.DecisionEngine, "_build", "4 build the decision")
wrap(E, "summarize", "4.1 handoff summary (summary issue)")
wrap(SU, "view_of_state", "4.1.1 summary view (fold over the kept state)")
wrap(SU, "select_issue", "4.1.2 Issue (salience over the pool)")
wrap(SU, "_assistant_so_far", "4.1.3 Assistant line")
wrap(SU, "redact", "4.1.4 summary redaction")
wrap(E, "Decision", "4.2 Decision model (pydantic)")
wrap(TB, "Reason", "4.3 reasons (pydantic, inside the triggers)")
wrap(E.DecisionEngine, "_facts", "4.4 facts so far (fold)")
wrap(E, "_bounded", "5 message window over the transcript")

policy = load_policy(default_policy_path())
engine = E.DecisionEngine(policy, knowledge_500("static")) if {knowledge} else E.DecisionEngine(policy)
texts = [json.loads(l)["text"] for l in (CORPUS / "messages.jsonl").read_text(encoding="utf-8").splitlines()]
chat = [t for t in texts if len(t) <= 400]  # the whole corpus's chat-sized messages, whatever --lengths says
if {length}:
    # The corpus's longest messages (CFPB narratives of 1,900+ characters), each cut to the same length at a
    # word boundary: one set of texts, so the stages' cost per length bucket differs by length alone.
    texts = [t[: t.rfind(" ", 0, {length}) if len(t) > {length} else len(t)] for t in texts if len(t) >= 1_900]
if {handoff} or {continuing}:
    # ab_core's scenarios: the decision after message 1,001 of a chat of mixed messages, which hands off,
    # or of a chat of messages that continue.
    if {continuing}:
        from bench_core import continuing_texts
        chat = continuing_texts(engine, chat)
    full = long_conversation(1001, chat)
    before = full.model_copy(update={{"messages": full.messages[:-1]}})
    kept = engine.analyze(before)
    engine.step(before, kept)  # the worker decided on every earlier message: the folds are up to date
    assert engine.step(full, kept)[0].action.value == ("continue" if {continuing} else "handoff")
    if {reread}:
        # As the worker reads it: the transcript parsed back from JSON, new message objects each time.
        again = [type(full).model_validate_json(full.model_dump_json()) for _ in range(200)]
        work = [lambda c=c: engine.step(c, kept) for c in again]
    else:
        work = [lambda: engine.step(full, kept)] * 200
    if {cold_memos}:
        # Round 9: the summary's memos of its sentences and lines emptied before every decision (outside
        # the timers), so each handoff works them out anew: the cost of a first handoff, not a repeat.
        import handoff_core.issue as I
        memos = [m for m in (getattr(SU, "_keys", None), getattr(SU, "_redacted", None), getattr(I, "_squeeze", None))
                 if hasattr(m, "cache_clear")]
        def emptied(w, memos=memos):
            def run():
                for m in memos:
                    m.cache_clear()
                return w()
            return run
        work = [emptied(w) for w in work]
else:
    work = [lambda c=c: engine.decide(c) for c in _singles(texts)]
for w in work:
    w()
best = None
import handoff_core.text.messages as M
for _ in range({passes}):
    if {length}:  # 43 texts fit the per-message memos: start each pass cold, as new traffic would
        for memo in (M.scan_message, M.message_details_of, M.analyze_message):
            memo.cache_clear()
    spent.clear()
    for w in work:
        w()
    if best is None or spent["0 decision (total)"] < best["0 decision (total)"]:
        best = dict(spent)
print(json.dumps({{k: v / len(work) * 1e6 for k, v in best.items()}}))
"""


def _order(label: str) -> list[int]:
    return [int(part) for part in label.split(maxsplit=1)[0].split(".")]


def measure(
    checkout: Path,
    knowledge: bool,
    passes: int,
    length: int = 0,
    handoff: bool = False,
    continuing: bool = False,
    reread: bool = False,
    cold_memos: bool = False,
) -> dict[str, float]:
    code = _MEASURE.format(
        checkout=str(checkout),
        bench=str(ROOT / "bench"),
        knowledge=knowledge,
        passes=passes,
        length=length,
        handoff=handoff,
        continuing=continuing,
        reread=reread,
        cold_memos=cold_memos,
    )
    return measure_in(checkout, code)


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--knowledge", action="store_true", help="with 500 knowledge articles (static encoder)")
    parser.add_argument(
        "--handoff",
        action="store_true",
        help="instead of single messages: the decision after message 1,001 of a mixed chat, which hands off",
    )
    parser.add_argument(
        "--continuing",
        action="store_true",
        help="instead of single messages: the decision after message 1,001 of a chat that continues",
    )
    parser.add_argument(
        "--reread",
        action="store_true",
        help="with --handoff/--continuing: each decision on the transcript parsed back from JSON (as the worker)",
    )
    parser.add_argument(
        "--cold-memos",
        action="store_true",
        help="with --handoff: the summary's sentence and line memos emptied before each decision (a first handoff)",
    )
    parser.add_argument("--passes", type=int, default=3, help="timed passes per process; the fastest counts")
    parser.add_argument("--baseline", type=Path, help="another checkout, measured alternately with this one")
    parser.add_argument("--rounds", type=int, default=3, help="alternations with --baseline")
    parser.add_argument(
        "--lengths",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[0],
        help="e.g. 50,200,500,1000,2000: the corpus's 43 longest messages cut to each length (0: the whole corpus)",
    )
    args = parser.parse_args()
    for length in args.lengths:
        if length:
            print(f"== messages cut to {length:,} characters")
        _compare(args, length)


def _compare(args: argparse.Namespace, length: int) -> None:
    sides = [("this", ROOT)] if args.baseline is None else [("baseline", args.baseline.resolve()), ("this", ROOT)]
    rounds = 1 if args.baseline is None else args.rounds
    runs: dict[str, list[dict[str, float]]] = {name: [] for name, _ in sides}
    for n in range(rounds):
        for name, checkout in sides:
            found = measure(
                checkout,
                args.knowledge,
                args.passes,
                length,
                args.handoff,
                args.continuing,
                args.reread,
                args.cold_memos,
            )
            runs[name].append(found)
            print(f"round {n + 1} {name}: {found['0 decision (total)']:,.0f} us a decision")
    labels = sorted({k for found in runs.values() for r in found for k in r}, key=_order)
    print("CPU us per decision (inclusive; medians of the rounds):")
    print(f"  {'stage':<56}" + "".join(f"{name:>10}" for name in runs))
    for label in labels:
        cells = "".join(f"{statistics.median(r.get(label, 0.0) for r in found):>10,.0f}" for found in runs.values())
        print(f"  {label:<56}{cells}")


if __name__ == "__main__":
    main()

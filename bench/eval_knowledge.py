"""Knowledge coverage on the HWU64 out-of-scope protocol, against a char 2-4-gram TF-IDF nearest neighbour.

Usage: python bench/eval_knowledge.py [--data ../shared/datasets] [--seeds 5]

Protocol (fixed here before any score was read): ``general_*`` intents are conversational acts, not
questions, and are left out. For each of ``--seeds`` random draws, a quarter of the remaining intents is
held out as "not covered"; every covered intent becomes one knowledge entry whose example questions are
its fold 1-8 utterances. Fold 9 is the tuning fold (it picks each method's threshold for "at most 10 % of
covered questions flagged"); fold 10 is the report fold: AUROC of the coverage score (covered vs held
out), the share of held-out questions caught at <= 10 % in-scope false on fold 10 itself (the score's
operating point, the issue's second target, like AUROC independent of how a threshold is chosen), the
share caught at the fold-9 threshold, and the in-scope false rate that threshold really gives on fold
10. The engine's own threshold is calibrated from the knowledge alone (leave-one-out over its example
questions) and reported on fold 10 the same way.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "bench"))

from eval_real import auroc  # noqa: E402

from connectors.training.data import Row, bitext, default_datasets, hwu64  # noqa: E402
from handoff_core.embeddings import bundled_embedder  # noqa: E402
from handoff_core.knowledge import KnowledgeBase, KnowledgeEntry  # noqa: E402
from handoff_core.policy.schema import KnowledgeCoverageConfig  # noqa: E402
from handoff_core.transformer import installed_minilm  # noqa: E402

#: (example questions, seconds) of every fitted head's fit, for the report.
FITS: list[tuple[int, float]] = []
HOLD_OUT_SHARE = 0.25
FALSE_RATE = 0.10

Scorer = Callable[[Sequence[str]], np.ndarray]


def _split(rows: list[Row], seed: int, protocol: str = "intents") -> tuple[set[str], set[str]]:
    """Covered and held-out intents: a random quarter of the intents, or of the scenarios (far OOS)."""
    intents = sorted({r.labels[0] for r in rows})
    rng = random.Random(seed)
    if protocol == "scenarios":
        scenarios = sorted({i.split("_")[0] for i in intents})
        gone = set(rng.sample(scenarios, round(len(scenarios) * HOLD_OUT_SHARE)))
        held = {i for i in intents if i.split("_")[0] in gone}
    else:
        held = set(rng.sample(intents, round(len(intents) * HOLD_OUT_SHARE)))
    return set(intents) - held, held


def tfidf_baseline(entries: list[KnowledgeEntry]) -> Scorer:
    from sklearn.feature_extraction.text import TfidfVectorizer

    questions = [q for e in entries for q in e.questions]
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
    matrix = vectorizer.fit_transform(questions)

    def score(texts: Sequence[str]) -> np.ndarray:
        sims = vectorizer.transform(list(texts)) @ matrix.T
        return np.asarray(sims.max(axis=1).todense()).ravel()

    return score


def classifier_reference(entries: list[KnowledgeEntry]) -> Scorer:
    """REFERENCE, not shipped: a logistic regression over the covered entries (char 2-4-gram TF-IDF and
    the static embedding); coverage is its highest class probability. It needs scikit-learn and seconds of
    fitting per knowledge base, so the engine does not use it; it shows what a fitted head would gain."""
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    questions = [q for e in entries for q in e.questions]
    labels = [e.id for e in entries for _ in e.questions]
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=2)
    embedder = bundled_embedder()

    def design(texts: Sequence[str], fit: bool = False) -> object:
        grams = vectorizer.fit_transform(texts) if fit else vectorizer.transform(texts)
        return sparse.hstack([grams, sparse.csr_matrix(embedder.encode(list(texts)))]).tocsr()

    model = LogisticRegression(C=10.0, max_iter=300)
    model.fit(design(questions, fit=True), labels)
    return lambda texts: np.asarray(model.predict_proba(design(list(texts))).max(axis=1))


def classic_scorer(kb: KnowledgeBase, encoder: str = "static") -> Scorer:
    """The ``classic`` scorer with the bundled static embeddings (the engine's default) or MiniLM."""
    weight = KnowledgeCoverageConfig().calibration(encoder).semantic_weight
    return lambda texts: np.asarray([(m[0].score if (m := kb.search(t, 1, weight)) else 0.0) for t in texts])


def fitted_scorer(kb: KnowledgeBase) -> Scorer:
    """The ``fitted`` scorer (kernel ridge head fitted to the knowledge's questions at load; since round 9
    its kernel also reads the hashed char 2-4-gram TF-IDF cosine the baseline above computes with sklearn)."""
    return lambda texts: np.asarray([(m[0].score if (m := kb.fitted_search(t, 1)[0]) else 0.0) for t in texts])


def examples_scorer(kb: KnowledgeBase) -> Scorer:
    """The ``examples`` scorer (nearest example question, embedding + IDF n-grams)."""
    return lambda texts: np.asarray([kb.coverage_score(t) for t in texts])


def _threshold_for(scores: np.ndarray, false_rate: float) -> float:
    """The score below which at most ``false_rate`` of covered questions fall."""
    return float(np.quantile(scores, false_rate))


def caught_at(in_scope: np.ndarray, out_of_scope: np.ndarray, false_rate: float = FALSE_RATE) -> float:
    """Share of out-of-scope scores below the highest threshold that flags at most ``false_rate`` of the
    in-scope ones, on the same fold: the operating point of the score itself (as AUROC is), apart from how
    well any threshold was chosen. Flagged means strictly below the threshold."""
    ordered = np.sort(np.asarray(in_scope, dtype=np.float64))
    k = int(np.floor(false_rate * len(ordered) + 1e-9))  # at most k in-scope scores may fall below
    if k >= len(ordered):
        return 1.0
    return float((np.asarray(out_of_scope) < ordered[k]).mean())


def evaluate(
    data: Path, seeds: int = 5, protocol: str = "intents", reference: bool = False, encoder: str = "static"
) -> dict[str, list[tuple[float, float, float, float, float, float, float]]]:
    if protocol == "bitext":
        # Bitext's 27 support intents: the near out-of-scope case of a help desk. Its rows carry a fixed hash
        # split (connectors.training.data.hash_split): train -> questions, dev -> tuning, test -> report.
        part = {"train": "1", "dev": "9", "test": "10"}
        rows = [Row(r.text, r.split, r.source, r.language, (r.labels[0], part[r.split])) for r in bitext(data)]
    else:
        rows = [r for r in hwu64(data) if not r.labels[0].startswith("general_")]
    results: dict[str, list[tuple[float, float, float, float, float, float, float]]] = {}
    for seed in range(seeds):
        covered, _ = _split(rows, seed, protocol)
        entries = [
            KnowledgeEntry(
                id=intent,
                title=intent.replace("_", " "),
                body="",
                questions=tuple(r.text for r in rows if r.labels[0] == intent and int(r.labels[1]) <= 8),
            )
            for intent in sorted(covered)
        ]
        tune = [r for r in rows if r.labels[1] == "9"]
        report = [r for r in rows if r.labels[1] == "10"]
        if encoder == "transformer":
            # The MiniLM extra: classic blends its vectors, and the fitted head's similarity uses them.
            minilm = installed_minilm()
            if minilm is None:
                raise SystemExit("--encoder transformer needs the MiniLM weights (see pyproject's semantic extra)")
            kb = KnowledgeBase(entries, source=f"{protocol} seed {seed}", embedder=minilm, encoder="transformer")
        else:
            kb = KnowledgeBase(entries, source=f"{protocol} seed {seed}", embedder=bundled_embedder())
        start = time.perf_counter()
        kb.fitted.threshold(FALSE_RATE)
        FITS.append((sum(len(e.questions) for e in entries), time.perf_counter() - start))
        methods: dict[str, Scorer] = {
            "char 2-4-gram TF-IDF NN (baseline)": tfidf_baseline(entries),
            "classic scorer (static)": classic_scorer(kb),
            "examples scorer": examples_scorer(kb),
            "fitted scorer": fitted_scorer(kb),  # what the default (auto) picks for these bases
        }
        if encoder == "transformer":
            methods = {
                "char 2-4-gram TF-IDF NN (baseline)": methods["char 2-4-gram TF-IDF NN (baseline)"],
                "classic scorer (MiniLM)": classic_scorer(kb, "transformer"),
                "fitted scorer": methods["fitted scorer"],
            }
        if reference:
            methods["REFERENCE classifier, not shipped"] = classifier_reference(entries)
        for name, scorer in methods.items():
            tune_scores = scorer([r.text for r in tune])
            tune_in = tune_scores[[r.labels[0] in covered for r in tune]]
            threshold = _threshold_for(tune_in, FALSE_RATE)
            scores = scorer([r.text for r in report])
            y_in = np.asarray([r.labels[0] in covered for r in report])
            area = auroc(y_in.astype(int).tolist(), scores.tolist())
            tune_area = auroc([int(r.labels[0] in covered) for r in tune], tune_scores.tolist())
            caught = float((scores[~y_in] < threshold).mean())
            best_caught = caught_at(scores[y_in], scores[~y_in])
            false = float((scores[y_in] < threshold).mean())
            auto_caught = auto_false = float("nan")
            if name in {"examples scorer", "fitted scorer"}:
                auto = kb.calibrated_min_score if name == "examples scorer" else kb.fitted.threshold(FALSE_RATE)
                auto_caught = float((scores[~y_in] < auto).mean())
                auto_false = float((scores[y_in] < auto).mean())
            results.setdefault(name, []).append((area, caught, false, auto_caught, auto_false, tune_area, best_caught))
    return results


PROTOCOLS = ("intents", "scenarios", "bitext")


def report(
    data: Path,
    seeds: int = 5,
    reference: bool = False,
    protocols: Sequence[str] = PROTOCOLS,
    encoder: str = "static",
) -> list[str]:
    out = [f"encoder: {encoder}"]
    for protocol in protocols:
        if protocol == "bitext":
            out.append(
                f"knowledge coverage, Bitext support intents ({seeds} random hold-outs of 25 % of the 27 intents; "
                "questions from the train split, threshold tuned on dev, reported on test):"
            )
        else:
            out.append(
                f"knowledge coverage, HWU64 out-of-scope protocol ({seeds} random hold-outs of 25 % of the "
                f"{protocol}; threshold tuned on fold 9, reported on fold 10):"
            )
        FITS.clear()
        out.extend(_lines(evaluate(data, seeds, protocol, reference, encoder)))
        sizes, times = zip(*FITS, strict=True)
        out.append(
            f"  fitted head: {min(sizes)}-{max(sizes)} example questions, fit + cross-fitted threshold "
            f"{min(times):.1f}-{max(times):.1f} s (wall clock, one BLAS thread)"
        )
    return out


def _lines(results: dict[str, list[tuple[float, float, float, float, float, float, float]]]) -> list[str]:
    out = []
    for name, runs in results.items():
        a = np.asarray(runs)
        line = (
            f"  {name:<40} AUROC {a[:, 0].mean():.3f} (min {a[:, 0].min():.3f}; tuning fold {a[:, 5].mean():.3f}); "
            f"caught at <= 10 % in-scope false {a[:, 6].mean():.1%} (min {a[:, 6].min():.1%}); "
            f"fold-9 threshold: caught {a[:, 1].mean():.1%} "
            f"at in-scope false {a[:, 2].mean():.1%}"
        )
        if not np.isnan(a[:, 3]).all():
            line += f"; leave-one-out threshold: caught {a[:, 3].mean():.1%} at in-scope false {a[:, 4].mean():.1%}"
        out.append(line)
    return out


def speed(runs: int = 3, seconds: float = 1.0) -> list[str]:
    """Load time and decisions per CPU-second with bench_core's 500-article knowledge, classic vs fitted.

    The default scorer (``auto``) picks ``classic`` for this knowledge (2 questions per entry); ``fitted`` is
    what it picks from 10 questions per entry.

    Same corpus, knowledge and rate measurement as ``bench/bench_core.py`` (one pinned core, CPU time).
    """
    import bench_core

    from handoff_core import Conversation
    from handoff_core.engine import DecisionEngine
    from handoff_core.policy import Policy, default_policy_path, load_policy

    bench_core._pin()
    policy = load_policy(default_policy_path())
    data = policy.model_dump(mode="json")
    data["triggers"]["low_confidence"]["knowledge"]["scorer"] = "fitted"
    fitted_policy = Policy.model_validate(data)
    data["triggers"]["low_confidence"]["knowledge"]["scorer"] = "classic"
    classic_policy = Policy.model_validate(data)  # what the default (auto) picks for 2 questions per entry
    lines = (bench_core.CORPUS / "messages.jsonl").read_text(encoding="utf-8").splitlines()
    conversations: list[Conversation] = bench_core._singles([json.loads(line)["text"] for line in lines])
    out = []
    for name, chosen in (("classic", classic_policy), ("fitted", fitted_policy)):
        start = time.perf_counter()
        kb = bench_core.knowledge_500("static")
        loaded = time.perf_counter() - start
        start = time.perf_counter()
        engine = DecisionEngine(chosen, kb)
        built = time.perf_counter() - start
        rate = bench_core.decisions_per_second(engine, conversations, runs, seconds)
        out.append(
            f"500 articles ({len(kb._examples)} example questions), scorer {name}: load {loaded:.1f} s, engine build "
            f"(fit + threshold) {built:.1f} s; {rate:,.0f} decisions/s ({1e6 / rate:.0f} µs each) "
            f"on {len(conversations)} realistic single messages"
        )
    return out


def startup(data: Path) -> list[str]:
    """Start-up with the fitted head, without and with its cache (connectors/knowledge_cache.py): the HWU64
    intents protocol's seed-0 knowledge (covered intents, fold 1-8 questions) written as a JSON Lines file,
    loaded as a worker loads it (``load_knowledge`` then ``prepare_knowledge``), twice. CPU time of this
    process (the fit runs on one BLAS thread) and wall clock."""
    import tempfile

    from connectors.knowledge_cache import prepare_knowledge
    from handoff_core.knowledge import load_knowledge

    rows = [r for r in hwu64(data) if not r.labels[0].startswith("general_")]
    covered, _ = _split(rows, 0, "intents")
    config = KnowledgeCoverageConfig(encoder="static")  # the default scorer (auto) fits these bases
    out = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hwu64_seed0.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for intent in sorted(covered):
                questions = [r.text for r in rows if r.labels[0] == intent and int(r.labels[1]) <= 8]
                entry = {"id": intent, "title": intent.replace("_", " "), "questions": questions}
                handle.write(json.dumps(entry) + "\n")
        for attempt in ("first start (no cache: fit and store)", "second start (cache hit)"):
            cpu, wall = time.process_time(), time.perf_counter()
            kb = load_knowledge(path, encoder="static")
            loaded_cpu, loaded_wall = time.process_time() - cpu, time.perf_counter() - wall
            outcome = prepare_knowledge(kb, config, Path(folder) / "cache")
            kb.calibrate(config)  # what the engine does when it is built: nothing left to fit on a hit
            head_cpu, head_wall = time.process_time() - cpu - loaded_cpu, time.perf_counter() - wall - loaded_wall
            out.append(
                f"{attempt}: {kb._question_count:,} questions; load_knowledge {loaded_cpu:.2f} s CPU "
                f"({loaded_wall:.2f} s wall); fitted head ({outcome}) {head_cpu:.2f} s CPU ({head_wall:.2f} s wall)"
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=default_datasets())
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--reference", action="store_true", help="also a fitted classifier (not shipped; what a fitted head gains)"
    )
    parser.add_argument("--protocols", nargs="+", choices=PROTOCOLS, default=list(PROTOCOLS))
    parser.add_argument("--speed", action="store_true", help="only load time and decision rate, 500 articles")
    parser.add_argument("--startup", action="store_true", help="only start-up with the fitted head, cached or not")
    parser.add_argument(
        "--encoder",
        choices=("static", "transformer"),
        default="static",
        help="transformer: the knowledge loaded with the MiniLM extra (classic and fitted read it)",
    )
    args = parser.parse_args()
    if args.startup:
        for line in startup(args.data):
            print(line, flush=True)
        return
    if args.speed:
        for line in speed():
            print(line, flush=True)
        return
    for protocol in args.protocols:  # each protocol printed as soon as it is measured
        for line in report(args.data, args.seeds, args.reference, [protocol], args.encoder):
            print(line, flush=True)


if __name__ == "__main__":
    main()

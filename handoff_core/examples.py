"""Labels defined by example messages: score a message against labelled example sets, nearest first.

A support lead can describe a topic ("refund", "sales lead", "cancel my plan") faster with twenty real
customer messages than with a phrase list, and an example-defined label explains itself: the evidence is
the nearest example and its similarity. Similarity blends the two views of :mod:`handoff_core.features`:
the static sentence embeddings (meaning, paraphrases) and hashed word-piece n-grams (shared wording), so
it works for English paraphrases and, through shared word pieces, for short messages in other languages.

The matcher is built once from the examples (a few hundred vectors) and reads precomputed
:class:`~handoff_core.features.MessageFeatures`, so any number of triggers can share one featurised
message. Health checks for the examples themselves (too few per label, labels whose examples overlap)
live here too, so ``handoff check`` and the engine agree on them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from handoff_core.blas import single_threaded_blas
from handoff_core.features import N_BUCKETS, Featurizer, MessageFeatures, bundled_featurizer

#: Share of the similarity that comes from the sentence embedding (the rest from shared n-grams).
EMBEDDING_WEIGHT = 0.6
#: Fewer examples than this per label make a weak label (``handoff check`` warns).
MIN_EXAMPLES = 10
#: Two examples of different labels at least this similar make the labels overlap (``handoff check`` warns).
OVERLAP_SIMILARITY = 0.9
#: Slack added to :meth:`ExampleMatcher.upper_bound` for float32 rounding (similarities are rounded to 1e-4).
_MARGIN = 1e-4


@dataclass(frozen=True, slots=True)
class ExampleMatch:
    """The best label for a message, with the nearest example as evidence."""

    label: str
    score: float
    nearest: str
    #: Best score among the other labels (0 when there is none): a small margin means an unsure call.
    runner_up: float
    #: Similarity of the nearest example, when ``score`` is something else (a fitted head's output).
    similarity: float | None = None


@dataclass(frozen=True, slots=True)
class ExampleIssue:
    """A problem with the examples that a person should fix (reported by ``handoff check``)."""

    kind: str  # "too_few" or "overlap"
    labels: tuple[str, ...]
    detail: str
    #: The examples concerned (the two near-identical ones of an overlap), so a caller can say where they are.
    examples: tuple[str, ...] = ()


class ExampleMatcher:
    """Nearest-example scoring of messages against labelled example sets."""

    def __init__(
        self,
        examples: Mapping[str, Sequence[str]],
        featurizer: Featurizer | None = None,
        embedding_weight: float = EMBEDDING_WEIGHT,
        features: Sequence[MessageFeatures] | None = None,
    ) -> None:
        """``features``: the examples already featurised by ``featurizer``, in order (saves featurising twice)."""
        self._featurizer = featurizer or bundled_featurizer()
        self.embedding_weight = embedding_weight
        self.labels: tuple[str, ...] = tuple(label for label, texts in examples.items() if texts)
        texts: list[str] = []
        owners: list[int] = []
        for number, label in enumerate(self.labels):
            for text in examples[label]:
                texts.append(text)
                owners.append(number)
        self.examples: tuple[str, ...] = tuple(texts)
        self._owner = np.asarray(owners, dtype=np.int64)
        if features is not None and len(features) != len(texts):
            raise ValueError(f"{len(features)} precomputed features for {len(texts)} examples")
        features = list(features) if features is not None else self._featurizer.featurize_many(texts) if texts else []
        dim = self._featurizer.dim
        self._embeddings = (
            np.stack([f.embedding for f in features]) if features else np.zeros((0, dim), dtype=np.float32)
        )
        # Inverse document frequency over the examples themselves: n-grams every example shares ("i want",
        # "my") say little, rare ones ("chargeback") a lot. An n-gram no example has weighs the most, which
        # lowers the similarity of messages about something else entirely.
        all_buckets = np.concatenate([f.buckets for f in features]) if features else np.zeros(0, np.int64)
        vocabulary, df = np.unique(all_buckets, return_counts=True)
        n = float(len(features))
        self._vocabulary: NDArray[np.int64] = vocabulary.astype(np.int64)
        self._idf = (np.log((n + 1.0) / (df + 1.0)) + 1.0).astype(np.float32)
        #: Where each vocabulary bucket's postings start (and, one further, end) in the sorted postings:
        #: a bucket's postings are its ``df`` examples, so a message's postings are found by position in
        #: the vocabulary instead of two more binary searches over every posting.
        self._post_start: NDArray[np.int64] = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
        self._position = _position_table(self._vocabulary)
        self._unseen_idf = float(np.log(n + 1.0) + 1.0)
        # The examples' n-gram vectors as postings sorted by bucket (a sparse matrix in three arrays), so a
        # knowledge base of thousands of questions costs megabytes, not a dense examples x n-grams table.
        rows, buckets, weights = [], [], []
        for row, f in enumerate(features):
            weighted = f.values * self._idf[np.searchsorted(vocabulary, f.buckets)]
            weighted /= max(1e-9, float(np.sqrt(weighted @ weighted)))
            rows.append(np.full(len(f.buckets), row, dtype=np.int64))
            buckets.append(f.buckets)
            weights.append(weighted.astype(np.float32))
        if features:
            order = np.argsort(np.concatenate(buckets), kind="stable")
            self._post_bucket = np.concatenate(buckets)[order]
            self._post_row = np.concatenate(rows)[order]
            self._post_weight = np.concatenate(weights)[order]
        else:
            self._post_bucket = self._post_row = np.zeros(0, dtype=np.int64)
            self._post_weight = np.zeros(0, dtype=np.float32)
        self._features = features

    #: The arrays :meth:`similarities` reads, by name (:meth:`arrays`, :meth:`from_arrays`).
    ARRAYS = ("owners", "embeddings", "vocabulary", "idf", "post_start", "post_bucket", "post_row", "post_weight")

    def arrays(self) -> dict[str, NDArray[np.generic]]:
        """What scoring a message against the examples reads, as plain arrays (with the examples' texts and
        labels): enough for :meth:`from_arrays` to rebuild a matcher that scores exactly as this one, without
        featurising the examples again (a fitted knowledge head's cache stores them)."""
        return {
            "labels": np.asarray(self.labels, dtype=np.str_),
            "examples": np.asarray(self.examples, dtype=np.str_),
            "owners": self._owner,
            "embeddings": self._embeddings,
            "vocabulary": self._vocabulary,
            "idf": self._idf,
            "post_start": self._post_start,
            "post_bucket": self._post_bucket,
            "post_row": self._post_row,
            "post_weight": self._post_weight,
            "scalars": np.asarray([self._unseen_idf, self.embedding_weight], dtype=np.float64),
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, NDArray[np.generic]], featurizer: Featurizer) -> ExampleMatcher:
        """A matcher that scores as the one :meth:`arrays` came from (same floats). It holds no featurised
        examples, so it scores messages but cannot be refitted (:meth:`gram`, :meth:`issues` and the
        leave-one-out methods need :attr:`features`). Raises ``ValueError`` on arrays that do not fit
        together (a damaged cache): the caller refits."""
        labels = tuple(str(x) for x in arrays["labels"].tolist())
        examples = tuple(str(x) for x in arrays["examples"].tolist())
        matcher = cls.__new__(cls)
        matcher._featurizer = featurizer
        scalars = np.asarray(arrays["scalars"], dtype=np.float64)
        if scalars.shape != (2,):
            raise ValueError("scalars must be two numbers")
        matcher._unseen_idf, matcher.embedding_weight = float(scalars[0]), float(scalars[1])
        matcher.labels, matcher.examples = labels, examples
        matcher._owner = np.asarray(arrays["owners"], dtype=np.int64)
        matcher._embeddings = np.asarray(arrays["embeddings"], dtype=np.float32)
        matcher._vocabulary = np.asarray(arrays["vocabulary"], dtype=np.int64)
        matcher._idf = np.asarray(arrays["idf"], dtype=np.float32)
        matcher._post_start = np.asarray(arrays["post_start"], dtype=np.int64)
        matcher._post_bucket = np.asarray(arrays["post_bucket"], dtype=np.int64)
        matcher._post_row = np.asarray(arrays["post_row"], dtype=np.int64)
        matcher._post_weight = np.asarray(arrays["post_weight"], dtype=np.float32)
        matcher._features = []
        matcher._position = _position_table(matcher._vocabulary)
        n, postings = len(examples), len(matcher._post_row)
        consistent = (
            matcher._owner.shape == (n,)
            and (not n or (int(matcher._owner.min()) >= 0 and int(matcher._owner.max()) < len(labels)))
            and matcher._embeddings.shape == (n, featurizer.dim)
            and matcher._idf.shape == matcher._vocabulary.shape
            and matcher._post_start.shape == (len(matcher._vocabulary) + 1,)
            and (not len(matcher._post_start) or int(matcher._post_start[-1]) == postings)
            and matcher._post_bucket.shape == matcher._post_weight.shape == (postings,)
            and (not postings or (int(matcher._post_row.min()) >= 0 and int(matcher._post_row.max()) < n))
        )
        if not consistent:
            raise ValueError("the example arrays do not fit together")
        return matcher

    def __len__(self) -> int:
        return len(self.examples)

    @property
    def owners(self) -> NDArray[np.int64]:
        """For each example, the position of its label in :attr:`labels`."""
        return self._owner

    @property
    def features(self) -> list[MessageFeatures]:
        """The examples, featurised (in :attr:`examples` order)."""
        return self._features

    @property
    def featurizer(self) -> Featurizer:
        return self._featurizer

    def featurize(self, text: str) -> MessageFeatures:
        return self._featurizer.featurize(text)

    def similarities(self, features: MessageFeatures) -> NDArray[np.float32]:
        """Similarity of the message to every example, in [0, 1]."""
        if not len(self.examples):
            return np.zeros(0, dtype=np.float32)
        semantic = self._embeddings @ features.embedding
        lexical = self._lexical(features)
        w = self.embedding_weight
        sims: NDArray[np.float32] = np.clip(w * semantic + (1.0 - w) * lexical, 0.0, 1.0).astype(np.float32)
        return sims

    def gram(self, gamma: float, ridge: float) -> NDArray[np.float64]:
        """The kernel exp(gamma (s - 1)) between every pair of examples, plus ``ridge`` on the diagonal.

        Both fitted heads (the ``fitted`` knowledge scorer and the example-topic head) solve kernel ridge
        regression over this one matrix; call it under :func:`~handoff_core.blas.single_threaded_blas`.
        """
        n = len(self)
        kernel = np.empty((n, n), dtype=np.float64)
        for row, features in enumerate(self._features):
            kernel[row] = self.similarities(features)
        kernel += kernel.T
        kernel *= 0.5  # exactly symmetric (the n-gram side is summed in float32 in either order)
        kernel -= 1.0
        kernel *= gamma
        np.exp(kernel, out=kernel)
        kernel[np.diag_indices(n)] += ridge
        return kernel

    def kernel_outputs(
        self, features: MessageFeatures, gamma: float, weights: NDArray[np.float32]
    ) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """A fitted head's outputs for the message (kernel row times ``weights``) and its similarities."""
        similarity = self.similarities(features)
        with single_threaded_blas():
            kernel = np.exp(np.float32(gamma) * (similarity - np.float32(1.0)))
            out: NDArray[np.float32] = kernel @ weights
        return out, similarity

    def _lexical(self, features: MessageFeatures) -> NDArray[np.float32]:
        """Cosine of IDF-weighted n-gram vectors against every example, through the postings."""
        n = len(self.examples)
        if not len(features.buckets) or not len(self._vocabulary):
            return np.zeros(n, dtype=np.float32)
        pos, known = self._find(features.buckets)
        idf = np.where(known, self._idf[pos], np.float32(self._unseen_idf))
        query = features.values * idf
        query /= max(1e-9, float(np.sqrt(query @ query)))
        weights, at = query[known], pos[known]
        lo = self._post_start[at]
        lengths = self._post_start[at + 1] - lo
        total = int(lengths.sum())
        if not total:
            return np.zeros(n, dtype=np.float32)
        starts = np.repeat(lo - (np.cumsum(lengths) - lengths), lengths)
        index = np.arange(total) + starts
        products = self._post_weight[index] * np.repeat(weights, lengths)
        lexical: NDArray[np.float32] = np.bincount(self._post_row[index], weights=products, minlength=n).astype(
            np.float32
        )
        return lexical

    def _find(self, buckets: NDArray[np.int64]) -> tuple[NDArray[np.signedinteger[Any]], NDArray[np.bool_]]:
        """Each bucket's position in the vocabulary (any position where it is not in it) and whether it is.

        One gather from :func:`_position_table` instead of a binary search of every bucket (the buckets of
        :class:`MessageFeatures` are sorted, so the first and last tell whether all fall in the table).
        """
        table = self._position
        if table is not None and int(buckets[0]) >= 0 and int(buckets[-1]) < len(table):
            pos = table.take(buckets)
            return pos, pos >= 0
        searched = np.minimum(np.searchsorted(self._vocabulary, buckets), len(self._vocabulary) - 1)
        return searched, self._vocabulary[searched] == buckets

    def scores(self, features: MessageFeatures) -> dict[str, float]:
        """Each label's score: the similarity of its nearest example."""
        sims = self.similarities(features)
        best = np.zeros(len(self.labels), dtype=np.float32)
        np.maximum.at(best, self._owner, sims)
        return {label: float(best[i]) for i, label in enumerate(self.labels)}

    def best(self, features: MessageFeatures, exclude: frozenset[int] = frozenset()) -> ExampleMatch | None:
        """The label of the nearest example (``exclude``: example positions to skip, for leave-one-out)."""
        sims = self.similarities(features)
        if exclude:
            sims = sims.copy()
            sims[list(exclude)] = -1.0
        if not len(sims) or float(sims.max()) < 0:
            return None
        top = int(np.argmax(sims))
        label = int(self._owner[top])
        others = sims[self._owner != label]
        runner_up = float(others.max()) if len(others) else 0.0
        return ExampleMatch(self.labels[label], round(float(sims[top]), 4), self.examples[top], max(0.0, runner_up))

    def match(self, features: MessageFeatures, threshold: float) -> ExampleMatch | None:
        """The best label when its nearest example scores at least ``threshold``, else None.

        Most messages are far from every example, so :meth:`upper_bound` answers first: when even the
        bound stays below the threshold, the exact (postings) similarity cannot reach it either.
        """
        if self.upper_bound(features, threshold) < threshold:
            return None
        found = self.best(features)
        return found if found is not None and found.score >= threshold else None

    def upper_bound(self, features: MessageFeatures, threshold: float = 1.0) -> float:
        """A value no example's similarity to the message exceeds, for a fraction of the exact cost.

        The semantic part is exact (one small matrix-vector product). The lexical part is a cosine
        against unit example vectors, so it is at most 1, and by Cauchy-Schwarz at most the norm of the
        query's share in n-grams some example has (n-grams no example has contribute nothing); the
        second, tighter bound is computed only when the first does not already fall below ``threshold``.
        A margin covers float32 rounding, so the bound never cuts off a score the exact path would reach.
        """
        if not len(self.examples):
            return -1.0
        w = self.embedding_weight
        semantic = w * float((self._embeddings @ features.embedding).max())
        loose = min(1.0, semantic + (1.0 - w)) + _MARGIN
        if loose < threshold or not len(features.buckets) or not len(self._vocabulary):
            return loose
        pos, known = self._find(features.buckets)
        if not known.any():
            return min(1.0, semantic) + _MARGIN
        idf = np.where(known, self._idf[pos], np.float32(self._unseen_idf))
        query = features.values * idf
        shared = query[known]
        lexical = min(1.0, float(np.sqrt(float(shared @ shared) / max(1e-18, float(query @ query)))))
        return min(1.0, semantic + (1.0 - w) * lexical) + _MARGIN

    def issues(self, min_examples: int = MIN_EXAMPLES, overlap: float = OVERLAP_SIMILARITY) -> list[ExampleIssue]:
        """Labels with too few examples, and pairs of labels whose examples are near-duplicates."""
        out = []
        for number, label in enumerate(self.labels):
            count = int((self._owner == number).sum())
            if count < min_examples:
                out.append(
                    ExampleIssue(
                        "too_few",
                        (label,),
                        f"{label!r} has {count} example(s); at least {min_examples} make a dependable topic",
                    )
                )
        seen: set[tuple[int, int]] = set()
        for row, f in enumerate(self._features):
            sims = self.similarities(f)
            mine = int(self._owner[row])
            for other in np.flatnonzero((sims >= overlap) & (self._owner != mine)).tolist():
                pair = (min(mine, int(self._owner[other])), max(mine, int(self._owner[other])))
                if pair in seen:
                    continue
                seen.add(pair)
                a, b = self.labels[pair[0]], self.labels[pair[1]]
                out.append(
                    ExampleIssue(
                        "overlap",
                        (a, b),
                        f"{a!r} and {b!r} have near-identical examples ({sims[other]:.2f}): "
                        f"{self.examples[row]!r} / {self.examples[other]!r}",
                        (self.examples[row], self.examples[other]),
                    )
                )
        return out

    def leave_one_out_scores(self, limit: int = 2000) -> list[float]:
        """For (up to ``limit``, evenly spread) examples whose label has another example: the best score
        of that label among the *other* examples. Used to calibrate a threshold from the examples alone."""
        counts = np.bincount(self._owner, minlength=len(self.labels))
        rows = [row for row in range(len(self._features)) if counts[self._owner[row]] >= 2]
        step = max(1, len(rows) // limit)
        out = []
        for row in rows[::step][:limit]:
            sims = self.similarities(self._features[row])
            sims[row] = -1.0
            best = np.zeros(len(self.labels), dtype=np.float32)
            np.maximum.at(best, self._owner, sims)
            out.append(float(best.max()))
        return out

    def leave_one_out(self) -> list[tuple[str, ExampleMatch | None]]:
        """For every example, the best match among the *other* examples (its own label and the nearest)."""
        return [
            (self.labels[int(self._owner[row])], self.best(f, frozenset({row}))) for row, f in enumerate(self._features)
        ]


def _position_table(vocabulary: NDArray[np.int64]) -> NDArray[np.signedinteger[Any]] | None:
    """Position of every n-gram bucket in ``vocabulary``, -1 where absent: one entry per bucket.

    A message's buckets are then found with one gather instead of a binary search each (~10-35 µs a
    message against ~1-3). int16 for vocabularies under 32,767 buckets (the default examples: 512 kB),
    int32 above (1 MB); None for buckets outside the featuriser's range (not made by it) or a vocabulary
    that is not strictly increasing (arrays read back from a damaged cache: the binary search then reads
    them exactly as it did before the table).
    """
    if not len(vocabulary) or int(vocabulary.min()) < 0 or int(vocabulary.max()) >= N_BUCKETS:
        return None
    if len(vocabulary) > 1 and not bool((vocabulary[1:] > vocabulary[:-1]).all()):
        return None
    dtype = np.int16 if len(vocabulary) < (1 << 15) - 1 else np.int32
    table: NDArray[np.signedinteger[Any]] = np.full(N_BUCKETS, -1, dtype=dtype)
    table[vocabulary] = np.arange(len(vocabulary), dtype=dtype)
    return table

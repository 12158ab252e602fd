"""Topics defined by examples, read by a head fitted to those examples against ordinary questions.

Nearest-example matching (:mod:`handoff_core.examples`) asks "is the message close to one of the
topic's examples?" with one similarity threshold for every topic. That threshold does not fit every
topic: twenty short, varied examples of "cancel my plan" sit far apart, twenty near-paraphrases of
"lost card" sit close together, and an ordinary question can be as close to an example as another
example is. A support lead cannot tune that per topic, so the head learns it from what it is given:

- the topic's examples are the positives; a bundled pool of ordinary customer questions (help-desk
  requests and everyday assistant requests, ``data/topic_negatives.txt``) plus the *other* topics'
  examples are "none of the above". A pool question closer to one of the topic's examples than
  :data:`OWN_SIMILARITY` is dropped for that fit: the support lead's examples say what the topic is,
  so a generic question that is really the topic ("I want to cancel my subscription" for a
  cancellation topic) does not teach the head the opposite;
- the head is kernel ridge regression onto one-hot labels (topics and "none"), with the kernel
  exp(gamma (s - 1)) over the matcher's similarity s (static embedding plus IDF-weighted word and
  character n-grams), the same construction as the ``fitted`` knowledge scorer;
- a topic is named when its output exceeds the "none" output by its threshold. The threshold comes from
  the examples themselves: ridge regression has an exact leave-one-out, so every example and pool question
  is scored by the head fitted without it, and the threshold is set where those cross-fitted margins of
  everything that is *not* the topic stay below :data:`FALSE_RATE`, but never above what
  :data:`MIN_RECALL` of the topic's own cross-fitted examples reach (so a topic whose examples are unlike
  each other still fires on messages like them). Comparing with "none" matters: an ordinary message is
  somewhat like everything, and the margin is what tells a topic apart (docs/models.md has the numbers).

A message's evidence is still its nearest example and that similarity, plus the head's output for the
topic (clamped to [0, 1]; about 1 among the topic's examples). The head is
built once, with the engine, from about 650 rows (0.4-1 s of CPU here); a decision compares the
message with the examples and the pool (one small matrix-vector product and the n-gram postings).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
from numpy.typing import NDArray

from handoff_core.blas import single_threaded_blas
from handoff_core.examples import ExampleMatch, ExampleMatcher
from handoff_core.features import Featurizer, MessageFeatures

#: Kernel width and ridge penalty (those of the ``fitted`` knowledge scorer, picked on HWU64 fold 9).
GAMMA = 5.0
RIDGE = 0.1
#: A pool question at least this similar to one of a topic's examples is not a negative for it.
OWN_SIMILARITY = 0.75
#: Share of cross-fitted non-topic rows allowed at or above a topic's threshold.
FALSE_RATE = 0.01
#: Share of a topic's own cross-fitted examples its threshold must let through (chosen among 0, 0.5, 0.7
#: and 0.8 on the dev splits of bench/eval_example_topics.py: docs/models.md).
MIN_RECALL = 0.5
#: Label of the "none of the above" class (not a valid topic name: topic names are lower-case words).
NONE = "<none>"


@lru_cache(maxsize=1)
def bundled_negatives() -> tuple[str, ...]:
    """The ordinary customer questions shipped as "none of the above" (``data/topic_negatives.txt``)."""
    text = resources.files("handoff_core.data").joinpath("topic_negatives.txt").read_text(encoding="utf-8")
    return tuple(line for line in (raw.strip() for raw in text.splitlines()) if line and not line.startswith("#"))


def fitted_head(examples: Mapping[str, Sequence[str]], negatives: Sequence[str]) -> ExampleHead:
    """The head for these examples and pool, fitted once per process (engines built from one policy share it).

    A fit is about half a second of CPU for the default policy's ~850 rows; tests, policy reloads and
    replicas build many engines from the same examples, and the head is read-only once fitted.
    """
    key = tuple((label, tuple(texts)) for label, texts in examples.items())
    return _fitted_head(key, tuple(negatives))


@lru_cache(maxsize=4)
def _fitted_head(examples: tuple[tuple[str, tuple[str, ...]], ...], negatives: tuple[str, ...]) -> ExampleHead:
    return ExampleHead(dict(examples), negatives)


@dataclass(frozen=True, slots=True)
class HeadCalibration:
    """What the cross-fitting said about one topic (``handoff check`` and the model card report it)."""

    topic: str
    threshold: float
    #: Share of the topic's own examples the head fitted without each of them still finds.
    recall: float
    #: Share of the other rows (pool and other topics) at or above the threshold, cross-fitted.
    false_rate: float
    #: Pool questions dropped as negatives because they are close to this topic's examples.
    dropped: int
    #: Share of the ordinary questions alone (the pool, not the other topics' examples) at or above the
    #: threshold, cross-fitted: what ``handoff check`` warns about (overlapping topics have their own warning).
    ordinary_rate: float = 0.0


class ExampleHead:
    """Kernel ridge head over topics defined by examples, with a "none of the above" class."""

    def __init__(
        self,
        examples: Mapping[str, Sequence[str]],
        negatives: Sequence[str] | None = None,
        featurizer: Featurizer | None = None,
        gamma: float = GAMMA,
        ridge: float = RIDGE,
        false_rate: float = FALSE_RATE,
        min_recall: float = MIN_RECALL,
    ) -> None:
        self.gamma = gamma
        topics = {label: tuple(texts) for label, texts in examples.items() if texts}
        pool = tuple(bundled_negatives() if negatives is None else negatives)
        own = ExampleMatcher(topics, featurizer)
        self.topics: tuple[str, ...] = own.labels
        featurizer = own.featurizer
        # Which pool questions are some topic's own kind of message (not negatives for that topic).
        pool_features = featurizer.featurize_many(list(pool)) if pool else []
        near = np.zeros((len(pool), len(self.topics)), dtype=bool)
        for row, f in enumerate(pool_features):
            sims = own.similarities(f)
            best = np.zeros(len(self.topics), dtype=np.float32)
            np.maximum.at(best, own.owners, sims)
            near[row] = best >= OWN_SIMILARITY
        keep = ~near.any(axis=1)
        kept = [pool[row] for row in np.flatnonzero(keep).tolist()]
        kept_features = [pool_features[row] for row in np.flatnonzero(keep).tolist()]
        self.matcher = ExampleMatcher(
            {**topics, NONE: kept} if kept else topics, featurizer, features=[*own.features, *kept_features]
        )
        self._n_topic_rows = len(own)
        labels = self.matcher.labels
        owner = self.matcher.owners
        n, k = len(self.matcher), len(labels)
        with single_threaded_blas():
            kernel = self.matcher.gram(gamma, ridge)
            inverse = np.linalg.inv(kernel)
            del kernel
        targets = np.zeros((n, k), dtype=np.float64)
        targets[np.arange(n), owner] = 1.0
        weights = inverse @ targets
        # Exact leave-one-out (see handoff_core.knowledge.FittedCoverage): with H = I - ridge (K + ridge I)^-1,
        # a row's outputs from the head fitted without it are (f_i - h_ii y_i) / (1 - h_ii).
        hat = 1.0 - ridge * np.diag(inverse)
        fitted = targets - ridge * weights
        held = (fitted - hat[:, None] * targets) / (1.0 - hat)[:, None]
        self.weights: NDArray[np.float32] = weights.astype(np.float32)
        self.held_out: NDArray[np.float64] = held
        self.calibration: dict[str, HeadCalibration] = {}
        self._thresholds = np.ones(len(self.topics), dtype=np.float32)
        ordinary = owner == labels.index(NONE) if NONE in labels else np.zeros(n, dtype=bool)
        for number, topic in enumerate(self.topics):
            column = labels.index(topic)
            mine = owner == column
            values = held[:, column] - (held[:, -1] if NONE in labels else 0.0)
            positives, negatives_ = values[mine], values[~mine]
            by_false = float(np.quantile(negatives_, 1.0 - false_rate)) if len(negatives_) else 0.5
            by_recall = float(np.quantile(positives, 1.0 - min_recall)) if len(positives) else by_false
            threshold = min(by_false, by_recall)
            self._thresholds[number] = threshold
            self.calibration[topic] = HeadCalibration(
                topic,
                round(threshold, 4),
                round(float((positives >= threshold).mean()) if len(positives) else 0.0, 3),
                round(float((negatives_ >= threshold).mean()) if len(negatives_) else 0.0, 4),
                int(near[:, number].sum()) if pool else 0,
                round(float((values[ordinary] >= threshold).mean()) if ordinary.any() else 0.0, 4),
            )
        self._columns = np.array([labels.index(t) for t in self.topics], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.matcher)

    @property
    def thresholds(self) -> NDArray[np.float32]:
        """Each topic's cross-fitted threshold on its margin over "none", in :attr:`topics` order."""
        return self._thresholds

    def threshold(self, topic: str) -> float:
        return float(self._thresholds[self.topics.index(topic)])

    def scores(self, features: MessageFeatures) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """Every label's output (topics then "none", in the matcher's order) and the similarities."""
        return self.matcher.kernel_outputs(features, self.gamma, self.weights)

    def read(self, features: MessageFeatures) -> HeadReading:
        """Every topic's margin over "none" and its threshold, for one message (see :class:`HeadReading`)."""
        out, similarity = self.scores(features)
        none = float(out[len(self.topics)]) if len(out) > len(self.topics) else 0.0
        margins = out[self._columns] - np.float32(none)
        return HeadReading(self, out, similarity, margins)

    def best(self, features: MessageFeatures) -> ExampleMatch | None:
        """The topic the head names, when it beats "none" and its own threshold, with the nearest example."""
        if not self.topics:
            return None
        return self.read(features).best()

    def match_at(self, reading: HeadReading, number: int) -> ExampleMatch:
        """Topic ``number`` as an :class:`ExampleMatch`: its output, nearest example and the runner-up."""
        out, similarity = reading.outputs, reading.similarity
        column = self._columns[number]
        mine = np.flatnonzero(self.matcher.owners == column)
        nearest = int(mine[np.argmax(similarity[mine])])
        others = np.delete(out[self._columns], number)
        runner_up = float(others.max()) if len(others) else 0.0
        return ExampleMatch(
            self.topics[number],
            round(min(1.0, max(0.0, float(out[column]))), 4),
            self.matcher.examples[nearest],
            max(0.0, runner_up),
            round(float(similarity[nearest]), 4),
        )


class HeadReading:
    """What the head says about one message: each topic's margin over "none" against its threshold.

    The topic detector combines this with the phrases and the trained heads (handoff_core.topics): a
    margin at the threshold names the topic by itself; a margin far below it (the message is much more
    like an ordinary question than like the topic's examples) vetoes a trained head's hit.
    """

    __slots__ = ("_head", "margins", "outputs", "similarity", "thresholds")

    def __init__(
        self,
        head: ExampleHead,
        outputs: NDArray[np.float32],
        similarity: NDArray[np.float32],
        margins: NDArray[np.float32],
    ) -> None:
        self._head = head
        self.thresholds = head.thresholds
        self.outputs = outputs
        self.similarity = similarity
        self.margins = margins

    def gap(self, topic: str) -> float | None:
        """The topic's margin minus its threshold (>= 0: the head names it), None for a topic without examples."""
        if topic not in self._head.topics:
            return None
        number = self._head.topics.index(topic)
        return float(self.margins[number]) - float(self.thresholds[number])

    def best(self, among: Collection[str] | None = None) -> ExampleMatch | None:
        """The topic with the largest margin, when that margin reaches its threshold (``among``: only these)."""
        if not len(self.margins):
            return None
        margins = self.margins
        if among is not None:
            allowed = np.array([topic in among for topic in self._head.topics], dtype=bool)
            if not allowed.any():
                return None
            margins = np.where(allowed, margins, np.float32(-np.inf))
        number = int(np.argmax(margins))
        if float(self.margins[number]) < self.thresholds[number]:
            return None
        return self._head.match_at(self, number)

    def match(self, topic: str) -> ExampleMatch | None:
        """The topic as a match (score, nearest example), whatever its margin."""
        if topic not in self._head.topics:
            return None
        return self._head.match_at(self, self._head.topics.index(topic))

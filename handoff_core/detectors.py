"""Trained detectors (anger, negative complaint, human request, restricted topics) run with numpy.

Cue lists written by hand were close to a naive baseline on real customer text, so these detectors are
linear heads *learned* from public labelled data (``tools/train_detectors.py``; the model card is
``docs/models.md``). Each head reads the shared :class:`~handoff_core.features.MessageFeatures`: hashed
word-piece n-grams, the static sentence embedding and a few style features. A score is one sparse dot
product plus one 132-number dot product and a logistic, so all heads together cost microseconds.

Long messages (a complaint letter pasted into a ticket) spread their n-gram weight over many more
features than a chat line, so a head's probabilities on them sit lower than on short posts and one
threshold cannot serve both (docs/models.md, round 7). A head may therefore carry a *length offset*: a
logit added in full from :attr:`Detectors.length_ramp`'s end and linearly from its start (characters of
the featurised text), chosen by ``handoff train`` on long support-style dev text. It is part of the
head's logit, so the probability, the threshold and the evidence stay one consistent score.

A linear head explains itself: the n-grams whose weights pushed the score up the most are quoted as the
evidence, beside the score and the head's threshold. Weights are read once, from package data, at load.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from handoff_core.features import N_BUCKETS, MessageFeatures

WEIGHTS_FILE = "detectors.npz"
#: Heads below this probability get no n-gram evidence (they cannot fire at any sensible threshold).
EVIDENCE_FROM = 0.2


def length_share(characters: int, start: float, end: float) -> float:
    """How much of a head's length offset applies to a message of ``characters``: 0 up to ``start``, 1 from ``end``."""
    if characters <= start:
        return 0.0
    if characters >= end:
        return 1.0
    return (characters - start) / (end - start)


class DetectorLoadError(Exception):
    """The weights file is missing or does not match this version of the features."""


class DetectorScore:
    """One head's verdict on one message.

    The evidence (:attr:`contributors`) costs a sort of the message's n-gram contributions per head, and
    it is read only when a head fires and a reason quotes it, so it is computed on first access (from the
    message's features, kept alive by the record anyway) and then kept. The value is the same whenever
    it is read: a pure function of the features and the head.
    """

    __slots__ = ("_contributors", "_evidence", "_logit", "head", "probability", "threshold")

    def __init__(
        self,
        head: str,
        probability: float,
        threshold: float,
        contributors: tuple[str, ...] = (),
        evidence: Callable[[], tuple[str, ...]] | None = None,
        logit: float | None = None,
    ) -> None:
        self.head = head
        self.probability = probability
        self.threshold = threshold
        self._contributors = contributors
        self._evidence = evidence
        self._logit = logit

    @property
    def logit(self) -> float:
        """The unrounded log-odds (what rule features are added to); from the probability if not given."""
        if self._logit is not None:
            return self._logit
        p = min(max(self.probability, 1e-9), 1.0 - 1e-9)
        return math.log(p / (1.0 - p))

    @property
    def contributors(self) -> tuple[str, ...]:
        """The n-grams (as written in the message) that raised the score most, strongest first."""
        if self._evidence is not None:
            self._contributors = self._evidence()
            self._evidence = None
        return self._contributors

    @property
    def fired(self) -> bool:
        return self.probability >= self.threshold

    def _key(self) -> tuple[str, float, float, tuple[str, ...]]:
        return (self.head, self.probability, self.threshold, self.contributors)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DetectorScore) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"DetectorScore(head={self.head!r}, probability={self.probability!r}, "
            f"threshold={self.threshold!r}, contributors={self.contributors!r})"
        )


class Detectors:
    """Every trained head, loaded once from one ``.npz`` file."""

    def __init__(self, path: Path | None = None) -> None:
        source = str(path) if path else f"handoff_core/data/{WEIGHTS_FILE}"
        try:
            if path is None:
                with (resources.files("handoff_core") / "data" / WEIGHTS_FILE).open("rb") as handle:
                    arrays = dict(np.load(handle))
            else:
                with np.load(path) as loaded:
                    arrays = dict(loaded)
        except (OSError, ValueError) as exc:
            raise DetectorLoadError(f"{source}: cannot read detector weights ({exc})") from exc
        hashed = arrays["hashed"]
        if hashed.shape[1] != N_BUCKETS:
            raise DetectorLoadError(f"{source}: weights have {hashed.shape[1]} buckets, the features {N_BUCKETS}")
        self.names: tuple[str, ...] = tuple(str(n) for n in arrays["names"])
        #: Bucket-major (buckets x heads): one message's few hundred buckets touch one cache line each.
        #: Kept in the file's float16 (2.5 MB instead of 5 MB in every worker); the rows a message reads
        #: are widened to float32 exactly, so every score is what a float32 table gives.
        self._hashed: NDArray[np.float16] | NDArray[np.float32] = np.ascontiguousarray(
            hashed.T if hashed.dtype == np.float16 else hashed.T.astype(np.float32)
        )
        self._dense: NDArray[np.float32] = arrays["dense"].astype(np.float32)
        self._bias: NDArray[np.float32] = arrays["bias"].astype(np.float32)
        self.thresholds: dict[str, float] = {
            n: float(t) for n, t in zip(self.names, arrays["thresholds"].tolist(), strict=True)
        }
        self.card: dict[str, object] = json.loads(str(arrays["card"]))
        self._index = {name: i for i, name in enumerate(self.names)}
        #: Per head, the learned weights of the sentiment rules' numbers (``RULE_FEATURES`` of
        #: :mod:`handoff_core.sentiment`) in its logit; empty for heads trained on n-grams only, and for
        #: weights files written before rule features existed (no ``rules`` member).
        rules = arrays.get("rules")
        self.rule_weights: dict[str, tuple[float, ...]] = {
            n: tuple(float(w) for w in row) if rules is not None and np.any(row) else ()
            for n, row in zip(self.names, rules if rules is not None else [()] * len(self.names), strict=True)
        }

        #: Per head, the logit added to long messages (see the module docstring); ``None`` when no head has
        #: one (weights files written before round 7 have no ``length_offset`` member).
        offsets = arrays.get("length_offset")
        self._length_offset: NDArray[np.float32] | None = (
            offsets.astype(np.float32) if offsets is not None and np.any(offsets) else None
        )
        ramp = arrays.get("length_ramp")
        self.length_ramp: tuple[float, float] = (float(ramp[0]), float(ramp[1])) if ramp is not None else (0.0, 0.0)

    @property
    def length_offsets(self) -> dict[str, float]:
        """Each head's logit offset for long messages (0.0 for heads without one)."""
        offsets = self._length_offset
        return {n: float(offsets[i]) if offsets is not None else 0.0 for i, n in enumerate(self.names)}

    def _length_shift(self, features: MessageFeatures) -> NDArray[np.float32] | None:
        """The length offsets this message gets (``None``: none; most messages are short)."""
        offsets = self._length_offset
        if offsets is None or len(features.text) <= self.length_ramp[0]:
            return None
        return offsets * np.float32(length_share(len(features.text), *self.length_ramp))

    def score(self, features: MessageFeatures, head: str, evidence: int = 3) -> DetectorScore:
        i = self._index[head]
        return self._score(features, i, evidence)

    def score_all(self, features: MessageFeatures, evidence: int = 3) -> dict[str, DetectorScore]:
        """Every head at once (one small matrix product); evidence only for heads that could fire.

        Quoting the top n-grams costs a sort per head, so it is done only where the probability is at
        least :data:`EVIDENCE_FROM` (a policy may lower a threshold, but not below that and keep evidence).
        """
        logits, rows, dense = self._logits(features)
        # np.minimum(np.maximum(...)) is np.clip without its Python-level argument handling (the same floats).
        probabilities = 1.0 / (1.0 + np.exp(-np.minimum(np.maximum(logits, -30.0), 30.0)))
        out = {}
        for i, name in enumerate(self.names):
            probability = float(probabilities[i])
            if evidence and probability >= EVIDENCE_FROM:
                out[name] = self._score(features, i, evidence, rows[:, i], dense)
            else:
                threshold = self.thresholds[name]
                out[name] = DetectorScore(name, round(probability, 4), threshold, (), logit=float(logits[i]))
        return out

    def logits(self, features: MessageFeatures) -> NDArray[np.float32]:
        """Raw scores of every head (for evaluation in bulk)."""
        return self._logits(features)[0]

    def _logits(
        self, features: MessageFeatures
    ) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
        """Every head's logit, with the message's weight rows and dense features (a head's score reuses them)."""
        dense = np.concatenate([features.embedding, features.style])
        # ``take`` gathers the same rows as indexing with the array, in about two thirds of the time.
        rows = self._hashed.take(features.buckets, axis=0).astype(np.float32, copy=False)
        out: NDArray[np.float32] = features.values @ rows + self._dense @ dense + self._bias
        shift = self._length_shift(features)
        if shift is not None:
            out = out + shift
        return out, rows, dense

    def _score(
        self,
        features: MessageFeatures,
        i: int,
        evidence: int,
        column: NDArray[np.float32] | None = None,
        dense: NDArray[np.float32] | None = None,
    ) -> DetectorScore:
        """Head ``i`` alone; ``column`` (its weights of the message's buckets) and ``dense`` when known."""
        if column is None:
            column = self._hashed[features.buckets, i].astype(np.float32, copy=False)
        contributions = column * features.values
        if dense is None:
            dense = np.concatenate([features.embedding, features.style])
        total = contributions.sum() + self._dense[i] @ dense + self._bias[i]
        shift = self._length_shift(features)
        if shift is not None:
            total = total + shift[i]  # in float32, as in :meth:`_logits`
        logit = float(total)
        probability = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))
        name = self.names[i]
        if not evidence or not len(contributions):
            return DetectorScore(name, round(probability, 4), self.thresholds[name], (), logit=logit)

        def quoted() -> tuple[str, ...]:
            return _contributors(features, contributions, evidence)

        return DetectorScore(name, round(probability, 4), self.thresholds[name], evidence=quoted, logit=logit)


def _contributors(features: MessageFeatures, contributions: NDArray[np.float32], evidence: int) -> tuple[str, ...]:
    """The ``evidence`` strongest positive n-grams, as written, none inside another."""
    contributors: list[str] = []
    k = min(len(contributions), evidence * 3)
    top = np.argpartition(-contributions, k - 1)[:k]
    for position in top[np.argsort(-contributions[top])].tolist():
        if contributions[position] <= 0 or len(contributors) >= evidence:
            break
        quoted = features.quote(position)
        if quoted and not any(quoted in c or c in quoted for c in contributors):
            contributors.append(quoted)
    return tuple(contributors)


@lru_cache(maxsize=1)
def bundled_detectors() -> Detectors:
    """The heads shipped with the package (about 1 MB per head in memory), loaded once."""
    return Detectors()

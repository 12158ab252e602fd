"""The example matcher finds a message's postings by vocabulary position: the same lexical scores as searching."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from handoff_core.engine import DecisionEngine
from handoff_core.example_head import ExampleHead
from handoff_core.examples import ExampleMatcher
from handoff_core.features import MessageFeatures
from handoff_core.text.window import analysis_window
from handoff_core.triggers.human_request import HumanRequest

CORPUS = Path(__file__).resolve().parents[2] / "bench" / "corpus" / "messages.jsonl"


def _searched(matcher: ExampleMatcher, features: MessageFeatures) -> NDArray[np.float32]:
    """The lexical cosines as computed before: each bucket's postings found by two binary searches."""
    n = len(matcher.examples)
    vocabulary = matcher._vocabulary
    if not len(features.buckets) or not len(vocabulary):
        return np.zeros(n, dtype=np.float32)
    pos = np.minimum(np.searchsorted(vocabulary, features.buckets), len(vocabulary) - 1)
    known = vocabulary[pos] == features.buckets
    idf = np.where(known, matcher._idf[pos], np.float32(matcher._unseen_idf))
    query = features.values * idf
    query /= max(1e-9, float(np.sqrt(query @ query)))
    wanted, weights = features.buckets[known], query[known]
    lo = np.searchsorted(matcher._post_bucket, wanted, side="left")
    hi = np.searchsorted(matcher._post_bucket, wanted, side="right")
    lengths = hi - lo
    total = int(lengths.sum())
    if not total:
        return np.zeros(n, dtype=np.float32)
    starts = np.repeat(lo - (np.cumsum(lengths) - lengths), lengths)
    index = np.arange(total) + starts
    products = matcher._post_weight[index] * np.repeat(weights, lengths)
    return np.bincount(matcher._post_row[index], weights=products, minlength=n).astype(np.float32)


def test_lexical_scores_equal_the_searched_postings_bit_for_bit(default_engine: DecisionEngine) -> None:
    """Every corpus message (and a few edge texts) against the default topic examples: identical arrays."""
    head = default_engine._topics._examples
    assert isinstance(head, ExampleHead)  # the default policy's example-topic head
    matcher = head.matcher
    featurizer = default_engine._featurizer
    assert featurizer is not None
    texts = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines()[::3]]
    texts += ["", "?", "zzzzqqq xxyyzz", "refund refund refund"]
    for text in texts:
        features = featurizer.featurize(analysis_window(text))
        assert matcher._lexical(features).tobytes() == _searched(matcher, features).tobytes(), text[:60]


def test_position_table_finds_what_the_binary_search_finds(default_engine: DecisionEngine) -> None:
    """Every corpus message, both default matchers: the table gives the search's hits, positions, bounds and cosines."""
    head = default_engine._topics._examples
    assert isinstance(head, ExampleHead)
    human = next(t for t in default_engine._triggers if isinstance(t, HumanRequest))._examples
    assert human is not None
    matchers = [head.matcher, human]
    featurizer = default_engine._featurizer
    assert featurizer is not None
    texts = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    texts += ["?", "zzzzqqq xxyyzz", "refund refund refund", "a"]
    for matcher in matchers:
        assert matcher._position is not None
        searched = copy.copy(matcher)
        searched._position = None  # the binary-search path the table replaces
        for text in texts:
            features = featurizer.featurize(analysis_window(text))
            if not len(features.buckets):
                continue
            pos, known = matcher._find(features.buckets)
            spos, sknown = searched._find(features.buckets)
            assert known.tolist() == sknown.tolist() and pos[known].tolist() == spos[sknown].tolist(), text[:60]
            assert matcher._lexical(features).tobytes() == searched._lexical(features).tobytes(), text[:60]
            for threshold in (0.0, 0.5, 1.0):
                assert matcher.upper_bound(features, threshold) == searched.upper_bound(features, threshold)


def test_a_matcher_rebuilt_from_its_arrays_has_the_table_and_the_same_scores(default_engine: DecisionEngine) -> None:
    """A matcher read back from its arrays (the knowledge cache's path) finds buckets by the table, same floats."""
    head = default_engine._topics._examples
    assert isinstance(head, ExampleHead)
    featurizer = default_engine._featurizer
    assert featurizer is not None
    rebuilt = ExampleMatcher.from_arrays(head.matcher.arrays(), featurizer)
    assert rebuilt._position is not None
    assert rebuilt._position.tobytes() == head.matcher._position.tobytes()
    texts = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines()[::5]]
    for text in texts:
        features = featurizer.featurize(analysis_window(text))
        assert rebuilt.similarities(features).tobytes() == head.matcher.similarities(features).tobytes(), text[:60]
        assert rebuilt.upper_bound(features, 0.5) == head.matcher.upper_bound(features, 0.5)
    broken = dict(head.matcher.arrays())
    broken["vocabulary"] = broken["vocabulary"][::-1].copy()  # not increasing: the search path, as before
    try:
        unsorted = ExampleMatcher.from_arrays(broken, featurizer)
    except ValueError:
        return
    assert unsorted._position is None

"""The fitted knowledge head's cache: a hit scores exactly as a fresh fit without fitting; a changed
knowledge or setting never reads a stale head; a damaged file or an unwritable folder is a warning and a
refit, never a crash. The knowledge here is generated (regression data, not evidence of accuracy)."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np
import pytest

from connectors.knowledge_cache import ENGINE_MODULES, cache_key, cache_path, engine_fingerprint, prepare_knowledge
from handoff_core.knowledge import KnowledgeBase, KnowledgeEntry, load_knowledge
from handoff_core.policy.schema import KnowledgeCoverageConfig
from tests.core.generated_knowledge import write_knowledge

#: ``fitted_anchors`` at its minimum (100) below the 180 example questions (titles included): the anchored
#: head. The default anchor count: the exact one.
ANCHORED = KnowledgeCoverageConfig(scorer="fitted", encoder="static", fitted_anchors=100)
EXACT = KnowledgeCoverageConfig(scorer="fitted", encoder="static")
QUESTIONS = (
    "can you write me a poem about my parcel",
    "where is my refund for the blue jacket",
    "how do I change the password of my account",
    "what time do you open on sundays",
)
def _scores(kb: KnowledgeBase) -> list[tuple[float, ...]]:
    out = []
    for question in QUESTIONS:
        matches, nearest = kb.fitted_search(question, limit=3)
        out.append(tuple(m.score for m in matches) + tuple(s for _, _, s in nearest))
    return out


@pytest.fixture
def knowledge_file(tmp_path: Path) -> Path:
    return write_knowledge(tmp_path / "faq.jsonl")


@pytest.mark.parametrize("config", [ANCHORED, EXACT], ids=["anchored", "exact"])
def test_a_hit_scores_as_the_fit_without_fitting(
    tmp_path: Path, knowledge_file: Path, config: KnowledgeCoverageConfig
) -> None:
    """The second load reads the stored head (no featurising of the questions, no fit) and gives the same
    scores, evidence and threshold as the head fitted on the first."""
    folder = tmp_path / "cache"
    fresh = load_knowledge(knowledge_file, encoder="static")
    assert prepare_knowledge(fresh, config, folder) == "stored"
    assert cache_path(folder, fresh, cache_key(fresh, config)).exists()
    again = load_knowledge(knowledge_file, encoder="static")
    assert prepare_knowledge(again, config, folder) == "hit"
    assert "fitted" in again.__dict__ and "_examples" not in again.__dict__  # restored, not refitted
    assert _scores(again) == _scores(fresh)
    assert again.fitted.threshold(0.1) == fresh.fitted.threshold(0.1)
    assert len(again.fitted.matcher) == (100 if config is ANCHORED else 12 * 15)  # 14 questions and the title


def test_changed_knowledge_or_setting_never_reads_the_stale_head(tmp_path: Path, knowledge_file: Path) -> None:
    """A knowledge file with one more question, or another anchor count, has another key: it is fitted and
    stored anew, and the head of the old knowledge is removed."""
    folder = tmp_path / "cache"
    old = load_knowledge(knowledge_file, encoder="static")
    assert prepare_knowledge(old, ANCHORED, folder) == "stored"
    stale = cache_path(folder, old, cache_key(old, ANCHORED))
    changed = load_knowledge(write_knowledge(knowledge_file, extra="can I get a refund in cash"), encoder="static")
    assert changed.fitted_key(ANCHORED) != old.fitted_key(ANCHORED)
    assert changed.fitted_key(EXACT) != changed.fitted_key(ANCHORED)
    assert prepare_knowledge(changed, ANCHORED, folder) == "stored"
    assert not stale.exists()
    assert [p.name for p in folder.iterdir()] == [cache_path(folder, changed, cache_key(changed, ANCHORED)).name]


@pytest.mark.parametrize(
    "damage",
    ["garbage", "truncated", "foreign key", "wrong shapes", "not finite"],
)
def test_a_damaged_cache_is_a_warning_and_a_refit(
    tmp_path: Path, knowledge_file: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Whatever is wrong with the stored file, the head is fitted again (same scores as a fresh fit), the
    warning names the file, and the file is replaced by a good one (the next start is a hit)."""
    folder = tmp_path / "cache"
    fresh = load_knowledge(knowledge_file, encoder="static")
    prepare_knowledge(fresh, ANCHORED, folder)
    path = cache_path(folder, fresh, cache_key(fresh, ANCHORED))
    if damage == "garbage":
        path.write_bytes(b"not a numpy file at all")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:300])
    else:
        with np.load(path) as stored:
            arrays = {name: stored[name] for name in stored.files}
        if damage == "foreign key":
            arrays["cache_key"] = np.asarray("0" * 32)
        elif damage == "wrong shapes":
            arrays["weights"] = arrays["weights"][:, :3]
        else:
            arrays["weights"] = arrays["weights"] * np.float32("nan")
        np.savez(path, **arrays)
    again = load_knowledge(knowledge_file, encoder="static")
    with caplog.at_level(logging.WARNING, logger="connectors.knowledge_cache"):
        assert prepare_knowledge(again, ANCHORED, folder) == "refit"
    assert str(path) in caplog.text and "fitting the coverage head again" in caplog.text
    assert _scores(again) == _scores(fresh)
    assert prepare_knowledge(load_knowledge(knowledge_file, encoder="static"), ANCHORED, folder) == "hit"


def test_an_unwritable_folder_is_a_warning_and_the_fitted_head_is_used(
    tmp_path: Path, knowledge_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A cache folder that cannot be created (a file is in the way) costs a warning, not the start."""
    blocked = tmp_path / "blocked"
    blocked.write_text("a file, not a folder", encoding="utf-8")
    kb = load_knowledge(knowledge_file, encoder="static")
    with caplog.at_level(logging.WARNING, logger="connectors.knowledge_cache"):
        assert prepare_knowledge(kb, ANCHORED, blocked / "cache") == "unwritable"
    assert "cannot store the knowledge cache" in caplog.text
    assert "fitted" in kb.__dict__


def test_same_named_knowledge_files_keep_their_own_heads(tmp_path: Path) -> None:
    """Two knowledge files of the same name in different folders, sharing a cache folder, are stored side
    by side: storing one does not remove the other's head (each start is a hit)."""
    folder = tmp_path / "cache"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = write_knowledge(tmp_path / "a" / "faq.jsonl")
    second = write_knowledge(tmp_path / "b" / "faq.jsonl", extra="refund in cash?")
    for path in (first, second):
        assert prepare_knowledge(load_knowledge(path, encoder="static"), ANCHORED, folder) == "stored"
    for path in (first, second):
        assert prepare_knowledge(load_knowledge(path, encoder="static"), ANCHORED, folder) == "hit"
    assert len(list(folder.iterdir())) == 2


def test_knowledge_the_scorer_does_not_fit_writes_nothing(tmp_path: Path, knowledge_file: Path) -> None:
    """``classic`` (and ``auto`` on a FAQ of few questions per entry) fits no head: nothing is stored."""
    kb = load_knowledge(knowledge_file, encoder="static")
    assert prepare_knowledge(kb, KnowledgeCoverageConfig(scorer="classic"), tmp_path / "cache") == "not_fitted"
    assert prepare_knowledge(kb, ANCHORED, None) == "not_fitted"
    assert not (tmp_path / "cache").exists()


def test_the_key_covers_the_engine_code() -> None:
    """The cache key hashes the fitted key with the source of the modules that fit the head, so a head
    stored by other code is never read (it is stored under another name, and its inner key differs)."""
    assert "handoff_core.knowledge" in ENGINE_MODULES and len(engine_fingerprint()) == 64
    kb = KnowledgeBase([KnowledgeEntry("a", "a", "", ("where is my parcel",))])
    expected = hashlib.sha256(f"{kb.fitted_key(ANCHORED)} {engine_fingerprint()}".encode()).hexdigest()[:32]
    assert cache_key(kb, ANCHORED) == expected != kb.fitted_key(ANCHORED)

"""A cache of the knowledge's fitted coverage head, so a worker does not refit it at every start.

Why: with knowledge of real customer questions (10+ per entry) the default ``scorer: auto`` fits a kernel
ridge head over them when the engine is built, 20-40 s for 5,000-6,000 questions on a shared 2-core machine,
and every worker start, ``handoff explain`` and ``handoff simulate`` paid it again for the same knowledge.
The head is a pure function of the knowledge, the scorer settings and the featuriser, so it is stored once
under a hash of all of them (:meth:`~handoff_core.knowledge.KnowledgeBase.fitted_key`, and the source of
the modules that fit it: :func:`engine_fingerprint`) and read back in milliseconds.

Rules: a stored head is used only under its exact key (the key is the file name *and* is checked inside
the file), so a changed knowledge file, setting, featuriser or engine version never reads a stale head; a
file that cannot be read or does not fit the knowledge gets a warning naming it and a refit, never a crash;
a folder that cannot be written gets a warning and the worker runs with the head it fitted. The decision
code in :mod:`handoff_core` stays pure: this module is the only one that reads or writes the cache.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import logging
import os
import tempfile
import zipfile
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from handoff_core.knowledge import KnowledgeBase
from handoff_core.policy.schema import KnowledgeCoverageConfig

log = logging.getLogger(__name__)

#: What :func:`prepare_knowledge` did: used a stored head, fitted and stored one, fitted after a bad
#: file, fitted but could not store it, or nothing (the scorer fits no head).
CacheOutcome = Literal["hit", "stored", "refit", "unwritable", "not_fitted"]
_KEY = "cache_key"


#: The modules whose code the fitted head depends on (fit, similarity, features, embeddings): their source
#: goes into the cache key, so an upgrade that changes any of them refits once instead of reading a head
#: the new code would not have fitted (``FITTED_FORMAT`` is the deliberate version; this catches the rest).
ENGINE_MODULES = (
    "handoff_core.knowledge",
    "handoff_core.char_tfidf",
    "handoff_core.examples",
    "handoff_core.features",
    "handoff_core.embeddings",
    "handoff_core.transformer",
)


@lru_cache(maxsize=1)
def engine_fingerprint() -> str:
    """A hash of :data:`ENGINE_MODULES`' source files (or of the installed version, without them)."""
    digest = hashlib.sha256()
    for name in ENGINE_MODULES:
        module = importlib.import_module(name)
        try:
            digest.update(Path(module.__file__ or "").read_bytes())
        except OSError:
            digest.update(f"{name} {importlib.metadata.version('handoff-guard')}".encode())
    return digest.hexdigest()


def cache_key(knowledge: KnowledgeBase, config: KnowledgeCoverageConfig) -> str:
    """The knowledge's :meth:`~handoff_core.knowledge.KnowledgeBase.fitted_key` with the engine's code."""
    return hashlib.sha256(f"{knowledge.fitted_key(config)} {engine_fingerprint()}".encode()).hexdigest()[:32]


def cache_path(folder: Path, knowledge: KnowledgeBase, key: str) -> Path:
    """Where the head of ``knowledge`` under ``key`` is stored: the knowledge file's name and a hash of its
    full path (two knowledge files of the same name sharing a cache folder never remove each other's
    heads), then the key."""
    source = Path(knowledge.source)
    name = "".join(c if c.isalnum() or c in "-_" else "_" for c in source.name)[:60] or "knowledge"
    place = hashlib.sha256(str(source.absolute()).encode()).hexdigest()[:8]
    return folder / f"{name}-{place}.{key}.fitted.npz"


def prepare_knowledge(knowledge: KnowledgeBase, config: KnowledgeCoverageConfig, folder: Path | None) -> CacheOutcome:
    """Give ``knowledge`` its fitted head for ``config`` from ``folder``, or fit it and store it there.

    Call before :class:`~handoff_core.engine.DecisionEngine` is built (it then finds the head fitted).
    ``folder=None`` turns the cache off: the head is fitted when the engine is built, as before.
    """
    if folder is None or not config.enabled or knowledge.scorer(config) != "fitted":
        return "not_fitted"
    key = cache_key(knowledge, config)
    path = cache_path(folder, knowledge, key)
    damaged = False
    if path.exists():
        problem = _adopt(knowledge, config, path, key)
        if problem is None:
            return "hit"
        damaged = True
        log.warning("knowledge cache %s is unusable (%s); fitting the coverage head again", path, problem)
    knowledge.calibrate(config)  # fits the head
    try:
        _store(knowledge, path, key)
    except OSError as exc:
        log.warning("cannot store the knowledge cache in %s (%s); the head is fitted at every start", folder, exc)
        return "unwritable"
    return "refit" if damaged else "stored"


def _adopt(knowledge: KnowledgeBase, config: KnowledgeCoverageConfig, path: Path, key: str) -> str | None:
    """Load the stored head into ``knowledge``; None on success, else why the file cannot be used."""
    try:
        # The file is opened here, not by np.load, which leaves its own handle open when the zip is damaged.
        with path.open("rb") as handle, np.load(handle, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        found = str(arrays.pop(_KEY))
        if found != key:
            return f"it was stored for key {found[:12]}…, not {key[:12]}…"
        knowledge.adopt_fitted(arrays, config)
    except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _store(knowledge: KnowledgeBase, path: Path, key: str) -> None:
    """Write the head atomically (a temporary file renamed into place), so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            payload: dict[str, Any] = {_KEY: np.asarray(key), **knowledge.fitted.state()}
            np.savez(out, **payload)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    for old in path.parent.glob(f"{path.name.split('.', 1)[0]}.*.fitted.npz"):
        if old != path:  # a head of an earlier version of this knowledge (or settings): never read again
            old.unlink(missing_ok=True)

"""The "none of the above" pool of example-defined topics: ordinary customer questions, chosen in code.

A topic defined by twenty examples needs to be told what it is *not*. The pool is drawn from the
training parts of two real public sets whose licences allow shipping it: Bitext customer-support
requests (CDLA-Sharing-1.0; the file is shared under the same licence, see ``handoff_core/data/NOTICE.md``)
for help-desk questions, and HWU64 (CC BY 4.0, Liu et al., IWSDS 2019) for everyday requests. The intents
that the default policy hands off (refunds, password recovery, asking for a person) are left out: they are
not ordinary questions. Only training rows are used (Bitext's hash split ``train``, HWU64 folds 1-8), so
the dev and test rows the example-topic evaluation reads are never in the pool. Within each intent the
rows are taken in order of the SHA-1 of their text, so the pool is the same on every machine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from connectors.training.data import Row, bitext, hwu64

#: Bitext intents that are not ordinary questions (the default policy hands them off).
HANDED_OFF = frozenset({"get_refund", "track_refund", "recover_password", "contact_human_agent"})
PER_BITEXT_INTENT = 12
PER_HWU64_INTENT = 5
HEADER = """\
# "None of the above" for topics defined by examples (handoff_core/example_head.py).
# Rebuilt by `python tools/build_topic_negatives.py` (connectors/training/topic_negatives.py).
# Sources: Bitext customer support (train split; CDLA-Sharing-1.0, this file is shared under it) and
# HWU64 folds 1-8 (CC BY 4.0, Liu et al., "Benchmarking Natural Language Understanding Services for
# building Conversational Agents", IWSDS 2019).
"""


def _key(text: str) -> str:
    return hashlib.sha1(text.strip().lower().encode("utf-8")).hexdigest()  # noqa: S324


def pick(rows: Sequence[Row], per_intent: int) -> list[str]:
    by_intent: dict[str, list[str]] = {}
    for r in rows:
        by_intent.setdefault(r.labels[0], []).append(" ".join(r.text.split()))
    out: list[str] = []
    seen: set[str] = set()
    for intent in sorted(by_intent):
        taken = 0
        for text in sorted(by_intent[intent], key=_key):
            if taken == per_intent:
                break
            if text.lower() in seen or not text:
                continue
            seen.add(text.lower())
            out.append(text)
            taken += 1
    return out


def negatives(data: Path) -> list[str]:
    support = [r for r in bitext(data) if r.split == "train" and r.labels[0] not in HANDED_OFF]
    everyday = [r for r in hwu64(data) if r.split == "train"]
    return pick(support, PER_BITEXT_INTENT) + pick(everyday, PER_HWU64_INTENT)


def write(data: Path, out: Path) -> int:
    rows = negatives(data)
    out.write_text(HEADER + "".join(f"{text}\n" for text in rows), encoding="utf-8")
    return len(rows)

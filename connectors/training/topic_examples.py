"""Bitext rows that widen the default refund examples and the ordinary examples, chosen in code.

The written refund examples (``lexicons/en/refund_examples.txt``) say what a refund request is in a
support lead's words; real customers also ask for "restitution", "rebates" and "reimbursements", with
typos, and the example head vetoes a trained head's hit when the message is far from every example
(handoff_core.topics). Bitext's refund intents (CDLA-Sharing-1.0; these files are shared under it, see
``handoff_core/data/NOTICE.md``) bring that wording. Its password-recovery intent goes to the *ordinary*
examples: a forgotten password or PIN is a routine request in a bank's help desk, not account security
(fraud, lost or stolen cards and phones, payments the customer did not make), and the trained
account-security head, which learned it as a positive, is outvoted on it. Only Bitext's ``train`` hash
split is used (dev and test rows are what ``bench/eval_real.py`` reads), taken in SHA-1 order of the text.
"""

from __future__ import annotations

import re
from pathlib import Path

from connectors.training.data import bitext
from connectors.training.topic_negatives import pick

#: (file name under lexicons/en, Bitext intents, rows per intent, what the file is)
FILES = (
    ("refund_examples_bitext.txt", ("get_refund", "track_refund"), 20, "refund requests and refunds chased"),
    ("ordinary_examples_bitext.txt", ("recover_password",), 20, "password recovery (routine, not a topic)"),
)
HEADER = """\
# {name} (en): {what}, from Bitext customer support.
# Rebuilt by `python tools/build_topic_examples.py` (connectors/training/topic_examples.py). Source: Bitext
# customer support, train split; CDLA-Sharing-1.0, and this file is shared under it (handoff_core/data/NOTICE.md).
"""


def write(data: Path, folder: Path) -> dict[str, int]:
    rows = [r for r in bitext(data) if r.split == "train"]
    written = {}
    for name, intents, per_intent, what in FILES:
        seen: set[str] = set()
        chosen = []
        # One line per wording: "refunding $299" and "refunding$299" are one phrase to the lexicon check.
        for text in pick([r for r in rows if r.labels[0] in intents], per_intent):
            key = re.sub(r"\W+", "", text.lower())
            if key not in seen and not text.startswith("#"):
                seen.add(key)
                chosen.append(text)
        body = "".join(f"{text}\n" for text in chosen)
        (folder / name).write_text(HEADER.format(name=name.removesuffix(".txt"), what=what) + body, encoding="utf-8")
        written[name] = len(chosen)
    return written

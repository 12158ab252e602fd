"""A generated knowledge base for fast tests of the fitted coverage head (its cache, its calibration).

REGRESSION DATA, NOT EVIDENCE: every question is a frame filled with a subject's cue, written for these
tests. Accuracy is measured on public data by bench/eval_knowledge.py.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

SUBJECTS = {
    "refunds": ("refund", "money back", "return the item"),
    "delivery": ("parcel", "tracking number", "delivery date"),
    "password": ("password", "login code", "locked account"),
    "hours": ("opening hours", "sunday opening", "holiday hours"),
    "invoices": ("invoice", "VAT receipt", "billing address"),
    "sizes": ("size chart", "the jacket fits", "sleeve length"),
    "gift cards": ("gift card", "voucher code", "gift balance"),
    "stores": ("nearest store", "shop address", "store phone"),
    "shipping abroad": ("ship to Canada", "customs fees", "international shipping"),
    "warranty": ("warranty", "broken zip", "repair the seam"),
    "newsletter": ("newsletter", "unsubscribe", "marketing emails"),
    "loyalty": ("loyalty points", "member discount", "points balance"),
}
FRAMES = (
    "how do I get {}?", "question about {}", "I need help with {}", "can you tell me about {}",
    "what is the policy on {}", "where can I find {}", "is there any news on {}", "help me with {} please",
    "I have a problem with {}", "tell me more about {}", "{} is not working", "what about {} for my order",
    "I want to ask about {}", "please explain {}",
)


def write_knowledge(path: Path, extra: str = "") -> Path:
    """The generated knowledge as JSON Lines (14 questions per subject; ``extra`` added to the first)."""
    lines = []
    for subject, cues in SUBJECTS.items():
        questions = [frame.format(cue) for frame in FRAMES for cue in cues][:14]
        questions += [extra] if extra else []
        entry = {"id": subject.replace(" ", "-"), "title": subject, "body": "", "questions": questions}
        lines.append(json.dumps(entry))
        extra = ""  # only the first entry gets the extra question
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def split_questions(per_subject: int, seed: int = 7) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    """Every frame-and-cue question of each subject, shuffled: ``per_subject`` of them become the
    knowledge, the rest are new in-scope questions (the subject they belong to, the question)."""
    rng = random.Random(seed)
    known: dict[str, list[str]] = {}
    probes: list[tuple[str, str]] = []
    for subject, cues in SUBJECTS.items():
        questions = [frame.format(cue) for frame in FRAMES for cue in cues]
        rng.shuffle(questions)
        known[subject] = questions[:per_subject]
        probes += [(subject, q) for q in questions[per_subject:]]
    return known, probes

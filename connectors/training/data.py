"""Loading the public datasets for the trained detectors, with every split fixed here, in code.

Training (``tools/train_detectors.py``) and evaluation (``bench/eval_detectors.py``) both read the data
through this module so they cannot disagree about which row is in which split. Splits were decided before
any score was read:

- GoEmotions: the upstream train / dev / test files.
- XED: the dataset folder's ``split`` column (SHA-1 of the text, fixed upstream of this project).
- Bitext customer support and the CFPB sample: SHA-1 of the text (Bitext) or of the complaint id (CFPB),
  modulo 10: 0 is test, 1 is dev, the rest train.
- HWU64: folds 1-8 train, fold 9 dev, fold 10 test (the dataset README's protocol).
- Rasa demo NLU: never trained on (GPL-3.0); evaluation only. Halved by SHA-1 of the text (even: ``dev``,
  odd: ``test``): misses may be read on ``dev`` to improve the human-request phrases and examples; only
  ``test`` is reported as held out.

Bad input (a missing folder or file, a missing column) raises :class:`DataError` naming the file.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

csv.field_size_limit(sys.maxsize)

#: Languages with XED files used for the multilingual anger model.
XED_LANGUAGES = ("en", "es", "fr", "de", "pt", "it", "nl")
#: Bitext intents in which a customer reports a problem or asks about one calmly ("I can't make payments,
#: help me report errors", "where is my order?"): negatives of the ``negative`` head, weighted up with the
#: written calm reports (``connectors.training.detectors.CALM_PROBLEM_WEIGHT``); ``bench/eval_real.py`` reads
#: the share of them read negative on dev and test.
BITEXT_PROBLEM_INTENTS = frozenset(
    {
        "payment_issue",
        "registration_problems",
        "track_order",
        "track_refund",
        "delivery_period",
        "check_invoice",
        "recover_password",
        "cancel_order",
        "change_order",
        "get_refund",
        "check_cancellation_fee",
        "change_shipping_address",
        "edit_account",
        "delete_account",
    }
)
#: CFPB narratives are long formal letters; the first part reads most like a message to a company.
CFPB_CHARS = 400


def default_datasets() -> Path:
    """``$HANDOFF_DATASETS``, else ``shared/datasets`` beside the checkout (where the project keeps them).

    Why: the training, evaluation and bench scripts each carried one machine's absolute path as their
    ``--data`` default; a fresh clone elsewhere had to pass it every time.
    """
    env = os.environ.get("HANDOFF_DATASETS")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "datasets"


class DataError(Exception):
    """The training data is missing or malformed; the message names the file."""


@dataclass(frozen=True, slots=True)
class Row:
    text: str
    split: str  # train | dev | test
    source: str  # dataset name
    language: str
    #: Labels of the source (emotion names, intent, detector mapping), free-form per dataset.
    labels: tuple[str, ...]


def hash_split(key: str) -> str:
    bucket = int(hashlib.sha1(key.strip().lower().encode("utf-8")).hexdigest(), 16) % 10  # noqa: S324
    return "test" if bucket == 0 else "dev" if bucket == 1 else "train"


def _need(path: Path) -> Path:
    if not path.exists():
        raise DataError(f"{path}: not found (is --data the shared datasets folder?)")
    return path


def _columns(path: Path, header: list[str] | None, wanted: tuple[str, ...]) -> None:
    missing = [c for c in wanted if c not in (header or [])]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(header or []) or 'none'}")


def _tsv(path: Path, wanted: tuple[str, ...]) -> Iterator[dict[str, str]]:
    with _need(path).open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        _columns(path, list(reader.fieldnames or []), wanted)
        yield from reader


def goemotions(root: Path) -> list[Row]:
    folder = _need(root / "goemotions")
    names = _need(folder / "emotions.txt").read_text(encoding="utf-8").split()
    rows = []
    for split in ("train", "dev", "test"):
        path = _need(folder / f"{split}.tsv.gz")
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                parts = line.rstrip("\n").split("\t")
                if len(parts) != 3:
                    raise DataError(f"{path}:{number}: expected 3 tab-separated columns, found {len(parts)}")
                try:
                    labels = tuple(names[int(i)] for i in parts[1].split(","))
                except (ValueError, IndexError) as exc:
                    raise DataError(f"{path}:{number}: bad label ids {parts[1]!r}") from exc
                rows.append(Row(parts[0], split, "goemotions", "en", labels))
    return rows


def xed(root: Path) -> list[Row]:
    folder = _need(root / "xed")
    rows = []
    files = [(lang, folder / f"xed_{lang}.tsv") for lang in XED_LANGUAGES] + [("en", folder / "xed_en_neutral.tsv")]
    for lang, path in files:
        for r in _tsv(path, ("text", "labels", "split")):
            rows.append(Row(r["text"], r["split"], "xed", lang, tuple(r["labels"].split(","))))
    return rows


def bitext(root: Path) -> list[Row]:
    path = root / "bitext_customer_support" / "bitext_customer_support_4514.csv"
    with _need(path).open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        _columns(path, list(reader.fieldnames or []), ("instruction", "intent", "category"))
        return [
            Row(r["instruction"], hash_split(r["instruction"]), "bitext", "en", (r["intent"], r["category"]))
            for r in reader
        ]


def cfpb(root: Path, chars: int | None = CFPB_CHARS) -> list[Row]:
    """CFPB narratives labelled with the folder's issue-to-detector map (``strong`` mappings only).

    Labels: (detector or ``weak``, CFPB issue, complaint id); the id joins the hand labels of
    ``bench/data/cfpb_anger_labels.tsv`` and picks the cross-fitting fold of ``bench/eval_topics_cv.py``.
    """
    folder = _need(root / "cfpb_complaints_sample")
    mapping: dict[tuple[str, str], str] = {}
    for r in _tsv(folder / "issue_to_detector_map.tsv", ("issue", "sub_issue", "suggested_detector", "strength")):
        detector = r["suggested_detector"] if r["strength"] == "strong" or r["suggested_detector"] == "none" else "weak"
        mapping[(r["issue"], r["sub_issue"])] = detector
    path = folder / "cfpb_complaints_with_narrative.csv"
    with _need(path).open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        wanted = ("Consumer complaint narrative", "Issue", "Sub-issue", "Complaint ID")
        _columns(path, list(reader.fieldnames or []), wanted)
        rows = []
        for r in reader:
            text = clean_cfpb(r["Consumer complaint narrative"])[:chars]
            detector = mapping.get((r["Issue"], r["Sub-issue"]), "weak")
            labels = (detector, r["Issue"], r["Complaint ID"])
            rows.append(Row(text, hash_split(r["Complaint ID"]), "cfpb", "en", labels))
        return rows


#: The CFPB's scrubbing marks: ``XXXX`` for names and numbers, ``XX/XX/2019`` for dates.
_SCRUBBED = re.compile(r"\b(?:X{2,}|XX/XX/(?:X{2,4}|\d{2,4}))\b[/.,]?")
_AMOUNT = re.compile(r"\{(\$[\d,.]+)\}")


def clean_cfpb(text: str) -> str:
    """A narrative as a customer would have typed it: without the CFPB's scrubbing marks.

    ``XXXX`` runs (1,243 of 1,532 narratives have them) are capital letters no chat message has: the
    engine's SHOUTING cue fired on them and the ``negative`` head learned them as a complaint marker. They
    are dropped, and ``{$400.00}`` becomes ``$400.00``.
    """
    text = _AMOUNT.sub(r"\1", _SCRUBBED.sub(" ", text))
    return " ".join(text.split())


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def first_sentence(text: str, at_least: int = 40, at_most: int = 300) -> str:
    """A complaint's first sentence (joined with the next while under ``at_least`` characters): a short complaint.

    The CFPB narratives are the only real complaints to companies here, and they are letters; their first
    sentence ("Equifax keeps adding back fraudulent addresses.") is what a short complaint in a chat looks
    like, so it is the complaint side of the support-style negative sets (``bench/eval_real.py``).
    """
    parts = _SENTENCE_END.split(text)
    out = parts[0]
    for part in parts[1:]:
        if len(out) >= at_least:
            break
        out = f"{out} {part}"
    return out[:at_most]


def hwu64(root: Path) -> list[Row]:
    path = root / "hwu64_nlu_evaluation_data" / "hwu64.tsv"
    rows = []
    for r in _tsv(path, ("fold", "label", "text")):
        fold = int(r["fold"])
        split = "test" if fold == 10 else "dev" if fold == 9 else "train"
        rows.append(Row(r["text"], split, "hwu64", "en", (r["label"], r["fold"])))
    return rows


def rasa_split(text: str) -> str:
    """``dev`` or ``test`` half of the Rasa set (fixed before any score on either half was read)."""
    return "dev" if int(hashlib.sha1(text.strip().lower().encode("utf-8")).hexdigest(), 16) % 2 == 0 else "test"  # noqa: S324


def rasa(root: Path) -> list[Row]:
    """Development and evaluation only (GPL-3.0): never passed to training. Split in halves by :func:`rasa_split`."""
    path = root / "rasa_demo_nlu" / "rasa_demo_nlu.tsv"
    return [Row(r["text"], rasa_split(r["text"]), "rasa", "en", (r["intent"],)) for r in _tsv(path, ("text", "intent"))]

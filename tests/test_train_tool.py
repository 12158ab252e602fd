"""The training command rejects bad input with a clear error naming the file, never a stack trace."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from connectors.training import data as detector_data
from connectors.training import detectors as train_detectors


def test_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A data folder that does not exist: exit 2 and the path in the message."""
    missing = tmp_path / "nope"
    assert train_detectors.main(["--data", str(missing), "--out", str(tmp_path / "w.npz")]) == 2
    assert str(missing) in capsys.readouterr().err


def test_missing_dataset_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A datasets folder without GoEmotions names the missing folder."""
    assert train_detectors.main(["--data", str(tmp_path), "--out", str(tmp_path / "w.npz")]) == 2
    err = capsys.readouterr().err
    assert "goemotions" in err
    assert "not found" in err


def test_wrong_columns_name_the_file(tmp_path: Path) -> None:
    """An XED file without the expected columns is reported with its path and the missing columns."""
    folder = tmp_path / "xed"
    folder.mkdir()
    (folder / "xed_en.tsv").write_text("sentence\temotion\nhello\t1\n", encoding="utf-8")
    with pytest.raises(detector_data.DataError) as info:
        detector_data.xed(tmp_path)
    message = str(info.value)
    assert "xed_en.tsv" in message
    assert "text" in message
    assert "split" in message


def test_malformed_goemotions_line(tmp_path: Path) -> None:
    """A GoEmotions line with the wrong number of columns is reported with file and line number."""
    folder = tmp_path / "goemotions"
    folder.mkdir()
    (folder / "emotions.txt").write_text("anger\nneutral\n", encoding="utf-8")
    for split in ("train", "dev", "test"):
        with gzip.open(folder / f"{split}.tsv.gz", "wt", encoding="utf-8") as handle:
            handle.write("fine text\t1\tid1\n" if split != "dev" else "broken line without tabs\n")
    with pytest.raises(detector_data.DataError, match=r"dev\.tsv\.gz:1: expected 3"):
        detector_data.goemotions(tmp_path)


def test_splits_are_fixed_by_content() -> None:
    """The hash split depends only on the text (case and outer spaces ignored), so it never drifts."""
    assert detector_data.hash_split("Where is my refund?") == detector_data.hash_split("  where is my refund? ")
    splits = {detector_data.hash_split(f"message {i}") for i in range(200)}
    assert splits == {"train", "dev", "test"}


@pytest.mark.parametrize(
    ("text", "first"),
    [
        (
            "Equifax keeps adding back fraudulent addresses. I disputed them twice.",
            "Equifax keeps adding back fraudulent addresses.",
        ),
        ("Hi. I was charged twice for the same order! Please refund.", "Hi. I was charged twice for the same order!"),
        ("no sentence end at all in this complaint", "no sentence end at all in this complaint"),
        (
            "Why? Nobody answers. I have waited three weeks for my refund now.",
            "Why? Nobody answers. I have waited three weeks for my refund now.",
        ),
        ("x" * 500 + ". Next.", "x" * 300),
    ],
)
def test_first_sentence_of_a_complaint(text: str, first: str) -> None:
    """A complaint's short form is its first sentence, joined with the next while under 40 characters, at most 300."""
    assert detector_data.first_sentence(text) == first


def test_complaint_sentences_train_only_the_negative_head_from_train_openings() -> None:
    """Short complaints come from CFPB train openings only, are negatives' positives, and no other head reads them."""
    Row = detector_data.Row
    opening = "My refund never came. I called five times and nobody helps me at all with it."
    complaints = [
        Row(opening, "train", "cfpb", "en", ("strong", "billing_refund", "id1", "angry=1")),
        Row("Dev opening that must not become a sentence. More text.", "dev", "cfpb", "en", ("weak", "x", "id2")),
    ]
    rows = train_detectors.complaint_sentences(complaints)
    assert [r.text for r in rows] == ["My refund never came. I called five times and nobody helps me at all with it."]
    (row,) = rows
    assert row.split == "train" and row.source == train_detectors.COMPLAINT_SENTENCE
    assert train_detectors.LABELS["negative"](row) == 1
    assert all(train_detectors.LABELS[head](row) is None for head in train_detectors.HEADS if head != "negative")


def test_calm_problem_reports_are_weighted_negatives_of_the_negative_head_only() -> None:
    """Written calm problem reports and Bitext problem intents are weighted negatives of `negative` (only)."""
    rows = train_detectors.calm_problem_reports()
    assert len(rows) >= 100 and all(r.split == "train" and r.source == train_detectors.CALM_PROBLEM for r in rows)
    weight = train_detectors.ROW_WEIGHT["negative"]
    for row in rows[:3]:
        assert train_detectors.LABELS["negative"](row) == 0
        assert all(train_detectors.LABELS[head](row) is None for head in train_detectors.HEADS if head != "negative")
        assert weight(row) == train_detectors.CALM_PROBLEM_WEIGHT > 1
    Row = detector_data.Row
    problem = Row("i cant pay, help me report a payment error", "train", "bitext", "en", ("payment_issue", "PAYMENT"))
    order = Row("i want to buy something", "train", "bitext", "en", ("place_order", "ORDER"))
    assert (weight(problem), weight(order)) == (train_detectors.CALM_PROBLEM_WEIGHT, 1.0)
    assert train_detectors.LABELS["negative"](problem) == 0


def test_written_calm_reports_are_not_the_suites_regression_messages() -> None:
    """No written calm training row is a message of the test suite, so the calm regression cases stay unseen."""
    suite = Path(__file__).resolve().parent
    texts = " ".join(
        p.read_text(encoding="utf-8").lower() for p in sorted(suite.rglob("*.py")) if p.name != Path(__file__).name
    )
    written = [r.text.lower() for r in train_detectors.calm_problem_reports()]
    assert len(written) == len(set(written))
    assert [t for t in written if t in texts] == []


def test_missing_calm_reports_file_names_it(tmp_path: Path) -> None:
    """A checkout without the written calm reports stops training with the file's path."""
    missing = tmp_path / "calm.txt"
    with pytest.raises(detector_data.DataError, match=r"calm\.txt"):
        train_detectors.calm_problem_reports(missing)


def test_cfpb_scrubbing_marks_are_removed() -> None:
    """CFPB's XXXX / XX/XX/XXXX marks (capitals no chat message has) and {$...} braces are dropped."""
    text = "On XX/XX/2019 XXXX XXXX charged me {$1,300.00} on XX/XX/XXXX. NOT MINE"
    cleaned = detector_data.clean_cfpb(text)
    assert "XX" not in cleaned
    assert "$1,300.00" in cleaned and "{" not in cleaned
    assert cleaned.endswith("NOT MINE")


def test_written_hard_negatives_only_train_the_human_request_head() -> None:
    """The written hard negatives are training rows, negative for human_request and unused by other heads."""
    rows = train_detectors.written_negatives()
    assert len(rows) >= 50
    assert {r.split for r in rows} == {"train"}
    assert "are you a bot?" in {r.text for r in rows}
    for head, label in train_detectors.LABELS.items():
        assert {label(r) for r in rows} == ({0} if head == "human_request" else {None})


def test_cfpb_anger_labels_follow_the_fixed_splits() -> None:
    """Every train label is on a train-split complaint, and the bench file's dev/test labels match the hash split."""
    train = train_detectors.CFPB_ANGER_TRAIN.read_text(encoding="utf-8").splitlines()[1:]
    assert len(train) == 1232
    assert {detector_data.hash_split(line.split("\t")[0]) for line in train} == {"train"}
    bench = train_detectors.CFPB_ANGER_DEV.read_text(encoding="utf-8").splitlines()[1:]
    for line in bench:
        cid, split, _ = line.split("\t")
        assert detector_data.hash_split(cid) == split


def test_cfpb_anger_never_attaches_test_labels(tmp_path: Path) -> None:
    """Labels reach train and dev rows only; a test-split label in the file is never read into training."""
    (tmp_path / "train.tsv").write_text("complaint_id\tangry\n1\t1\n", encoding="utf-8")
    (tmp_path / "dev.tsv").write_text("complaint_id\tsplit\tangry\n2\tdev\t0\n3\ttest\t1\n", encoding="utf-8")
    rows = [
        detector_data.Row("a", "train", "cfpb", "en", ("none", "x", "1")),
        detector_data.Row("b", "dev", "cfpb", "en", ("none", "x", "2")),
        detector_data.Row("c", "test", "cfpb", "en", ("none", "x", "3")),
    ]
    out = train_detectors.with_cfpb_anger(rows, tmp_path / "train.tsv", tmp_path / "dev.tsv")
    assert [train_detectors.LABELS["angry"](r) for r in out] == [1, 0, None]


def test_bad_label_file_names_the_file(tmp_path: Path) -> None:
    """A label file with the wrong header is an error naming the file."""
    (tmp_path / "train.tsv").write_text("id\tlabel\n1\t1\n", encoding="utf-8")
    with pytest.raises(detector_data.DataError, match=r"train\.tsv"):
        train_detectors.with_cfpb_anger([], tmp_path / "train.tsv", tmp_path / "dev.tsv")


def test_rasa_halves_are_fixed_by_content() -> None:
    """The Rasa dev/test halves depend only on the text, and both halves occur."""
    assert detector_data.rasa_split("Talk to a human") == detector_data.rasa_split(" talk to a human ")
    assert {detector_data.rasa_split(f"message {i}") for i in range(50)} == {"dev", "test"}


def test_rule_readings_are_the_engines_and_ship_per_head() -> None:
    """Training reads each row's rule features exactly as the engine does, and writes them in head order."""
    from handoff_core.engine import DecisionEngine
    from handoff_core.policy import default_policy_path, load_policy
    from handoff_core.sentiment import RULE_FEATURES

    rows = [
        detector_data.Row("This is RIDICULOUS!! worst service ever", "train", "goemotions", "en", ("anger",)),
        detector_data.Row("it is a bit annoying", "train", "goemotions", "en", ("annoyance",)),
        detector_data.Row("¡Esto es una vergüenza, estoy harto!", "train", "xed", "es", ("anger",)),
    ]
    readings = train_detectors.rule_rows(rows)
    engine = DecisionEngine(load_policy(default_policy_path()))
    assert readings.shape == (3, len(RULE_FEATURES))
    assert [tuple(r) for r in readings] == [engine.sentiment_features(r.text, r.language) for r in rows]
    assert readings[0][0] > 0 and readings[0][1] > 0  # cues and VADER
    assert readings[1][3] == 1.0  # hedged
    assert readings[2][1] == 0.0 and readings[2][2] == 0.0  # VADER reads English only
    heads = [
        train_detectors.FittedHead(np.zeros(4, np.float16), np.zeros(2, np.float32), 0.0, 0.5, {})
        for _ in train_detectors.HEADS
    ]
    heads[0].rules = np.arange(len(RULE_FEATURES), dtype=np.float32) + 1
    arrays = train_detectors.weights_arrays(heads, {})
    assert arrays["rules"].shape == (len(train_detectors.HEADS), len(RULE_FEATURES))
    assert arrays["rules"][0].tolist() == [1.0, 2.0, 3.0, 4.0] and not arrays["rules"][1:].any()
    heads[0].rules = np.zeros(len(RULE_FEATURES), dtype=np.float32)
    assert "rules" not in train_detectors.weights_arrays(heads, {})  # n-gram-only heads: the file as before


def test_written_multilingual_rows_only_train_the_human_request_head() -> None:
    """The written en/es/fr/de/pt rows are training rows with both labels, read by the human_request head only."""
    rows = train_detectors.written_rows()
    assert {r.split for r in rows} == {"train"}
    assert {r.language for r in rows} == {"en", "es", "fr", "de", "pt"}
    human = train_detectors.LABELS["human_request"]
    for language in ("es", "fr", "de", "pt"):
        labels = [human(r) for r in rows if r.language == language]
        assert labels.count(1) >= 20 and labels.count(0) >= 10
    for head, label in train_detectors.LABELS.items():
        if head != "human_request":
            assert {label(r) for r in rows} == {None}


def test_bad_written_row_names_the_file_and_line(tmp_path: Path) -> None:
    """A written row without a 0/1 label is an error naming the file and the line."""
    path = tmp_path / "rows.tsv"
    path.write_text("language\thuman_request\ttext\nen\t1\tget me a human\nen\tyes\tagent\n", encoding="utf-8")
    with pytest.raises(detector_data.DataError, match=r"rows\.tsv:3"):
        train_detectors.written_rows(path)


def test_xed_is_a_human_request_negative_in_every_language() -> None:
    """A fixed fifth of XED (every language) is a human_request negative; the rest is unused by that head."""
    label = train_detectors.LABELS["human_request"]
    rows = [detector_data.Row(f"line {i}", "train", "xed", "fr", ("joy",)) for i in range(200)]
    labels = [label(r) for r in rows]
    assert set(labels) == {0, None}
    assert 20 < labels.count(0) < 60
    assert labels == [label(r) for r in rows]


def _support_rows() -> list[detector_data.Row]:
    """Short Reddit-like rows and long complaint openings with project labels (a miniature of the real data)."""
    Row = detector_data.Row
    rows = []
    for k in range(12):
        rows.append(Row(f"you idiots ruined it again {k}, I am furious", "train", "goemotions", "en", ("anger",)))
        rows.append(Row(f"thanks, the order {k} arrived fine", "train", "goemotions", "en", ("gratitude",)))
    for k in range(4):
        rows.append(Row(f"I am furious, you liars {k}", "dev", "goemotions", "en", ("anger",)))
        rows.append(Row(f"the parcel {k} came on time", "dev", "goemotions", "en", ("neutral",)))
    calm = "I am writing about account {k}. The bank reported a late payment that I believe is an error; " * 4
    angry = "This is OUTRAGEOUS. Account {k}: you people lied to me again and again and I am furious!! " * 4
    for k in range(24):
        split = "dev" if k % 4 == 0 else "train"
        for text, label in ((calm, "0"), (angry, "1")):
            cid = f"{label}{k}"
            rows.append(Row(text.format(k=k)[:400], split, "cfpb", "en", ("none", "issue", cid, f"angry={label}")))
    return rows


def test_length_offset_is_chosen_out_of_fold_and_ships_only_when_set() -> None:
    """The long-message offset is one of the grid's, never lowers support-style F1 against no offset, keeps
    the head's weights and threshold, and reaches the file only for a head that has one."""
    rows = _support_rows()
    x = train_detectors.featurize_rows(rows)
    fitted = train_detectors.fit_head("angry", rows, x, train_detectors.head_rows("angry", rows))
    out = train_detectors.with_length_offset("angry", rows, x, fitted)
    assert out.length_offset in train_detectors.LENGTH_GRID
    f1 = out.card["support_f1"]
    assert isinstance(f1, dict) and f1["with"] >= f1["without"]
    assert out.card["support_rows"] == {"openings": 48, "angry": 24}
    assert out.threshold == fitted.threshold and out.bias == fitted.bias and out.hashed is fitted.hashed
    heads = [
        train_detectors.FittedHead(np.zeros(4, np.float16), np.zeros(2, np.float32), 0.0, 0.5, {})
        for _ in train_detectors.HEADS
    ]
    assert "length_offset" not in train_detectors.weights_arrays(heads, {})  # no offset: the file as before
    heads[0].length_offset = 1.25
    arrays = train_detectors.weights_arrays(heads, {})
    assert arrays["length_offset"].tolist() == [1.25, 0.0, 0.0, 0.0, 0.0]
    assert arrays["length_ramp"].tolist() == list(train_detectors.LENGTH_RAMP)


def test_the_datasets_default_is_beside_the_checkout_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scripts default to ``shared/datasets`` beside the clone (not one machine's path); HANDOFF_DATASETS wins."""
    monkeypatch.delenv("HANDOFF_DATASETS", raising=False)
    root = Path(detector_data.__file__).resolve().parents[2]
    assert detector_data.default_datasets() == root.parent / "shared" / "datasets"
    monkeypatch.setenv("HANDOFF_DATASETS", "/elsewhere/data")
    assert detector_data.default_datasets() == Path("/elsewhere/data")

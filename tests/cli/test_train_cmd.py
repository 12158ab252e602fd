"""``handoff train`` reports bad training input with the file it is about and exit status 2, never a trace."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from click.testing import CliRunner

from connectors.cli import cli


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["train", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def _goemotions(root: Path) -> None:
    folder = root / "goemotions"
    folder.mkdir()
    (folder / "emotions.txt").write_text("anger\nneutral\n", encoding="utf-8")
    for split in ("train", "dev", "test"):
        with gzip.open(folder / f"{split}.tsv.gz", "wt", encoding="utf-8") as handle:
            handle.write("fine text\t1\tid1\n")


@pytest.mark.parametrize(
    ("make", "named"),
    [
        (lambda root: None, "goemotions: not found"),
        (_goemotions, "/xed: not found"),
    ],
)
def test_missing_files_are_named(tmp_path: Path, make: object, named: str) -> None:
    """A datasets folder missing a dataset names the first missing file or folder, exit 2."""
    make(tmp_path)  # type: ignore[operator]
    code, output = _run("--data", str(tmp_path), "--out", str(tmp_path / "w.npz"))
    assert code == 2
    assert named in output
    assert "Traceback" not in output


def test_missing_data_folder(tmp_path: Path) -> None:
    """A --data path that does not exist is named in the error, exit 2."""
    code, output = _run("--data", str(tmp_path / "nope"))
    assert code == 2
    assert str(tmp_path / "nope") in output


def test_wrong_columns_name_the_file(tmp_path: Path) -> None:
    """An XED file with other columns: the file and the missing columns are named, exit 2."""
    _goemotions(tmp_path)
    (tmp_path / "xed").mkdir()
    (tmp_path / "xed" / "xed_en.tsv").write_text("sentence\temotion\nhello\t1\n", encoding="utf-8")
    code, output = _run("--data", str(tmp_path), "--out", str(tmp_path / "w.npz"))
    assert code == 2
    assert "xed_en.tsv" in output
    assert "missing column(s) text, labels, split" in output


def test_missing_output_folder(tmp_path: Path) -> None:
    """An --out in a folder that does not exist is refused before any data is read."""
    code, output = _run("--data", str(tmp_path), "--out", str(tmp_path / "no" / "w.npz"))
    assert code == 2
    assert "output folder does not exist" in output

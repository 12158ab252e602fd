"""Every command finds the store the same way, from any folder (issue 7, finding 7).

``handoff outbox list`` run from another folder used to create ``./var/handoff.sqlite3`` there and show an
empty table, as if nothing had happened.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from connectors.cli import cli
from connectors.settings import Settings, default_database_url


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A current folder with no store, and a private data folder instead of the user's real one."""
    folder = tmp_path / "somewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("HANDOFF_DATABASE_URL", raising=False)
    return folder


def test_default_store_does_not_depend_on_the_current_folder(elsewhere: Path, tmp_path: Path) -> None:
    """The default store is one absolute file in the data folder, whatever the current folder is."""
    expected = tmp_path / "data" / "handoff-guard" / "handoff.sqlite3"
    assert default_database_url() == f"sqlite:///{expected}"
    assert Settings(_env_file=None).database_path == expected


@pytest.mark.parametrize("args", [["outbox", "list"], ["outbox", "show", "1"], ["decisions", "--all"]])
def test_reading_commands_never_create_a_store(elsewhere: Path, tmp_path: Path, args: list[str]) -> None:
    """Without a store the command says where it looked and exits non-zero; no ./var appears anywhere."""
    result = CliRunner().invoke(cli, args)
    assert result.exit_code != 0
    assert "no store at" in result.stderr
    assert str(tmp_path / "data" / "handoff-guard" / "handoff.sqlite3") in result.stderr
    assert not (elsewhere / "var").exists()
    assert not (tmp_path / "data").exists()

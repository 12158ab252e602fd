"""`handoff report` picks the period and format from its options and reports bad input clearly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from audit.builders import conversation, decision
from click.testing import CliRunner

from connectors.audit import SQLiteAudit
from connectors.cli import cli
from handoff_core import Action


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "store.sqlite3"
    now = datetime.now(UTC)
    with SQLiteAudit(path) as log:
        log.record_decision(decision(Action.HANDOFF), conversation("recent"), at=now - timedelta(days=1))
        log.record_decision(decision(Action.CONTINUE, None), conversation("old"), at=now - timedelta(days=20))
        log.record_decision(decision(Action.HANDOFF), conversation("sim"), simulated=True, at=now - timedelta(hours=1))
    return path


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["report", *args])
    return result.exit_code, result.output


def test_default_is_last_week_html_on_stdout(store: Path) -> None:
    """Without options: the last 7 days, live only, as an HTML page on stdout."""
    code, out = invoke("--database", str(store))
    assert code == 0
    assert out.startswith("<!DOCTYPE html>")
    assert "1 decisions (0 simulated)" in out


def test_since_and_simulated(store: Path) -> None:
    """--since widens the period; --include-simulated adds replayed decisions."""
    code, out = invoke("--database", str(store), "--since", "30d", "--include-simulated", "--format", "md")
    assert code == 0
    assert "3 decisions (1 simulated)" in out


def test_format_follows_the_output_suffix(store: Path, tmp_path: Path) -> None:
    """--output review.md writes Markdown without --format."""
    target = tmp_path / "review.md"
    code, _ = invoke("--database", str(store), "--output", str(target))
    assert code == 0
    assert target.read_text(encoding="utf-8").startswith("# Handoff-quality review")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "7d", "--from", "2024-06-01", "--to", "2024-06-07"], "either --since or --from/--to"),
        (["--from", "2024-06-01"], "--from and --to go together"),
        (["--from", "2024-06-07", "--to", "2024-06-01"], "must end after it starts"),
        (["--from", "June 1st", "--to", "2024-06-07"], "expected a date"),
        (["--since", "a while"], "expected a duration"),
    ],
)
def test_bad_periods_are_usage_errors(store: Path, args: list[str], message: str) -> None:
    """Conflicting or malformed period options exit 2 with a message, never a traceback."""
    code, out = invoke("--database", str(store), *args)
    assert code == 2
    assert message in out
    assert "Traceback" not in out


def test_missing_store(tmp_path: Path) -> None:
    """A store that does not exist is reported (exit 1), not created."""
    code, out = invoke("--database", str(tmp_path / "none.sqlite3"))
    assert code == 1
    assert "no store at" in out

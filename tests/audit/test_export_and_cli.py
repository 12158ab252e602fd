"""`handoff decisions` filters the audit log and exports it as a table, CSV and JSON Lines."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from audit.builders import conversation, decision
from connectors.audit import SQLiteAudit
from connectors.audit.export import CSV_COLUMNS
from connectors.cli import cli
from handoff_core import Action, TriggerName

NOW = datetime.now(UTC)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "store.sqlite3"
    with SQLiteAudit(path) as log:
        d1 = decision(Action.HANDOFF, TriggerName.SENTIMENT, score=0.9)
        log.record_decision(
            d1, conversation("a", ticket_id="11", text='=HYPERLINK("x") help'), at=NOW - timedelta(hours=2)
        )
        log.record_event("claimed", decision_id=d1.id, actor="agent@shop.test", at=NOW - timedelta(hours=1))
        log.record_delivery(d1.id, "zendesk", True)
        log.record_decision(
            decision(Action.OFFER_HANDOFF, TriggerName.LOW_CONFIDENCE),
            conversation("b", channel="zendesk"),
            at=NOW - timedelta(days=1),
        )
        log.record_decision(decision(Action.HANDOFF, TriggerName.VIP), conversation("old"), at=NOW - timedelta(days=10))
        log.record_decision(decision(Action.HANDOFF, TriggerName.VIP), conversation("sim"), simulated=True, at=NOW)
    return path


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_csv_export_has_one_row_per_decision(store: Path) -> None:
    """CSV carries the documented columns, the last 7 live days only, and claim details."""
    rows = list(csv.DictReader(io.StringIO(run("decisions", "--database", str(store), "--format", "csv"))))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    assert [r["conversation_id"] for r in rows] == ["b", "a"]
    a = rows[1]
    assert (a["action"], a["triggers"], a["ticket_id"], a["reached_zendesk"]) == (
        "handoff",
        "sentiment",
        "11",
        "yes",
    )
    assert a["claimed_by"] == "agent@shop.test"
    assert float(a["claim_seconds"]) == pytest.approx(3600, abs=1)


def test_csv_neutralises_formulas(store: Path) -> None:
    """A customer question that looks like a spreadsheet formula is prefixed with a quote."""
    rows = list(csv.DictReader(io.StringIO(run("decisions", "--database", str(store), "--format", "csv"))))
    assert rows[1]["question"].startswith("'=HYPERLINK")


def test_jsonl_export_keeps_everything(store: Path, tmp_path: Path) -> None:
    """JSON Lines to a file: every reason with score, deliveries and events, one object per line."""
    out = tmp_path / "out" / "d.jsonl"
    run(
        "decisions",
        "--database",
        str(store),
        "--format",
        "jsonl",
        "--output",
        str(out),
        "--since",
        "30d",
        "--all",
    )
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [x["conversation_id"] for x in lines] == ["old", "b", "a", "sim"]
    a = lines[2]
    assert a["reasons"][0]["trigger"] == "sentiment"
    assert a["reasons"][0]["score"] == pytest.approx(0.9)
    assert a["policy"] == {"version": "2024-06-01", "hash": "abc123"}
    assert [e["kind"] for e in a["events"]] == ["claimed"]
    assert a["deliveries"][0]["target"] == "zendesk"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--reason", "sentiment"], ["a"]),
        (["--action", "offer_handoff"], ["b"]),
        (["--channel", "zendesk"], ["b"]),
        (["--since", "12h"], ["a"]),
        (["--simulated"], ["sim"]),
        (["--all", "--since", "30d", "--reason", "vip"], ["old", "sim"]),
    ],
)
def test_filters(store: Path, args: list[str], expected: list[str]) -> None:
    """--reason, --action, --channel, --since and --simulated/--all narrow the output as documented."""
    rows = csv.DictReader(io.StringIO(run("decisions", "--database", str(store), "--format", "csv", *args)))
    assert [r["conversation_id"] for r in rows] == expected


def test_table_output(store: Path) -> None:
    """The default table lists the decisions with reasons and feedback."""
    out = run("decisions", "--database", str(store))
    assert "2 decision(s)" in out
    assert "sentiment 0.90" in out
    assert "claimed" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "soon"], "--since"),
        (["--reason", "nonsense"], "nonsense"),
    ],
)
def test_bad_options_are_usage_errors(store: Path, args: list[str], message: str) -> None:
    """Bad option values exit 2 with a message naming the option, and no traceback."""
    result = CliRunner().invoke(cli, ["decisions", "--database", str(store), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    """A --database that does not exist is reported, and no empty store is created."""
    missing = tmp_path / "nope.sqlite3"
    result = CliRunner().invoke(cli, ["decisions", "--database", str(missing)])
    assert result.exit_code == 1
    assert "no store at" in result.output
    assert not missing.exists()

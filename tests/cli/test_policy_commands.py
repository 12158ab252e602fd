"""The policy tools from the command line: simulate, explain and check, through the real click commands."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from connectors.cli import cli
from handoff_core import TriggerName

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "config" / "examples" / "conversations.jsonl"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_simulate_jsonl_follows_the_decision_contract(runner: CliRunner, tmp_path: Path) -> None:
    """Every input line gives one output line with the documented keys; totals go to standard error."""
    out = tmp_path / "out.jsonl"
    result = runner.invoke(cli, ["simulate", str(EXAMPLES), "--output", str(out)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == len(EXAMPLES.read_text().splitlines())
    for record in records:
        assert {"id", "action", "reasons", "signals", "priority", "alert", "summary"} <= set(record)
        assert record["action"] in {"handoff", "offer_handoff", "continue"}
        assert -1.0 <= record["signals"]["sentiment"] <= 1.0
        assert "knowledge_coverage" in record["signals"]
        for reason in record["reasons"]:
            assert {"trigger", "topic", "detail", "evidence", "score"} <= set(reason)
            assert reason["trigger"] in {trigger.value for trigger in TriggerName}
    assert "matches expected" in result.stderr


def test_simulate_reports_bad_lines_and_keeps_going(runner: CliRunner, tmp_path: Path) -> None:
    """Bad lines are reported with their number and skipped; good lines still decide; exit status 1."""
    path = tmp_path / "in.jsonl"
    path.write_text(
        '{"id": "a", "messages": [{"role": "customer", "text": "hi"}]}\n'
        "{not json\n"
        '{"id": "b", "messages": [{"role": "robot", "text": "hi"}]}\n'
        '{"id": "c", "messages": [{"role": "customer", "text": "hi"}], "colour": "red"}\n'
        "\n"
        '{"id": "d", "messages": [{"role": "customer", "text": "agent please"}]}\n'
    )
    result = runner.invoke(cli, ["simulate", str(path)])
    assert result.exit_code == 1
    ids = [json.loads(line)["id"] for line in result.stdout.splitlines()]
    assert ids == ["a", "d"]
    assert f"{path}:2: invalid JSON" in result.stderr
    assert f"{path}:3: messages.0.role" in result.stderr
    assert f"{path}:4: colour: unknown field" in result.stderr
    assert "Traceback" not in result.output


def test_simulate_reads_standard_input(runner: CliRunner) -> None:
    """INPUT '-' reads JSON Lines from standard input."""
    line = '{"id": "x", "messages": [{"role": "customer", "text": "I want my money back for order 5531"}]}\n'
    result = runner.invoke(cli, ["simulate", "-"], input=line)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["action"] == "handoff"


def test_simulate_table_shows_rates_by_reason(runner: CliRunner) -> None:
    """The table format prints each decision and the handoff rate by reason."""
    result = runner.invoke(cli, ["simulate", str(EXAMPLES), "--format", "table"])
    assert result.exit_code == 0
    assert "by reason: restricted_topic" in result.stdout
    assert "matches expected action" in result.stdout


def test_simulate_with_knowledge_reports_coverage(runner: CliRunner) -> None:
    """With --knowledge the coverage signal is filled in."""
    line = '{"id": "k", "messages": [{"role": "customer", "text": "how long does a standard delivery take?"}]}\n'
    result = runner.invoke(
        cli, ["simulate", "-", "--knowledge", str(ROOT / "config/examples/knowledge.jsonl")], input=line
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["signals"]["knowledge_coverage"] is not None


def test_simulate_record_writes_simulated_decisions(runner: CliRunner, tmp_path: Path) -> None:
    """--record stores every decision in the audit log, marked as simulated."""
    db = tmp_path / "audit.sqlite3"
    result = runner.invoke(
        cli, ["simulate", str(EXAMPLES), "--record", "--database", str(db), "--output", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT COUNT(*), SUM(simulated) FROM audit_decisions").fetchone()
    n = len(EXAMPLES.read_text().splitlines())
    assert rows == (n, n)


def test_bad_policy_is_a_clean_error(runner: CliRunner, tmp_path: Path) -> None:
    """A broken policy names the field and line, exits 2, and shows no traceback."""
    bad = tmp_path / "policy.yaml"
    bad.write_text('version: "1"\ntriggers:\n  vip:\n    tresholds: 3\n')
    for args in (
        ["check", "--policy", str(bad)],
        ["simulate", str(EXAMPLES), "--policy", str(bad)],
        ["explain", "hi", "--policy", str(bad)],
    ):
        result = runner.invoke(cli, args)
        assert result.exit_code == 2, args
        assert f"{bad}:4:5: triggers.vip.tresholds" in result.stderr
        assert "Traceback" not in result.output


def test_check_passes_on_the_default_policy_and_fails_with_fixes(runner: CliRunner, tmp_path: Path) -> None:
    """The launch checklist passes on the default policy; a bare policy fails each item with a fix."""
    ok = runner.invoke(cli, ["check"])
    assert ok.exit_code == 0 and "10/10 checks passed" in ok.stdout
    bare = tmp_path / "bare.yaml"
    bare.write_text('version: "1"\nsummary: {enabled: false}\ntriggers:\n  sentiment: {enabled: false}\n')
    failed = runner.invoke(cli, ["check", "--policy", str(bare)])
    assert failed.exit_code == 1
    assert failed.stdout.count("[FAIL]") == 6
    assert "fix: set summary.enabled: true" in failed.stdout


def test_explain_shows_reasons_and_evidence(runner: CliRunner) -> None:
    """explain prints the action, each reason and the words that matched; --json prints the decision."""
    text = "My card was stolen and someone used it, this is ridiculous!!"
    result = runner.invoke(cli, ["explain", text])
    assert result.exit_code == 0
    assert result.stdout.startswith("handoff")
    assert "restricted_topic / account_security" in result.stdout
    assert "matched" in result.stdout
    as_json = runner.invoke(cli, ["explain", text, "--json"])
    assert json.loads(as_json.stdout)["action"] == "handoff"


def test_readme_first_decision_is_what_explain_prints(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's first-decision block is the real output of its explain command (lines shortened with
    '...' in the README match as prefixes), so the README cannot drift from the product."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = re.search(r'handoff explain "([^"]+)"', readme)
    block = re.search(r"```text\n(handoff .*?)```", readme, re.DOTALL)
    assert command is not None and block is not None
    monkeypatch.setenv("COLUMNS", "400")
    result = runner.invoke(cli, ["explain", command.group(1)])
    assert result.exit_code == 0, result.output
    printed = result.stdout.splitlines()
    shown = block.group(1).splitlines()
    assert len(printed) == len(shown), result.stdout
    for got, want in zip(printed, shown, strict=True):
        if want.endswith("..."):
            assert got.startswith(want[:-3]), (got, want)
        else:
            assert got == want


def test_simulate_per_message_emits_one_line_per_turn(runner: CliRunner) -> None:
    """--per-message gives one decision per customer message up to the handoff, numbered by turn."""
    line = json.dumps(
        {
            "id": "pm",
            "messages": [
                {"role": "customer", "text": "where are my statements?"},
                {"role": "assistant", "text": "In the app."},
                {"role": "customer", "text": "ok and I want a refund for order 5521"},
                {"role": "customer", "text": "hello??"},
            ],
        }
    )
    result = runner.invoke(cli, ["simulate", "-", "--per-message"], input=line + "\n")
    assert result.exit_code == 0, result.output
    records = [json.loads(x) for x in result.stdout.splitlines()]
    assert [(r["turn"], r["action"]) for r in records] == [(1, "continue"), (2, "handoff")]
    assert "1 conversations" in result.stderr


def test_check_show_effective_prints_the_merged_policy(runner: CliRunner, tmp_path: Path) -> None:
    """--show-effective prints the user's changes merged over every default, as YAML that loads again."""
    import yaml

    mine = tmp_path / "mine.yaml"
    mine.write_text("extends: default\ntriggers:\n  vip:\n    plans: [gold]\n")
    result = runner.invoke(cli, ["check", "--policy", str(mine), "--show-effective"])
    assert result.exit_code == 0, result.output
    body = result.stdout.split("\npolicy ", 1)[0]
    effective = yaml.safe_load(body)
    assert effective["triggers"]["vip"]["plans"] == ["gold"]
    assert effective["triggers"]["sentiment"]["cues"], "inherited cue lists are shown"
    assert effective["messages"]["handoff"]["de"]


def test_check_fails_a_standalone_partial_policy(runner: CliRunner, tmp_path: Path) -> None:
    """A policy written without extends that leaves lists out no longer passes every check (finding 3)."""
    partial = tmp_path / "partial.yaml"
    partial.write_text(
        'version: "1"\ntriggers:\n  restricted_topic:\n    topics:\n      refund: {phrases: [refund]}\n'
        "  vip: {plans: [gold], route: {group: VIP}}\nreview:\n  weekly: {enabled: true, schedule: '0 9 * * MON', "
        "slack_channel: '#x'}\n"
    )
    result = runner.invoke(cli, ["check", "--policy", str(partial)])
    assert result.exit_code == 1
    assert "[FAIL] default phrase lists kept" in result.stdout
    assert "triggers.human_request.phrases" in result.stdout and "extends: default" in result.stdout


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("extends: default\ntriggers:\n  vip:\n    alert: yes\n", ":4:5: triggers.vip.alert: must be true or false"),
        ('extends: default\nreview:\n  weekly: {schedule: "every monday"}\n', "not a valid cron expression"),
        (
            "extends: default\ntriggers:\n  restricted_topic:\n    topics:\n      crypto: {label: Crypto}\n",
            "triggers.restricted_topic.topics.crypto: an enabled topic needs phrases",
        ),
    ],
)
def test_check_rejects_mistakes(runner: CliRunner, tmp_path: Path, text: str, words: str) -> None:
    """handoff check exits 2 naming the mistake (finding 4), not '6/6 checks passed'."""
    mine = tmp_path / "mine.yaml"
    mine.write_text(text)
    result = runner.invoke(cli, ["check", "--policy", str(mine)])
    assert result.exit_code == 2
    assert words in result.stderr


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: None, "no such file"),
        (lambda p: p.mkdir(), "is a folder"),
        (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "binary file"),
        (lambda p: p.write_text('{"id": "a", "messages": [{"role": "customer", "text": "hi"}]}\n', "utf-16"), "UTF-16"),
    ],
)
def test_simulate_bad_input_files_are_clear_errors(runner: CliRunner, tmp_path: Path, make, words: str) -> None:
    """Missing, folder, binary and UTF-16 inputs give one clear line and exit 2, never a traceback (finding 5)."""
    target = tmp_path / "input.jsonl"
    make(target)
    result = runner.invoke(cli, ["simulate", str(target)])
    assert result.exit_code == 2, result.output
    assert words in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


def test_simulate_accepts_bom_and_names_bad_bytes_by_line(runner: CliRunner, tmp_path: Path) -> None:
    """A UTF-8 BOM is accepted; a line with bytes that are not UTF-8 is reported as FILE:LINE and skipped."""
    good = json.dumps({"id": "a", "messages": [{"role": "customer", "text": "agent please"}]}).encode()
    target = tmp_path / "input.jsonl"
    target.write_bytes(b"\xef\xbb\xbf" + good + b"\n" + b'{"id": "\xff"}\n' + good + b"\n")
    result = runner.invoke(cli, ["simulate", str(target)])
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 2
    assert f"{target}:2: not UTF-8 text" in result.stderr
    assert f"{target}:1" not in result.stderr


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: None, "cannot read"),
        (lambda p: p.mkdir(), "no Markdown files"),
        (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "binary"),
        (lambda p: p.write_text('{"id": "a", "title": "t", "body": "b"}\n', "utf-16"), "UTF-16"),
        (lambda p: p.write_bytes(b'{"id": "a", "title": "t", "body": "b"}\n{"id": "\xff"}\n'), ":2: not valid UTF-8"),
    ],
)
def test_explain_bad_knowledge_files_are_clear_errors(runner: CliRunner, tmp_path: Path, make, words: str) -> None:
    """explain --knowledge on a missing, folder, binary, UTF-16 or broken file: one line, exit 2 (finding 5)."""
    target = tmp_path / "knowledge.jsonl"
    make(target)
    result = runner.invoke(cli, ["explain", "how do I get an invoice?", "--knowledge", str(target)])
    assert result.exit_code == 2, result.output
    assert words in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_explain_accepts_knowledge_with_a_bom(runner: CliRunner, tmp_path: Path) -> None:
    """A knowledge file saved with a UTF-8 byte-order mark loads."""
    target = tmp_path / "knowledge.jsonl"
    line = json.dumps({"id": "inv", "title": "Invoices", "body": "Download invoices under Billing."})
    target.write_bytes(b"\xef\xbb\xbf" + line.encode() + b"\n")
    result = runner.invoke(cli, ["explain", "how do I get an invoice?", "--knowledge", str(target)])
    assert result.exit_code == 0, result.output


def test_empty_conversation_line_says_what_is_missing(runner: CliRunner) -> None:
    """A conversation with no messages is reported in plain words, as FILE:LINE."""
    result = runner.invoke(cli, ["simulate", "-"], input='{"id": "a", "messages": []}\n')
    assert result.exit_code == 1
    assert "-:1: messages: a conversation needs at least one message" in result.stderr


def test_an_invalid_message_is_not_reported_as_no_message(runner: CliRunner) -> None:
    """A too-long message is reported as such, without a misleading 'needs at least one message'."""
    line = json.dumps({"id": "a", "messages": [{"role": "customer", "text": "a" * 60_000}]})
    result = runner.invoke(cli, ["simulate", "-"], input=line + "\n")
    assert result.exit_code == 1
    assert "-:1: messages.0.text: String should have at most 50000 characters" in result.stderr
    assert "at least one message" not in result.stderr


def test_per_message_replay_ends_where_the_whole_transcript_does(runner: CliRunner) -> None:
    """On the bundled examples, the last turn of the replay decides as the whole transcript does, so
    quickstart's two runs agree (findings 8 and 9: 92/98 then 90/98)."""
    whole = runner.invoke(cli, ["simulate", str(EXAMPLES)])
    turns = runner.invoke(cli, ["simulate", str(EXAMPLES), "--per-message"])
    assert whole.exit_code == turns.exit_code == 0
    final: dict[str, str] = {}
    for line in turns.stdout.splitlines():
        record = json.loads(line)
        final[record["id"]] = record["action"]
    expected = {json.loads(line)["id"]: json.loads(line)["action"] for line in whole.stdout.splitlines()}
    assert final == expected


def test_a_missing_policy_named_in_the_environment_is_an_error(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HANDOFF_POLICY naming a file that does not exist fails; it never falls back to the default in silence."""
    monkeypatch.setenv("HANDOFF_POLICY", str(tmp_path / "typo.yaml"))
    result = runner.invoke(cli, ["check"])
    assert result.exit_code == 2
    assert "typo.yaml" in result.stderr and "cannot read" in result.stderr


def test_simulate_now_decides_at_the_given_instant(runner: CliRunner, tmp_path: Path) -> None:
    """``simulate --now`` fixes the clock: out of hours on Sunday night, in hours on Wednesday morning."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        'extends: default\nversion: "hours-1"\ndefaults: {route: {schedule: support}}\n'
        "business_hours:\n  schedules:\n    support:\n      timezone: Europe/Madrid\n"
        '      hours: {mon: ["09:00-18:00"], wed: ["09:00-18:00"]}\n',
        encoding="utf-8",
    )
    line = json.dumps({"id": "n1", "messages": [{"role": "customer", "text": "I want to talk to a real person"}]})
    conversations = tmp_path / "in.jsonl"
    conversations.write_text(line + "\n", encoding="utf-8")
    decided = {}
    for now in ("2026-11-29T03:00:00Z", "2026-11-25T10:00:00Z"):
        result = runner.invoke(cli, ["simulate", str(conversations), "--policy", str(policy), "--now", now])
        assert result.exit_code == 0, result.output
        decided[now] = json.loads(result.stdout.splitlines()[0])
    sunday, wednesday = decided["2026-11-29T03:00:00Z"], decided["2026-11-25T10:00:00Z"]
    assert sunday["agents_available"] is False and sunday["expected_reply_by"] == "2026-11-30T08:00:00Z"
    assert "Monday 09:00 CET" in sunday["customer_message"]
    assert wednesday["agents_available"] is True


def test_simulate_rejects_a_bad_now(runner: CliRunner) -> None:
    """A malformed ``--now`` is a usage error that names the option, not a stack trace."""
    result = runner.invoke(cli, ["simulate", str(EXAMPLES), "--now", "next tuesday"])
    assert result.exit_code == 2
    assert "--now" in result.output and "ISO 8601" in result.output

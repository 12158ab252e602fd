"""``handoff check`` on lexicons and example-defined topics: what it reports, where, and what it shows."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from connectors.cli import cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "policy.yaml"


def _warnings(output: str) -> list[str]:
    return [line.removeprefix("[WARN] ") for line in output.splitlines() if line.startswith("[WARN] ")]


def test_check_of_the_shipped_policies_warns_about_nothing(runner: CliRunner) -> None:
    """The default policy and config/policy.yaml pass check with no lexicon or example warning."""
    for args in ([], ["--policy", str(ROOT / "config" / "policy.yaml")]):
        result = runner.invoke(cli, ["check", *args])
        assert result.exit_code == 0, result.output
        assert _warnings(result.output) == []


def test_check_reports_user_lexicon_duplicates_and_tiers_at_file_and_line(runner: CliRunner, tmp_path: Path) -> None:
    """A duplicate in the user's lexicon and a cue put in a second tier are [WARN] lines starting FILE:LINE."""
    policy = _write(
        tmp_path,
        {
            "policy.yaml": "extends: default\nversion: u\nlexicons: [words]\ntriggers:\n  sentiment:\n    cues+:\n"
            "      - weight: 0.3\n        phrases: [garbage, {lexicon: shop_anger}]\n",
            "words/en/shop_anger.txt": "rubbish app\n# a comment\nrubbish app\n",
        },
    )
    result = runner.invoke(cli, ["check", "--policy", str(policy)])
    assert result.exit_code == 0, result.output
    warnings = _warnings(result.output)
    lexicon = tmp_path / "words" / "en" / "shop_anger.txt"
    assert any(w.startswith(f"{lexicon}:3: ") and "'rubbish app' is the same phrase again" in w for w in warnings)
    assert any(w.startswith(f"{policy}:8: ") and "'garbage' has weight 0.3 here and 0.35" in w for w in warnings)


def test_check_warns_about_thin_and_overlapping_example_topics(runner: CliRunner, tmp_path: Path) -> None:
    """An example-defined topic with fewer than 20 examples, and two topics sharing an example, are warned
    about with the FILE:LINE of the examples; twenty distinct examples give no warning."""
    many = [f"my parcel number {n} has not arrived yet" for n in range(20)]
    body = "\n".join(f"          - {text}" for text in many)
    policy = _write(
        tmp_path,
        {
            "policy.yaml": "extends: default\nversion: u\ntriggers:\n  restricted_topic:\n    topics:\n"
            f"      delivery:\n        examples:\n{body}\n"
            "      cancel:\n        examples:\n          - please cancel my subscription\n"
            "          - my parcel number 3 has not arrived yet\n",
        },
    )
    result = runner.invoke(cli, ["check", "--policy", str(policy)])
    assert result.exit_code == 0, result.output
    warnings = _warnings(result.output)
    thin = [w for w in warnings if "has 2 example(s); at least 20" in w]
    assert len(thin) == 1 and thin[0].startswith(f"{policy}:30: triggers.restricted_topic.topics.cancel.examples")
    overlap = [w for w in warnings if "near-identical examples" in w]
    assert len(overlap) == 1
    assert "'delivery' and 'cancel'" in overlap[0] and f"{policy}:11" in overlap[0] and f"{policy}:31" in overlap[0]
    assert not any("'delivery' has" in w for w in warnings)


def test_show_effective_names_the_lexicons_and_prints_resolved_lists(runner: CliRunner, tmp_path: Path) -> None:
    """--show-effective says which list came from which lexicon files, and prints the lists resolved, as
    YAML that loads again as a standalone policy."""
    policy = _write(
        tmp_path,
        {
            "policy.yaml": "extends: default\nversion: u\nlexicons: [words]\n",
            "words/en/refund.txt": "store credit please\n",
        },
    )
    result = runner.invoke(cli, ["check", "--policy", str(policy), "--show-effective"])
    assert result.exit_code == 0, result.output
    body = result.stdout.split("\npolicy ", 1)[0]
    header = [line for line in body.splitlines() if line.startswith("#")]
    assert any(str(tmp_path / "words") in line for line in header)
    refund = next(i for i, line in enumerate(header) if "topics.refund.phrases: {lexicon: refund}" in line)
    sources = header[refund + 1 : refund + 3]
    assert any(line.endswith(f"{tmp_path / 'words'}: en") for line in sources), sources
    assert any(line.endswith("default/lexicons: es, fr, de, pt, it, nl") for line in sources), sources
    effective = yaml.safe_load(body)
    phrases = effective["triggers"]["restricted_topic"]["topics"]["refund"]["phrases"]
    assert "store credit please" in phrases and "reembolso" in phrases and "money back" not in phrases
    again = tmp_path / "effective.yaml"
    again.write_text(body, encoding="utf-8")
    assert runner.invoke(cli, ["check", "--policy", str(again)]).exit_code == 0


MIXED = [
    "what's the weather like tomorrow",
    "set an alarm for six",
    "play some jazz",
    "where is my order",
    "how do I change my address",
    "turn the lights off",
    "what time is it in Tokyo",
    "send an email to my boss",
    "add milk to my shopping list",
    "how much is shipping",
    "tell me a joke",
    "when does the store open",
    "book a taxi to the airport",
    "what's on my calendar today",
    "how do I reset the speaker",
    "order a pizza",
    "is it going to rain",
    "how do I update my payment method",
    "remind me to call mom",
    "what's the news today",
]


def test_check_warns_about_a_topic_whose_examples_are_ordinary_questions(runner: CliRunner, tmp_path: Path) -> None:
    """Twenty examples of unrelated everyday requests make a topic the example head cannot tell from ordinary
    questions: check says so with the FILE:LINE of the examples; a specific topic gets no such warning."""
    body = "\n".join(f"          - {text}" for text in MIXED)
    specific = "\n".join(f"          - my parcel number {n} has not arrived yet" for n in range(20))
    policy = _write(
        tmp_path,
        {
            "policy.yaml": "extends: default\nversion: u\ntriggers:\n  restricted_topic:\n    topics:\n"
            f"      mixed:\n        examples:\n{body}\n      delivery:\n        examples:\n{specific}\n",
        },
    )
    result = runner.invoke(cli, ["check", "--policy", str(policy)])
    assert result.exit_code == 0, result.output
    ordinary = [w for w in _warnings(result.output) if "look like ordinary questions" in w]
    assert len(ordinary) == 1, result.output
    assert ordinary[0].startswith(f"{policy}:8: triggers.restricted_topic.topics.mixed.examples")

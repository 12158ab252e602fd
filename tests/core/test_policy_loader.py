"""Policy loading: the default policy is valid, and every kind of bad file names the field and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff_core.errors import PolicyError
from handoff_core.policy import load_policy, parse_policy

from .conftest import DEFAULT_POLICY


def test_default_policy_loads_with_version_and_hash() -> None:
    """The shipped policy validates and reports a version and a content hash."""
    policy = load_policy(DEFAULT_POLICY)
    assert policy.version
    assert policy.hash.startswith("sha256:")
    assert set(policy.triggers.restricted_topic.topics) >= {
        "refund",
        "account_security",
        "legal",
        "medical",
        "financial_advice",
        "privacy",
    }


def test_unknown_field_names_field_and_line() -> None:
    """A misspelt key is an error that points at its line, not a silently ignored setting."""
    text = 'version: "1"\ntriggers:\n  sentiment:\n    treshold: 0.3\n'
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "p.yaml")
    problem = info.value.problems[0]
    assert problem.field == "triggers.sentiment.treshold"
    assert problem.line == 4
    assert "unknown field" in str(info.value)
    assert "p.yaml" in str(info.value)


@pytest.mark.parametrize(
    ("text", "field", "line"),
    [
        (
            'version: "1"\ntriggers:\n  vip:\n    min_lifetime_value: -5\n',
            "triggers.vip.min_lifetime_value",
            4,
        ),
        (
            'version: "1"\ntriggers:\n  low_confidence:\n    threshold: 1.5\n',
            "triggers.low_confidence.threshold",
            4,
        ),
        (
            'version: "1"\ntriggers:\n  human_request:\n    action: shout\n',
            "triggers.human_request.action",
            4,
        ),
        ('version: "1"\ndefaults:\n  route:\n    priority: critical\n', "defaults.route.priority", 4),
        ("triggers: {}\n", "version", 1),
        (
            'version: "1"\ntriggers:\n  refund_exception:\n    collect: [order_id, shoe_size]\n',
            "triggers.refund_exception.collect.1",
            4,
        ),
    ],
)
def test_invalid_values_point_at_field_and_line(text: str, field: str, line: int) -> None:
    """Wrong types, ranges and enum values are reported with the field path and the line."""
    with pytest.raises(PolicyError) as info:
        parse_policy(text)
    assert any(p.field == field and p.line == line for p in info.value.problems), info.value.problems


def test_yaml_syntax_error_has_line() -> None:
    """Broken YAML reports the line where the parser stopped."""
    with pytest.raises(PolicyError) as info:
        parse_policy('version: "1"\ntriggers:\n  vip: [unclosed\n')
    assert info.value.problems[0].line is not None
    assert "YAML syntax error" in info.value.problems[0].message


def test_duplicate_keys_are_reported() -> None:
    """YAML would keep only the last of two equal keys; the loader refuses the file instead."""
    with pytest.raises(PolicyError) as info:
        parse_policy('version: "1"\ntriggers:\n  vip: {enabled: true}\n  vip: {enabled: false}\n')
    assert info.value.problems[0].field == "triggers.vip"
    assert info.value.problems[0].line == 4


def test_yes_and_no_stay_phrases() -> None:
    """``no`` and ``yes`` in phrase lists stay strings (YAML 1.1 would turn them into booleans)."""
    policy = parse_policy('version: "1"\noffer:\n  accept_phrases: [yes, on]\n  decline_phrases: [no, off]\n')
    assert policy.offer.accept_phrases == ("yes", "on")
    assert policy.offer.decline_phrases == ("no", "off")


def test_cross_field_rules() -> None:
    """Rules that span fields are checked: angry must be worse than negative; the refund topic must exist."""
    with pytest.raises(PolicyError, match="angry_below"):
        parse_policy('version: "1"\ntriggers:\n  sentiment: {negative_below: -0.5, angry_below: -0.2}\n')
    with pytest.raises(PolicyError, match="refund_topic") as info:
        parse_policy(
            'version: "1"\ntriggers:\n  restricted_topic:\n    topics:\n      refund: {phrases: [refund]}\n'
            "  refund_exception:\n    refund_topic: refunds\n"
        )
    assert info.value.problems[0].line == 7


def test_hash_ignores_layout_but_not_content() -> None:
    """The hash changes with the rules, not with comments or formatting."""
    a = parse_policy('version: "1"\ntriggers:\n  refund_exception: {enabled: false}\n')
    b = parse_policy('# comment\nversion: "1"\ntriggers:\n  refund_exception:\n    enabled: false\n')
    c = parse_policy('version: "1"\ntriggers:\n  refund_exception: {enabled: false, max_amount: 10}\n')
    assert a.hash == b.hash
    assert a.hash != c.hash


def test_missing_and_empty_files(tmp_path: Path) -> None:
    """Unreadable or empty files are a PolicyError, not an OSError or a crash."""
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "absent.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(PolicyError, match="empty"):
        load_policy(empty)
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    with pytest.raises(PolicyError, match="mapping"):
        load_policy(listed)


# --- issue 7: policies layer on the default; mistakes do not pass ------------------------------------------


def test_partial_policy_extending_default_keeps_every_default(tmp_path: Path) -> None:
    """A short policy with ``extends: default`` changes only what it says (finding 3: nothing silently dropped)."""
    default = load_policy(DEFAULT_POLICY)
    mine = tmp_path / "policy.yaml"
    mine.write_text(
        'extends: default\nversion: "mine-1"\ntriggers:\n  vip:\n    plans: [gold]\n'
        "  sentiment:\n    negative_below: -0.4\n"
    )
    policy = load_policy(mine)
    assert policy.version == "mine-1"
    assert policy.triggers.vip.plans == ("gold",)
    assert policy.triggers.sentiment.negative_below == -0.4
    # Everything not mentioned is the default's: cue lists, sarcasm, messages, other VIP criteria.
    assert policy.triggers.sentiment.cues == default.triggers.sentiment.cues != ()
    assert policy.triggers.sentiment.sarcasm == default.triggers.sentiment.sarcasm is not None
    assert policy.messages == default.messages
    assert policy.triggers.vip.tags == default.triggers.vip.tags
    assert policy.triggers.restricted_topic.topics == default.triggers.restricted_topic.topics


def test_append_form_adds_to_inherited_list() -> None:
    """``phrases+:`` appends to the inherited list; a plain key replaces it."""
    default = load_policy(DEFAULT_POLICY)
    policy = parse_policy(
        "extends: default\ntriggers:\n  human_request:\n    phrases+: [fetch me your manager]\n"
        "  bot_loop:\n    fallback_phrases: [no idea]\n"
    )
    assert policy.triggers.human_request.phrases == (*default.triggers.human_request.phrases, "fetch me your manager")
    assert policy.triggers.bot_loop.fallback_phrases == ("no idea",)


def test_shipped_example_extends_default() -> None:
    """config/policy.yaml is a short example on top of the default, and it validates."""
    example = Path(__file__).resolve().parents[2] / "config" / "policy.yaml"
    assert "extends: default" in example.read_text()
    assert len(example.read_text().splitlines()) < 60
    policy = load_policy(example)
    assert "gold" in policy.triggers.vip.plans
    assert "store credit instead" in policy.triggers.restricted_topic.topics["refund"].phrases


def test_extends_chain_and_cycle(tmp_path: Path) -> None:
    """``extends`` may name another file, relative to the extending one; a cycle is an error, not a hang."""
    (tmp_path / "base.yaml").write_text("extends: default\ntriggers:\n  vip: {plans: [base]}\n")
    (tmp_path / "team.yaml").write_text('extends: base.yaml\nversion: "team"\n')
    policy = load_policy(tmp_path / "team.yaml")
    assert policy.triggers.vip.plans == ("base",) and policy.version == "team"
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(PolicyError, match="leads back"):
        load_policy(tmp_path / "a.yaml")
    with pytest.raises(PolicyError, match=r"cannot use 'nowhere\.yaml'"):
        parse_policy("extends: nowhere.yaml\n", base_dir=tmp_path)


@pytest.mark.parametrize(
    ("text", "field", "line", "words"),
    [
        # Finding 4: a non-boolean where a boolean is meant; yes/no are text in a policy.
        ("extends: default\ntriggers:\n  vip:\n    alert: yes\n", "triggers.vip.alert", 4, "true or false"),
        ('extends: default\nprivacy:\n  redact_slack: "false"\n', "privacy.redact_slack", 3, "true or false"),
        # Finding 4: an invalid schedule.
        (
            'extends: default\nreview:\n  weekly:\n    schedule: "every monday"\n',
            "review.weekly.schedule",
            4,
            "cron",
        ),
        # Finding 4: a topic with nothing to match disappears silently.
        (
            "extends: default\ntriggers:\n  restricted_topic:\n    topics:\n      crypto:\n        label: Crypto\n",
            "triggers.restricted_topic.topics.crypto",
            5,
            "phrases, combos, examples or a model",
        ),
        # Finding 3: a handoff without customer text.
        ("extends: default\ndefaults:\n  language: sv\n", "messages.handoff", None, "no text"),
        ('version: "1"\nmessages:\n  handoff: {de: Hallo}\n', "messages.handoff", 3, "no text"),
    ],
)
def test_mistakes_that_used_to_pass_are_errors(text: str, field: str, line: int | None, words: str) -> None:
    """Each mistake a new user made unnoticed is now an error naming the field (and the line in their file)."""
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "mine.yaml")
    problem = next(p for p in info.value.problems if p.field == field)
    assert words in problem.message
    if line is not None:
        assert problem.line == line and problem.source is None
        assert f"mine.yaml:{line}:" in str(info.value)


def test_disabled_topic_without_phrases_is_fine() -> None:
    """Switching a topic off needs no phrases."""
    parse_policy("extends: default\ntriggers:\n  restricted_topic:\n    topics:\n      legal: {enabled: false}\n")


def test_append_to_a_non_list_is_an_error() -> None:
    """``key+`` on something that is not a list is named with its line."""
    with pytest.raises(PolicyError) as info:
        parse_policy("extends: default\ntriggers:\n  vip:\n    min_lifetime_value+: [1]\n", "p.yaml")
    assert info.value.problems[0].line == 4
    assert "not a list" in info.value.problems[0].message


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"\x00\x01\x02\xff binary", "not valid UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not valid UTF-8"),
        (b"version: '1'\x00\n", "binary"),
        ("version: '1'\n".encode("utf-16"), "UTF-16"),
    ],
)
def test_bad_files_are_clear_errors(tmp_path: Path, content: bytes, words: str) -> None:
    """Binary and UTF-16 files are a PolicyError with a reason (finding 5), never a decode traceback."""
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(content)
    with pytest.raises(PolicyError, match=words):
        load_policy(bad)


def test_bom_is_accepted_and_folder_is_named(tmp_path: Path) -> None:
    """A UTF-8 byte-order mark (Windows editors) is fine; a folder is called a folder."""
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbfextends: default\n")
    assert load_policy(bom).version
    with pytest.raises(PolicyError, match="folder"):
        load_policy(tmp_path)

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

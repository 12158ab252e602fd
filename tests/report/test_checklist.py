"""The review's launch-checklist section never stops the review: a bad policy becomes a clear message."""

from __future__ import annotations

from pathlib import Path

from connectors.report.checklist import load_checklist


def test_policy_that_does_not_load_is_reported(tmp_path: Path) -> None:
    """An invalid policy file gives a checklist error naming the file, not an exception."""
    bad = tmp_path / "policy.yaml"
    bad.write_text("version: [unclosed\n", encoding="utf-8")
    checklist = load_checklist(bad)
    assert checklist.entries == ()
    assert checklist.error is not None
    assert "does not load" in checklist.error
    assert str(bad) in checklist.error


def test_missing_policy_file_is_reported(tmp_path: Path) -> None:
    """A policy path that does not exist is reported the same way."""
    checklist = load_checklist(tmp_path / "nope.yaml")
    assert checklist.error is not None
    assert "does not load" in checklist.error


def test_default_policy_checklist_matches_the_core() -> None:
    """On the shipped policy the section lists exactly the core's checklist items and results."""
    from handoff_core.checklist import run_checklist
    from handoff_core.policy import default_policy_path, load_policy

    policy_path = default_policy_path()
    expected = [(i.name, i.passed, i.fix) for i in run_checklist(load_policy(policy_path))]
    checklist = load_checklist(policy_path)
    assert checklist.error is None
    assert [(e.name, e.passed, e.fix) for e in checklist.entries] == expected
    assert expected

"""What a newcomer's first hour in the clone needs from the repository itself (issue 7)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(not (ROOT / ".git").exists() or shutil.which("git") is None, reason="not a git checkout")
@pytest.mark.parametrize("path", ["review.html", "review.md", "var/handoff.sqlite3", ".venv/bin/python"])
def test_generated_files_are_ignored(path: str) -> None:
    """The report the README writes and the local store never show up as changes to commit (finding 9)."""
    result = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT, check=False)
    assert result.returncode == 0, f"{path} is not git-ignored"


def test_ci_runs_exactly_the_readme_test_command() -> None:
    """.ci/run calls the test command the README shows, and that command installs what the tests need
    before running them (finding 1: the README's test command failed right after ./quickstart)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_cmd = (ROOT / "tools" / "test").read_text(encoding="utf-8")
    assert re.search(r"^exec tools/test\b", ci, re.M)
    assert re.search(r"^tools/test\b", readme, re.M), "the README shows tools/test as the test command"
    assert re.search(r"^\./quickstart\b", readme, re.M)
    assert "pip install" in test_cmd and "'.[test]'" in test_cmd
    assert test_cmd.index("'.[test]'") < test_cmd.index("-m pytest")


def test_readme_is_short_and_links_the_reference() -> None:
    """The README gets a newcomer started and links the reference pages, which exist (finding 9)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 150
    for page in ("policy", "worker", "api", "measurement", "accuracy"):
        assert f"docs/{page}.md" in readme
        assert (ROOT / "docs" / f"{page}.md").exists()
    # Commands are shown so they work without activating the venv.
    commands = r"^\$? ?handoff (check|explain|simulate|serve|outbox|decisions|report|zendesk)\b"
    assert not re.search(commands, readme, re.M)


def test_policy_hashes_shown_in_the_docs_are_real() -> None:
    """A policy hash quoted in the README or docs is the real hash of a shipped policy (finding 9: it was not)."""
    from handoff_core.policy import default_policy_path, load_policy

    real = {load_policy(default_policy_path()).hash, load_policy(ROOT / "config" / "policy.yaml").hash}
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for shown in re.findall(r"sha256:[0-9a-f]{16}\b", page.read_text(encoding="utf-8")):
            assert shown in real, f"{page.name} shows {shown}, which no shipped policy has"

"""Static checks run as tests, so the one test command also proves lint, types and layering are clean."""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def _tool(name: str) -> str:
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'")
    return found


def test_ruff_is_clean() -> None:
    """ruff finds nothing in the project."""
    result = _run(_tool("ruff"), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean() -> None:
    """mypy --strict (configured in pyproject.toml) finds nothing in handoff_core and connectors."""
    # One test run's mypy at a time on this checkout's .mypy_cache (two test runs started at once in one
    # clone): mypy does not guard its cache against a second writer.
    cache = ROOT / ".mypy_cache"
    cache.mkdir(exist_ok=True)
    with (cache / "handoff-tests.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = _run(_tool("mypy"))
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr


def test_core_layering_contract() -> None:
    """import-linter: the core is pure; connector packages are layered and the vendor adapters independent."""
    result = _run(_tool("lint-imports"))
    assert result.returncode == 0, result.stdout + result.stderr

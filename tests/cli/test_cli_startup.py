"""The command line starts fast because it imports only what the command needs (issue 7, finding 2).

Timing a process would hinge on how busy the machine is, so these tests check the cause instead: which
modules a command imports. ``bench/bench_cli.py`` measures the seconds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from connectors.audit import SQLiteAudit
from connectors.cli import COMMANDS, LazyGroup, audit_cmds, cli
from handoff_core import Action, TriggerName

#: Libraries that take most of the start-up time; ``--help`` must load none of them.
HEAVY = ("pydantic", "numpy", "rich", "fastapi", "uvicorn", "zenpy", "slack_sdk", "slack_bolt", "aiohttp", "httpx")
#: What only the worker needs; ``explain`` (policy tools) must not load it, nor numpy without knowledge.
# numpy and tokenizers are not worker-only any more: the default policy's trained detectors (issue 9) run on them
# in every decision, so ``explain`` loads them to explain the same decision the worker makes.
WORKER_ONLY = ("fastapi", "uvicorn", "zenpy", "slack_sdk", "slack_bolt", "aiohttp", "httpx")


def _imported_after(args: list[str]) -> set[str]:
    code = (
        "import json, sys\n"
        "from connectors.cli import cli\n"
        f"try:\n    cli({args!r}, standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(result.stderr.strip().splitlines()[-1]))


def test_help_imports_nothing_heavy() -> None:
    """``handoff --help`` lists every command without importing pydantic, numpy, rich or a vendor client."""
    loaded = _imported_after(["--help"])
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_explain_imports_no_worker_library() -> None:
    """``handoff explain`` loads the policy tools only: no web framework or vendor client."""
    loaded = _imported_after(["explain", "I want a refund"])
    assert "handoff_core" in loaded
    assert not loaded & set(WORKER_ONLY), loaded & set(WORKER_ONLY)


def test_worker_commands_module_loads_no_rich() -> None:
    """The worker's command module (``serve`` is one of its commands) loads no rich: 2.4 MB kept for weeks."""
    loaded = _imported_after(["serve", "--help"])
    assert "uvicorn" not in loaded  # --help: nothing started
    assert "rich" not in loaded


def test_command_table_matches_the_registered_commands() -> None:
    """The lazy table names every command the modules register, with the command's own short help."""
    assert isinstance(cli, LazyGroup)
    cli.load_all()
    assert set(cli.commands) == set(COMMANDS)
    for name, command in cli.commands.items():
        assert COMMANDS[name][1] == command.get_short_help_str(limit=200), name


def test_decisions_imports_neither_numpy_nor_the_review(tmp_path: Path) -> None:
    """``handoff decisions`` loads the audit log's read side only: no numpy, no review, no worker library
    (its start-up is most of its time on a million decisions: docs/volume.md)."""
    store = tmp_path / "store.sqlite3"
    SQLiteAudit(store).close()
    code = (
        "import json, sys\n"
        "from connectors.cli import cli\n"
        f"cli(['decisions', '--database', {str(store)!r}], standalone_mode=False)\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(result.stderr.strip().splitlines()[-1]))
    assert "numpy" not in loaded
    assert not {m for m in loaded if m.startswith("connectors.report.") and m != "connectors.report.period"}
    assert not {m.split(".")[0] for m in loaded} & set(WORKER_ONLY)


def test_decision_filter_choices_match_the_core() -> None:
    """The spelled-out ``--reason`` and ``--action`` choices are exactly the core's triggers and actions."""
    assert tuple(t.value for t in TriggerName) == audit_cmds.TRIGGERS
    assert tuple(a.value for a in Action) == audit_cmds.ACTIONS

"""The core stays pure: no connectors, network, web framework, database or vendor imports."""

from __future__ import annotations

import ast
from pathlib import Path

FORBIDDEN = {
    "connectors",
    "httpx",
    "fastapi",
    "starlette",
    "uvicorn",
    "zenpy",
    "slack_bolt",
    "slack_sdk",
    "sqlite3",
    "requests",
    "aiohttp",
    "socket",
    "urllib",
    "http",
    "asyncio",
    "subprocess",
    "sqlalchemy",
}
CORE = Path(__file__).resolve().parents[2] / "handoff_core"


def test_core_imports_nothing_impure() -> None:
    """Every module of handoff_core imports only pure libraries (checked on the source, not at run time)."""
    offenders = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_core_does_not_print() -> None:
    """The core returns values; it never prints."""
    for path in CORE.rglob("*.py"):
        calls = [
            n
            for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "print"
        ]
        assert not calls, path

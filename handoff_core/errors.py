"""Errors raised by the core.

::

    HandoffError                 base of everything the core raises on purpose
    ├── PolicyError              the policy file is invalid; carries one PolicyProblem per fault
    └── KnowledgeError           an approved-knowledge file or folder cannot be read

Both carry precise locations (file, line, field) so the CLI and the worker can tell an operator exactly
what to fix without showing a stack trace.
"""

from __future__ import annotations

from dataclasses import dataclass


class HandoffError(Exception):
    """Base class for errors the core raises on purpose."""


@dataclass(frozen=True, slots=True)
class PolicyProblem:
    """One fault in a policy file: where it is and what is wrong."""

    field: str
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "line ?"
        if self.column is not None:
            where += f", column {self.column}"
        field = self.field or "(document)"
        return f"{where}: {field}: {self.message}"


class PolicyError(HandoffError):
    """The policy could not be loaded. ``problems`` lists every fault found, each with field and line."""

    def __init__(self, source: str, problems: list[PolicyProblem]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {source}: {p}" for p in problems)
        super().__init__(f"invalid policy {source} ({len(problems)} problem(s)):\n{lines}")


class KnowledgeError(HandoffError):
    """Approved knowledge could not be read (bad JSON line, missing field, unreadable file)."""

    def __init__(self, source: str, message: str, line: int | None = None) -> None:
        self.source = source
        self.line = line
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {message}")

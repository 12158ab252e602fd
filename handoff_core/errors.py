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
    """One fault in a policy file: where it is and what is wrong.

    ``source`` is set when the fault is in another file than the one loaded (a file it ``extends``).
    """

    field: str
    message: str
    line: int | None = None
    column: int | None = None
    source: str | None = None

    def where(self, source: str) -> str:
        """``FILE:LINE:COLUMN`` (as compilers print it, so editors can jump there), or ``FILE`` alone."""
        place = self.source or source
        if self.line is not None:
            place += f":{self.line}"
            if self.column is not None:
                place += f":{self.column}"
        return place

    def __str__(self) -> str:
        field = f"{self.field}: " if self.field else ""
        return f"{field}{self.message}"


class PolicyError(HandoffError):
    """The policy could not be loaded. ``problems`` lists every fault found, each with field and line."""

    def __init__(self, source: str, problems: list[PolicyProblem]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {p.where(source)}: {p}" for p in problems)
        super().__init__(f"invalid policy {source} ({len(problems)} problem(s)):\n{lines}")


class KnowledgeError(HandoffError):
    """Approved knowledge could not be read (bad JSON line, missing field, unreadable file)."""

    def __init__(self, source: str, message: str, line: int | None = None) -> None:
        self.source = source
        self.line = line
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {message}")

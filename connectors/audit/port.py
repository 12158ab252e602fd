"""The audit log's ports: what the worker writes, and what the CLI and the review read.

Why ports and not one class: the worker only ever *writes* (a decision, a delivery attempt, a later
event) and must not be able to run a month-long read on its event loop by accident; the CLI and the
weekly review only *read*. Each caller names the narrow port it needs::

    AuditWriter   record_decision, record_delivery, record_event        (worker, ``simulate --record``)
    AuditReader   decisions(filter, limit), review_rows(since, until)   (``handoff decisions``, reports)
    AuditLog      both, plus close: what a process opens

Two implementations pass one contract suite (``tests/audit/test_audit_log.py`` runs on both):
:class:`connectors.audit.sqlite.SQLiteAudit` (in the embedded store file) and
:class:`connectors.audit.postgres.PostgresAudit` (shared by replicas). :func:`open_audit` picks one
from ``HANDOFF_DATABASE_URL``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

from handoff_core import Conversation, Decision

if TYPE_CHECKING:
    from connectors.audit.queries import DecisionFilter, DecisionRecord, ReviewRow
    from connectors.audit.sql import RedactedTexts

EventKind = Literal["claimed", "not_needed", "handoff_wrong", "missed_handoff"]
Target = Literal["zendesk", "slack"]


class AuditWriter(Protocol):
    def record_decision(
        self,
        decision: Decision,
        conversation: Conversation,
        *,
        ticket_id: str | None = None,
        simulated: bool = False,
        at: datetime | None = None,
        audit_id: str | None = None,
        redacted: RedactedTexts | None = None,
    ) -> str:
        """Store ``decision`` (redacted); return its id in the log. The same decision twice is stored once.

        ``audit_id``: the id to store it under (random by default); ``redacted``: its texts redacted
        elsewhere (:func:`connectors.audit.sql.redacted_texts`), not redacted again."""
        ...

    def record_delivery(
        self, decision_id: str, target: Target, ok: bool, detail: str | None = None, at: datetime | None = None
    ) -> None:
        """Record one attempt to apply a decision in Zendesk or Slack (every attempt is kept)."""
        ...

    def record_event(
        self,
        kind: EventKind,
        *,
        decision_id: str | None = None,
        conversation_id: str | None = None,
        ticket_id: str | None = None,
        actor: str | None = None,
        at: datetime | None = None,
        data: Mapping[str, object] | None = None,
    ) -> str | None:
        """Attach a later event to a decision, at most once per kind; None when no decision matches."""
        ...


class AuditReader(Protocol):
    #: ``sqlite`` or ``postgresql``: which SQL the log runs (query-plan tests, reports).
    dialect: str

    def decisions(
        self, flt: DecisionFilter | None = None, *, limit: int | None = None, page: int | None = None
    ) -> Iterator[DecisionRecord]:
        """Matching decisions oldest first, with reasons, deliveries and events, read a page at a time.

        ``limit``: only the newest ``limit`` matches (still oldest first), read backwards by the listing index.
        """
        ...

    def review_rows(
        self, since: datetime, until: datetime, simulated: bool | None, *, page: int | None = None
    ) -> Iterator[ReviewRow]:
        """The review's lean facts of each decision in ``[since, until)``, streamed in time order."""
        ...


class AuditLog(AuditWriter, AuditReader, Protocol):
    """What a process opens: both sides of the log."""

    def close(self) -> None: ...
    def __enter__(self) -> AuditLog: ...
    def __exit__(self, *exc: object) -> None: ...

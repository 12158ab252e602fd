"""The decision audit log: a small port (:mod:`connectors.audit.port`), SQLite and PostgreSQL drivers
sharing one set of statements (:mod:`connectors.audit.sql`), records, queries and exports.

Errors (see :mod:`connectors.audit.log`)::

    AuditError
    └── UnknownDecisionError
"""

from connectors.audit.log import AuditError, UnknownDecisionError, open_audit
from connectors.audit.port import AuditLog, AuditReader, AuditWriter
from connectors.audit.sqlite import SQLiteAudit

__all__ = ["AuditError", "AuditLog", "AuditReader", "AuditWriter", "SQLiteAudit", "UnknownDecisionError", "open_audit"]

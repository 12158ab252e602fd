"""The decision audit log: records, queries and exports (CSV, JSON Lines).

Errors (see :mod:`connectors.audit.log`)::

    AuditError
    └── UnknownDecisionError
"""

from connectors.audit.log import AuditError, AuditLog, UnknownDecisionError

__all__ = ["AuditError", "AuditLog", "UnknownDecisionError"]

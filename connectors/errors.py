"""The connector error tree, at the bottom of ``connectors``: every vendor failure maps to one of two kinds.

::

    ConnectorError                  something outside us failed
    ├── TransientError              worth retrying (down, 5xx, 429, timeout); may carry retry_after
    └── PermanentError              retrying cannot help (auth, not found, invalid); park and report
        └── NotConfigured           local mode: the destination has no credentials (a local sink said so)

Gateways raise these with ``raise ... from exc``; the outbox and inbox processors only look at the
kind: transient -> retry later with backoff (dead after N attempts), permanent -> dead at once.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """A call to Zendesk or Slack failed."""

    def __init__(self, message: str, *, vendor: str = "unknown") -> None:
        super().__init__(message)
        self.vendor = vendor


class TransientError(ConnectorError):
    """Retry later. ``retry_after`` is the vendor's ``Retry-After`` in seconds, when it sent one."""

    def __init__(
        self,
        message: str,
        *,
        vendor: str = "unknown",
        retry_after: float | None = None,
        rate_limited: bool = False,
    ) -> None:
        super().__init__(message, vendor=vendor)
        self.retry_after = retry_after
        self.rate_limited = rate_limited


class PermanentError(ConnectorError):
    """Do not retry: the request itself is wrong or not allowed."""


class NotConfigured(PermanentError):
    """Local mode: Zendesk or Slack has no credentials, so a local sink cannot do what was asked."""

"""The redaction edge: every text the worker sends out of the core (Zendesk, Slack, outbox rows, logs) passes here.

The text rule itself (:func:`connectors.redaction.scrub`) lives below the connector layers so the audit
log applies the same one; this module adds the log filter the worker installs at start-up.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from connectors.redaction import scrub

#: Logger trees whose records the edge rewrites: ours, the server's and the vendor clients' (an
#: httpx or zenpy debug line can quote a request body). A logger created after installation under one
#: of these names is not covered, so the worker installs the edge once its modules are all imported.
LOG_TREES: tuple[str, ...] = (
    "connectors",
    "handoff_core",
    "uvicorn",
    "fastapi",
    "starlette",
    "httpx",
    "httpcore",
    "slack_bolt",
    "slack_sdk",
    "zenpy",
    "tenacity",
)


class RedactingLogFilter(logging.Filter):
    """Logs leave the process too: each record's final message (and traceback) is scrubbed in place.

    The message is rendered first (``msg % args``) and the args dropped, so a raw value passed as an
    argument is redacted exactly like one written into the format string.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


#: Vendor clients whose DEBUG lines dump whole request and response bodies. A ticket's requester name
#: has no shape the edge can find, so these loggers are kept at INFO or above (found by the PII e2e test).
BODY_DUMPING_LOGGERS: tuple[str, ...] = ("zenpy", "slack_sdk")


def install_log_redaction(trees: Iterable[str] = LOG_TREES) -> None:
    """Put the filter on every existing logger of ``trees`` and the root logger (idempotent); quiet body dumps.

    A filter on a logger sees only records logged *on that logger*, not ones propagated from its
    children, which is why each existing logger of a tree gets its own.
    """
    prefixes = tuple(trees)
    manager = logging.Logger.manager
    names = [name for name in list(manager.loggerDict) if any(name == p or name.startswith(p + ".") for p in prefixes)]
    loggers = [logging.getLogger(name) for name in {*prefixes, *names}] + [logging.getLogger()]
    for name in BODY_DUMPING_LOGGERS:
        vendor = logging.getLogger(name)
        if vendor.getEffectiveLevel() < logging.INFO:
            vendor.setLevel(logging.INFO)
    for logger in loggers:
        if not any(isinstance(f, RedactingLogFilter) for f in logger.filters):
            logger.addFilter(RedactingLogFilter())

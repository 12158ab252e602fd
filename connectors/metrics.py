"""Prometheus metrics for the worker, served as ``GET /metrics``.

Why a private registry: prometheus-client's default registry is a process global, so two apps in one
process (every test) would share counters and collide on registration. Each app creates one
:class:`Metrics` in its lifespan and keeps it on ``app.state``.

Label values that come from our own code are checked against fixed sets, so a typo is a ``ValueError``
in tests rather than a new time series in production. Nothing customer-controlled becomes a label except
the conversation channel, which the connectors set from a short fixed list.

Exported series (all prefixed ``handoff_``):

- ``decisions_total{action,channel}``; ``decision_triggers_total{trigger,action,channel}`` (a decision
  with two reasons counts once per trigger); ``decision_seconds{channel}`` histogram;
- ``webhook_requests_total{source,outcome}``;
- ``outbox_pending`` and ``outbox_dead`` gauges (all lanes together);
- lag, per queue (``inbox``, ``outbox``) and lane (outbox target or inbox source), refreshed on every
  scrape from the store's indexes: ``queue_pending{queue,lane}``, ``queue_dead{queue,lane}`` and
  ``queue_oldest_pending_seconds{queue,lane}``. Alert when the oldest pending age stays above
  :data:`INBOX_LAG_ALERT_SECONDS` (inbox) or :data:`OUTBOX_LAG_ALERT_SECONDS` (outbox) for
  :data:`LAG_ALERT_FOR` (see ``docs/volume.md``);
- ``vendor_call_seconds{vendor,operation}`` histogram and ``vendor_calls_total{vendor,operation,outcome}``
  (outcome ``ok``, ``error`` or ``rate_limited``: a 429 answer).

Errors: only ``ValueError`` for a label outside its fixed set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from handoff_core import Decision

WEBHOOK_SOURCES = frozenset({"zendesk", "webchat", "slack"})
WEBHOOK_OUTCOMES = frozenset(
    {"accepted", "duplicate", "unauthorized", "bad_request", "too_large", "ignored", "overloaded", "error"}
)
VENDORS = frozenset({"zendesk", "slack"})
VENDOR_OUTCOMES = frozenset({"ok", "error", "rate_limited"})


class LaneLag(Protocol):
    """How far one lane is behind (``connectors.store.models.Backlog`` has this shape; metrics sit below
    the store in the layers, so they name the shape, not the class)."""

    @property
    def queue(self) -> str: ...
    @property
    def lane(self) -> str: ...
    @property
    def pending(self) -> int: ...
    @property
    def dead(self) -> int: ...
    def oldest_pending_age(self, now: float) -> float: ...


#: Lanes always exported (at 0 when idle), so an alert on a lane that drained does not go stale.
KNOWN_LANES: tuple[tuple[str, str], ...] = (
    ("inbox", "zendesk"),
    ("inbox", "slack"),
    ("outbox", "zendesk"),
    ("outbox", "slack"),
)
#: Documented alert thresholds on ``handoff_queue_oldest_pending_seconds``. An inbox event is normally
#: decided within a second; 30 s means acknowledgements arrive faster than the worker decides.
#: Outbox actions wait out vendor rate limits and retries with backoff (up to minutes), so 10 minutes
#: means a vendor is down or the lane is stuck.
INBOX_LAG_ALERT_SECONDS = 30.0
OUTBOX_LAG_ALERT_SECONDS = 600.0
LAG_ALERT_FOR = "5m"

#: The core decides in well under a millisecond to a few milliseconds; the tail is what matters.
DECISION_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
#: Vendor calls take tens of milliseconds to seconds (zenpy may sleep on a 429 within its budget).
VENDOR_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def _check(value: str, allowed: frozenset[str], name: str) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {sorted(allowed)}, got {value!r}")


class Metrics:
    """Prometheus metrics on a private CollectorRegistry (no global registry), one instance per app."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._decisions = Counter(
            "handoff_decisions",
            "Decisions made, by action and channel.",
            ("action", "channel"),
            registry=self.registry,
        )
        self._triggers = Counter(
            "handoff_decision_triggers",
            "Triggers that fired, once per trigger and decision, with the decision's action.",
            ("trigger", "action", "channel"),
            registry=self.registry,
        )
        self._decision_seconds = Histogram(
            "handoff_decision_seconds",
            "Time the core took to decide.",
            ("channel",),
            buckets=DECISION_BUCKETS,
            registry=self.registry,
        )
        self._webhook_children: dict[tuple[str, str], Counter] = {}
        self._webhooks = Counter(
            "handoff_webhook_requests",
            "Inbound webhook requests by source and outcome.",
            ("source", "outcome"),
            registry=self.registry,
        )
        self._outbox_pending = Gauge("handoff_outbox_pending", "Actions waiting in the outbox.", registry=self.registry)
        self._outbox_dead = Gauge(
            "handoff_outbox_dead", "Actions parked after their last attempt failed.", registry=self.registry
        )
        self._queue_pending = Gauge(
            "handoff_queue_pending", "Rows waiting, per queue and lane.", ("queue", "lane"), registry=self.registry
        )
        self._queue_dead = Gauge(
            "handoff_queue_dead", "Rows parked as dead, per queue and lane.", ("queue", "lane"), registry=self.registry
        )
        self._queue_age = Gauge(
            "handoff_queue_oldest_pending_seconds",
            "Age of the oldest row still pending, per queue and lane (0 when none).",
            ("queue", "lane"),
            registry=self.registry,
        )
        self._vendor_seconds = Histogram(
            "handoff_vendor_call_seconds",
            "Latency of calls to Zendesk and Slack.",
            ("vendor", "operation"),
            buckets=VENDOR_BUCKETS,
            registry=self.registry,
        )
        self._vendor_calls = Counter(
            "handoff_vendor_calls",
            "Calls to Zendesk and Slack by outcome (rate_limited: answered 429).",
            ("vendor", "operation", "outcome"),
            registry=self.registry,
        )

    def observe_decision(self, decision: Decision, channel: str, seconds: float) -> None:
        """Count one decision, each of its triggers, and how long the core took."""
        action = decision.action.value
        self._decisions.labels(action=action, channel=channel).inc()
        for trigger in decision.triggers:
            self._triggers.labels(trigger=trigger, action=action, channel=channel).inc()
        self._decision_seconds.labels(channel=channel).observe(seconds)

    def webhook(self, source: str, outcome: str) -> None:
        """Count one inbound webhook request (zendesk|webchat|slack) by how it was answered."""
        child = self._webhook_children.get((source, outcome))
        if child is None:  # checked once per label pair; the per-request path is one dict look-up
            _check(source, WEBHOOK_SOURCES, "source")
            _check(outcome, WEBHOOK_OUTCOMES, "outcome")
            child = self._webhook_children[(source, outcome)] = self._webhooks.labels(source=source, outcome=outcome)
        child.inc()

    def vendor_call(self, vendor: str, operation: str, seconds: float, outcome: str) -> None:
        """Count one call to Zendesk or Slack and its latency (ok|error|rate_limited)."""
        _check(vendor, VENDORS, "vendor")
        _check(outcome, VENDOR_OUTCOMES, "outcome")
        self._vendor_seconds.labels(vendor=vendor, operation=operation).observe(seconds)
        self._vendor_calls.labels(vendor=vendor, operation=operation, outcome=outcome).inc()

    def set_outbox(self, pending: int, dead: int) -> None:
        """Publish the outbox depth and the number of parked (dead) actions."""
        self._outbox_pending.set(pending)
        self._outbox_dead.set(dead)

    def set_backlog(self, backlog: Sequence[LaneLag], now: float) -> None:
        """Publish the lag of every lane (known lanes at 0 when idle) and the outbox totals."""
        lanes: dict[tuple[str, str], tuple[int, int, float]] = dict.fromkeys(KNOWN_LANES, (0, 0, 0.0))
        for b in backlog:
            lanes[(b.queue, b.lane)] = (b.pending, b.dead, b.oldest_pending_age(now))
        for (queue, lane), (pending, dead, age) in lanes.items():
            self._queue_pending.labels(queue=queue, lane=lane).set(pending)
            self._queue_dead.labels(queue=queue, lane=lane).set(dead)
            self._queue_age.labels(queue=queue, lane=lane).set(age)
        outbox = [v for (queue, _), v in lanes.items() if queue == "outbox"]
        self.set_outbox(sum(v[0] for v in outbox), sum(v[1] for v in outbox))

    def render(self) -> tuple[bytes, str]:
        """The registry in the Prometheus text format, with its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

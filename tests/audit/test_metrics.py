"""Metrics render in the Prometheus text format and carry exactly the values observed."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from audit.builders import decision
from connectors.metrics import Metrics
from handoff_core import Action, TriggerName


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_decisions_by_action_trigger_channel() -> None:
    """Decisions count by action/channel, and once per trigger; latency lands in the histogram."""
    m = Metrics()
    m.observe_decision(decision(Action.HANDOFF, TriggerName.SENTIMENT), "webchat", 0.002)
    m.observe_decision(decision(Action.HANDOFF, TriggerName.SENTIMENT), "webchat", 0.004)
    m.observe_decision(decision(Action.CONTINUE, None), "zendesk", 0.0003)
    s = samples(m)
    assert s[("handoff_decisions_total", (("action", "handoff"), ("channel", "webchat")))] == 2
    assert s[("handoff_decisions_total", (("action", "continue"), ("channel", "zendesk")))] == 1
    key = (
        "handoff_decision_triggers_total",
        (("action", "handoff"), ("channel", "webchat"), ("trigger", "sentiment")),
    )
    assert s[key] == 2
    assert s[("handoff_decision_seconds_count", (("channel", "webchat"),))] == 2
    assert s[("handoff_decision_seconds_sum", (("channel", "webchat"),))] == pytest.approx(0.006)
    assert s[("handoff_decision_seconds_bucket", (("channel", "webchat"), ("le", "0.0025")))] == 1
    assert s[("handoff_decision_seconds_bucket", (("channel", "zendesk"), ("le", "0.0005")))] == 1


def test_webhooks_outbox_and_vendor_calls() -> None:
    """Webhook outcomes, outbox gauges and vendor calls (429s as rate_limited) are all exported."""
    m = Metrics()
    m.webhook("zendesk", "accepted")
    m.webhook("zendesk", "accepted")
    m.webhook("slack", "unauthorized")
    m.set_outbox(pending=5, dead=2)
    m.set_outbox(pending=3, dead=1)
    m.vendor_call("zendesk", "update_ticket", 0.2, "ok")
    m.vendor_call("zendesk", "update_ticket", 0.05, "rate_limited")
    m.vendor_call("slack", "chat.postMessage", 0.03, "error")
    s = samples(m)
    assert s[("handoff_webhook_requests_total", (("outcome", "accepted"), ("source", "zendesk")))] == 2
    assert s[("handoff_webhook_requests_total", (("outcome", "unauthorized"), ("source", "slack")))] == 1
    assert s[("handoff_outbox_pending", ())] == 3
    assert s[("handoff_outbox_dead", ())] == 1
    lab = (("operation", "update_ticket"), ("outcome", "rate_limited"), ("vendor", "zendesk"))
    assert s[("handoff_vendor_calls_total", lab)] == 1
    lab = (("operation", "chat.postMessage"), ("outcome", "error"), ("vendor", "slack"))
    assert s[("handoff_vendor_calls_total", lab)] == 1
    assert s[("handoff_vendor_call_seconds_count", (("operation", "update_ticket"), ("vendor", "zendesk")))] == 2
    assert s[("handoff_vendor_call_seconds_sum", (("operation", "update_ticket"), ("vendor", "zendesk")))] == (
        pytest.approx(0.25)
    )


def test_two_instances_do_not_share_state() -> None:
    """Each Metrics has its own registry: counting in one leaves the other at zero."""
    a, b = Metrics(), Metrics()
    a.webhook("webchat", "accepted")
    assert (
        "handoff_webhook_requests_total",
        (("outcome", "accepted"), ("source", "webchat")),
    ) not in samples(b)


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.webhook("email", "accepted"),
        lambda m: m.webhook("slack", "weird"),
        lambda m: m.vendor_call("stripe", "x", 0.1, "ok"),
        lambda m: m.vendor_call("slack", "x", 0.1, "429"),
    ],
)
def test_unknown_label_values_are_rejected(call) -> None:  # type: ignore[no-untyped-def]
    """A label outside its fixed set is a ValueError, not a new time series."""
    with pytest.raises(ValueError, match="must be one of"):
        call(Metrics())

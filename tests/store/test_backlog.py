"""Lag per queue and lane, the same on SQLite and PostgreSQL, exported to /metrics and `handoff outbox lag`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from connectors.cli import cli
from connectors.metrics import KNOWN_LANES, Metrics
from connectors.store import InboxStatus, NewAction, WorkerStore, open_store
from connectors.store.models import Backlog


def _action(key: str, target: str) -> NewAction:
    kind = "slack.alert" if target == "slack" else "zendesk.handoff"
    return NewAction(kind=kind, target=target, dedupe_key=key, payload={}, conversation_id="c1", decision_id="d1")


def test_backlog_counts_pending_and_dead_per_lane(opener: Callable[[], WorkerStore]) -> None:
    """Pending and dead rows and the oldest pending arrival are reported per queue and lane; done rows are not."""
    store = opener()
    assert store.backlog() == []
    assert store.oldest_pending() == {"inbox": None, "outbox": None}
    before = time.time()
    store.outbox_enqueue([_action("z1", "zendesk"), _action("z2", "zendesk"), _action("s1", "slack")])
    store.outbox_enqueue([_action("s2", "slack")])
    [first, *_] = store.outbox_claim(time.time(), 30, 10, lane="slack")
    store.outbox_failed(first.id, "down", time.time(), dead=True)
    [done] = store.outbox_claim(time.time(), 30, 1, lane="zendesk")
    store.outbox_done(done.id)
    store.inbox_add("zendesk", "e1", "ticket", {})
    store.inbox_add("slack", "e2", "interaction", {})
    [claimed, _] = store.inbox_claim(time.time(), 30, 10)
    store.inbox_finish(claimed.id, InboxStatus.DONE)
    lanes = {(b.queue, b.lane): b for b in store.backlog()}
    assert {k: (b.pending, b.dead) for k, b in lanes.items()} == {
        ("inbox", "slack"): (1, 0),
        ("outbox", "slack"): (1, 1),
        ("outbox", "zendesk"): (1, 0),
    }
    oldest = store.oldest_pending()
    assert oldest["outbox"] is not None and before - 1 <= oldest["outbox"] <= time.time()
    assert oldest["inbox"] == lanes[("inbox", "slack")].oldest_pending_at


def test_metrics_export_lag_per_lane_with_idle_lanes_at_zero() -> None:
    """Every known lane is exported (0 when idle); the oldest pending age is measured from now."""
    metrics = Metrics()
    metrics.set_backlog([Backlog("outbox", "zendesk", 4, 1, 100.0), Backlog("inbox", "zendesk", 7, 0, 130.0)], 160.0)
    body = metrics.render()[0].decode()
    values = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }
    assert values[("handoff_queue_oldest_pending_seconds", (("lane", "zendesk"), ("queue", "outbox")))] == 60.0
    assert values[("handoff_queue_pending", (("lane", "zendesk"), ("queue", "inbox")))] == 7
    assert values[("handoff_queue_pending", (("lane", "slack"), ("queue", "outbox")))] == 0
    assert values[("handoff_queue_dead", (("lane", "zendesk"), ("queue", "outbox")))] == 1
    assert (values[("handoff_outbox_pending", ())], values[("handoff_outbox_dead", ())]) == (4, 1)


def test_outbox_lag_command_reports_and_exits_3_when_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`handoff outbox lag` prints each lane; exit code 3 once a lane is older than its alert threshold."""
    url = f"sqlite:///{tmp_path}/s.db"
    monkeypatch.setenv("HANDOFF_DATABASE_URL", url)
    store = open_store(url)
    store.outbox_enqueue([_action("z1", "zendesk")])
    store.close()
    runner = CliRunner()
    fresh = runner.invoke(cli, ["outbox", "lag", "--json"])
    assert fresh.exit_code == 0, fresh.output
    lines = {(x["queue"], x["lane"]): x for x in map(json.loads, fresh.output.splitlines())}
    assert set(lines) == set(KNOWN_LANES)  # the lanes /metrics exports, idle ones at 0
    assert (lines[("outbox", "zendesk")]["pending"], lines[("inbox", "slack")]["pending"]) == (1, 0)
    assert lines[("outbox", "zendesk")]["oldest_pending_seconds"] >= 0
    conn_store = open_store(url)
    conn_store._conn.execute("UPDATE outbox SET created_at = created_at - 3600")  # type: ignore[attr-defined]
    conn_store.close()
    late = runner.invoke(cli, ["outbox", "lag"])
    assert late.exit_code == 3
    assert "lag outbox/zendesk: 1 pending" in late.output and "ALERT" in late.output

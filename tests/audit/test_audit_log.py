"""The audit log's contract: it records decisions, deliveries and later events, redacts personal data, and is
idempotent. Every test taking ``log`` runs on both drivers: the SQLite file and a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from audit.builders import conversation, decision
from connectors.audit import AuditLog, SQLiteAudit, UnknownDecisionError, open_audit
from connectors.audit.queries import DecisionFilter, fetch_decisions
from handoff_core import Action, TriggerName
from handoff_core.errors import PolicyError
from handoff_core.policy.loader import parse_policy

T0 = datetime(2024, 6, 3, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The SQLite store file, or a fresh PostgreSQL database (skipped without PostgreSQL)."""
    return f"sqlite:///{tmp_path}/store.sqlite3" if request.param == "sqlite" else request.getfixturevalue("pg_url")


@pytest.fixture
def log(url: str) -> Iterator[AuditLog]:
    audit = open_audit(url)
    yield audit
    audit.close()


def stored_bytes(url: str) -> bytes:
    """Everything the log's database holds, as bytes: the SQLite files, or every audit row on PostgreSQL."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    import psycopg

    tables = ("audit_decisions", "audit_reasons", "audit_deliveries", "audit_events")
    with psycopg.connect(url) as conn:
        return repr([conn.execute(f"SELECT * FROM {t}").fetchall() for t in tables]).encode()


def test_record_decision_stores_the_explanation(log: AuditLog) -> None:
    """A recorded decision reads back with its action, reasons, scores, policy and knowledge version."""
    d = decision(Action.HANDOFF, TriggerName.RESTRICTED_TOPIC, score=0.75, topic="billing")
    returned = log.record_decision(d, conversation("c-1", ticket_id="T-9"), at=T0)
    [rec] = fetch_decisions(log)
    assert returned == rec.id
    assert rec.decided_at == T0
    assert (rec.conversation_id, rec.ticket_id, rec.channel, rec.action) == (
        "c-1",
        "T-9",
        "webchat",
        "handoff",
    )
    assert rec.triggers == ("restricted_topic",)
    assert rec.topics == ("billing",)
    assert rec.reasons[0].score == pytest.approx(0.75)
    assert (rec.policy_version, rec.policy_hash, rec.knowledge_version) == ("2024-06-01", "abc123", "kb-7")
    assert rec.route_tags == ("ai_handoff",)
    assert rec.simulated is False


def test_personal_data_is_always_redacted(log: AuditLog, url: str) -> None:
    """E-mails, phones and Luhn-valid card numbers in questions and evidence never reach the store."""
    text = "Mail ann@example.com or call +44 20 7946 0958, card 4111 1111 1111 1111"
    log.record_decision(decision(quote=text), conversation("c-1", text=text), at=T0)
    [rec] = fetch_decisions(log)
    stored = (rec.question or "") + str(rec.reasons[0].evidence)
    for secret in ("ann@example.com", "7946", "4111 1111"):
        assert secret not in stored
    assert rec.redacted is True
    raw = stored_bytes(url)
    assert b"ann@example.com" not in raw


def test_redaction_cannot_be_switched_off_by_the_policy() -> None:
    """A policy with privacy.redact_audit: false is refused with a message naming the field."""
    with pytest.raises(PolicyError) as info:
        parse_policy('version: "1"\nprivacy:\n  redact_audit: false\n', "p.yaml")
    assert info.value.problems[0].field == "privacy.redact_audit"
    assert "always keeps the redacted form" in str(info.value)


def test_same_decision_twice_is_stored_once(log: AuditLog) -> None:
    """A redelivered decision (same decision, conversation and time) does not create a second record."""
    d = decision()
    first = log.record_decision(d, conversation(), at=T0)
    again = log.record_decision(d, conversation(), at=T0)
    assert first == again
    assert [r.id for r in fetch_decisions(log)] == [first]


def test_reused_core_ids_get_their_own_audit_ids(log: AuditLog) -> None:
    """Decisions sharing a core id (a conversation id) are separate records; the core id finds the latest."""
    first = log.record_decision(decision(Action.CONTINUE, None, decision_id="c-1"), conversation("c-1"), at=T0)
    later = T0 + timedelta(minutes=1)
    second = log.record_decision(decision(Action.HANDOFF, decision_id="c-1"), conversation("c-1"), at=later)
    assert second != first
    log.record_delivery("c-1", "zendesk", True)
    assert log.record_event("claimed", decision_id="c-1", at=later + timedelta(seconds=30)) is not None
    records = {r.id: r for r in fetch_decisions(log)}
    assert records[second].reached("zendesk") is True
    assert records[second].claim_seconds() == pytest.approx(30.0)
    assert records[first].event("missed_handoff") is not None


def test_continue_then_handoff_marks_a_missed_handoff(log: AuditLog) -> None:
    """A handoff right after a `continue` in the same conversation records missed_handoff on the continue."""
    first = decision(Action.CONTINUE, None)
    second = decision(Action.HANDOFF, TriggerName.HUMAN_REQUEST)
    first_id = log.record_decision(first, conversation("c-1"), at=T0)
    log.record_decision(decision(Action.CONTINUE, None), conversation("c-2"), at=T0)
    second_id = log.record_decision(second, conversation("c-1"), at=T0 + timedelta(minutes=2))
    records = {r.id: r for r in fetch_decisions(log)}
    missed = records[first_id].event("missed_handoff")
    assert missed is not None
    assert missed.data["handoff_decision_id"] == second_id
    assert sum(1 for r in records.values() for e in r.events if e.kind == "missed_handoff") == 1


def test_handoff_after_offer_is_not_a_missed_handoff(log: AuditLog) -> None:
    """Escalating from offer_handoff to handoff is the policy working, not a miss."""
    log.record_decision(decision(Action.OFFER_HANDOFF), conversation("c-1"), at=T0)
    log.record_decision(decision(Action.HANDOFF), conversation("c-1"), at=T0 + timedelta(minutes=1))
    assert all(not r.events for r in fetch_decisions(log))


def test_simulated_and_live_are_kept_apart(log: AuditLog) -> None:
    """Simulated decisions are marked, filtered, and never count as the live predecessor of a decision."""
    log.record_decision(decision(Action.CONTINUE, None), conversation("c-1"), simulated=True, at=T0)
    log.record_decision(decision(Action.HANDOFF), conversation("c-1"), at=T0 + timedelta(minutes=1))
    live = fetch_decisions(log, DecisionFilter(simulated=False))
    sim = fetch_decisions(log, DecisionFilter(simulated=True))
    both = fetch_decisions(log, DecisionFilter(simulated=None))
    assert [r.action for r in live] == ["handoff"]
    assert [r.action for r in sim] == ["continue"]
    assert len(both) == 2
    assert all(not r.events for r in both)


def test_deliveries_record_whether_actions_reached_vendors(log: AuditLog) -> None:
    """Failed then successful Zendesk attempts read as reached; a Slack failure reads as not reached."""
    d = decision()
    log.record_decision(d, conversation(), at=T0)
    log.record_delivery(d.id, "zendesk", False, "429 rate limited", at=T0 + timedelta(seconds=1))
    log.record_delivery(d.id, "zendesk", True, at=T0 + timedelta(seconds=5))
    log.record_delivery(d.id, "slack", False, "channel_not_found")
    [rec] = fetch_decisions(log)
    assert rec.reached("zendesk") is True
    assert rec.reached("slack") is False
    assert len(rec.deliveries) == 3


def test_delivery_for_unknown_decision_is_an_error(log: AuditLog) -> None:
    """A delivery for a decision that was never recorded raises UnknownDecisionError."""
    with pytest.raises(UnknownDecisionError, match="nope"):
        log.record_delivery("nope", "slack", True)


def test_claim_finds_latest_handoff_and_is_idempotent(log: AuditLog) -> None:
    """A claim by conversation id lands on the latest handoff; a second click returns the same event."""
    old = decision(Action.HANDOFF)
    new = decision(Action.HANDOFF)
    old_id = log.record_decision(old, conversation("c-1"), at=T0)
    log.record_decision(decision(Action.CONTINUE, None), conversation("c-1"), at=T0 + timedelta(minutes=1))
    new_id = log.record_decision(new, conversation("c-1"), at=T0 + timedelta(minutes=2))
    at = T0 + timedelta(minutes=7)
    first = log.record_event("claimed", conversation_id="c-1", actor="agent@shop.test", at=at)
    again = log.record_event("claimed", conversation_id="c-1", actor="other@shop.test", at=at + timedelta(minutes=1))
    assert first is not None
    assert again == first
    records = {r.id: r for r in fetch_decisions(log)}
    assert records[new_id].claim_seconds() == pytest.approx(300.0)
    assert records[new_id].event("claimed").actor == "agent@shop.test"  # type: ignore[union-attr]
    assert records[old_id].event("claimed") is None


def test_event_by_ticket_id_and_by_decision_id(log: AuditLog) -> None:
    """handoff_wrong finds the decision by ticket id; not_needed by decision id; data is kept."""
    d = decision()
    log.record_decision(d, conversation("c-1", ticket_id="4242"), at=T0)
    assert log.record_event("handoff_wrong", ticket_id="4242", data={"tag": "handoff_wrong"}) is not None
    assert log.record_event("not_needed", decision_id=d.id, actor="lead@shop.test") is not None
    [rec] = fetch_decisions(log)
    assert {e.kind for e in rec.events} == {"handoff_wrong", "not_needed"}
    assert rec.event("handoff_wrong").data == {"tag": "handoff_wrong"}  # type: ignore[union-attr]


def test_event_without_matching_decision_returns_none(log: AuditLog) -> None:
    """An event for an unknown ticket, conversation or decision records nothing and returns None."""
    log.record_decision(decision(Action.CONTINUE, None), conversation("c-1", ticket_id="1"), at=T0)
    assert log.record_event("claimed", ticket_id="999") is None
    assert log.record_event("claimed", decision_id="missing") is None
    assert log.record_event("claimed", conversation_id="c-1") is None
    assert all(not r.events for r in fetch_decisions(log))


def test_filters_select_by_time_reason_action_channel(log: AuditLog) -> None:
    """since/until, trigger, action and channel filters each narrow the result as documented."""
    log.record_decision(decision(Action.HANDOFF, TriggerName.SENTIMENT), conversation("a"), at=T0)
    log.record_decision(
        decision(Action.OFFER_HANDOFF, TriggerName.LOW_CONFIDENCE),
        conversation("b", channel="zendesk"),
        at=T0,
    )
    log.record_decision(decision(Action.HANDOFF, TriggerName.VIP), conversation("c"), at=T0 + timedelta(days=2))

    def ids(**kw: object) -> list[str]:
        return [r.conversation_id for r in fetch_decisions(log, DecisionFilter(**kw))]  # type: ignore[arg-type]

    assert ids(trigger="sentiment") == ["a"]
    assert ids(action="handoff") == ["a", "c"]
    assert ids(channel="zendesk") == ["b"]
    assert ids(since=T0 + timedelta(days=1)) == ["c"]
    assert ids(until=T0 + timedelta(days=1)) == ["a", "b"]


def test_reopening_the_store_keeps_records(tmp_path: Path) -> None:
    """Migrations run once: a second AuditLog on the same file sees earlier records."""
    path = tmp_path / "s.sqlite3"
    with SQLiteAudit(path) as first:
        first.record_decision(decision(), conversation(), at=T0)
    with SQLiteAudit(path) as second:
        assert len(fetch_decisions(second)) == 1


def test_naive_times_are_taken_as_utc(log: AuditLog) -> None:
    """A naive `at` is stored as UTC rather than shifted by the local zone."""
    log.record_decision(decision(), conversation(), at=datetime(2024, 6, 3, 9, 0))
    [rec] = fetch_decisions(log)
    assert rec.decided_at == T0


def test_feedback_by_conversation_skips_already_handed_off(log: AuditLog) -> None:
    """ "Not needed" clicked after the customer wrote again lands on the handoff, not on the repeat."""
    handoff = decision(Action.HANDOFF, TriggerName.HUMAN_REQUEST)
    repeat = decision(Action.HANDOFF, TriggerName.ALREADY_HANDED_OFF)
    handoff_id = log.record_decision(handoff, conversation("c-1", ticket_id="7"), at=T0)
    repeat_id = log.record_decision(repeat, conversation("c-1", ticket_id="7"), at=T0 + timedelta(minutes=1))
    log.record_event("not_needed", conversation_id="c-1")
    log.record_event("handoff_wrong", ticket_id="7")
    records = {r.id: r for r in fetch_decisions(log)}
    assert {e.kind for e in records[handoff_id].events} == {"not_needed", "handoff_wrong"}
    assert records[repeat_id].events == ()

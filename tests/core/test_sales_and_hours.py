"""``sales_lead`` and business hours in decisions: leads told from billing questions, lead value, the sales
route, and what an out-of-hours handoff tells the customer (English and Spanish)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import yaml

from handoff_core import Action, Conversation, Decision, TriggerName
from handoff_core.checklist import ChecklistItem, run_checklist
from handoff_core.engine import DecisionEngine
from handoff_core.errors import PolicyError
from handoff_core.policy import Policy, parse_policy
from handoff_core.policy.loader import _PolicyLoader

from .conftest import DEFAULT_POLICY, conversation


# This module checks what the shipped default policy decides (its phrases, languages and detectors), so it
# uses the default policy rather than the core tests' small fixture policy.
@pytest.fixture(scope="module")
def engine(default_engine: DecisionEngine) -> DecisionEngine:
    return default_engine


@pytest.fixture(scope="module")
def policy(default_policy: Policy) -> Policy:
    return default_policy


#: Sunday 29 November 2026, 03:00 UTC (04:00 in Madrid): nobody is at work.
SUNDAY_NIGHT = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
#: Wednesday 25 November 2026, 10:00 UTC (11:00 in Madrid).
WEDNESDAY = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)

HOURS: dict[str, Any] = {
    "schedules": {
        "support": {
            "timezone": "Europe/Madrid",
            "hours": {d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
            "holidays": [{"date": "2026-12-25", "name": "Christmas"}],
            "reply_within_minutes": 30,
        },
        "sales": {
            "timezone": "America/New_York",
            "hours": {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        },
    },
    "on_call": {"slack_channel": "#support-on-call", "topics": ["account_security"], "urgent": True},
}


def default_data() -> dict[str, Any]:
    data = yaml.load(DEFAULT_POLICY.read_text(encoding="utf-8"), Loader=_PolicyLoader)
    assert isinstance(data, dict)
    return data


def with_hours(data: dict[str, Any]) -> dict[str, Any]:
    """The default policy with every route on a schedule: sales in New York, the rest in Madrid."""
    data["business_hours"] = HOURS
    data["defaults"]["route"]["schedule"] = "support"
    data["routes"]["sales"]["schedule"] = "sales"
    for name, trigger in data["triggers"].items():
        if isinstance(trigger, dict) and "route" in trigger and name != "sales_lead":
            trigger["route"]["schedule"] = "support"
        for topic in (trigger.get("topics") or {}).values() if isinstance(trigger, dict) else ():
            topic.setdefault("route", {})["schedule"] = "support"
    return data


def policy_of(data: dict[str, Any]) -> Policy:
    return parse_policy(yaml.safe_dump(data, allow_unicode=True), base_dir=DEFAULT_POLICY.parent)


@pytest.fixture(scope="module")
def hours_engine() -> DecisionEngine:
    return DecisionEngine(policy_of(with_hours(default_data())))


def decide_at(engine: DecisionEngine, now: datetime, *texts: str, **extra: Any) -> Decision:
    return engine.decide(conversation(*texts, **extra), now=now)


# -- lead or not ---------------------------------------------------------------------------------------

LEADS = [
    # (message, qualified: handed to sales?)
    ("We're evaluating you for 300 seats, can someone walk us through enterprise pricing?", True),
    ("Could we book a demo for our team? We'd need around 400 users this quarter.", True),
    ("We are migrating from Zendesk and need 250 licenses", True),
    ("Our procurement team needs your security questionnaire before we sign for 500 seats", True),
    ("Necesitamos una cotización para 300 usuarios del plan enterprise", True),
    ("¿Podemos agendar una demo? Somos una empresa de 600 empleados", True),
    ("What's the price per seat for a team of about 10 users?", False),
    ("Queremos una prueba para nuestro equipo de 20 usuarios", False),
    ("Can we get a free trial for our company?", False),
]
NOT_LEADS = [
    "Why is my invoice higher this month? We only have 5 seats.",
    "I was charged twice for my subscription",
    "Can you send me a copy of my last invoice?",
    "¿Por qué me cobraron dos veces en mi factura?",
    "Mi factura de este mes tiene un importe incorrecto",
    "How do I change the card on my account?",
    "¿Cómo cambio mi contraseña?",
    "I want to cancel my enterprise plan",
    "What time does the store open?",
]


@pytest.mark.parametrize(("text", "qualified"), LEADS)
def test_buying_intent_is_a_lead(engine: DecisionEngine, text: str, qualified: bool) -> None:
    """Buying intent is a lead; qualified leads go to sales, smaller ones keep the assistant answering."""
    d = decide_at(engine, WEDNESDAY, text)
    assert d.lead is not None, text
    assert d.lead.qualified is qualified, (text, d.lead)
    sales = [r for r in d.reasons if r.trigger is TriggerName.SALES_LEAD]
    assert len(sales) == 1 and sales[0].evidence
    if qualified:
        assert d.action is Action.HANDOFF
        assert d.route.group == "Sales" and "sales_lead" in d.route.tags
        assert d.route.slack_channel == "#sales-leads" and d.alert
        assert d.priority.value == "high"
    else:
        assert d.action is Action.CONTINUE and sales[0].action is Action.CONTINUE
        assert d.customer_message is not None and "https://example.com/meet/sales" in d.customer_message


@pytest.mark.parametrize("text", NOT_LEADS)
def test_existing_customers_billing_is_not_a_lead(engine: DecisionEngine, text: str) -> None:
    """Questions about one's own bill or account, and everyday questions, are not leads."""
    d = decide_at(engine, WEDNESDAY, text)
    assert d.lead is None, text
    assert TriggerName.SALES_LEAD.value not in d.triggers
    assert d.route.group != "Sales"


def test_lead_value_rules(engine: DecisionEngine) -> None:
    """Seats x seat price, plus the company-domain bonus; free-mail addresses get no bonus."""
    text = "We need pricing for our team of 200 users"
    company = decide_at(engine, WEDNESDAY, text, customer={"email": "cto@acme-industries.com"})
    free = decide_at(engine, WEDNESDAY, text, customer={"email": "someone@gmail.com"})
    assert company.lead is not None and free.lead is not None
    assert free.lead.value == Decimal(200 * 40)
    assert company.lead.value == Decimal(200 * 40 + 1000)
    assert company.lead.company == "acme-industries.com"
    assert not free.lead.qualified and not company.lead.qualified


def test_lead_value_from_context_wins(engine: DecisionEngine) -> None:
    """A lead_value from the help desk or CRM decides, whatever the rules would say."""
    d = decide_at(engine, WEDNESDAY, "Can we book a demo for our team?", context={"lead_value": "50000"})
    assert d.lead is not None and d.lead.value == Decimal(50000) and d.lead.qualified
    assert d.action is Action.HANDOFF


def test_lead_fields_go_through_missing_fields(engine: DecisionEngine) -> None:
    """Company, team size, timeline and email are collected like support fields; known ones are not asked."""
    d = decide_at(engine, WEDNESDAY, "We'd like enterprise pricing for 300 seats")
    assert d.missing_fields == ("company", "timeline", "email")
    assert d.collected["team_size"] == "300"
    known = decide_at(
        engine,
        WEDNESDAY,
        "We'd like enterprise pricing for 300 seats, starting next quarter",
        customer={"email": "buyer@acme.io", "organization": "Acme"},
    )
    assert known.missing_fields == ()
    assert known.collected == {
        "company": "Acme",
        "team_size": "300",
        "timeline": "next quarter",
        "email": "buyer@acme.io",
    }


# -- business hours in decisions -----------------------------------------------------------------------


def test_no_schedules_means_availability_unknown(engine: DecisionEngine) -> None:
    """Without business hours in the policy nothing is promised: agents_available and reply time are None."""
    d = decide_at(engine, SUNDAY_NIGHT, "I want to talk to a real person")
    assert d.action is Action.HANDOFF
    assert d.agents_available is None and d.expected_reply_by is None


def test_in_hours_handoff(hours_engine: DecisionEngine) -> None:
    """In hours people are there; the reply is expected within the schedule's promise."""
    d = decide_at(hours_engine, WEDNESDAY, "I want to talk to a real person", customer={"email": "a@b.co"})
    assert d.agents_available is True
    assert d.expected_reply_by == datetime(2026, 11, 25, 10, 30, tzinfo=UTC)
    assert d.customer_message is not None and "connecting you" in d.customer_message


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("I want to talk to a real person", "en", "A person will reply by Monday 09:00 CET"),
        ("Quiero hablar con una persona real", "es", "Una persona te responderá antes del lunes 09:00 CET"),
    ],
)
def test_out_of_hours_says_when_and_asks_for_email(
    hours_engine: DecisionEngine, text: str, language: str, expected: str
) -> None:
    """Out of hours the customer is told when a person will reply, in their language, and asked for an email."""
    d = decide_at(hours_engine, SUNDAY_NIGHT, text)
    assert d.action is Action.HANDOFF and d.language == language
    assert d.agents_available is False
    assert d.expected_reply_by == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert d.customer_message is not None and expected in d.customer_message
    assert "email" in d.missing_fields
    assert ("email address" if language == "en" else "correo electrónico") in d.customer_message


def test_out_of_hours_with_known_email_does_not_ask(hours_engine: DecisionEngine) -> None:
    """When the email is known the customer is only told when to expect the reply."""
    d = decide_at(hours_engine, SUNDAY_NIGHT, "I want to talk to a real person", customer={"email": "a@b.co"})
    assert d.missing_fields == ()
    assert d.customer_message == (
        "Our team is offline right now. A person will reply by Monday 09:00 CET; they'll see everything you've told me."
    )


def test_sales_route_uses_its_own_schedule(hours_engine: DecisionEngine) -> None:
    """A lead out of hours is promised the sales team's opening, in the sales team's zone (New York)."""
    d = decide_at(
        hours_engine, SUNDAY_NIGHT, "We need enterprise pricing for 300 seats", customer={"email": "x@acme.io"}
    )
    assert d.route.group == "Sales" and d.route.schedule == "sales"
    assert d.expected_reply_by == datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
    assert d.customer_message is not None and "Monday 09:00 EST" in d.customer_message


def test_holiday_pushes_the_reply(hours_engine: DecisionEngine) -> None:
    """On Christmas Day (a Friday) the next reply is Monday 28 December."""
    d = decide_at(hours_engine, datetime(2026, 12, 25, 11, 0, tzinfo=UTC), "I want to talk to a real person")
    assert d.agents_available is False
    assert d.expected_reply_by == datetime(2026, 12, 28, 8, 0, tzinfo=UTC)


def test_urgent_security_out_of_hours_pages_on_call(hours_engine: DecisionEngine) -> None:
    """Out of hours, an urgent security handoff pages the on-call channel and promises a reply within the hour."""
    d = decide_at(hours_engine, SUNDAY_NIGHT, "Someone hacked my account and changed my password, urgent!")
    assert d.action is Action.HANDOFF
    assert d.on_call and d.alert
    assert d.route.slack_channel == "#support-on-call"
    assert d.expected_reply_by == datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
    assert d.customer_message is not None and "on call" in d.customer_message


def test_current_time_is_an_input(hours_engine: DecisionEngine) -> None:
    """The same conversation decided at two instants differs only by the clock it was given."""
    conv = conversation("I want to talk to a real person")
    assert hours_engine.decide(conv, now=WEDNESDAY).agents_available is True
    assert hours_engine.decide(conv, now=SUNDAY_NIGHT).agents_available is False
    stamped = Conversation.model_validate(
        {
            "id": "c",
            "messages": [
                {"role": "customer", "text": "I want to talk to a real person", "created_at": "2026-11-29T03:00:00Z"}
            ],
        }
    )
    assert hours_engine.decide(stamped).agents_available is False


# -- policy validation ---------------------------------------------------------------------------------


def test_undefined_named_route_is_an_error() -> None:
    """``route: {use: sales}`` without ``routes.sales`` fails and names the field."""
    data = default_data()
    del data["routes"]["sales"]
    with pytest.raises(PolicyError, match=r"triggers.sales_lead.route.use.*'sales' is referenced but not defined"):
        policy_of(data)


def test_undefined_schedule_is_an_error() -> None:
    """A route naming a schedule the policy does not define fails."""
    data = default_data()
    data["routes"]["sales"]["schedule"] = "nowhere"
    with pytest.raises(PolicyError, match="schedule 'nowhere' is not defined"):
        policy_of(data)


def test_schedule_needs_hours_or_zendesk() -> None:
    """A schedule with neither hours nor a Zendesk source is rejected."""
    data = default_data()
    data["business_hours"] = {"schedules": {"support": {"timezone": "Europe/Madrid"}}}
    with pytest.raises(PolicyError, match="timezone and hours, or zendesk"):
        policy_of(data)


# -- handoff check ---------------------------------------------------------------------------------------


def _item(policy: Policy, name: str) -> ChecklistItem:
    return next(i for i in run_checklist(policy) if i.name == name)


def test_check_passes_with_every_route_on_a_schedule() -> None:
    """The default policy with schedules on every route passes the hours, sales and language checks."""
    policy = policy_of(with_hours(default_data()))
    for name in ("business hours on every route", "sales route defined", "fallback texts in every language"):
        assert _item(policy, name).passed, _item(policy, name)


def test_check_fails_when_one_route_has_no_schedule() -> None:
    """A route without a schedule while another has one fails and is named."""
    data = default_data()
    data["business_hours"] = HOURS
    data["routes"]["sales"]["schedule"] = "sales"
    item = _item(policy_of(data), "business hours on every route")
    assert not item.passed
    assert "defaults.route" in item.detail and "routes.sales" not in item.detail


def test_check_fails_when_sales_route_has_no_group() -> None:
    """sales_lead on with a route that names no group fails the sales-route check."""
    data = default_data()
    data["triggers"]["sales_lead"]["route"] = {"priority": "high"}
    assert not _item(policy_of(data), "sales route defined").passed


@pytest.mark.parametrize("key", ["out_of_hours", "out_of_hours_collect", "on_call", "sales_meeting"])
def test_check_fails_on_a_missing_fallback_text(key: str) -> None:
    """A fallback text missing in one supported language (Dutch here) fails the check, naming it."""
    data = with_hours(default_data())
    del data["messages"][key]["nl"]
    item = _item(policy_of(data), "fallback texts in every language")
    assert not item.passed and f"messages.{key}.nl" in item.detail


def test_check_wants_weekday_names_for_a_new_language() -> None:
    """A language without built-in weekday names needs messages.weekdays once schedules exist."""
    data = with_hours(default_data())
    for key in ("handoff", "offer_handoff", "out_of_hours", "out_of_hours_collect", "on_call", "sales_meeting"):
        data["messages"][key]["sv"] = "Text {when} {fields} {link}"
    item = _item(policy_of(data), "fallback texts in every language")
    assert not item.passed and item.detail == "missing: messages.weekdays.sv"
    data["messages"]["weekdays"] = {"sv": ["måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"]}
    assert _item(policy_of(data), "fallback texts in every language").passed


# -- example-based intent ----------------------------------------------------------------------------------

LEAD_EXAMPLES = [
    "We'd like to roll your product out to our whole support department",
    "Our company is looking for a tool like yours for about 200 agents",
    "Can you send a proposal for our organisation?",
    "We're comparing vendors for next year's budget and you're on the shortlist",
    "Who do I talk to about buying licences for my whole team?",
    "Our board approved the budget, we want to sign up the entire company",
    "We are a bank with 5,000 employees interested in your platform",
    "Could someone prepare an offer for our 3 offices?",
    "We want to replace our current helpdesk vendor with you",
    "I'm the IT manager and we'd like to onboard our staff",
]

NOT_LEAD_EXAMPLES = [
    "Why was my invoice higher this month?",
    "I was charged twice",
    "How do I reset my password?",
    "Where is my order?",
    "What are your opening hours?",
    "How do I add a user to my existing account?",
]


def test_example_based_intent_finds_leads_phrases_miss() -> None:
    """With lead examples in the policy, a paraphrase no phrase covers is a lead; billing questions still are not."""
    text = "Our firm wants to roll this out to our whole call centre of 400 people"
    plain = DecisionEngine(policy_of(default_data()))
    assert plain.decide(conversation(text), now=WEDNESDAY).lead is None, "no phrase covers this wording"
    data = default_data()
    data["triggers"]["sales_lead"]["examples"] = {"lead": LEAD_EXAMPLES, "not_lead": NOT_LEAD_EXAMPLES}
    data["triggers"]["sales_lead"]["example_threshold"] = 0.55
    engine = DecisionEngine(policy_of(data))
    d = engine.decide(conversation(text), now=WEDNESDAY)
    assert d.lead is not None and d.lead.team_size == 400 and d.lead.qualified
    sales = next(r for r in d.reasons if r.trigger is TriggerName.SALES_LEAD)
    assert sales.evidence[0].matched[0].startswith("like the example")
    for other in ("Why was my invoice higher for our 400 people this month?", "What time do you open?"):
        assert engine.decide(conversation(other), now=WEDNESDAY).lead is None, other


def test_check_flags_too_few_sales_examples() -> None:
    """Sales examples that are too few for a dependable label fail the sales check, naming the label."""
    data = default_data()
    data["triggers"]["sales_lead"]["examples"] = {"lead": LEAD_EXAMPLES[:3], "not_lead": NOT_LEAD_EXAMPLES}
    item = _item(policy_of(data), "sales route defined")
    assert not item.passed and "'lead' has 3 example(s)" in item.detail
    data["triggers"]["sales_lead"]["examples"] = {"lead": [*LEAD_EXAMPLES, "We need a quote for 50 seats"]}
    assert _item(policy_of(data), "sales route defined").passed

"""The running folds a handoff reads (facts, restricted topics, refund mentions, a lead's facts) equal the
plain reads.

Round 5 of issue 12 turned three whole-transcript reads of the handoff decision into running folds kept
in the records, so a handoff at message 1,001 reads the new message only. Each fold is checked here,
at every prefix of long chats stepped incrementally, against the computation it replaces written the
plain way over every customer message (real corpus messages: regression inputs, not accuracy evidence).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace

import pytest

from handoff_core import Conversation
from handoff_core.analysis import ConversationAnalysis, running
from handoff_core.decision import Evidence, Reason
from handoff_core.engine import DecisionEngine
from handoff_core.facts import extract_facts
from handoff_core.models import Customer
from handoff_core.policy import Policy
from handoff_core.text.normalize import fold
from handoff_core.topics import TopicHit
from handoff_core.triggers.base import TriggerContext, make_reason, phrase_evidence
from handoff_core.triggers.refund_exception import RefundException
from handoff_core.triggers.restricted_topic import RestrictedTopic
from handoff_core.triggers.sales_lead import _EMAIL_DOMAIN, LeadFacts, SalesLead, _number

from .conftest import ROOT

CORPUS = ROOT / "bench" / "corpus" / "messages.jsonl"
#: Texts that raise topics as requests and as questions about the rules, with facts to collect.
_EXTRA = [
    "What is your refund policy?",
    "I want a refund for order 12345, I paid $49.99 on 2024-03-02",
    "Do you offer refunds in general?",
    "my card was stolen, please block it, call me on +44 20 7946 0958",
    "refund please, this is the third time, order #A7781",
    "write to me at jane.doe@example.com about invoice INV-2231",
]


@pytest.fixture(scope="module")
def default_engine(default_policy: Policy) -> DecisionEngine:
    return DecisionEngine(default_policy)


def _chats(count: int, length: int) -> list[list[str]]:
    texts = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    short = [t for t in texts if len(t) <= 500]
    pool = _EXTRA + short
    return [[pool[(c * 37 + k * 11) % len(pool)] for k in range(length)] for c in range(count)]


def _contexts(engine: DecisionEngine, customer_texts: Sequence[str]) -> list[TriggerContext]:
    """The context of every prefix (customer, assistant, customer, ...), the analysis carried along."""
    replies = ["Let me check that for you.", "Could you tell me your order number?"]
    messages: list[dict[str, str]] = []
    previous: ConversationAnalysis | None = None
    found = []
    for k, text in enumerate(customer_texts):
        messages.append({"role": "customer", "text": text})
        conversation = Conversation.model_validate({"id": "c", "messages": messages})
        analysis = engine.analyze(conversation, previous)
        found.append(engine._prepare(conversation, analysis, None))
        previous = analysis
        messages.append({"role": "assistant", "text": replies[k % 2]})
    return found


def _reference_topics(trigger: RestrictedTopic, ctx: TriggerContext) -> list[Reason]:
    """The restricted-topic reasons as first written: every topic hit of the conversation read again."""
    config = trigger.config
    by_topic: dict[str, list[TopicHit]] = {}
    for hit in ctx.topic_hits:
        if hit.policy_question and config.topics[hit.topic].policy_questions == "continue":
            continue
        by_topic.setdefault(hit.topic, []).append(hit)
    reasons = []
    for name, hits in by_topic.items():
        topic = config.topics[name]
        label = topic.label or name.replace("_", " ")
        evidence = [
            phrase_evidence(h.message_index, ctx.analyzed[h.message_index], list(h.hits))
            if h.hits
            else Evidence(message_index=h.message_index, matched=h.matched, score=h.score, example=h.nearest)
            for h in hits[-3:]
        ]
        combo_only = all(h.via == "combo" for h in hits)
        learned = [h.score for h in hits if h.score is not None]
        phrased = any(h.via == "phrase" for h in hits)
        detail = f"restricted topic: {label}"
        if learned and not phrased:
            how = {h.via for h in hits if h.score is not None}
            names = sorted("trained detector" if v == "model" else "nearest example" for v in how)
            detail += " (" + " and ".join(names)
            detail += f", score {max(learned):.2f})"
        if all(h.policy_question for h in hits):
            detail += " (a question about the rules; this topic always goes to a person)"
        score = 0.9 if phrased else max(learned) if learned else 0.75 if combo_only else 0.9
        reasons.append(make_reason(trigger.name, topic, topic=name, detail=detail, score=score, evidence=evidence))
    return reasons


@pytest.mark.parametrize("chat", range(4))
def test_handoff_folds_equal_the_plain_reads(default_engine: DecisionEngine, chat: int) -> None:
    """At every prefix: facts, topic reasons and refund mentions from the folds equal a read of every message."""
    topics = next(t for t in default_engine._triggers if isinstance(t, RestrictedTopic))
    refunds = next(t for t in default_engine._triggers if isinstance(t, RefundException))
    refund_topic = refunds.config.refund_topic
    customer_texts = _chats(4, 40)[chat]
    raised = 0
    for k, ctx in enumerate(_contexts(default_engine, customer_texts)):
        assert default_engine._facts(ctx) == extract_facts(list(customer_texts[: k + 1])), k
        expected = _reference_topics(topics, ctx)
        assert list(topics(ctx)) == expected, k
        raised += len(expected)
        hits = [h for h in ctx.topic_hits if h.topic == refund_topic]
        asking = sorted({h.message_index for h in hits if not h.policy_question})
        folded = refunds._refunds_so_far(ctx)
        assert (folded.mentioned, folded.asking) == (bool(hits), len(asking)), k
        assert folded.latest == (asking[-1] if asking else -1), k
    assert raised > 20  # the chats really raise topics, several times over


def _reference_lead(trigger: SalesLead, ctx: TriggerContext) -> LeadFacts | None:
    """The lead's facts as first written: every customer message read again, from the latest back."""
    if not running(ctx.records, "sales_lead.any_intent", False, trigger._any_intent):
        return None
    evidence = [e for i in ctx.customer_indexes if (e := ctx.records[i].result(trigger.intent)) is not None]
    texts = [ctx.analyzed[i].text for i in ctx.customer_indexes]
    folded = [fold(t) for t in texts]
    team_size = next(
        (n for t in reversed(folded) for p in trigger._seats for m in p.finditer(t) if (n := _number(m["n"]))),
        None,
    )
    current = fold(ctx.conversation.customer.plan or "")
    plan = next(
        (name for t in reversed(folded) for name, p in trigger._plans.items() if p.search(t) and fold(name) != current),
        None,
    )
    timeline = None
    for i in reversed(ctx.customer_indexes):
        hits = trigger._timeline.match(ctx.analyzed[i])
        if hits:
            matched = phrase_evidence(i, ctx.analyzed[i], [p for h in hits for p in h.hits]).matched
            timeline = matched[0] if matched else None
            break
    customer = ctx.conversation.customer
    emails = [customer.email] if customer.email else []
    emails += [m["domain"] for t in texts for m in _EMAIL_DOMAIN.finditer(t)]
    domains = [e.rsplit("@", 1)[-1].lower() for e in emails]
    company_domain = next((d for d in domains if d not in trigger._free), None)
    company = customer.organization
    return LeadFacts(
        evidence=tuple(evidence),
        team_size=team_size,
        plan=plan,
        company=company or company_domain,
        company_domain=company_domain,
        timeline=timeline,
    )


#: A sales conversation: seats given twice (the latest counts), plans named (one is the customer's own),
#: a timeline, free-mail and company addresses, and ordinary support messages in between.
_SALES = [
    "Hi, we are looking at your pricing for our support team",
    "We are evaluating the business plan for about 40 seats",
    "my password reset link does not work",
    "write to me at jane@gmail.com please",
    "Actually it would be 300 seats, and we would rather take the enterprise plan",
    "we need it live by next quarter, timeline is tight",
    "my colleague is ops@acme-widgets.com, copy him",
    "what does the team plan cost per month?",
    "thanks, and my order 12345 never arrived",
    "Could you send a quote for 250 users on the enterprise plan?",
]


@pytest.mark.parametrize("own_plan", [None, "enterprise"])
def test_sales_lead_fold_equals_the_plain_read(default_policy: Policy, own_plan: str | None) -> None:
    """At every prefix of a long sales chat the lead's facts from the running fold (seats, plan asked for
    other than the customer's own, timeline, company domain, evidence) equal a read of every customer
    message, and every prefix stepped incrementally decides as a fresh read."""
    engine = DecisionEngine(default_policy)
    sales = next(t for t in engine._triggers if isinstance(t, SalesLead))
    customer_texts = [_SALES[k % len(_SALES)] for k in range(60)]
    seen: set[tuple[object, ...]] = set()
    customer = Customer(plan=own_plan)
    for found in _contexts(engine, customer_texts):
        ctx = found
        if own_plan is not None:
            ctx = replace(found, conversation=found.conversation.model_copy(update={"customer": customer}))
        expected = _reference_lead(sales, ctx)
        assert sales.facts(ctx) == expected, len(ctx.records)
        if expected is not None:
            seen.add((expected.team_size, expected.plan, expected.timeline, expected.company_domain))
    assert len(seen) >= 4, seen  # the facts really change along the chat
    messages: list[dict[str, str]] = []
    kept = None
    for k, text in enumerate(customer_texts[:24]):
        messages += [{"role": "customer", "text": text}, {"role": "assistant", "text": "Let me check."}]
        conversation = Conversation.model_validate({"id": "s", "messages": messages})
        decision, kept = engine.step(conversation, kept)
        assert decision.model_dump_json() == engine.decide(conversation).model_dump_json(), k

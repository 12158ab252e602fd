"""``sales_lead``: someone wants to buy, and what that is worth.

Why a trigger of its own: a prospect asking for "enterprise pricing for 300 seats" is not a support case,
and neither the assistant nor the support queue should sit on it. Buying intent is matched like every
other cue (phrases and combos from the policy, in the customer's language); a message that is an existing
customer's question about their own bill ("why was my invoice higher", "me cobraron dos veces") is not a
lead, whatever words it shares with one. The lead's value follows the policy's rules: a ``lead_value``
from the help desk wins; otherwise seats x seat price or the value of the plan asked for, whichever is
larger, plus a bonus for a company (not free-mail) e-mail domain. At or above the threshold the trigger
asks for a handoff to the sales route; below it, it reports a ``continue`` reason so the assistant can
offer the policy's meeting link.

The intent matcher sits behind :class:`IntentMatcher` (one call: analysed message in, evidence or
nothing out). Phrases and combos are always used; when the policy gives ``examples`` (messages that are
leads and, optionally, look-alikes that are not), the example-based matcher of
:mod:`handoff_core.examples` adds the messages whose nearest example is a lead. An existing customer's
billing question (``existing_customer``) vetoes both.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from handoff_core.analysis import CUSTOMER, FunctionDetector, MessageAnalysis, MessageDetector, running
from handoff_core.decision import Action, Evidence, Lead, Reason, TriggerName
from handoff_core.models import Role
from handoff_core.policy.schema import Matchable, Policy, SalesLeadConfig
from handoff_core.text.normalize import fold, quote
from handoff_core.text.phrases import AnalyzedText, Vocabulary
from handoff_core.text.rules import RuleSet
from handoff_core.triggers.base import TriggerContext, make_reason, phrase_evidence

if TYPE_CHECKING:
    from handoff_core.examples import ExampleMatcher

_EMAIL_DOMAIN = re.compile(r"[\w.+-]+@(?P<domain>[\w-]+(?:\.[\w-]+)+)")
_NUMBER = r"(?P<n>\d{1,3}(?:[.,\s]\d{3})+|\d{1,6})"
MAX_SEATS = 1_000_000
#: Where each record keeps whether any customer message up to it showed buying intent.
_ANY_INTENT = "sales_lead.any_intent"
#: Where each record keeps what the lead's facts read from the customer messages up to it (:class:`_SoFar`).
_SO_FAR = "sales_lead.so_far"
_PLAN_WORDS = r"(?:plan|plans|tier|edition|pricing|package|subscription|plano|offre|tarif|paket)"


class IntentMatcher(Protocol):
    """Buying intent in one analysed customer message: evidence, or None."""

    def __call__(self, index: int, text: AnalyzedText) -> Evidence | None: ...


class PhraseIntent:
    """Intent from the policy's phrases and combos, vetoed by an existing customer's billing question."""

    def __init__(self, config: SalesLeadConfig, vocabulary: Vocabulary) -> None:
        self._rules = RuleSet(
            vocabulary,
            {
                "intent": Matchable(phrases=config.phrases, combos=config.combos, exclude=config.exclude),
                "existing": config.existing_customer,
            },
        )
        self._examples: ExampleMatcher | None = None
        if config.examples.get("lead"):
            # Imported only when examples are configured: it loads numpy and the embedding tokenizer.
            from handoff_core.examples import ExampleMatcher

            self._examples = ExampleMatcher({str(k): v for k, v in config.examples.items()})
        self._threshold = config.example_threshold

    def __call__(self, index: int, text: AnalyzedText) -> Evidence | None:
        hits = self._rules.match(text)
        if any(h.rule == "existing" for h in hits):
            return None
        intent = [p for h in hits if h.rule == "intent" for p in h.hits]
        if intent:
            return phrase_evidence(index, text, intent)
        if self._examples is not None:
            found = self._examples.match(self._examples.featurize(text.text), self._threshold)
            if found is not None and found.label == "lead":
                return Evidence(
                    message_index=index,
                    matched=(f"like the example {found.nearest!r} ({found.score:.2f})",),
                    quote=quote(text.text, 0, min(len(text.text), 60)),
                )
        return None


@dataclass(frozen=True, slots=True)
class LeadFacts:
    """What the conversation says about the lead, before it is valued."""

    evidence: tuple[Evidence, ...]
    team_size: int | None
    plan: str | None
    company: str | None
    company_domain: str | None
    timeline: str | None


def _seat_patterns(config: SalesLeadConfig) -> tuple[re.Pattern[str], ...]:
    words = sorted({fold(w) for w in config.seat_words}, key=len, reverse=True)
    if not words:
        return ()
    alternatives = "|".join(re.escape(w) for w in words)
    return (re.compile(rf"\b{_NUMBER}\s+(?:\w+\s+)?(?:{alternatives})(?:s|es)?\b"),)


def _number(text: str) -> int | None:
    digits = re.sub(r"[.,\s]", "", text)
    value = int(digits) if digits.isdigit() else 0
    return value if 0 < value <= MAX_SEATS else None


@dataclass(frozen=True, slots=True)
class _SoFar:
    """What the customer messages up to a record say about a lead, each message read once.

    The same answers as reading every customer message from the latest back: the seats of the latest
    message that gives a number of them; per plan of the policy the latest message naming it (the plan
    asked for depends on the customer's current plan, read at decision time); the timeline of the latest
    message with one; the first company e-mail domain written in a message; every message's intent.
    """

    evidence: tuple[Evidence, ...] = ()
    team_size: int | None = None
    #: Per plan, in the policy's order, the index of the latest customer message naming it (-1: none);
    #: empty until a message names one.
    plans: tuple[int, ...] = ()
    timeline: str | None = None
    domain: str | None = None


_NOTHING_YET = _SoFar()


class SalesLead:
    name = TriggerName.SALES_LEAD

    def __init__(self, policy: Policy, vocabulary: Vocabulary, intent: IntentMatcher | None = None) -> None:
        self.config = policy.triggers.sales_lead
        self._intent = intent or PhraseIntent(self.config, vocabulary)
        #: Buying intent is read once per message, when it arrives (see :mod:`handoff_core.analysis`).
        self.intent: FunctionDetector[Evidence | None] = FunctionDetector(
            "sales_lead.intent", CUSTOMER, self._intent.__call__
        )
        self.detectors: tuple[MessageDetector[object], ...] = (self.intent,)
        self._timeline = RuleSet(vocabulary, {"timeline": Matchable(phrases=self.config.timeline)})
        self._seats = _seat_patterns(self.config)
        # A plan counts when it is named as one ("enterprise plan", "plan enterprise"), not as any word:
        # "our team" does not ask for the Team plan.
        self._plans = {
            name: re.compile(rf"\b(?:{key}\s+{_PLAN_WORDS}|{_PLAN_WORDS}\s+{key})\b")
            for name in self.config.value.plans
            for key in (re.escape(fold(name)),)
        }
        self._free = frozenset(d.lower() for d in self.config.value.free_mail_domains)

    def _any_intent(self, seen: bool, record: MessageAnalysis) -> bool:
        return seen or (record.role is Role.CUSTOMER and record.result(self.intent) is not None)

    def facts(self, ctx: TriggerContext) -> LeadFacts | None:
        """The lead in this conversation, or None when no customer message shows buying intent."""
        if not self.config.enabled:
            return None
        # Most conversations show no buying intent: a running flag (resumed from the last decision's
        # records) says so without reading every message again.
        if not running(ctx.records, _ANY_INTENT, False, self._any_intent):
            return None
        # What the customer messages say is a running fold too (:class:`_SoFar`): a long sales conversation
        # decided again on every message read every customer message again (~60 ms at message 1,001).
        so_far = running(ctx.records, _SO_FAR, _NOTHING_YET, self._read)
        current = fold(ctx.conversation.customer.plan or "")
        # The plan named in the latest message that names one other than the customer's current plan
        # (the first of the policy's plans named there).
        plan, latest = None, -1
        for name, last in zip(self._plans, so_far.plans or (-1,) * len(self._plans), strict=True):
            if last > latest and fold(name) != current:
                plan, latest = name, last
        customer, context = ctx.conversation.customer, ctx.conversation.context
        # The first company (not free-mail) domain: the customer's own e-mail's, else the messages' first.
        own = customer.email.rsplit("@", 1)[-1].lower() if customer.email else None
        company_domain = own if own is not None and own not in self._free else so_far.domain
        extra_company = context.extras.get("company")
        company = customer.organization or (extra_company if isinstance(extra_company, str) else None)
        return LeadFacts(
            evidence=so_far.evidence,
            team_size=so_far.team_size,
            plan=plan,
            company=company or company_domain,
            company_domain=company_domain,
            timeline=so_far.timeline,
        )

    def _read(self, so_far: _SoFar, record: MessageAnalysis) -> _SoFar:
        """``so_far`` with one more message read: the same object when it adds nothing (most messages)."""
        if record.role is not Role.CUSTOMER:
            return so_far
        changed: dict[str, object] = {}
        evidence = record.result(self.intent)
        if evidence is not None:
            changed["evidence"] = (*so_far.evidence, evidence)
        text = record.analyzed.text
        folded = fold(text)
        seats = next((n for p in self._seats for m in p.finditer(folded) if (n := _number(m["n"]))), None)
        if seats is not None:
            changed["team_size"] = seats
        named = [k for k, p in enumerate(self._plans.values()) if p.search(folded)]
        if named:
            plans = list(so_far.plans or (-1,) * len(self._plans))
            for k in named:
                plans[k] = record.index
            changed["plans"] = tuple(plans)
        hits = self._timeline.match(record.analyzed)
        if hits:
            matched = phrase_evidence(record.index, record.analyzed, [p for h in hits for p in h.hits]).matched
            changed["timeline"] = matched[0] if matched else None
        if so_far.domain is None:
            domains = (m["domain"].rsplit("@", 1)[-1].lower() for m in _EMAIL_DOMAIN.finditer(text))
            domain = next((d for d in domains if d not in self._free), None)
            if domain is not None:
                changed["domain"] = domain
        return replace(so_far, **changed) if changed else so_far  # type: ignore[arg-type]

    def assess(self, ctx: TriggerContext, found: LeadFacts | None = None) -> Lead | None:
        """The lead valued by the policy's rules, or None when there is no buying intent."""
        found = found or self.facts(ctx)
        if found is None:
            return None
        cfg, rules = self.config, self.config.value
        basis: list[str] = []
        given = ctx.conversation.context.lead_value
        if given is not None:
            value = given
            basis.append(f"lead_value {given} from the help desk")
        else:
            by_seats = (
                Decimal(found.team_size) * rules.seat_price
                if found.team_size is not None and rules.seat_price is not None
                else Decimal(0)
            )
            by_plan = rules.plans.get(found.plan, Decimal(0)) if found.plan else Decimal(0)
            value = max(by_seats, by_plan)
            if by_seats and by_seats >= by_plan:
                basis.append(f"{found.team_size} seats x {rules.seat_price}")
            elif by_plan:
                basis.append(f"plan {found.plan} ({by_plan})")
            if found.company_domain and rules.company_domain:
                value += rules.company_domain
                basis.append(f"company domain {found.company_domain} (+{rules.company_domain})")
        return Lead(
            value=value,
            currency=cfg.currency,
            threshold=cfg.threshold,
            qualified=value >= cfg.threshold,
            basis=tuple(basis),
            team_size=found.team_size,
            plan=found.plan,
            company=found.company,
            timeline=found.timeline,
        )

    def __call__(self, ctx: TriggerContext) -> Sequence[Reason]:
        found = self.facts(ctx)
        lead = self.assess(ctx, found) if found is not None else None
        if found is None or lead is None:
            return ()
        evidence = list(found.evidence[-2:])
        currency = f" {lead.currency}" if lead.currency else ""
        worth = f"worth {lead.value}{currency}" + (f" ({'; '.join(lead.basis)})" if lead.basis else "")
        if lead.qualified:
            return (
                make_reason(
                    self.name,
                    self.config,
                    detail=f"sales lead {worth}, at or above the {lead.threshold}{currency} threshold",
                    score=1.0 if lead.threshold == 0 else min(1.0, 0.6 + 0.4 * float(lead.value / lead.threshold - 1)),
                    evidence=evidence,
                ),
            )
        return (
            make_reason(
                self.name,
                self.config,
                action=Action.CONTINUE,
                detail=f"sales interest {worth}, below the {lead.threshold}{currency} threshold",
                score=0.5 * float(lead.value / lead.threshold) if lead.threshold else 0.5,
                evidence=evidence,
                alert=False,
            ),
        )

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
from dataclasses import dataclass
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
        evidence = [e for i in ctx.customer_indexes if (e := ctx.records[i].result(self.intent)) is not None]
        texts = [ctx.analyzed[i].text for i in ctx.customer_indexes]
        folded = [fold(t) for t in texts]
        team_size = next(
            (n for t in reversed(folded) for p in self._seats for m in p.finditer(t) if (n := _number(m["n"]))),
            None,
        )
        current = fold(ctx.conversation.customer.plan or "")
        plan = next(
            (
                name
                for t in reversed(folded)
                for name, p in self._plans.items()
                if p.search(t) and fold(name) != current
            ),
            None,
        )
        timeline = None
        for i in reversed(ctx.customer_indexes):
            hits = self._timeline.match(ctx.analyzed[i])
            if hits:
                matched = phrase_evidence(i, ctx.analyzed[i], [p for h in hits for p in h.hits]).matched
                timeline = matched[0] if matched else None
                break
        customer, context = ctx.conversation.customer, ctx.conversation.context
        emails = [customer.email] if customer.email else []
        emails += [m["domain"] for t in texts for m in _EMAIL_DOMAIN.finditer(t)]
        domains = [e.rsplit("@", 1)[-1].lower() for e in emails]
        company_domain = next((d for d in domains if d not in self._free), None)
        extra_company = context.extras.get("company")
        company = customer.organization or (extra_company if isinstance(extra_company, str) else None)
        return LeadFacts(
            evidence=tuple(evidence),
            team_size=team_size,
            plan=plan,
            company=company or company_domain,
            company_domain=company_domain,
            timeline=timeline,
        )

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

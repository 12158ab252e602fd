"""``vip``: the customer is one the team wants a person to look after (tags, plan, organization, value)."""

from __future__ import annotations

from collections.abc import Sequence

from handoff_core.analysis import MessageDetector
from handoff_core.decision import Evidence, Reason, TriggerName
from handoff_core.policy.schema import Policy
from handoff_core.text.normalize import fold
from handoff_core.triggers.base import TriggerContext, make_reason


class Vip:
    name = TriggerName.VIP
    #: Reads only what the engine analyses for every trigger (topics, sentiment) or the customer record.
    detectors: tuple[MessageDetector[object], ...] = ()

    def __init__(self, policy: Policy) -> None:
        self.config = policy.triggers.vip
        self._tags = frozenset(fold(t) for t in self.config.tags)
        self._plans = frozenset(fold(p) for p in self.config.plans)
        self._orgs = frozenset(fold(o) for o in self.config.organizations)

    def __call__(self, ctx: TriggerContext) -> Sequence[Reason]:
        cfg = self.config
        if not cfg.enabled:
            return ()
        customer = ctx.conversation.customer
        found: list[tuple[str, Evidence]] = []
        tags = [t for t in customer.tags if fold(t) in self._tags]
        if tags:
            found.append((f"tagged {', '.join(tags)}", Evidence(field="customer.tags", matched=tuple(tags))))
        if customer.plan and fold(customer.plan) in self._plans:
            found.append((f"on the {customer.plan} plan", Evidence(field="customer.plan", matched=(customer.plan,))))
        if customer.organization and fold(customer.organization) in self._orgs:
            found.append(
                (
                    f"from {customer.organization}",
                    Evidence(field="customer.organization", matched=(customer.organization,)),
                )
            )
        value = customer.lifetime_value
        if cfg.min_lifetime_value is not None and value is not None and value >= cfg.min_lifetime_value:
            found.append(
                (
                    f"lifetime value {value} (threshold {cfg.min_lifetime_value})",
                    Evidence(field="customer.lifetime_value", matched=(str(value),)),
                )
            )
        if not found:
            return ()
        return (
            make_reason(
                self.name,
                cfg,
                detail="VIP customer: " + "; ".join(f[0] for f in found),
                score=1.0,
                evidence=[f[1] for f in found],
            ),
        )

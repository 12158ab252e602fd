"""``refund_exception``: a refund request that falls outside what the assistant may grant.

Exceptions are read from the help desk's context (amount over a limit, purchase outside the refund
window, earlier refunds) and from the conversation (the customer asks for an exception, or keeps asking
for a refund). They only apply when there is a refund request: a question about the refund policy is
not an exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from handoff_core.analysis import CUSTOMER, FunctionDetector, MessageAnalysis, MessageDetector, running
from handoff_core.decision import Evidence, Reason, TriggerName
from handoff_core.models import Role
from handoff_core.policy.schema import Policy
from handoff_core.text.phrases import AnalyzedText, Vocabulary
from handoff_core.text.rules import RuleSet
from handoff_core.topics import TOPIC_HITS, TopicHit
from handoff_core.triggers.base import TriggerContext, make_reason, phrase_evidence

#: Where each record keeps the latest ask for an exception up to it.
_LATEST_ASK = "refund_exception.latest_ask"
#: Where each record keeps its refund mentions so far (a running fold, :class:`_Refunds`).
_REFUNDS = "refund_exception.refunds"


@dataclass(frozen=True, slots=True)
class _Refunds:
    """The refund-topic hits of the customer messages so far, as the trigger reads them."""

    #: Any hit, a question about the rules included.
    mentioned: bool = False
    #: How many messages ask for a refund (a hit that is not a question about the rules), and the latest.
    asking: int = 0
    latest: int = -1


_NO_REFUNDS = _Refunds()


class RefundException:
    name = TriggerName.REFUND_EXCEPTION

    def __init__(self, policy: Policy, vocabulary: Vocabulary) -> None:
        self.config = policy.triggers.refund_exception
        self._rules = RuleSet(vocabulary, {"exception": self.config})
        self.asks = FunctionDetector("refund_exception.asks", CUSTOMER, self._asks)
        self.detectors: tuple[MessageDetector[object], ...] = (self.asks,)

    def __call__(self, ctx: TriggerContext) -> Sequence[Reason]:
        cfg = self.config
        if not cfg.enabled:
            return ()
        refunds = self._refunds_so_far(ctx)
        context = ctx.conversation.context
        if not refunds.asking and context.refund_amount is None:
            asks_only = self._exception_asks(ctx) if refunds.mentioned else []
            return self._reasons(ctx, [], asks_only)
        findings: list[tuple[str, float, Evidence]] = []
        amount = context.refund_amount if context.refund_amount is not None else context.order_total
        if cfg.max_amount is not None and amount is not None and amount > cfg.max_amount:
            field = "context.refund_amount" if context.refund_amount is not None else "context.order_total"
            currency = f" {context.currency}" if context.currency else ""
            findings.append(
                (
                    f"amount {amount}{currency} is above the {cfg.max_amount}{currency} limit",
                    min(1.0, 0.6 + float((amount - cfg.max_amount) / max(cfg.max_amount, Decimal(1))) * 0.4),
                    Evidence(field=field, matched=(str(amount),)),
                )
            )
        if cfg.window_days is not None and context.purchase_date is not None:
            purchased = context.purchase_date
            now = ctx.now if purchased.tzinfo is not None else ctx.now.replace(tzinfo=None)
            days = (now - purchased).days
            if days > cfg.window_days:
                findings.append(
                    (
                        f"purchased {days} days ago, outside the {cfg.window_days}-day refund window",
                        0.85,
                        Evidence(field="context.purchase_date", matched=(purchased.date().isoformat(),)),
                    )
                )
        if (
            cfg.max_previous_refunds is not None
            and context.previous_refunds is not None
            and context.previous_refunds >= cfg.max_previous_refunds
        ):
            findings.append(
                (
                    f"{context.previous_refunds} earlier refunds (limit {cfg.max_previous_refunds})",
                    0.8,
                    Evidence(field="context.previous_refunds", matched=(str(context.previous_refunds),)),
                )
            )
        if cfg.repeat_requests is not None and refunds.asking >= cfg.repeat_requests:
            findings.append(
                (
                    f"asked for a refund in {refunds.asking} messages",
                    0.75,
                    Evidence(message_index=refunds.latest),
                )
            )
        return self._reasons(ctx, findings, self._exception_asks(ctx))

    def _exception_asks(self, ctx: TriggerContext) -> list[tuple[str, float, Evidence]]:
        # The latest ask in any customer message so far, resumed from the last decision's records.
        evidence = running(ctx.records, _LATEST_ASK, None, self._latest_ask)
        if evidence is not None:
            return [("the customer asks for an exception to the refund rules", 0.85, evidence)]
        return []

    def _refunds_so_far(self, ctx: TriggerContext) -> _Refunds:
        """The refund mentions of every customer message: a fold over the records, so a decision reads
        the new message's topic hits only."""
        return running(ctx.records, _REFUNDS, _NO_REFUNDS, self._refunds)

    def _refunds(self, so_far: _Refunds, record: MessageAnalysis) -> _Refunds:
        """The refund mentions up to ``record``: ``so_far`` itself when its message has none."""
        hits = record.results.get(TOPIC_HITS) if record.role is Role.CUSTOMER else None
        if not hits:
            return so_far
        refund = [h for h in cast("list[TopicHit]", hits) if h.topic == self.config.refund_topic]
        if not refund:
            return so_far
        if all(h.policy_question for h in refund):
            return so_far if so_far.mentioned else _Refunds(True, so_far.asking, so_far.latest)
        return _Refunds(True, so_far.asking + 1, record.index)

    def _latest_ask(self, latest: Evidence | None, record: MessageAnalysis) -> Evidence | None:
        ask = record.result(self.asks) if record.role is Role.CUSTOMER else None
        return latest if ask is None else ask

    def _asks(self, index: int, text: AnalyzedText) -> Evidence | None:
        hits = self._rules.match(text)
        return phrase_evidence(index, text, [p for h in hits for p in h.hits]) if hits else None

    def _reasons(
        self,
        ctx: TriggerContext,
        findings: list[tuple[str, float, Evidence]],
        asks: list[tuple[str, float, Evidence]],
    ) -> Sequence[Reason]:
        findings = findings + asks
        if not findings:
            return ()
        return (
            make_reason(
                self.name,
                self.config,
                topic=self.config.refund_topic,
                detail="refund exception: " + "; ".join(f[0] for f in findings),
                score=max(f[1] for f in findings),
                evidence=[f[2] for f in findings],
            ),
        )

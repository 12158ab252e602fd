"""The review's computation as it was before it became a one-pass stream (commit 9af57ff), kept verbatim
as a test oracle: the streamed review must give exactly these figures on the same store. The sales and
business-hours figures (``_sales_and_hours``) are the issue-13 computation as first written (057a077).

Only the grouping of unanswered questions is left out (it changed on purpose; its quality is measured
by ``bench/eval_clusters.py``). Not used by the product.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from connectors.audit.queries import DecisionRecord
from connectors.report.data import (
    ALREADY_HANDED_OFF,
    CLAIM_BUCKETS,
    LOW_CONFIDENCE,
    UNANSWERED_STATUSES,
    AlertRow,
    Checklist,
    ClaimStats,
    DayRow,
    Quality,
    QuestionGroup,
    RateRow,
    Review,
    SalesAndHours,
    percentile,
)
from connectors.report.period import Period

# -- computation ---------------------------------------------------------------------------------------


def is_handoff(record: DecisionRecord) -> bool:
    """A ``handoff`` decision that hands over (not a repeat for a conversation already with a person)."""
    return record.action == "handoff" and not (record.triggers and set(record.triggers) == {ALREADY_HANDED_OFF})


def is_offer(record: DecisionRecord) -> bool:
    return record.action == "offer_handoff"


def is_unanswered(record: DecisionRecord) -> bool:
    """The assistant had no confident, approved answer to the last question."""
    status = record.signals.get("knowledge_status")
    return LOW_CONFIDENCE in record.triggers or (isinstance(status, str) and status in UNANSWERED_STATUSES)


def _rate_rows(
    records: Sequence[DecisionRecord],
    keys_of: Callable[[DecisionRecord], Sequence[str]],
    denominator: Callable[[str], int],
    all_keys: Sequence[str] = (),
) -> tuple[RateRow, ...]:
    handed: dict[str, set[str]] = {}
    offered: dict[str, set[str]] = {}
    for record in records:
        target = handed if is_handoff(record) else offered if is_offer(record) else None
        if target is None:
            continue
        for key in keys_of(record):
            target.setdefault(key, set()).add(record.conversation_id)
    rows = [
        RateRow(key, denominator(key), len(handed.get(key, ())), len(offered.get(key, ())))
        for key in set(handed) | set(offered) | set(all_keys)
    ]
    return tuple(sorted(rows, key=lambda r: (-r.handed_off, -r.offered, r.key)))


def _claim_stats(records: Sequence[DecisionRecord]) -> ClaimStats:
    seconds = [s for r in records if (s := r.claim_seconds()) is not None]
    return ClaimStats(len(records), len(seconds), percentile(seconds, 0.5), percentile(seconds, 0.9))


def _quality(records: Sequence[DecisionRecord]) -> Quality:
    handoffs = [r for r in records if is_handoff(r)]
    seconds = [s for r in handoffs if (s := r.claim_seconds()) is not None]
    histogram = Counter(next(label for label, bound in CLAIM_BUCKETS if s <= bound) for s in seconds)
    alerts = [r for r in records if r.alert]
    return Quality(
        handoffs=len(handoffs),
        not_needed=sum(1 for r in handoffs if r.event("not_needed")),
        handoff_wrong=sum(1 for r in handoffs if r.event("handoff_wrong")),
        unnecessary=sum(1 for r in handoffs if r.event("not_needed") or r.event("handoff_wrong")),
        missed=sum(1 for r in records if r.action == "continue" and r.event("missed_handoff")),
        claims=_claim_stats(handoffs),
        claim_histogram=tuple((label, histogram.get(label, 0)) for label, _ in CLAIM_BUCKETS),
        alerts=(
            AlertRow("All Slack alerts", _claim_stats(alerts)),
            AlertRow("VIP", _claim_stats([r for r in alerts if r.vip])),
            AlertRow("Angry", _claim_stats([r for r in alerts if r.angry])),
        ),
        zendesk_failed=sum(1 for r in handoffs if r.reached("zendesk") is False),
        slack_failed=sum(1 for r in alerts if r.reached("slack") is False),
    )


def _sales_and_hours(records: Sequence[DecisionRecord]) -> SalesAndHours:
    handoffs = [r for r in records if is_handoff(r)]
    to_sales: dict[str, float] = {}
    smaller: set[str] = set()
    for r in records:
        if r.lead_value is None:
            continue
        if r.lead_qualified and is_handoff(r):
            to_sales[r.conversation_id] = r.lead_value
        elif not r.lead_qualified:
            smaller.add(r.conversation_id)
    values = list(to_sales.values())
    closed = [r for r in handoffs if r.agents_available is False]
    return SalesAndHours(
        leads_to_sales=len(to_sales),
        lead_value_total=sum(values),
        lead_value_median=percentile(values, 0.5),
        smaller_leads=len(smaller - set(to_sales)),
        out_of_hours=len(closed),
        out_of_hours_claims=_claim_stats(closed),
        with_schedule=sum(1 for r in handoffs if r.agents_available is not None),
    )


def unanswered_groups(
    records: Sequence[DecisionRecord], threshold: float = 0.0, *, group: bool = True
) -> tuple[int, tuple[QuestionGroup, ...]]:
    """(number of unanswered questions, their groups largest first; no groups when ``group`` is off).

    A question asked again in the same conversation counts once.
    """
    seen: set[tuple[str, str]] = set()
    questions: list[str] = []
    topics: list[tuple[str, ...]] = []
    for record in records:
        if not is_unanswered(record) or not record.question:
            continue
        key = (record.conversation_id, record.question.strip().lower())
        if key in seen:
            continue
        seen.add(key)
        questions.append(record.question.strip())
        topics.append(record.topics)
    del topics, threshold, group  # the oracle compares counts; the grouping itself changed on purpose
    return len(questions), ()


def build_review(
    records: Sequence[DecisionRecord],
    period: Period,
    *,
    include_simulated: bool = False,
    checklist: Checklist | None = None,
    previous: Review | None = None,
    group_questions: bool = True,
) -> Review:
    """The review of ``records`` (already filtered to ``period`` and to live/simulated as wanted).

    ``group_questions=False`` counts unanswered questions without grouping them (the previous period
    of a comparison only needs the count).
    """
    inside = [r for r in records if period.start <= r.decided_at < period.end]
    conversations = {r.conversation_id for r in inside}
    by_channel_conversations: dict[str, set[str]] = {}
    for r in inside:
        by_channel_conversations.setdefault(r.channel, set()).add(r.conversation_id)
    total = len(conversations)
    daily = []
    for day in period.days():
        todays = [r for r in inside if r.decided_at.date() == day]
        daily.append(
            DayRow(
                day=day,
                decisions=len(todays),
                conversations=len({r.conversation_id for r in todays}),
                handed_off=len({r.conversation_id for r in todays if is_handoff(r)}),
                offered=len({r.conversation_id for r in todays if is_offer(r)}),
            )
        )
    policy_counts = Counter((r.policy_version, r.policy_hash) for r in inside)
    unanswered_total, unanswered = unanswered_groups(inside, group=group_questions)
    return Review(
        period=period,
        include_simulated=include_simulated,
        decisions=len(inside),
        simulated_decisions=sum(1 for r in inside if r.simulated),
        conversations=total,
        handed_off=len({r.conversation_id for r in inside if is_handoff(r)}),
        offered=len({r.conversation_id for r in inside if is_offer(r)}),
        by_trigger=_rate_rows(inside, lambda r: [t for t in r.triggers if t != ALREADY_HANDED_OFF], lambda _: total),
        by_topic=_rate_rows(inside, lambda r: r.topics or ("(no topic)",), lambda _: total),
        by_channel=_rate_rows(
            inside,
            lambda r: (r.channel,),
            lambda c: len(by_channel_conversations.get(c, ())),
            all_keys=list(by_channel_conversations),
        ),
        daily=tuple(daily),
        quality=_quality(inside),
        sales_hours=_sales_and_hours(inside),
        unanswered_total=unanswered_total,
        unanswered=unanswered,
        policies=tuple((v, h, n) for (v, h), n in policy_counts.most_common()),
        checklist=checklist,
        previous=previous,
    )

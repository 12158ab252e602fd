"""The weekly handoff-quality review as numbers, computed from audit records.

Why the numbers are computed here once: the HTML page, the Markdown file and the Slack post must agree,
so they all render one :class:`Review` and none of them counts anything itself.

Units, chosen so that each number answers one question a support lead asks:

- *conversations*: distinct conversations with at least one decision in the period;
- *handed off*: conversations with at least one ``handoff`` decision (decisions whose only reason is
  ``already_handed_off`` do not count: the conversation was with a person already). Rates by channel
  divide by that channel's conversations; rates by trigger and topic divide by all conversations, so
  they show how much of the traffic each trigger sends to people;
- *handoffs* (quality section): ``handoff`` decisions, because feedback and claims attach to one;
  *unnecessary*: handoffs marked "Not needed" in Slack or tagged ``handoff_wrong`` in Zendesk;
  *missed*: ``continue`` decisions followed by a handoff in the same conversation, as a share of
  handoffs ("how many handoffs came late");
- *time to claim*: from the handoff decision to the first Slack "Claim"; median and p90 with linear
  interpolation between ranks (numpy's default);
- *alerts*: decisions that raised a Slack alert, split into VIP (a ``vip`` reason) and angry
  (``signals.angry``);
- *unanswered questions*: the last customer question of decisions with a ``low_confidence`` reason or a
  knowledge status saying the approved knowledge has no answer, grouped by :mod:`.clusters`.

Errors: none of its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from connectors.audit.queries import DecisionRecord
from connectors.report import clusters
from connectors.report.period import Period

ALREADY_HANDED_OFF = "already_handed_off"
LOW_CONFIDENCE = "low_confidence"
#: Knowledge statuses (``signals.knowledge_status``) that mean "no approved answer for this question".
UNANSWERED_STATUSES = frozenset({"no_source"})
#: Claim-time histogram buckets: (label, upper bound in seconds).
CLAIM_BUCKETS: tuple[tuple[str, float], ...] = (
    ("≤ 1 min", 60.0),
    ("1–5 min", 300.0),
    ("5–15 min", 900.0),
    ("15–60 min", 3600.0),
    ("1–4 h", 14400.0),
    ("> 4 h", float("inf")),
)
MAX_EXAMPLES = 3


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) with linear interpolation between ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class RateRow:
    """Handoffs and offers for one trigger, topic or channel."""

    key: str
    conversations: int
    handed_off: int
    offered: int

    @property
    def rate(self) -> float | None:
        return share(self.handed_off, self.conversations)

    @property
    def offer_rate(self) -> float | None:
        return share(self.offered, self.conversations)


@dataclass(frozen=True)
class DayRow:
    day: date
    decisions: int
    conversations: int
    handed_off: int
    offered: int

    @property
    def rate(self) -> float | None:
        return share(self.handed_off, self.conversations)


@dataclass(frozen=True)
class ClaimStats:
    """How many of ``total`` were claimed in Slack, and how fast."""

    total: int
    claimed: int
    median_seconds: float | None
    p90_seconds: float | None

    @property
    def claimed_share(self) -> float | None:
        return share(self.claimed, self.total)


@dataclass(frozen=True)
class AlertRow:
    label: str
    stats: ClaimStats


@dataclass(frozen=True)
class Quality:
    handoffs: int
    not_needed: int
    handoff_wrong: int
    unnecessary: int
    missed: int
    claims: ClaimStats
    claim_histogram: tuple[tuple[str, int], ...]
    alerts: tuple[AlertRow, ...]
    zendesk_failed: int
    slack_failed: int

    @property
    def unnecessary_share(self) -> float | None:
        return share(self.unnecessary, self.handoffs)

    @property
    def missed_share(self) -> float | None:
        return share(self.missed, self.handoffs)


@dataclass(frozen=True)
class SalesAndHours:
    """Leads handed to sales and their value; handoffs made out of hours and how fast someone claimed them.

    *Leads to sales*: conversations with a handoff whose lead was at or above the policy's threshold;
    *value*: the sum and median of those leads (one value per conversation, its last); *smaller leads*:
    conversations with buying intent below the threshold (offered a meeting link, not handed over).
    *Out of hours*: handoff decisions made when the route's schedule was closed; their claims as in the
    quality section (from the handoff decision to the first Slack "Claim").
    """

    leads_to_sales: int = 0
    lead_value_total: float = 0.0
    lead_value_median: float | None = None
    smaller_leads: int = 0
    out_of_hours: int = 0
    out_of_hours_claims: ClaimStats = field(default_factory=lambda: ClaimStats(0, 0, None, None))
    #: Handoffs decided with a schedule at all (in or out of hours); 0 means the policy has no schedules.
    with_schedule: int = 0


@dataclass(frozen=True)
class QuestionGroup:
    label: str
    size: int
    examples: tuple[str, ...]
    topics: tuple[str, ...]


@dataclass(frozen=True)
class ChecklistEntry:
    name: str
    passed: bool
    fix: str


@dataclass(frozen=True)
class Checklist:
    """The launch checklist from ``handoff check``, or why it could not be run."""

    entries: tuple[ChecklistEntry, ...] = ()
    error: str | None = None

    @property
    def passed(self) -> int:
        return sum(1 for e in self.entries if e.passed)


@dataclass(frozen=True)
class Review:
    period: Period
    include_simulated: bool
    decisions: int
    simulated_decisions: int
    conversations: int
    handed_off: int
    offered: int
    by_trigger: tuple[RateRow, ...]
    by_topic: tuple[RateRow, ...]
    by_channel: tuple[RateRow, ...]
    daily: tuple[DayRow, ...]
    quality: Quality
    unanswered_total: int
    unanswered: tuple[QuestionGroup, ...]
    policies: tuple[tuple[str, str, int], ...]
    checklist: Checklist | None = None
    previous: Review | None = field(default=None, compare=False)
    sales_hours: SalesAndHours = field(default_factory=SalesAndHours)

    @property
    def handoff_rate(self) -> float | None:
        return share(self.handed_off, self.conversations)

    @property
    def offer_rate(self) -> float | None:
        return share(self.offered, self.conversations)


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
    records: Sequence[DecisionRecord], threshold: float = clusters.DEFAULT_THRESHOLD, *, group: bool = True
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
    groups: list[QuestionGroup] = []
    for members in clusters.cluster(questions, threshold) if group else ():
        texts = [questions[i] for i in members]
        examples = tuple(dict.fromkeys(texts))[:MAX_EXAMPLES]
        group_topics = tuple(dict.fromkeys(t for i in members for t in topics[i]))
        label = clusters.label(texts, questions)
        groups.append(QuestionGroup(label, len(members), examples, group_topics))
    return len(questions), tuple(groups)


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

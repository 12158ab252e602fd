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

How: one pass over the decisions (:class:`Tally`), in time order, keeping only sets of conversation
ids, claim durations and the unanswered questions, so a review of any length is read as a stream
(:func:`connectors.report.queries.iter_review_rows`) and never held in memory as records.

Errors: none of its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from connectors.audit.queries import DecisionRecord
from connectors.report import clusters
from connectors.report.period import Period
from connectors.report.queries import ReviewRow

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


def is_handoff(record: ReviewRow) -> bool:
    """A ``handoff`` decision that hands over (not a repeat for a conversation already with a person)."""
    return record.action == "handoff" and not (record.triggers and set(record.triggers) == {ALREADY_HANDED_OFF})


def is_offer(record: ReviewRow) -> bool:
    return record.action == "offer_handoff"


def is_unanswered(record: ReviewRow) -> bool:
    """The assistant had no confident, approved answer to the last question."""
    status = record.knowledge_status
    return LOW_CONFIDENCE in record.triggers or (status is not None and status in UNANSWERED_STATUSES)


@dataclass
class _Rates:
    """Conversations handed off and offered a handoff, per key (trigger, topic or channel)."""

    handed: dict[str, set[str]] = field(default_factory=dict)
    offered: dict[str, set[str]] = field(default_factory=dict)

    def add(self, keys: Iterable[str], conversation_id: str, handed: bool) -> None:
        target = self.handed if handed else self.offered
        for key in keys:
            target.setdefault(key, set()).add(conversation_id)

    def rows(self, denominator: dict[str, int] | int, all_keys: Iterable[str] = ()) -> tuple[RateRow, ...]:
        def total(key: str) -> int:
            return denominator if isinstance(denominator, int) else denominator.get(key, 0)

        rows = [
            RateRow(key, total(key), len(self.handed.get(key, ())), len(self.offered.get(key, ())))
            for key in set(self.handed) | set(self.offered) | set(all_keys)
        ]
        return tuple(sorted(rows, key=lambda r: (-r.handed_off, -r.offered, r.key)))


@dataclass
class _Day:
    decisions: int = 0
    conversations: set[str] = field(default_factory=set)
    handed_off: set[str] = field(default_factory=set)
    offered: set[str] = field(default_factory=set)


@dataclass
class _Claims:
    total: int = 0
    seconds: list[float] = field(default_factory=list)

    def add(self, row: ReviewRow) -> None:
        self.total += 1
        if row.claim_seconds is not None:
            self.seconds.append(row.claim_seconds)

    def stats(self) -> ClaimStats:
        s = self.seconds
        return ClaimStats(self.total, len(s), percentile(s, 0.5), percentile(s, 0.9))


@dataclass
class Tally:
    """The review's counts, built one decision at a time (decisions must come in time order)."""

    period: Period
    decisions: int = 0
    simulated: int = 0
    conversations: set[str] = field(default_factory=set)
    handed_off: set[str] = field(default_factory=set)
    offered: set[str] = field(default_factory=set)
    by_channel_conversations: dict[str, set[str]] = field(default_factory=dict)
    triggers: _Rates = field(default_factory=_Rates)
    topics: _Rates = field(default_factory=_Rates)
    channels: _Rates = field(default_factory=_Rates)
    days: dict[date, _Day] = field(default_factory=dict)
    policies: Counter[tuple[str, str]] = field(default_factory=Counter)
    handoff_claims: _Claims = field(default_factory=_Claims)
    alert_claims: _Claims = field(default_factory=_Claims)
    vip_claims: _Claims = field(default_factory=_Claims)
    angry_claims: _Claims = field(default_factory=_Claims)
    not_needed: int = 0
    handoff_wrong: int = 0
    unnecessary: int = 0
    missed: int = 0
    zendesk_failed: int = 0
    slack_failed: int = 0
    leads_to_sales: dict[str, float] = field(default_factory=dict)
    smaller_leads: set[str] = field(default_factory=set)
    out_of_hours_claims: _Claims = field(default_factory=_Claims)
    with_schedule: int = 0
    seen_questions: set[tuple[str, str]] = field(default_factory=set)
    questions: list[str] = field(default_factory=list)
    question_topics: list[tuple[str, ...]] = field(default_factory=list)

    def add(self, r: ReviewRow) -> None:
        if not self.period.start <= r.decided_at < self.period.end:
            return
        conv = r.conversation_id
        self.decisions += 1
        self.simulated += r.simulated
        self.conversations.add(conv)
        self.by_channel_conversations.setdefault(r.channel, set()).add(conv)
        day = self.days.setdefault(r.decided_at.date(), _Day())
        day.decisions += 1
        day.conversations.add(conv)
        self.policies[(r.policy_version, r.policy_hash)] += 1
        handoff, offer = is_handoff(r), is_offer(r)
        if handoff or offer:
            (self.handed_off if handoff else self.offered).add(conv)
            (day.handed_off if handoff else day.offered).add(conv)
            self.triggers.add((t for t in r.triggers if t != ALREADY_HANDED_OFF), conv, handoff)
            self.topics.add(r.topics or ("(no topic)",), conv, handoff)
            self.channels.add((r.channel,), conv, handoff)
        if r.lead_value is not None:
            if r.lead_qualified and handoff:
                self.leads_to_sales[conv] = r.lead_value
            elif not r.lead_qualified:
                self.smaller_leads.add(conv)
        if handoff:
            self.handoff_claims.add(r)
            if r.agents_available is False:
                self.out_of_hours_claims.add(r)
            self.with_schedule += r.agents_available is not None
            self.not_needed += r.not_needed
            self.handoff_wrong += r.handoff_wrong
            self.unnecessary += r.not_needed or r.handoff_wrong
            self.zendesk_failed += r.zendesk is False
        if r.action == "continue" and r.missed:
            self.missed += 1
        if r.alert:
            self.alert_claims.add(r)
            self.slack_failed += r.slack is False
            if r.vip:
                self.vip_claims.add(r)
            if r.angry:
                self.angry_claims.add(r)
        if is_unanswered(r) and r.question:
            key = (conv, r.question.strip().lower())
            if key not in self.seen_questions:
                self.seen_questions.add(key)
                self.questions.append(r.question.strip())
                self.question_topics.append(r.topics)

    def quality(self) -> Quality:
        histogram = Counter(
            next(label for label, bound in CLAIM_BUCKETS if s <= bound) for s in self.handoff_claims.seconds
        )
        return Quality(
            handoffs=self.handoff_claims.total,
            not_needed=self.not_needed,
            handoff_wrong=self.handoff_wrong,
            unnecessary=self.unnecessary,
            missed=self.missed,
            claims=self.handoff_claims.stats(),
            claim_histogram=tuple((label, histogram.get(label, 0)) for label, _ in CLAIM_BUCKETS),
            alerts=(
                AlertRow("All Slack alerts", self.alert_claims.stats()),
                AlertRow("VIP", self.vip_claims.stats()),
                AlertRow("Angry", self.angry_claims.stats()),
            ),
            zendesk_failed=self.zendesk_failed,
            slack_failed=self.slack_failed,
        )

    def sales_hours(self) -> SalesAndHours:
        values = list(self.leads_to_sales.values())
        return SalesAndHours(
            leads_to_sales=len(self.leads_to_sales),
            lead_value_total=sum(values),
            lead_value_median=percentile(values, 0.5),
            smaller_leads=len(self.smaller_leads - set(self.leads_to_sales)),
            out_of_hours=self.out_of_hours_claims.total,
            out_of_hours_claims=self.out_of_hours_claims.stats(),
            with_schedule=self.with_schedule,
        )

    def review(
        self,
        *,
        include_simulated: bool = False,
        checklist: Checklist | None = None,
        previous: Review | None = None,
        group_questions: bool = True,
    ) -> Review:
        total = len(self.conversations)
        daily = []
        for day in self.period.days():
            d = self.days.get(day, _Day())
            daily.append(DayRow(day, d.decisions, len(d.conversations), len(d.handed_off), len(d.offered)))
        channel_totals = {c: len(s) for c, s in self.by_channel_conversations.items()}
        return Review(
            period=self.period,
            include_simulated=include_simulated,
            decisions=self.decisions,
            simulated_decisions=self.simulated,
            conversations=total,
            handed_off=len(self.handed_off),
            offered=len(self.offered),
            by_trigger=self.triggers.rows(total),
            by_topic=self.topics.rows(total),
            by_channel=self.channels.rows(channel_totals, all_keys=list(self.by_channel_conversations)),
            daily=tuple(daily),
            quality=self.quality(),
            sales_hours=self.sales_hours(),
            unanswered_total=len(self.questions),
            unanswered=group_unanswered(self.questions, self.question_topics) if group_questions else (),
            policies=tuple((v, h, n) for (v, h), n in self.policies.most_common()),
            checklist=checklist,
            previous=previous,
        )


def group_unanswered(
    questions: Sequence[str],
    topics: Sequence[tuple[str, ...]],
    threshold: float = clusters.DEFAULT_THRESHOLD,
) -> tuple[QuestionGroup, ...]:
    """Groups of unanswered ``questions`` (with the topics of each), largest first."""
    groups: list[QuestionGroup] = []
    labeller = clusters.Labeller(questions)
    for members in clusters.cluster(questions, threshold):
        texts = [questions[i] for i in members]
        examples = tuple(dict.fromkeys(texts))[:MAX_EXAMPLES]
        group_topics = tuple(dict.fromkeys(t for i in members for t in topics[i]))
        groups.append(QuestionGroup(labeller.label(texts), len(members), examples, group_topics))
    return tuple(groups)


def build_review(
    records: Iterable[DecisionRecord | ReviewRow],
    period: Period,
    *,
    include_simulated: bool = False,
    checklist: Checklist | None = None,
    previous: Review | None = None,
    group_questions: bool = True,
) -> Review:
    """The review of ``records`` (in time order, already filtered to live/simulated as wanted).

    ``group_questions=False`` counts unanswered questions without grouping them (the previous period
    of a comparison only needs the count).
    """
    tally = Tally(period)
    for record in records:
        tally.add(record if isinstance(record, ReviewRow) else ReviewRow.from_record(record))
    return tally.review(
        include_simulated=include_simulated,
        checklist=checklist,
        previous=previous,
        group_questions=group_questions,
    )

"""The policy, as a support lead writes it in YAML, validated strictly.

Every model forbids unknown keys: a typo such as ``treshold`` is an error that names the field and the
line (see :mod:`handoff_core.policy.loader`), never a silently ignored setting. Every trigger can be
switched off with ``enabled: false`` and carries its own route (Zendesk group, priority, tags), the
action it asks for, whether it raises a Slack alert, and the fields to collect before handing over.
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from handoff_core.decision import Action, Priority
from handoff_core.hours import Holiday, Schedule, parse_range, zone
from handoff_core.policy.hashing import policy_hash

Phrases = tuple[Annotated[str, Field(min_length=1, max_length=200)], ...]
Texts = dict[Annotated[str, Field(min_length=2, max_length=8)], str]
Weight = Annotated[float, Field(gt=0.0, le=1.0)]
#: Only YAML's ``true``/``false``: a lax bool would read the text ``yes`` (the loader keeps yes/no as text,
#: since ``no`` is a phrase) as true, and ``alert: "false"`` as false, so a typo would pass unnoticed.
Flag = StrictBool


def is_valid_cron(expression: str) -> bool:
    """True for a five-field cron expression croniter can schedule (imported only when a schedule is set)."""
    from croniter import croniter

    return len(expression.split()) == 5 and bool(croniter.is_valid(expression))


#: Customer messages that define a label by example (nearest-example matching, see handoff_core.examples).
Examples = tuple[Annotated[str, Field(min_length=1, max_length=1000)], ...]
Probability = Annotated[float, Field(gt=0.0, lt=1.0)]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CollectField(StrEnum):
    """Facts the assistant can collect before handing over."""

    EMAIL = "email"
    NAME = "name"
    PHONE = "phone"
    ORDER_ID = "order_id"
    PRODUCT = "product"
    AMOUNT = "amount"
    PURCHASE_DATE = "purchase_date"
    #: Lead fields (``sales_lead``).
    COMPANY = "company"
    TEAM_SIZE = "team_size"
    TIMELINE = "timeline"


RouteName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
SlackChannel = Annotated[str, Field(pattern=r"^[#@]?[A-Za-z0-9._\-]{1,80}$")]


class RouteConfig(_Strict):
    """Where a handoff goes. ``use: sales`` takes the named route from ``routes:`` (fields set here win)."""

    use: RouteName | None = None
    group: str | None = None
    priority: Priority | None = None
    tags: tuple[Annotated[str, Field(pattern=r"^[a-z0-9_:\-]+$", max_length=80)], ...] = ()
    #: Slack channel for this route's alerts (instead of the worker's ``SLACK_ALERT_CHANNEL``).
    slack_channel: SlackChannel | None = None
    #: Name of the business-hours schedule of the people behind this route (``business_hours.schedules``).
    schedule: RouteName | None = None


class TriggerConfig(_Strict):
    enabled: Flag = True
    action: Literal[Action.HANDOFF, Action.OFFER_HANDOFF] = Action.HANDOFF
    route: RouteConfig = Field(default_factory=RouteConfig)
    alert: Flag = False
    collect: tuple[CollectField, ...] = ()
    #: Orders reasons: the most severe reason picks the route.
    severity: Annotated[int, Field(ge=0, le=1000)] = 50


class Combo(_Strict):
    """Fires when every group has a phrase in the same sentence ("lost" + "card", in any order).

    ``within: message`` widens that to the whole message ("Card gone. There are payments I didn't make").
    """

    all_of: Annotated[tuple[Phrases, ...], Field(min_length=2, max_length=4)]
    within: Literal["sentence", "message"] = "sentence"


class Matchable(_Strict):
    phrases: Phrases = ()
    combos: tuple[Combo, ...] = ()
    #: Phrases that cancel a match in the same sentence ("no refund needed").
    exclude: Phrases = ()


class ModelUse(_Strict):
    """A trained detector shipped with the package (docs/models.md); ``threshold`` overrides its own."""

    enabled: Flag = True
    threshold: Probability | None = None


class ExampleUse(_Strict):
    """Messages that define a label by example, and how similar a message must be to its nearest one."""

    examples: Examples = ()
    #: Similarity (0 to 1, see handoff_core.examples) of the nearest example at or above which it counts.
    threshold: Annotated[float, Field(gt=0.0, le=1.0)] = 0.8


class HumanRequestModel(ModelUse):
    """The trained ``human_request`` detector, and how it backs the policy's combos."""

    #: A combo hit (a request word and a person word somewhere in one sentence, not a listed phrase) counts
    #: in ``confirm_languages`` only when the detector gives the message at least this probability:
    #: "I contacted you but got no response" and "need to understand dialogue management" are combos too.
    #: None: every combo hit counts (as before round 7).
    confirm_combos: Probability | None = None
    #: A listed phrase counts (in every language) unless the detector gives the message less than this: only
    #: where it is all but sure that no one is asked for ("they said I had to talk to customer service").
    confirm_phrases: Probability | None = None
    #: Where the detector is strong enough to veto a combo (it learned other languages from ~30 written rows);
    #: elsewhere a combo's words must stand close, as listed, in one clause (handoff_core/triggers/human_request.py).
    confirm_languages: tuple[Annotated[str, Field(min_length=2, max_length=8)], ...] = ("en",)


class HumanRequestConfig(TriggerConfig, Matchable, ExampleUse):
    severity: Annotated[int, Field(ge=0, le=1000)] = 80
    #: Words that, just before a match, negate it ("I don't need a human").
    negations: Phrases = ()
    #: Words that, before a match in its clause, make it advice or a report of someone else's words, not the
    #: customer's request: "you should talk to someone", "me dijeron que hablara con alguien".
    reported: Phrases = ()
    #: The trained ``human_request`` detector (Bitext, HWU64, GoEmotions and XED rows and written en/es/fr/de/pt
    #: requests; docs/models.md); ``examples`` add nearest-example matching beside it.
    model: HumanRequestModel = Field(default_factory=HumanRequestModel)


class TopicModel(ModelUse):
    #: Which trained detector reads this topic.
    head: Literal["refund", "account_security"]


class TopicConfig(TriggerConfig, Matchable, ExampleUse):
    label: str | None = None
    #: What to do when the customer only asks *about* the policy ("what is your refund policy?").
    policy_questions: Literal["continue", "handoff"] = "continue"
    #: A trained detector for this topic, beside its phrases and examples.
    model: TopicModel | None = None

    @model_validator(mode="after")
    def _can_match(self) -> TopicConfig:
        if self.enabled and not (self.phrases or self.combos or self.examples or self.model):
            raise ValueError(
                "an enabled topic needs phrases, combos, examples or a model, or it never matches "
                "(or set enabled: false)"
            )
        return self


class RestrictedTopicConfig(_Strict):
    enabled: Flag = True
    topics: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], TopicConfig] = Field(default_factory=dict)
    #: Words that frame a sentence as a question about rules ("policy", "in general", "do you offer").
    policy_question_cues: Phrases = ()
    #: Words that make it about the customer's own case ("my order", "I want", "me").
    personal_cues: Phrases = ()
    #: Stronger framing that keeps a question general even in the first person ("just curious, can I …").
    general_question_cues: Phrases = ()
    #: How topics' ``examples`` are read. ``head``: a head fitted at load to every topic's examples against
    #: bundled ordinary questions ("none of the above"), each topic's threshold cross-fitted from its own
    #: examples, so a topic's ``threshold`` is not used (handoff_core.example_head). ``nearest``: the
    #: nearest example's similarity against the topic's ``threshold`` (handoff_core.examples).
    examples_scorer: Literal["head", "nearest"] = "head"
    #: Everyday requests that are none of the topics ("my card hasn't arrived", "I forgot my passcode"):
    #: the example head reads them as "none of the above" beside its bundled pool, so a topic stays apart
    #: from routine questions that share its words. Only the ``head`` scorer reads them.
    ordinary_examples: Examples = ()


class RefundExceptionConfig(TriggerConfig, Matchable):
    severity: Annotated[int, Field(ge=0, le=1000)] = 60
    #: The restricted topic that counts as a refund request.
    refund_topic: str = "refund"
    max_amount: Annotated[Decimal | None, Field(ge=0)] = None
    window_days: Annotated[int | None, Field(ge=0)] = None
    #: Earlier refunds (from the help desk's context) at or above which a new request is an exception.
    max_previous_refunds: Annotated[int | None, Field(ge=1)] = None
    #: Customer messages asking for a refund in one conversation at or above which it is an exception.
    repeat_requests: Annotated[int | None, Field(ge=2)] = None


class VipConfig(TriggerConfig):
    severity: Annotated[int, Field(ge=0, le=1000)] = 40
    tags: tuple[str, ...] = ()
    plans: tuple[str, ...] = ()
    organizations: tuple[str, ...] = ()
    min_lifetime_value: Annotated[Decimal | None, Field(ge=0)] = None


class LeadValueConfig(_Strict):
    """How much a lead is worth, from what the conversation and the help desk tell."""

    #: Price of one seat; a lead asking for N seats is worth N x seat_price.
    seat_price: Annotated[Decimal | None, Field(ge=0)] = None
    #: Value of a plan the customer asks about by name ("enterprise": 20000).
    plans: dict[Annotated[str, Field(min_length=1, max_length=60)], Annotated[Decimal, Field(ge=0)]] = Field(
        default_factory=dict
    )
    #: Added when the customer writes from a company domain (not a free-mail provider).
    company_domain: Annotated[Decimal, Field(ge=0)] = Decimal(0)
    free_mail_domains: tuple[Annotated[str, Field(min_length=3, max_length=100)], ...] = ()


class SalesLeadConfig(TriggerConfig, Matchable):
    """``sales_lead``: buying intent. Above ``threshold`` the lead goes to sales; below, the assistant goes on
    and may offer ``meeting_link``."""

    enabled: Flag = False
    severity: Annotated[int, Field(ge=0, le=1000)] = 35
    collect: tuple[CollectField, ...] = (
        CollectField.COMPANY,
        CollectField.TEAM_SIZE,
        CollectField.TIMELINE,
        CollectField.EMAIL,
    )
    threshold: Annotated[Decimal, Field(ge=0)] = Decimal(0)
    currency: Annotated[str | None, Field(max_length=8)] = None
    value: LeadValueConfig = Field(default_factory=LeadValueConfig)
    #: An existing customer's question about their own bill or account: not a lead, in that message.
    existing_customer: Matchable = Field(default_factory=Matchable)
    #: Words after a number that count seats ("300 seats", "50 usuarios"), per language mixed.
    seat_words: Phrases = ()
    #: Phrases that say when the customer wants to buy ("this quarter", "el próximo mes").
    timeline: Phrases = ()
    #: Example messages (``lead`` and, optionally, ``not_lead``): a customer message whose nearest example
    #: is a ``lead`` one, at or above ``example_threshold``, shows buying intent too (example matching).
    examples: dict[Literal["lead", "not_lead"], tuple[Annotated[str, Field(min_length=1, max_length=500)], ...]] = (
        Field(default_factory=dict)
    )
    example_threshold: Annotated[float, Field(gt=0.0, le=1.0)] = 0.55
    #: Offered to leads below the threshold (``messages.sales_meeting``, ``{link}``).
    meeting_link: Annotated[str | None, Field(pattern=r"^https?://\S+$", max_length=500)] = None


class CueGroup(_Strict):
    """Phrases that signal anger, each occurrence adding ``weight`` (combined as independent evidence)."""

    weight: Weight
    phrases: Phrases


class Sarcasm(_Strict):
    weight: Weight = 0.5
    praise: Phrases
    trouble: Phrases


class SentimentModel(_Strict):
    enabled: Flag = True
    angry_threshold: Probability | None = None
    negative_threshold: Probability | None = None
    #: How much of the cue-based negativity still counts next to the trained detectors (0: none).
    #: 0.75 was chosen on development data (GoEmotions dev and the written tuning sets), see docs/models.md.
    cue_share: Annotated[float, Field(ge=0.0, le=1.0)] = 0.75


class SentimentConfig(TriggerConfig):
    action: Literal[Action.HANDOFF, Action.OFFER_HANDOFF] = Action.OFFER_HANDOFF
    severity: Annotated[int, Field(ge=0, le=1000)] = 70
    #: A customer message scoring at or below this is negative: ``action`` (usually offer a person).
    negative_below: Annotated[float, Field(ge=-1.0, le=0.0)] = -0.35
    #: At or below this the customer is angry: ``angry_action`` and, if ``angry_alert``, a Slack alert.
    angry_below: Annotated[float, Field(ge=-1.0, le=0.0)] = -0.6
    angry_action: Literal[Action.HANDOFF, Action.OFFER_HANDOFF] = Action.HANDOFF
    angry_alert: Flag = True
    angry_priority: Priority = Priority.HIGH
    #: How many recent customer messages make the trend.
    trend_window: Annotated[int, Field(ge=2, le=20)] = 3
    #: A drop this large across the window, ending negative, counts as getting worse.
    trend_drop: Annotated[float, Field(gt=0.0, le=2.0)] = 0.45
    use_lexicon: Flag = True
    caps_weight: Annotated[float, Field(ge=0.0, le=1.0)] = 0.3
    punctuation_weight: Annotated[float, Field(ge=0.0, le=1.0)] = 0.15
    cues: tuple[CueGroup, ...] = ()
    #: Phrases that soften (thanks, appreciate): they do not cancel anger cues.
    calm_cues: Phrases = ()
    negations: Phrases = ()
    #: Hedges ("a bit", "slightly") that scale the negativity of their message down by ``hedge_factor``.
    hedges: Phrases = ()
    hedge_factor: Annotated[float, Field(gt=0.0, le=1.0)] = 0.7
    #: Sarcasm: praise ("great", "bravo") in a message that also reports trouble ("another", "still",
    #: "not") reads as anger with this weight.
    sarcasm: Sarcasm | None = None
    #: Emoji that signal anger or exasperation, each adding ``emoji_weight``.
    emoji: tuple[str, ...] = ()
    emoji_weight: Annotated[float, Field(ge=0.0, le=1.0)] = 0.35
    #: The trained ``angry`` and ``negative`` detectors; their probabilities set the score (see
    #: handoff_core.sentiment) and the cues above add to it with ``cue_share`` of their weight.
    model: SentimentModel = Field(default_factory=SentimentModel)

    @model_validator(mode="after")
    def _angry_is_worse(self) -> SentimentConfig:
        if self.angry_below > self.negative_below:
            raise ValueError("triggers.sentiment.angry_below must be at or below negative_below")
        return self


class Calibration(_Strict):
    """How one encoder's scores are read: the coverage threshold and the share of meaning vs shared words."""

    #: Below this best-entry score the question has no approved source.
    min_score: Annotated[float, Field(ge=0.0, le=1.0)]
    #: Share of the score that comes from meaning (sentence embeddings) rather than shared words.
    semantic_weight: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0


class KnowledgeCoverageConfig(_Strict):
    enabled: Flag = True
    #: ``auto``: the MiniLM transformer when the ``semantic`` extra is installed, else the bundled static
    #: embeddings. ``transformer``, ``static`` or ``words`` (word overlap only) force one.
    encoder: Literal["auto", "transformer", "static", "words"] = "auto"
    #: Each encoder scores on its own scale, so each has its own calibration.
    transformer: Calibration = Field(default_factory=lambda: Calibration(min_score=0.55, semantic_weight=1.0))
    static: Calibration = Field(default_factory=lambda: Calibration(min_score=0.62, semantic_weight=0.7))
    words: Calibration = Field(default_factory=lambda: Calibration(min_score=0.42, semantic_weight=0.0))
    #: Two different entries within this margin of each other make the question ambiguous.
    ambiguity_margin: Annotated[float, Field(ge=0.0, le=1.0)] = 0.03
    #: Questions with fewer content words than this are not checked (greetings, "thanks").
    min_words: Annotated[int, Field(ge=1)] = 3
    #: ``classic``: TF-IDF over stemmed words blended with the encoder (calibrated per encoder above).
    #: ``examples``: nearest example question by static embedding plus IDF-weighted word and character
    #: n-grams (handoff_core.examples); beats a character n-gram baseline on the HWU64 protocol.
    #: ``fitted``: a kernel ridge head fitted to the knowledge's own questions at load over that same
    #: similarity (a question scores its best entry's share of the positive outputs); its threshold is always
    #: cross-fitted (exact leave-one-out at ``leave_one_out_false_rate``). The fit is cached by the connectors.
    #: ``auto``: ``fitted`` when the entries have at least 10 example questions each on average, else
    #: ``classic`` (which also reads the entries' bodies); docs/models.md has the numbers behind it.
    scorer: Literal["auto", "classic", "examples", "fitted"] = "auto"
    #: ``fitted`` only: up to this many example questions the head is exact kernel ridge over all of them
    #: (time grows with the cube of their number); above it, it is fitted over this many anchor questions
    #: spread over the entries (time linear in the questions, a little less accurate: docs/models.md).
    fitted_anchors: Annotated[int, Field(ge=100, le=10_000)] = 2000
    #: ``fixed``: the encoder's ``min_score``. ``leave_one_out``: derived from the knowledge itself, as the
    #: score under which ``leave_one_out_false_rate`` of its own example questions fall when each is
    #: scored against all the others (no hand tuning per knowledge base).
    threshold: Literal["fixed", "leave_one_out"] = "fixed"
    leave_one_out_false_rate: Annotated[float, Field(gt=0.0, lt=0.5)] = 0.1

    def calibration(self, encoder: str) -> Calibration:
        return {"transformer": self.transformer, "static": self.static}.get(encoder, self.words)


class LowConfidenceConfig(TriggerConfig):
    action: Literal[Action.HANDOFF, Action.OFFER_HANDOFF] = Action.OFFER_HANDOFF
    severity: Annotated[int, Field(ge=0, le=1000)] = 20
    threshold: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5
    knowledge: KnowledgeCoverageConfig = Field(default_factory=KnowledgeCoverageConfig)


class BotLoopConfig(TriggerConfig):
    severity: Annotated[int, Field(ge=0, le=1000)] = 30
    max_fallbacks: Annotated[int, Field(ge=1)] = 2
    max_repeats: Annotated[int, Field(ge=2)] = 3
    repeat_similarity: Annotated[float, Field(gt=0.0, le=1.0)] = 0.6
    fallback_phrases: Phrases = ()


class Triggers(_Strict):
    human_request: HumanRequestConfig = Field(default_factory=HumanRequestConfig)
    restricted_topic: RestrictedTopicConfig = Field(default_factory=RestrictedTopicConfig)
    refund_exception: RefundExceptionConfig = Field(default_factory=RefundExceptionConfig)
    vip: VipConfig = Field(default_factory=VipConfig)
    sentiment: SentimentConfig = Field(default_factory=SentimentConfig)
    low_confidence: LowConfidenceConfig = Field(default_factory=LowConfidenceConfig)
    bot_loop: BotLoopConfig = Field(default_factory=BotLoopConfig)
    sales_lead: SalesLeadConfig = Field(default_factory=SalesLeadConfig)


class OfferConfig(_Strict):
    """A handoff is offered at most once; a yes to the offer becomes a handoff."""

    accept_phrases: Phrases = ()
    #: A reply that also declines ("yes it helped, no need for a person") is not an acceptance.
    decline_phrases: Phrases = ()


class UrgencyConfig(_Strict):
    phrases: Phrases = ()
    #: Urgent conversations are raised to at least this priority.
    priority: Priority = Priority.HIGH


class SummaryConfig(_Strict):
    enabled: Flag = True
    max_chars: Annotated[int, Field(ge=200, le=5000)] = 1200


class PrivacyConfig(_Strict):
    redact_summary: Flag = True
    redact_slack: Flag = True
    #: The audit log always keeps the redacted form (it outlives the raw-text retention); ``false`` is
    #: refused rather than silently ignored.
    redact_audit: Flag = True

    @field_validator("redact_audit")
    @classmethod
    def _audit_always_redacted(cls, value: bool) -> bool:
        if not value:
            raise ValueError("the audit log always keeps the redacted form; remove redact_audit: false")
        return value


class WeeklyReviewConfig(_Strict):
    enabled: Flag = False
    schedule: str | None = None
    slack_channel: str | None = None

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None and not is_valid_cron(value):
            raise ValueError(f"not a valid cron expression: {value!r} (five fields, e.g. '0 9 * * MON')")
        return value


class ReviewConfig(_Strict):
    weekly: WeeklyReviewConfig = Field(default_factory=WeeklyReviewConfig)


class MessagesConfig(_Strict):
    """Customer-facing texts by language code; ``default_language`` is used when one is missing."""

    #: English fallbacks, so even a policy that leaves ``messages`` out never hands over in silence.
    handoff: Texts = Field(
        default_factory=lambda: {
            "en": "I'm connecting you with a member of our team now. They'll see everything you've told me, "
            "so you won't need to repeat yourself."
        }
    )
    offer_handoff: Texts = Field(
        default_factory=lambda: {"en": "Would you like me to connect you with a person from our team?"}
    )
    #: Asked before handing over when fields are missing; ``{fields}`` is replaced by their names.
    collect_first: Texts = Field(default_factory=dict)
    field_names: dict[CollectField, Texts] = Field(default_factory=dict)
    #: The word that joins the last two field names ("order number and email address").
    list_and: Texts = Field(
        default_factory=lambda: {"en": "and", "es": "y", "fr": "et", "de": "und", "pt": "e", "it": "e", "nl": "en"}
    )
    #: Out of hours, instead of ``handoff``; ``{when}`` is when a person will reply ("Monday 09:00 CET").
    out_of_hours: Texts = Field(default_factory=dict)
    #: Added out of hours when fields (always the email) are missing; ``{fields}`` as in collect_first.
    out_of_hours_collect: Texts = Field(default_factory=dict)
    #: Out of hours, when an on-call person was paged; ``{when}`` as above.
    on_call: Texts = Field(default_factory=dict)
    #: Offered to a lead below the sales threshold; ``{link}`` is ``triggers.sales_lead.meeting_link``.
    sales_meeting: Texts = Field(default_factory=dict)
    #: Weekday names, Monday first, for languages the built-in table lacks.
    weekdays: dict[Annotated[str, Field(min_length=2, max_length=8)], tuple[str, str, str, str, str, str, str]] = Field(
        default_factory=dict
    )


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class HolidayConfig(_Strict):
    date: _dt.date
    #: Last day of a multi-day closure (inclusive); the same day when left out.
    end: _dt.date | None = None
    name: str | None = None


class ScheduleConfig(_Strict):
    """Opening hours of the people behind a route: written here, or read from Zendesk (``zendesk``)."""

    #: IANA time zone of the hours below (Europe/Madrid, America/New_York).
    timezone: str | None = None
    hours: dict[Weekday, tuple[Annotated[str, Field(max_length=11)], ...]] = Field(default_factory=dict)
    holidays: tuple[HolidayConfig, ...] = ()
    #: Name or id of a Zendesk business-hours schedule; the worker reads its hours and holidays at start.
    zendesk: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    #: In hours, a person replies within this many minutes (``expected_reply_by``); None: not promised.
    reply_within_minutes: Annotated[int | None, Field(ge=1, le=10080)] = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            zone(value)
        return value

    @field_validator("hours")
    @classmethod
    def _ranges(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for ranges in value.values():
            for text in ranges:
                parse_range(text)
        return value

    @model_validator(mode="after")
    def _source(self) -> ScheduleConfig:
        if self.zendesk is None and (self.timezone is None or not self.hours):
            raise ValueError("a schedule needs timezone and hours, or zendesk: <schedule name or id>")
        return self

    def build(self, name: str) -> Schedule | None:
        """The schedule for the core; None when its hours come from Zendesk."""
        if self.zendesk is not None or self.timezone is None:
            return None
        holidays = (Holiday(h.date, h.end or h.date, h.name) for h in self.holidays)
        return Schedule.weekly(name, self.timezone, {str(k): v for k, v in self.hours.items()}, holidays)


class OnCallConfig(_Strict):
    """Out of hours, urgent handoffs page an on-call Slack channel instead of waiting for the morning."""

    slack_channel: SlackChannel | None = None
    #: Restricted topics that page (security, legal); conversations with urgency words page too.
    topics: tuple[str, ...] = ()
    urgent: Flag = True
    reply_within_minutes: Annotated[int, Field(ge=1, le=1440)] = 60


class BusinessHoursConfig(_Strict):
    schedules: dict[RouteName, ScheduleConfig] = Field(default_factory=dict)
    on_call: OnCallConfig = Field(default_factory=OnCallConfig)


class Defaults(_Strict):
    language: Annotated[str, Field(min_length=2, max_length=8)] = "en"
    route: RouteConfig = Field(default_factory=lambda: RouteConfig(priority=Priority.NORMAL))


class Policy(_Strict):
    version: Annotated[str, Field(min_length=1, max_length=64)]
    name: str | None = None
    description: str | None = None
    defaults: Defaults = Field(default_factory=Defaults)
    triggers: Triggers = Field(default_factory=Triggers)
    offer: OfferConfig = Field(default_factory=OfferConfig)
    urgency: UrgencyConfig = Field(default_factory=UrgencyConfig)
    summary: SummaryConfig = Field(default_factory=SummaryConfig)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    review: ReviewConfig = Field(default_factory=ReviewConfig)
    messages: MessagesConfig = Field(default_factory=MessagesConfig)
    #: Named routing destinations (sales, support, billing, ...), used by ``route: {use: name}``.
    routes: dict[RouteName, RouteConfig] = Field(default_factory=dict)
    business_hours: BusinessHoursConfig = Field(default_factory=BusinessHoursConfig)

    @model_validator(mode="before")
    @classmethod
    def _resolve_routes(cls, data: Any) -> Any:
        """``route: {use: sales}`` becomes the named route, with fields written beside ``use`` winning."""
        if not isinstance(data, dict):
            return data
        named = data.get("routes") or {}
        if not isinstance(named, dict):
            return data
        for name, route in named.items():
            if isinstance(route, dict) and route.get("use") is not None:
                raise ValueError(f"routes.{name}.use: a named route cannot itself use another route")

        def resolve(route: Any, path: str) -> Any:
            if not isinstance(route, dict) or route.get("use") is None:
                return route
            use = route["use"]
            base = named.get(use) if isinstance(use, str) else None
            if not isinstance(base, dict):
                raise ValueError(
                    f"{path}.use: route {use!r} is referenced but not defined under routes "
                    f"({', '.join(map(str, named)) or 'none defined'})"
                )
            return {**base, **route}

        out = dict(data)
        defaults = out.get("defaults")
        if isinstance(defaults, dict) and "route" in defaults:
            out["defaults"] = {**defaults, "route": resolve(defaults["route"], "defaults.route")}
        triggers = out.get("triggers")
        if isinstance(triggers, dict):
            triggers = dict(triggers)
            for tname, config in triggers.items():
                if not isinstance(config, dict):
                    continue
                resolved = dict(config)
                if "route" in resolved:
                    resolved["route"] = resolve(resolved["route"], f"triggers.{tname}.route")
                topics = resolved.get("topics")
                if isinstance(topics, dict):
                    resolved["topics"] = {
                        k: {**t, "route": resolve(t["route"], f"triggers.{tname}.topics.{k}.route")}
                        if isinstance(t, dict) and "route" in t
                        else t
                        for k, t in topics.items()
                    }
                triggers[tname] = resolved
            out["triggers"] = triggers
        return out

    @model_validator(mode="after")
    def _schedules_exist(self) -> Policy:
        defined = self.business_hours.schedules
        for path, route in self.all_routes():
            if route.schedule is not None and route.schedule not in defined:
                raise ValueError(
                    f"{path}.schedule: schedule {route.schedule!r} is not defined under business_hours.schedules "
                    f"({', '.join(defined) or 'none defined'})"
                )
        return self

    def all_routes(self) -> list[tuple[str, RouteConfig]]:
        """Every route a handoff can take, with its path in the policy (for checks and schedules)."""
        t = self.triggers
        routes: list[tuple[str, RouteConfig]] = [("defaults.route", self.defaults.route)]
        routes += [(f"routes.{name}", r) for name, r in self.routes.items()]
        for name in type(t).model_fields:
            config = getattr(t, name)
            if isinstance(config, TriggerConfig) and config.enabled:
                routes.append((f"triggers.{name}.route", config.route))
        if t.restricted_topic.enabled:
            routes += [
                (f"triggers.restricted_topic.topics.{k}.route", topic.route)
                for k, topic in t.restricted_topic.topics.items()
                if topic.enabled
            ]
        return routes

    @cached_property
    def hash(self) -> str:
        """A content hash of the validated policy, reported with every decision."""
        return policy_hash(self)

    @model_validator(mode="after")
    def _customer_always_gets_text(self) -> Policy:
        """A handoff or an offer with no text for the default language would reach the customer as nothing."""
        language = self.defaults.language
        t = self.triggers
        offers = any(
            c.enabled and c.action is Action.OFFER_HANDOFF
            for c in (
                t.human_request,
                t.refund_exception,
                t.vip,
                t.sentiment,
                t.low_confidence,
                t.bot_loop,
                *t.restricted_topic.topics.values(),
            )
        ) or (t.sentiment.enabled and t.sentiment.angry_action is Action.OFFER_HANDOFF)
        needed = [("handoff", self.messages.handoff)]
        if offers:
            needed.append(("offer_handoff", self.messages.offer_handoff))
        for name, texts in needed:
            if not texts.get(language):
                raise ValueError(
                    f"messages.{name} has no text for the default language {language!r} (defaults.language): "
                    "the customer would get no message"
                )
        return self

    @model_validator(mode="after")
    def _refund_topic_exists(self) -> Policy:
        refund = self.triggers.refund_exception
        topics = self.triggers.restricted_topic.topics
        if refund.enabled and topics and refund.refund_topic not in topics:
            raise ValueError(
                f"triggers.refund_exception.refund_topic is {refund.refund_topic!r}, "
                f"which is not one of triggers.restricted_topic.topics ({', '.join(topics) or 'none'})"
            )
        return self

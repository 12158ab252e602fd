"""The decision engine: one conversation and one policy in, one self-explaining :class:`Decision` out.

The engine is built once per policy (phrase indexes, lexicons) and is then a pure function of the
conversation: no I/O, no clock unless the conversation carries no timestamps. Reading order of
:meth:`DecisionEngine.decide` is the policy's order of precedence:

1. a conversation already with a person stays with a person (the assistant stays silent);
2. every trigger reports its reasons, with evidence;
3. the strongest action wins (handoff > offer_handoff > continue); a handoff is offered at most once;
4. route, priority, alert, fields still to collect, customer-facing text and summary follow from the
   reasons.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from typing import TYPE_CHECKING, TypeVar, cast

from handoff_core.analysis import (
    CUSTOMER,
    ConversationAnalysis,
    FunctionDetector,
    MessageAnalysis,
    MessageDetector,
    running,
)
from handoff_core.decision import (
    Action,
    Decision,
    KnowledgeMatch,
    Lead,
    PolicyRef,
    Priority,
    Reason,
    Route,
    Signals,
    TriggerName,
)
from handoff_core.detectors import Detectors, DetectorScore, bundled_detectors
from handoff_core.example_head import ExampleHead, bundled_negatives, fitted_head
from handoff_core.examples import ExampleMatcher
from handoff_core.facts import Facts, extract_facts, merge_facts
from handoff_core.features import Featurizer, MessageFeatures, bundled_featurizer
from handoff_core.hours import Schedule, format_reply_by
from handoff_core.models import Conversation, Message, Role
from handoff_core.policy.schema import CollectField, Matchable, Policy
from handoff_core.sentiment import MessageSentiment, ModelSentiment, SentimentScorer, lexicon_window
from handoff_core.summary import Summary, SummaryInput, summarize
from handoff_core.summary_state import SummaryFeatures, SummaryState, summary_features
from handoff_core.text.languages import add_votes, language_votes, pick_language
from handoff_core.text.normalize import Tokens, tokenize
from handoff_core.text.phrases import AnalyzedText, Analyzer, vocabulary_of
from handoff_core.text.rules import RuleSet
from handoff_core.text.window import analysis_window
from handoff_core.topics import TOPIC_HITS, TopicDetector, TopicHit
from handoff_core.triggers.base import Trigger, TriggerContext
from handoff_core.triggers.bot_loop import BotLoop
from handoff_core.triggers.human_request import HumanRequest
from handoff_core.triggers.low_confidence import LowConfidence
from handoff_core.triggers.refund_exception import RefundException
from handoff_core.triggers.restricted_topic import RestrictedTopic
from handoff_core.triggers.sales_lead import SalesLead
from handoff_core.triggers.sentiment import Sentiment
from handoff_core.triggers.vip import Vip

if TYPE_CHECKING:  # numpy and the embeddings load only when approved knowledge is configured
    from handoff_core.knowledge import Coverage, KnowledgeBase

HANDOFF_TAG = "ai_handoff"
#: Most characters of one message the engine reads: the first and last halves. Every detector is linear
#: or worse in the length, and a pasted 50 KB log must decide as fast as a question (the start and the end
#: of a message are where people say what they want and how they feel).
MESSAGE_WINDOW = 6_000
#: Where a record keeps the knowledge coverage of its message once computed.
_COVERAGE = "knowledge.coverage"
#: Where a customer record keeps its trained-detector features and scores.
_FEATURES = "model.features"
_SCORES = "model.scores"
#: Where a customer record keeps the facts of its message (extracted when it arrives), and where every
#: record keeps the facts of the customer messages up to it (a running fold: a handoff reads them at once).
_FACTS = "facts"
_FACTS_SO_FAR = "facts.so_far"
#: What the handoff summary reads from a message, computed when it arrives (handoff_core/summary_state.py).
_SUMMARY = "summary.features"
#: What must match for a kept record to stand for a message: the message's field values, as the mapping
#: pydantic keeps them in (no tuple is built per message; a record keeps the mapping it was made from).
_FIELDS = attrgetter("__dict__")
_RECORD_FIELDS = attrgetter("fields")
_ROLE = attrgetter("role")
_TEXT = attrgetter("text")
#: Where each record keeps running folds up to it: the lowest customer sentiment, the latest confidence.
_LOWEST = "signals.lowest_sentiment"
_CONFIDENCE = "signals.confidence"
_LATEST_STAMP = "now.latest_message"
#: A running fold the decision reads before anything else: whether a person took part so far, and the
#: length of the longest text kept (step() windows a transcript with a longer one).
_SHAPE_SO_FAR = "shape.so_far"
_NO_SHAPE = (False, 0)
_V = TypeVar("_V")


def _policy_phrases(policy: Policy) -> list[Sequence[str]]:
    t = policy.triggers
    lists: list[Sequence[str]] = []

    def matchable(m: Matchable) -> None:
        lists.append(m.phrases)
        lists.append(m.exclude)
        for combo in m.combos:
            lists.extend(combo.all_of)

    matchable(t.human_request)
    matchable(t.refund_exception)
    for topic in t.restricted_topic.topics.values():
        matchable(topic)
    lists += [
        t.restricted_topic.policy_question_cues,
        t.restricted_topic.personal_cues,
        t.restricted_topic.general_question_cues,
    ]
    lists += [g.phrases for g in t.sentiment.cues] + [t.sentiment.calm_cues, t.bot_loop.fallback_phrases]
    lists += [
        t.sentiment.hedges,
        policy.offer.accept_phrases,
        policy.offer.decline_phrases,
        policy.urgency.phrases,
    ]
    matchable(t.sales_lead)
    matchable(t.sales_lead.existing_customer)
    lists.append(t.sales_lead.timeline)
    if t.sentiment.sarcasm is not None:
        lists += [t.sentiment.sarcasm.praise, t.sentiment.sarcasm.trouble]
    return lists


@dataclass(frozen=True, slots=True)
class _Hours:
    """Who is there for this handoff: availability, reply time, on-call paging."""

    available: bool | None = None
    reply_by: datetime | None = None
    on_call: bool = False
    schedule: Schedule | None = None


class _ByIndex(Mapping[int, _V]):
    """One kept result of each customer message by the message's index, read from the records on lookup.

    Why not a dict kept with the analysis: extending a copy of it for every decision was O(n) in C (three
    dicts of 500 entries at message 1,001), and the triggers look up a few indexes (the new message's
    features and scores); the records already hold every value.
    """

    __slots__ = ("_customer", "_read", "_records")

    def __init__(
        self,
        records: Sequence[MessageAnalysis],
        customer: Sequence[int],
        read: Callable[[MessageAnalysis], _V | None],
    ) -> None:
        self._records, self._customer, self._read = records, customer, read

    def __getitem__(self, index: int) -> _V:
        records = self._records
        if 0 <= index < len(records) and records[index].role is Role.CUSTOMER:
            value = self._read(records[index])
            if value is not None:
                return value
        raise KeyError(index)

    def __iter__(self) -> Iterator[int]:
        records, read = self._records, self._read
        return (i for i in self._customer if read(records[i]) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _analyzed_of(record: MessageAnalysis) -> AnalyzedText:
    return record.analyzed


def _features_of(record: MessageAnalysis) -> MessageFeatures | None:
    found = record.results.get(_FEATURES)
    return found if isinstance(found, MessageFeatures) else None


def _scores_of(record: MessageAnalysis) -> dict[str, DetectorScore] | None:
    found = record.results.get(_SCORES)
    return cast("dict[str, DetectorScore]", found) if isinstance(found, dict) else None


@dataclass(frozen=True, slots=True)
class _Gathered:
    """What every decision gathers from the customer records, kept with the analysis and extended.

    The per-index views the triggers read (analysed texts, features, scores) are not gathered: they are
    :class:`_ByIndex` views of the records, made in O(1) per decision.
    """

    sentiments: tuple[MessageSentiment, ...] = ()
    topic_hits: tuple[TopicHit, ...] = ()
    #: The summary's running totals over every message (not only the customer's).
    summary: SummaryState = dataclass_field(default_factory=SummaryState)

    def extended(
        self,
        added: Sequence[MessageAnalysis],
        topic_hits: MessageDetector[list[TopicHit]],
        sentiment: MessageDetector[MessageSentiment],
    ) -> _Gathered:
        """A copy with the records of ``added`` customer messages (the copies are flat, in C)."""
        if not added:
            return self
        return _Gathered(
            self.sentiments + tuple(r.result(sentiment) for r in added),
            self.topic_hits + tuple(h for r in added for h in r.result(topic_hits)),
            self.summary,
        )

    def summarised(self, added: Sequence[MessageAnalysis]) -> _Gathered:
        """A copy whose summary state covers the records ``added`` (of every role) too."""
        found = [(r.role, r.created_at, r.results.get(_SUMMARY)) for r in added]
        if not found or any(not isinstance(f, SummaryFeatures) for _, _, f in found):
            return self  # the policy writes no summary: nothing was computed for it
        state = self.summary.extended(cast("list[tuple[Role, datetime | None, SummaryFeatures]]", found))
        return replace(self, summary=state)


class DecisionEngine:
    """Decides for one policy (and optionally approved knowledge). Build once, call :meth:`decide` often.

    ``schedules`` adds business-hours schedules the policy only names (``zendesk:``), as the worker read
    them from Zendesk; schedules written in the policy are built here.
    """

    def __init__(
        self,
        policy: Policy,
        knowledge: KnowledgeBase | None = None,
        schedules: Mapping[str, Schedule] | None = None,
    ) -> None:
        self.policy = policy
        self.knowledge = knowledge
        built = {name: s.build(name) for name, s in policy.business_hours.schedules.items()}
        self.schedules: dict[str, Schedule] = {n: s for n, s in built.items() if s is not None}
        self.schedules.update(schedules or {})
        coverage = policy.triggers.low_confidence.knowledge
        if knowledge is not None and coverage.enabled:
            knowledge.calibrate(coverage)  # fit and calibrate at load, not on the first question
        vocabulary = vocabulary_of(_policy_phrases(policy))
        t = policy.triggers
        self._analyzer = Analyzer(vocabulary)
        topic_examples = {
            name: topic.examples
            for name, topic in t.restricted_topic.topics.items()
            if topic.enabled and topic.examples
        }
        human_examples = t.human_request.examples if t.human_request.enabled else ()
        uses_models = (
            (t.sentiment.enabled and t.sentiment.model.enabled)
            or (t.human_request.enabled and t.human_request.model.enabled)
            or any(
                topic.enabled and topic.model is not None and topic.model.enabled
                for topic in t.restricted_topic.topics.values()
            )
        )
        #: Trained heads and the shared featuriser, loaded once (None when the policy uses neither).
        self._detectors: Detectors | None = bundled_detectors() if uses_models else None
        self._featurizer: Featurizer | None = (
            bundled_featurizer() if uses_models or topic_examples or human_examples else None
        )
        examples: ExampleMatcher | ExampleHead | None = None
        if topic_examples:
            head = t.restricted_topic.examples_scorer == "head"
            ordinary = t.restricted_topic.ordinary_examples
            examples = (
                fitted_head(topic_examples, [*bundled_negatives(), *ordinary])
                if head
                else ExampleMatcher(topic_examples)
            )
        self._topics = TopicDetector(t.restricted_topic, vocabulary, examples)
        self._sentiment = SentimentScorer(policy.triggers.sentiment, vocabulary)
        self._sentiment_model = t.sentiment.enabled and t.sentiment.model.enabled
        self._urgency = RuleSet(vocabulary, {"urgent": Matchable(phrases=policy.urgency.phrases)})
        self._sales = SalesLead(policy, vocabulary)
        self._triggers: tuple[Trigger, ...] = (
            HumanRequest(
                policy,
                vocabulary,
                ExampleMatcher({"human": human_examples}) if human_examples else None,
                self._human_request_detector(),
            ),
            RestrictedTopic(policy),
            RefundException(policy, vocabulary),
            Vip(policy),
            Sentiment(policy),
            LowConfidence(policy),
            BotLoop(policy, vocabulary),
            self._sales,
        )
        self.topic_hits = FunctionDetector(TOPIC_HITS, CUSTOMER, self._topics.detect)
        self.sentiment = FunctionDetector("sentiment", CUSTOMER, self._sentiment.score)
        self.urgent = FunctionDetector("urgency", CUSTOMER, lambda _i, text: bool(self._urgency.match(text)))
        # Topics and sentiment also read the trained detectors' scores: analyze() runs them with those.
        detectors: list[MessageDetector[object]] = [self.urgent]
        detectors += [d for trigger in self._triggers for d in trigger.detectors]
        keys = [d.key for d in detectors]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ValueError(f"two message detectors share the key(s) {', '.join(duplicates)}")
        self._by_role: dict[Role, tuple[MessageDetector[object], ...]] = {
            role: tuple(d for d in detectors if role in d.roles) for role in Role
        }
        self._ref = PolicyRef(version=policy.version, hash=policy.hash)
        self._summarise = policy.summary.enabled

    def _human_request_detector(self) -> Callable[[str], float] | None:
        """The trained ``human_request`` head on a piece of text (the sentence of a cue), or None."""
        detectors, featurizer = self._detectors, self._featurizer
        if detectors is None or featurizer is None or "human_request" not in detectors.names:
            return None
        return lambda text: detectors.score(featurizer.featurize(text), "human_request", evidence=0).probability

    def add_schedules(self, schedules: Mapping[str, Schedule]) -> None:
        """Business hours read at start-up (from Zendesk) for schedules the policy only names."""
        self.schedules.update(schedules)

    def decide(
        self, conversation: Conversation, now: datetime | None = None, *, previous: ConversationAnalysis | None = None
    ) -> Decision:
        return self.step(conversation, previous, now)[0]

    def step(
        self,
        conversation: Conversation,
        previous: ConversationAnalysis | None = None,
        now: datetime | None = None,
    ) -> tuple[Decision, ConversationAnalysis | None]:
        """Decide, reusing ``previous`` records; returns the analysis to keep for the next message.

        The reuse check compares each message's field values with those the kept record was made from
        (:meth:`_kept`); whether a person has joined and whether a message needs cutting to the window are
        running folds over the kept records plus a look at the new messages only.
        """
        if conversation.state.handed_off:
            return self._already_handed_off(conversation), previous
        fields, kept = self._kept(conversation.messages, previous)
        added = conversation.messages[len(kept) :]
        agent, longest = running(kept, _SHAPE_SO_FAR, _NO_SHAPE, _with_shape)
        if agent or Role.AGENT in map(_ROLE, added):
            return self._already_handed_off(conversation), previous
        if longest > MESSAGE_WINDOW or max(map(len, map(_TEXT, added)), default=0) > MESSAGE_WINDOW:
            # Rare: a message longer than the window (the records hold their windowed text, so the fields
            # of the windowed transcript are the ones that match).
            conversation = _bounded(conversation)
            fields, kept = self._kept(conversation.messages, previous)
        analysis = self._analyze(conversation, previous, fields, kept)
        ctx = self._prepare(conversation, analysis, now)
        reasons: list[Reason] = [r for trigger in self._triggers for r in trigger(ctx)]
        reasons.sort(key=lambda r: (-r.action.rank, -r.severity, -r.score))
        action = max((r.action for r in reasons), key=lambda a: a.rank, default=Action.CONTINUE)
        if action is Action.OFFER_HANDOFF and conversation.state.handoff_offered:
            action = Action.CONTINUE  # offered once already; the customer did not take it
        gathered = analysis.gathered
        prepared = gathered.summary if isinstance(gathered, _Gathered) else None
        return self._build(conversation, ctx, reasons, action, prepared), analysis

    # -- analysis: once per message --------------------------------------------------------------------

    def analyze(self, conversation: Conversation, previous: ConversationAnalysis | None = None) -> ConversationAnalysis:
        """Records for every message; those of ``previous`` are reused while the transcript matches."""
        fields, kept = self._kept(conversation.messages, previous)
        return self._analyze(conversation, previous, fields, kept)

    def _kept(
        self, messages: Sequence[Message], previous: ConversationAnalysis | None
    ) -> tuple[tuple[Mapping[str, object], ...], list[MessageAnalysis]]:
        """The messages' field values, and the records of ``previous`` that still stand for them: the
        longest prefix of records made from messages with the same values.

        One tuple comparison in C in the usual case (only messages were added): a message that is the
        very object a record was made from shares its field mapping (one pointer comparison); a message
        read back from a store compares its values (~0.15 us a message). No tuple is built per message.
        """
        fields: tuple[Mapping[str, object], ...] = tuple(map(_FIELDS, messages))
        old: tuple[MessageAnalysis, ...] = ()
        if previous is not None and previous.owner is self:
            old = previous.records
        n = min(len(old), len(fields))
        if n:
            before = previous.fields if previous is not None and len(previous.fields) == len(old) else None
            if before is None:
                before = tuple(map(_RECORD_FIELDS, old))
            if (before if n == len(before) else before[:n]) == (fields if n == len(fields) else fields[:n]):
                return fields, list(old[:n])
        kept: list[MessageAnalysis] = []
        for record, values in zip(old, fields, strict=False):
            if record.fields != values:
                break  # the transcript changed from here on: nothing after this can be reused
            kept.append(record)
        return fields, kept

    def _analyze(
        self,
        conversation: Conversation,
        previous: ConversationAnalysis | None,
        fields: tuple[Mapping[str, object], ...],
        kept: list[MessageAnalysis],
    ) -> ConversationAnalysis:
        """:meth:`analyze` with the messages' fields and the records still standing (:meth:`_kept`) given."""
        messages = conversation.messages
        votes: Mapping[str, int] = kept[-1].votes if kept else {}
        fresh: list[tuple[int, Role, str, Tokens, Mapping[str, int]]] = []
        for i in range(len(kept), len(messages)):
            message = messages[i]
            tokens = tokenize(analysis_window(message.text))
            if message.role is Role.CUSTOMER:
                votes = add_votes(votes, language_votes(tokens.norms))
            fresh.append((i, message.role, message.text, tokens, votes))
        language = conversation.language or pick_language(votes, default=self.policy.defaults.language)
        if kept and previous is not None and previous.language != language:
            # Rare: the new message changed the conversation's language; redo the records in it.
            fresh = [(r.index, r.role, r.text, tokenize(analysis_window(r.text)), r.votes) for r in kept] + fresh
            kept = []
        # Only messages were added since ``previous``: extend what it gathered instead of gathering again.
        extends = previous is not None and bool(kept) and len(kept) == len(previous.records)
        records = kept
        features, scores = self.score_messages([(i, text) for i, role, text, _, _ in fresh if role is Role.CUSTOMER])
        for i, role, text, tokens, message_votes in fresh:
            analyzed = self._analyzer.analyze(analysis_window(text), language, tokens)
            results: dict[str, object] = {}
            if role is Role.CUSTOMER:
                # Trained detectors and the detectors that read their scores (topics, sentiment).
                results[_FEATURES] = features.get(i)
                results[_SCORES] = scores.get(i)
                results[self.topic_hits.key] = self._topics.detect(i, analyzed, features.get(i), scores.get(i))
                results[self.sentiment.key] = self._sentiment.score(i, analyzed, self._model_sentiment(scores.get(i)))
            results.update((d.key, d.analyze(i, analyzed)) for d in self._by_role[role])
            if role is Role.CUSTOMER:
                # Once, now: a handoff at message n+1 folds over kept facts instead of reading n texts.
                results[_FACTS] = _facts_of(text)
            if self._summarise:
                # Read once, now: a handoff at message n+1 then folds over kept results (summary_state.py).
                results[_SUMMARY] = summary_features(text)
            slim = analyzed.slim()
            message = messages[i]
            records.append(
                MessageAnalysis(
                    i,
                    role,
                    text,
                    message_votes,
                    language,
                    slim,
                    results,
                    message.confidence,
                    message.fallback,
                    message.created_at,
                    fields[i],
                )
            )
        if extends and previous is not None and isinstance(previous.gathered, _Gathered):
            base, customer = previous.gathered, previous.customer_indexes
            new = records[len(previous.records) :]
        else:
            base, customer = _Gathered(), ()
            new = records
        added = [r for r in new if r.role is Role.CUSTOMER]
        return ConversationAnalysis(
            self,
            language,
            tuple(records),
            customer + tuple(r.index for r in added),
            base.extended(added, self.topic_hits, self.sentiment).summarised(new),
            fields,
        )

    # -- preparation: a fold over the records ----------------------------------------------------------

    def _prepare(
        self, conversation: Conversation, analysis: ConversationAnalysis, now: datetime | None
    ) -> TriggerContext:
        records = analysis.records
        customer = analysis.customer_indexes
        language = analysis.language
        gathered = analysis.gathered
        assert isinstance(gathered, _Gathered)
        if now is None:
            latest = running(records, _LATEST_STAMP, None, _latest_stamp)
            now = latest if latest is not None else datetime.now(UTC)
        score = status = None
        evidence: tuple[str, ...] = ()
        matches: tuple[KnowledgeMatch, ...] = ()
        if self.knowledge is not None and self.policy.triggers.low_confidence.knowledge.enabled and customer:
            coverage = self._coverage(records[customer[-1]])
            score, status = coverage.score, coverage.status
            evidence = tuple(f"{m.id} ({m.score:.2f})" for m in coverage.matches) + tuple(
                f"{entry_id}: nearest question {question!r} ({similarity:.2f})"
                for entry_id, question, similarity in coverage.nearest
            )
            matches = coverage.matches if status == "covered" else ()
        return TriggerContext(
            conversation=conversation,
            policy=self.policy,
            now=now,
            language=language,
            records=records,
            customer_indexes=customer,
            analyzed=_ByIndex(records, customer, _analyzed_of),
            sentiments=gathered.sentiments,
            topic_hits=gathered.topic_hits,
            knowledge_score=score,
            knowledge_status=status,
            knowledge_evidence=evidence,
            knowledge_matches=matches,
            features=_ByIndex(records, customer, _features_of),
            model_scores=_ByIndex(records, customer, _scores_of),
        )

    def score_messages(
        self, messages: Sequence[tuple[int, str]]
    ) -> tuple[dict[int, MessageFeatures], dict[int, dict[str, DetectorScore]]]:
        """Per-message features and trained-detector scores (message → scores with evidence), once each."""
        if self._featurizer is None or not messages:
            return {}, {}
        # Long messages are read through the analysis window (the knowledge check reuses these features).
        featurized = self._featurizer.featurize_many([analysis_window(text) for _, text in messages])
        features = {i: f for (i, _), f in zip(messages, featurized, strict=True)}
        detectors = self._detectors
        scores = {i: detectors.score_all(f) for i, f in features.items()} if detectors is not None else {}
        return features, scores

    def _model_sentiment(self, scores: dict[str, DetectorScore] | None) -> ModelSentiment | None:
        if not self._sentiment_model or not scores:
            return None
        rules = self._detectors.rule_weights if self._detectors is not None else {}
        return ModelSentiment(
            angry=scores["angry"],
            negative=scores["negative"],
            angry_rules=rules.get("angry", ()),
            negative_rules=rules.get("negative", ()),
        )

    def sentiment_features(self, text: str, language: str) -> tuple[float, ...]:
        """The rule numbers the trained sentiment heads weigh for ``text`` (for ``handoff train``)."""
        return self._sentiment.read(0, self._analyzer.analyze(analysis_window(text), language)).features

    def _facts(self, ctx: TriggerContext) -> Facts:
        """Facts of the customer messages: a running fold over each message's facts, extracted on arrival.

        Every decision advances the fold (one record, usually nothing to add), so the decision that hands
        a long conversation over reads the facts of every earlier message from the previous record.
        """
        return running(ctx.records, _FACTS_SO_FAR, _NO_FACTS, _with_facts)

    def _coverage(self, record: MessageAnalysis) -> Coverage:
        """Knowledge coverage of the latest question, computed once and kept in its record."""
        assert self.knowledge is not None
        found = record.results.get(_COVERAGE)
        if found is None:
            # The trained detectors featurised the same window with the same (bundled) featuriser: the
            # example-based scorers reuse it instead of featurising the message a second time.
            features = record.results.get(_FEATURES)
            found = self.knowledge.coverage(
                analysis_window(record.text),
                self.policy.triggers.low_confidence.knowledge,
                features if isinstance(features, MessageFeatures) else None,
            )
            record.results[_COVERAGE] = found
        return cast("Coverage", found)

    # -- the decision ----------------------------------------------------------------------------------

    def _build(
        self,
        conversation: Conversation,
        ctx: TriggerContext,
        reasons: list[Reason],
        action: Action,
        prepared: SummaryState | None = None,
    ) -> Decision:
        policy = self.policy
        sentiments = ctx.sentiments
        lowest = running(ctx.records, _LOWEST, None, self._lowest_sentiment)
        signals = Signals(
            sentiment=_or_zero(lowest),
            last_sentiment=sentiments[-1].score if sentiments else 0.0,
            sentiment_trend=round(sentiments[-1].score - sentiments[-policy.triggers.sentiment.trend_window].score, 4)
            if len(sentiments) >= 2 and len(sentiments) >= policy.triggers.sentiment.trend_window
            else (round(sentiments[-1].score - sentiments[0].score, 4) if len(sentiments) >= 2 else 0.0),
            angry=any(r.trigger is TriggerName.SENTIMENT and r.topic == "angry" for r in reasons),
            knowledge_coverage=None if ctx.knowledge_score is None else round(ctx.knowledge_score, 4),
            knowledge_status=ctx.knowledge_status,
            confidence=running(ctx.records, _CONFIDENCE, None, _latest_confidence),
        )
        last = ctx.last_customer_index
        urgent = last is not None and ctx.records[last].result(self.urgent)
        acting = [r for r in reasons if r.action.rank >= Action.OFFER_HANDOFF.rank]
        priority = policy.defaults.route.priority or Priority.NORMAL
        for r in acting:
            if r.priority.rank > priority.rank:
                priority = r.priority
        if urgent and action is not Action.CONTINUE and priority.rank < policy.urgency.priority.rank:
            priority = policy.urgency.priority
        group = next((r.group for r in acting if r.group), policy.defaults.route.group)
        routed = next((r for r in acting if r.group), None)
        schedule_name = (routed.schedule if routed else None) or policy.defaults.route.schedule
        slack_channel = next((r.slack_channel for r in acting if r.slack_channel), policy.defaults.route.slack_channel)
        lead = self._lead(ctx, reasons)
        tags: list[str] = []
        if action is not Action.CONTINUE:
            tags = [HANDOFF_TAG, *(f"handoff_{r.trigger.value}" for r in acting), *policy.defaults.route.tags]
            tags += [t for r in acting for t in r.tags]
            tags = list(dict.fromkeys(tags))  # the one list of tags a handoff adds, each once
        # Facts only matter to a reason that acts (fields to collect, the summary); the fold runs every
        # decision so that it stays one record behind.
        facts = self._facts(ctx)
        if not acting:
            facts = Facts()
        collected, missing = self._fields(conversation, acting, facts, lead)
        language = ctx.language
        hours = self._hours(ctx, action, acting, urgent, schedule_name)
        if hours.on_call:
            slack_channel = policy.business_hours.on_call.slack_channel
        email = CollectField.EMAIL.value
        if hours.available is False and action is Action.HANDOFF and email not in collected and email not in missing:
            missing.append(email)  # out of hours the reply goes by e-mail
        knowledge = ctx.knowledge_matches if action is Action.CONTINUE else ()
        summary: Summary | None = None
        if action is not Action.CONTINUE and policy.summary.enabled:
            want = next(
                (
                    e.message_index
                    for r in acting
                    for e in r.evidence
                    if e.message_index is not None and conversation.messages[e.message_index].role is Role.CUSTOMER
                ),
                None,
            )
            summary = summarize(
                SummaryInput(
                    conversation=conversation,
                    action=action,
                    reasons=acting,
                    sentiments=sentiments,
                    facts=facts,
                    collected=collected,
                    missing=missing,
                    language=language,
                    want_index=want,
                    vip=any(r.trigger is TriggerName.VIP for r in reasons),
                    now=ctx.now,
                    prepared=prepared,
                    worst_sentiment=lowest,
                ),
                max_chars=policy.summary.max_chars,
                redact_pii=policy.privacy.redact_summary,
            )
        return Decision(
            id=conversation.id,
            action=action,
            reasons=tuple(reasons),
            signals=signals,
            priority=priority if action is not Action.CONTINUE else policy.defaults.route.priority or Priority.NORMAL,
            route=Route(
                group=group if action is not Action.CONTINUE else None,
                tags=tuple(dict.fromkeys(tags)),
                slack_channel=slack_channel if action is not Action.CONTINUE else None,
                schedule=schedule_name if action is not Action.CONTINUE else None,
            ),
            alert=action is Action.HANDOFF and (hours.on_call or any(r.alert for r in acting)),
            urgent=urgent,
            language=language,
            summary=summary.text if summary else None,
            summary_short=summary.short if summary else None,
            missing_fields=tuple(missing) if action is not Action.CONTINUE else (),
            collected=collected,
            customer_message=self._customer_message(action, language, missing, hours, ctx.now, lead),
            knowledge=knowledge,
            policy=self._ref,
            knowledge_version=self.knowledge.version if self.knowledge is not None else None,
            agents_available=hours.available,
            expected_reply_by=hours.reply_by,
            on_call=hours.on_call,
            lead=lead,
        )

    def _lowest_sentiment(self, lowest: float | None, record: MessageAnalysis) -> float | None:
        if record.role is not Role.CUSTOMER:
            return lowest
        score = record.result(self.sentiment).score
        return score if lowest is None else min(lowest, score)

    def _lead(self, ctx: TriggerContext, reasons: Sequence[Reason]) -> Lead | None:
        if not any(r.trigger is TriggerName.SALES_LEAD for r in reasons):
            return None
        return self._sales.assess(ctx)

    def _hours(
        self,
        ctx: TriggerContext,
        action: Action,
        acting: Sequence[Reason],
        urgent: bool,
        schedule_name: str | None,
    ) -> _Hours:
        """Availability on the route's schedule; out of hours an urgent handoff may page on-call."""
        schedule = self.schedules.get(schedule_name) if schedule_name else None
        if action is Action.CONTINUE or schedule is None:
            return _Hours()
        now = ctx.now if ctx.now.tzinfo is not None else ctx.now.replace(tzinfo=UTC)
        reply_within = (
            self.policy.business_hours.schedules[schedule.name].reply_within_minutes
            if (schedule.name in self.policy.business_hours.schedules)
            else None
        )
        found = schedule.availability(now)
        if found.open:
            reply_by = now + timedelta(minutes=reply_within) if reply_within else None
            return _Hours(True, reply_by, schedule=schedule)
        on_call = self.policy.business_hours.on_call
        pages = (
            action is Action.HANDOFF
            and on_call.slack_channel is not None
            and ((on_call.urgent and urgent) or any(r.topic in on_call.topics for r in acting))
        )
        if pages:
            return _Hours(False, now + timedelta(minutes=on_call.reply_within_minutes), True, schedule)
        return _Hours(False, found.next_open, schedule=schedule)

    def _fields(
        self, conversation: Conversation, reasons: Sequence[Reason], facts: Facts, lead: Lead | None = None
    ) -> tuple[dict[str, str], list[str]]:
        customer, ctx = conversation.customer, conversation.context
        available: dict[str, str | None] = {
            CollectField.EMAIL: customer.email or (facts.emails[0] if facts.emails else None),
            CollectField.NAME: customer.name,
            CollectField.PHONE: customer.phone or (facts.phones[0] if facts.phones else None),
            CollectField.ORDER_ID: ctx.order_id or (facts.order_ids[0] if facts.order_ids else None),
            CollectField.PRODUCT: ctx.product,
            CollectField.AMOUNT: str(ctx.refund_amount or ctx.order_total or "")
            or (facts.amounts[0] if facts.amounts else None),
            CollectField.PURCHASE_DATE: ctx.purchase_date.date().isoformat()
            if ctx.purchase_date
            else (facts.dates[0] if facts.dates else None),
            CollectField.COMPANY: lead.company if lead else customer.organization,
            CollectField.TEAM_SIZE: str(lead.team_size) if lead and lead.team_size else None,
            CollectField.TIMELINE: lead.timeline if lead else None,
        }
        wanted: list[str] = []
        for reason in reasons:
            for field in self._collect_for(reason):
                if field not in wanted:
                    wanted.append(field)
        collected = {f: v for f in wanted if (v := available.get(CollectField(f)))}
        missing = [f for f in wanted if f not in collected]
        return collected, missing

    def _collect_for(self, reason: Reason) -> tuple[str, ...]:
        t = self.policy.triggers
        if reason.trigger is TriggerName.RESTRICTED_TOPIC and reason.topic in t.restricted_topic.topics:
            return tuple(t.restricted_topic.topics[reason.topic].collect)
        config = getattr(t, reason.trigger.value, None)
        collect = getattr(config, "collect", ())
        return tuple(collect)

    def _customer_message(
        self,
        action: Action,
        language: str,
        missing: Sequence[str],
        hours: _Hours,
        now: datetime,
        lead: Lead | None,
    ) -> str | None:
        messages = self.policy.messages
        default = self.policy.defaults.language

        def text(texts: dict[str, str]) -> str | None:
            return texts.get(language) or texts.get(default)

        names = [
            (
                messages.field_names.get(CollectField(f), {}).get(language)
                or messages.field_names.get(CollectField(f), {}).get(default)
                or f.replace("_", " ")
            )
            for f in missing
        ]
        if action is Action.CONTINUE:
            link = self.policy.triggers.sales_lead.meeting_link
            if lead is not None and not lead.qualified and link and (template := text(messages.sales_meeting)):
                return template.replace("{link}", link)
            return None
        if hours.available is False and hours.schedule is not None and hours.reply_by is not None:
            when = format_reply_by(hours.reply_by, hours.schedule, language, now.astimezone(UTC), messages.weekdays)
            head = text(messages.on_call if hours.on_call else messages.out_of_hours)
            if head:
                head = head.replace("{when}", when)
                ask = text(messages.out_of_hours_collect) if missing else None
                return f"{head} {ask.replace('{fields}', ', '.join(names))}" if ask else head
        if action is Action.OFFER_HANDOFF:
            return text(messages.offer_handoff)
        if action is Action.HANDOFF:
            if missing and messages.collect_first:
                template = text(messages.collect_first)
                if template:
                    joined = names[0]
                    if len(names) > 1:
                        joined = f"{', '.join(names[:-1])} {text(messages.list_and) or 'and'} {names[-1]}"
                    return template.replace("{fields}", joined)
            return text(messages.handoff)
        return None

    def _already_handed_off(self, conversation: Conversation) -> Decision:
        earlier = conversation.state.handed_off_reason
        detail = "the conversation is already with a person; the assistant stays silent"
        if earlier:
            detail += f" (handed off for: {earlier})"
        reason = Reason(
            trigger=TriggerName.ALREADY_HANDED_OFF,
            action=Action.HANDOFF,
            detail=detail,
            score=1.0,
            severity=1000,
        )
        language = conversation.language or self.policy.defaults.language
        return Decision(
            id=conversation.id,
            action=Action.HANDOFF,
            reasons=(reason,),
            language=language,
            policy=self._ref,
            knowledge_version=self.knowledge.version if self.knowledge is not None else None,
        )


def _latest_stamp(latest: datetime | None, record: MessageAnalysis) -> datetime | None:
    """The latest message time so far (as ``max`` picks it: the first of equal times)."""
    stamp = record.created_at
    return stamp if stamp is not None and (latest is None or stamp > latest) else latest


#: The facts of no message (never mutated: the fold's states are shared by the records that keep them).
_NO_FACTS = Facts()


def _with_facts(so_far: Facts, record: MessageAnalysis) -> Facts:
    """The facts up to ``record``: ``so_far`` itself when it adds nothing (most messages hold none)."""
    found = record.results.get(_FACTS)
    if not isinstance(found, Facts):
        if record.role is not Role.CUSTOMER:
            return so_far
        found = record.results[_FACTS] = _facts_of(record.text)  # a record made before facts were kept
    if found is _NO_FACTS:
        return so_far
    return merge_facts((so_far, found))


def _facts_of(text: str) -> Facts:
    """The facts of one message; the shared empty :data:`_NO_FACTS` when it has none (most messages)."""
    found = extract_facts([text])
    if found.order_ids or found.amounts or found.dates or found.emails or found.phones:
        return found
    return _NO_FACTS


def _with_shape(so_far: tuple[bool, int], record: MessageAnalysis) -> tuple[bool, int]:
    """A person in the conversation so far, and the longest text kept (a record made by analyze() from an
    unwindowed transcript may exceed the window: step() then windows the transcript, and such a record
    no longer matches). ``so_far`` itself when the record changes neither (most do not: one shared value)."""
    agent, longest = so_far
    if (record.role is Role.AGENT and not agent) or len(record.text) > longest:
        return (agent or record.role is Role.AGENT, max(longest, len(record.text)))
    return so_far


def _or_zero(value: float | None) -> float:
    return 0.0 if value is None else value


def _latest_confidence(latest: float | None, record: MessageAnalysis) -> float | None:
    """The latest stated confidence of any message (the Decision's ``confidence`` signal)."""
    return latest if record.confidence is None else record.confidence


def _bounded(conversation: Conversation) -> Conversation:
    """The conversation with every message cut to :data:`MESSAGE_WINDOW` (start and end kept)."""
    if max(map(len, map(_TEXT, conversation.messages)), default=0) <= MESSAGE_WINDOW:
        return conversation
    messages = tuple(
        m if len(m.text) <= MESSAGE_WINDOW else m.model_copy(update={"text": lexicon_window(m.text, MESSAGE_WINDOW)})
        for m in conversation.messages
    )
    return conversation.model_copy(update={"messages": messages})

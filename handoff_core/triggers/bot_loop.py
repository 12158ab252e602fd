"""``bot_loop``: the conversation is going round in circles.

Either the assistant fell back ("sorry, I didn't get that") too often, or the customer keeps asking the
same thing. Repeats are found by word overlap (the overlap coefficient over stemmed content words: shared words
over the shorter message's words, so "when does MY card arrive, I ordered it 12 days ago" repeats "when does
my new card arrive?") among the recent
customer messages, so rephrasings with the same key words count too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

from handoff_core.analysis import ASSISTANT, FunctionDetector, MessageAnalysis, MessageDetector, running
from handoff_core.decision import Evidence, Reason, TriggerName
from handoff_core.models import Role
from handoff_core.policy.schema import Matchable, Policy
from handoff_core.text.content import content_stems_of
from handoff_core.text.phrases import Vocabulary
from handoff_core.text.rules import RuleSet
from handoff_core.triggers.base import TriggerContext, make_reason

RECENT_MESSAGES = 20
MIN_WORDS_FOR_REPEAT = 2
#: Where each record keeps the running count of fallback replies up to it (and the last three indexes).
_FALLBACKS = "bot_loop.fallbacks"
_Fallbacks = tuple[int, tuple[int, ...]]
_NO_FALLBACKS: _Fallbacks = (0, ())
#: Where each customer record keeps the recent customer messages it repeats (None: too few words), its
#: content words, and the running window of the recent customer records with enough words.
_SIMILAR = "bot_loop.similar"
_WINDOW = "bot_loop.window"
_BAG = "bot_loop.content"
_Window = tuple[MessageAnalysis, ...]
_EMPTY_WINDOW: _Window = ()


class BotLoop:
    name = TriggerName.BOT_LOOP

    def __init__(self, policy: Policy, vocabulary: Vocabulary) -> None:
        self.config = policy.triggers.bot_loop
        self._fallbacks = RuleSet(vocabulary, {"fallback": Matchable(phrases=self.config.fallback_phrases)})
        self.fallback = FunctionDetector(
            "bot_loop.fallback", ASSISTANT, lambda _i, text: bool(self._fallbacks.match(text))
        )
        self.detectors: tuple[MessageDetector[object], ...] = (self.fallback,)

    def _count_fallback(self, state: _Fallbacks, record: MessageAnalysis) -> _Fallbacks:
        if record.role is Role.ASSISTANT and (record.fallback or record.result(self.fallback)):
            return state[0] + 1, (*state[1], record.index)[-3:]
        return state

    def _window(self, window: _Window, record: MessageAnalysis) -> _Window:
        """Keeps, in each customer record, the customer messages among the previous ``RECENT_MESSAGES - 1``
        (and itself) it repeats: every window of recent messages that holds it holds only those before
        it. Records with too few words for a repeat keep None and stay out of the window."""
        if record.role is not Role.CUSTOMER:
            return window
        # The content words, from the folded words the record keeps: only conversations long enough for
        # repeats ever get here, so a single question does not pay for them.
        bag = content_stems_of(record.analyzed.norms, record.analyzed.language)
        if len(bag) < MIN_WORDS_FOR_REPEAT:
            record.results[_SIMILAR] = None
            return window
        at = self.config.repeat_similarity
        earlier = [other.index for other in window if _overlap(bag, _bag(other)) >= at]
        record.results[_SIMILAR] = frozenset([*earlier, record.index] if _overlap(bag, bag) >= at else earlier)
        record.results[_BAG] = bag
        # The window holds the records themselves (kept anyway), not copies of their words: a few hundred
        # bytes of state per record.
        return (*window, record)[-(RECENT_MESSAGES - 1) :]

    def __call__(self, ctx: TriggerContext) -> Sequence[Reason]:
        cfg = self.config
        if not cfg.enabled:
            return ()
        reasons = []
        # (count, last three indexes) of the assistant's fallback replies so far, resumed from the last decision.
        count, last = running(ctx.records, _FALLBACKS, _NO_FALLBACKS, self._count_fallback)
        if count >= cfg.max_fallbacks:
            reasons.append(
                make_reason(
                    self.name,
                    cfg,
                    topic="fallbacks",
                    detail=f"the assistant could not answer {count} times",
                    score=min(1.0, count / (cfg.max_fallbacks + 1)),
                    evidence=[Evidence(message_index=i) for i in last],
                )
            )
        recent = ctx.customer_indexes[-RECENT_MESSAGES:]
        if len(recent) < cfg.max_repeats:
            return reasons  # fewer messages than repeats needed: nothing to compare yet
        # Which earlier messages each one repeats is worked out once, when it arrives (see _window).
        running(ctx.records, _WINDOW, _EMPTY_WINDOW, self._window)
        similar = {i: cast("frozenset[int] | None", ctx.records[i].results[_SIMILAR]) for i in recent}
        best = largest_repeat(recent, similar)
        if len(best) >= cfg.max_repeats:
            reasons.append(
                make_reason(
                    self.name,
                    cfg,
                    topic="repeated_question",
                    detail=f"the customer asked the same question {len(best)} times",
                    score=min(1.0, len(best) / (cfg.max_repeats + 1)),
                    evidence=[Evidence(message_index=i) for i in best[-3:]],
                )
            )
        return reasons


def largest_repeat(recent: Sequence[int], similar: Mapping[int, frozenset[int] | None]) -> list[int]:
    """The largest group of ``recent`` customer messages (ascending) that one of them repeats or is
    repeated by: for each message with words enough (``similar[i]``: the earlier messages it repeats, and
    itself), the recent messages it repeats plus the later ones that repeat it; the first largest wins.

    Counted before any list is built (the group sizes by set intersections and one tally of who repeats
    whom), then the winner's group listed: the same group as listing every message's (20 x 20 membership
    tests per decision), in a few set operations.
    """
    window = frozenset(recent)
    repeated_by: dict[int, int] = {}
    for j in recent:
        for k in similar[j] or ():
            if k < j:
                repeated_by[k] = repeated_by.get(k, 0) + 1
    chosen, size = -1, 0
    for i in recent:
        mine = similar[i]
        if mine is None:
            continue
        # Every message ``mine`` holds is ``i`` or before it: the recent ones among them come first.
        count = len(mine & window) + repeated_by.get(i, 0)
        if count > size:
            chosen, size = i, count
    if chosen < 0:
        return []
    mine = similar[chosen] or frozenset()
    return [j for j in recent if (j in mine if j <= chosen else chosen in (similar[j] or ()))]


def _bag(record: MessageAnalysis) -> frozenset[str]:
    return cast("frozenset[str]", record.results[_BAG])


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0

"""Replaying a finished conversation message by message, as the worker would have seen it live.

Deciding once on a whole transcript says *whether* a conversation needed a person; replaying it turn by
turn says *when*: at which customer message the policy would have offered or handed over, and what the
assistant would have kept answering before that. The state a live worker remembers (a person was
offered; the conversation is with a person) is carried from one turn to the next, and so is the
per-message analysis (:mod:`handoff_core.analysis`), exactly as the worker keeps it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from handoff_core.analysis import ConversationAnalysis
from handoff_core.decision import Action, Decision, TriggerName
from handoff_core.engine import DecisionEngine
from handoff_core.models import Conversation, ConversationState, Role


@dataclass(frozen=True, slots=True)
class Turn:
    #: 1-based number of the customer message this decision was made after.
    number: int
    #: Index of that customer message in the full conversation.
    message_index: int
    #: The conversation as it stood at that moment (messages so far, state carried over).
    conversation: Conversation
    decision: Decision


def replay(
    engine: DecisionEngine,
    conversation: Conversation,
    *,
    stop_at_handoff: bool = True,
    now: datetime | None = None,
    incremental: bool = True,
) -> Iterator[Turn]:
    """Decide after every customer message; by default stop once the conversation is with a person.

    Messages after the last customer message (the assistant's last replies: an unsure answer, a second
    fallback) are decided on too, in one more turn with the same number, as the worker decides on them
    when they arrive; without it a transcript ending in a low-confidence reply would replay as ``continue``.
    Each turn is decided at ``now`` when given, else at the time of its own last message (business hours
    then read as they were when the message came in).

    Like the worker, each turn reuses the analysis of the messages before it (``incremental``), so a
    replay costs one analysis per message; ``incremental=False`` re-reads the transcript every turn
    (the reference the tests compare against).
    """
    state = conversation.state
    analysis: ConversationAnalysis | None = None
    messages = conversation.messages
    positions = [i for i, m in enumerate(messages) if m.role is Role.CUSTOMER]
    if positions and positions[-1] < len(messages) - 1:
        stops = [(n, p, p + 1) for n, p in enumerate(positions, start=1)] + [(len(positions), positions[-1], None)]
    else:
        stops = [(n, p, p + 1) for n, p in enumerate(positions, start=1)]
    for number, position, end in stops:
        partial = conversation.model_copy(update={"messages": messages[:end], "state": state})
        decision, kept = engine.step(partial, analysis if incremental else None, now)
        analysis = kept or analysis
        yield Turn(number, position, partial, decision)
        if decision.action is Action.HANDOFF:
            if stop_at_handoff:
                return
            reason = decision.triggers[0] if decision.triggers else None
            if reason != TriggerName.ALREADY_HANDED_OFF.value:
                state = ConversationState(
                    handed_off=True, handed_off_reason=reason, handoff_offered=state.handoff_offered
                )
        elif decision.action is Action.OFFER_HANDOFF:
            state = state.model_copy(update={"handoff_offered": True})

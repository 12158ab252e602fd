"""The conversation's state machine: the one place that says what a decision does to the state.

The core is stateless; the caller stores :class:`~handoff_core.models.ConversationState` and passes it
back. Which state comes next is policy, so it lives here and nowhere else:

- a handoff is final: once handed off, a conversation stays with a person (the engine answers
  ``already_handed_off`` and plans nothing new);
- a handoff is offered at most once;
- the first handoff's triggers are remembered as its reason.

::

    remembered + observed --carry--> state --engine.decide--> decision --advance--> next state
                                                                   \\--is_new_handoff--> act (once)
"""

from __future__ import annotations

from handoff_core.decision import Action, Decision
from handoff_core.models import ConversationState


def carry(remembered: ConversationState | None, observed: ConversationState) -> ConversationState:
    """The state to decide with: what the store remembers, plus what the channel shows now.

    ``observed`` is what the caller read from the outside (for example a ticket already tagged as handed
    off); neither side can undo the other's handoff or offer.
    """
    if remembered is None:
        return observed
    return ConversationState(
        handed_off=remembered.handed_off or observed.handed_off,
        handed_off_reason=remembered.handed_off_reason or observed.handed_off_reason,
        handoff_offered=remembered.handoff_offered or observed.handoff_offered,
    )


def advance(state: ConversationState, decision: Decision) -> ConversationState:
    """The state after ``decision``: handed off and offered only ever go from False to True."""
    handed = decision.action is Action.HANDOFF
    return ConversationState(
        handed_off=state.handed_off or handed,
        handed_off_reason=state.handed_off_reason or (",".join(decision.triggers) if handed else None),
        handoff_offered=state.handoff_offered or decision.action is Action.OFFER_HANDOFF,
    )


def is_new_handoff(state: ConversationState, decision: Decision) -> bool:
    """True exactly once per conversation: the decision that hands it over (the caller acts on it)."""
    return decision.action is Action.HANDOFF and not state.handed_off

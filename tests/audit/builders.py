"""Decisions and conversations built through the core's public models, for audit-log unit tests."""

from __future__ import annotations

import uuid

from handoff_core import (
    Action,
    Context,
    Conversation,
    Customer,
    Decision,
    Evidence,
    Message,
    PolicyRef,
    Priority,
    Reason,
    Role,
    Route,
    Signals,
    TriggerName,
)


def conversation(
    conv_id: str = "c-1",
    text: str = "Where is my order?",
    channel: str = "webchat",
    ticket_id: str | None = None,
) -> Conversation:
    return Conversation(
        id=conv_id,
        channel=channel,
        customer=Customer(email="ann@example.com", name="Ann"),
        messages=(Message(role=Role.CUSTOMER, text=text),),
        context=Context(ticket_id=ticket_id),
    )


def decision(
    action: Action = Action.HANDOFF,
    trigger: TriggerName | None = TriggerName.SENTIMENT,
    *,
    quote: str = "this is useless",
    score: float = 0.8,
    alert: bool = False,
    angry: bool = False,
    topic: str | None = None,
    decision_id: str | None = None,
) -> Decision:
    reasons: tuple[Reason, ...] = ()
    if trigger is not None:
        reasons = (
            Reason(
                trigger=trigger,
                topic=topic,
                action=action,
                detail=f"{trigger.value} fired",
                evidence=(Evidence(message_index=0, matched=(quote,), quote=quote),),
                score=score,
                priority=Priority.HIGH,
                alert=alert,
            ),
        )
    return Decision(
        id=decision_id or uuid.uuid4().hex,
        action=action,
        reasons=reasons,
        signals=Signals(sentiment=-0.7 if angry else 0.1, angry=angry),
        priority=Priority.HIGH if action is Action.HANDOFF else Priority.NORMAL,
        route=Route(group="Tier 2", tags=("ai_handoff",)),
        alert=alert,
        policy=PolicyRef(version="2024-06-01", hash="abc123"),
        knowledge_version="kb-7",
    )

"""Turn a Zendesk ticket read through the API into the core's :class:`~handoff_core.Conversation`.

Who wrote a comment decides its role:

- the requester -> ``customer``;
- a user listed in ``ZENDESK_ASSISTANT_USER_IDS`` (the AI assistant's Zendesk user) -> ``assistant``;
- anyone else, in public -> ``agent`` (a person already answers); private notes from others are skipped.

Our own notes carry :data:`NOTE_MARKER` and are never part of the transcript; a ticket whose latest
comment is ours was changed by us, which is how the worker recognises its own updates (no loops).
"""

from __future__ import annotations

from collections.abc import Collection

from connectors.zendesk.models import TicketSnapshot, ZComment
from connectors.zendesk.webhooks import ZendeskNotification
from handoff_core import Context, Conversation, ConversationState, Customer, Message, Role
from handoff_core.engine import HANDOFF_TAG

NOTE_MARKER = "[handoff-guard]"
CHANNEL = "zendesk"


def conversation_id(ticket_id: int | str) -> str:
    return f"zendesk:{ticket_id}"


def is_own_comment(comment: ZComment) -> bool:
    return NOTE_MARKER in comment.text


def latest_is_own(snapshot: TicketSnapshot) -> bool:
    return bool(snapshot.comments) and is_own_comment(snapshot.comments[-1])


def _role(comment: ZComment, requester_id: int | None, assistants: Collection[int]) -> Role | None:
    if is_own_comment(comment):
        return None
    if comment.author_id is not None and comment.author_id == requester_id:
        return Role.CUSTOMER
    if comment.author_id in assistants:
        return Role.ASSISTANT
    return Role.AGENT if comment.public else None


def to_conversation(
    snapshot: TicketSnapshot,
    *,
    assistant_user_ids: Collection[int] = (),
    state: ConversationState | None = None,
) -> Conversation | None:
    """The transcript the core decides on, or None when the ticket has no message to decide on."""
    ticket = snapshot.ticket
    messages = []
    for comment in snapshot.comments:
        role = _role(comment, ticket.requester_id, assistant_user_ids)
        text = comment.text.strip()
        if role is None or not text:
            continue
        messages.append(Message(role=role, text=text[:50_000], created_at=comment.created_at, id=str(comment.id)))
    if not messages:
        return None
    requester = snapshot.requester
    org = snapshot.organization
    tags = tuple(dict.fromkeys((*(requester.tags if requester else ()), *(org.tags if org else ()))))
    customer = Customer(
        id=str(requester.id) if requester else None,
        email=requester.email if requester else None,
        name=requester.name if requester else None,
        phone=requester.phone if requester else None,
        tags=tags,
        organization=org.name if org else None,
    )
    handed = HANDOFF_TAG in ticket.tags
    base = state or ConversationState()
    if handed and not base.handed_off:
        base = base.model_copy(update={"handed_off": True, "handed_off_reason": "ticket tagged ai_handoff"})
    return Conversation(
        id=conversation_id(ticket.id),
        channel=CHANNEL,
        customer=customer,
        messages=tuple(messages[-2_000:]),
        context=Context(
            ticket_id=str(ticket.id),
            extras={"subject": ticket.subject or "", "ticket_tags": list(ticket.tags)},
        ),
        state=base,
    )


def local_conversation(note: ZendeskNotification, state: ConversationState | None) -> Conversation:
    """The conversation as far as a trigger payload tells it (local mode has no API to read the ticket):
    the latest comment as one customer message, the requester and the ticket id."""
    return Conversation(
        id=conversation_id(note.ticket_id),
        channel=CHANNEL,
        customer=Customer(name=note.requester_name, email=note.requester_email),
        messages=(Message(role=Role.CUSTOMER, text=(note.text or "")[:50_000]),),
        context=Context(
            ticket_id=str(note.ticket_id),
            extras={"subject": note.subject or "", "ticket_tags": list(note.tags), "source": "webhook payload"},
        ),
        state=state or ConversationState(),
    )

"""handoff_core: decide whether an AI support assistant may keep answering or must hand over to a person.

Pure decision logic: no network, database or web framework. The public surface is small:

- :class:`Conversation` (with :class:`Message`, :class:`Customer`, :class:`Context`) is the input;
- :func:`load_policy` reads and validates a YAML policy (errors name the field and the line);
- :class:`DecisionEngine` turns a conversation into a :class:`Decision` that explains itself;
- :func:`load_knowledge` reads approved knowledge for the coverage check.
"""

from handoff_core.decision import (
    Action,
    Decision,
    Evidence,
    KnowledgeMatch,
    PolicyRef,
    Priority,
    Reason,
    Route,
    Signals,
    TriggerName,
)
from handoff_core.models import Context, Conversation, ConversationState, Customer, Message, Role

__all__ = [
    "Action",
    "Context",
    "Conversation",
    "ConversationState",
    "Customer",
    "Decision",
    "Evidence",
    "KnowledgeMatch",
    "Message",
    "PolicyRef",
    "Priority",
    "Reason",
    "Role",
    "Route",
    "Signals",
    "TriggerName",
]

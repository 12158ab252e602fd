"""The JSON body an admin pastes into a Zendesk trigger's webhook action (``handoff zendesk template``).

Only ids, tags and statuses: no customer text, so no placeholder can break the JSON, and the worker
reads the ticket itself through the API. Tags are substituted space-separated; the worker splits them.
"""

from __future__ import annotations

TRIGGER_TEMPLATE = """\
{
  "handoff_guard": 1,
  "event": "ticket.updated",
  "ticket": {
    "id": "{{ticket.id}}",
    "status": "{{ticket.status}}",
    "tags": "{{ticket.tags}}",
    "updated_at": "{{ticket.updated_at_with_timestamp}}"
  }
}
"""

#: Conditions for the trigger that calls the webhook (shown in the walk-through and by the CLI).
TRIGGER_CONDITIONS = """\
Meet ALL of the following conditions:
  Ticket > Comment            Is         Present (public or private)
  Ticket > Tags               Contains none of the following    ai_handoff
Actions:
  Notify by > Active webhook  handoff-guard   (JSON body below)
"""

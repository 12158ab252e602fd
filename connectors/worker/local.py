"""Local-mode sinks: what the worker plugs in when Zendesk or Slack has no credentials.

Actions planned for them go to the ``local`` lane: recorded in the outbox (``handoff outbox list``
shows what would have been sent), never sent. What can be answered without a vendor is answered (no
ticket URL, nothing to assign); anything else raises :class:`~connectors.errors.NotConfigured`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectors.errors import NotConfigured
from connectors.zendesk.models import HandoffUpdate, NewTicket, TicketSnapshot


class LocalTickets:
    """No help desk: ticket actions are recorded in the outbox, tickets cannot be read."""

    lane = "local"

    async def read_ticket(self, ticket_id: int) -> TicketSnapshot:
        raise NotConfigured("local mode: no Zendesk credentials to read the ticket", vendor="zendesk")

    async def apply_handoff(self, update: HandoffUpdate) -> dict[str, Any]:
        raise NotConfigured("local mode: Zendesk is not configured", vendor="zendesk")

    async def create_ticket(self, new: NewTicket) -> dict[str, Any]:
        raise NotConfigured("local mode: Zendesk is not configured", vendor="zendesk")

    async def assign(self, ticket_id: int | None, agent_email: str) -> dict[str, Any]:
        return {}  # no help desk: the claim is recorded in the audit log and on the alert only

    def ticket_url(self, ticket_id: int | str | None) -> str | None:
        return None

    def close(self) -> None:
        return None


class LocalAlerts:
    """No team chat: alerts are recorded in the outbox, nothing can be posted or looked up."""

    lane = "local"

    async def post(
        self, channel: str, text: str, blocks: Sequence[dict[str, Any]], *, key: str | None = None
    ) -> dict[str, str]:
        raise NotConfigured("local mode: Slack is not configured", vendor="slack")

    async def find(self, channel: str, key: str, *, oldest: float) -> dict[str, str] | None:
        raise NotConfigured("local mode: Slack is not configured", vendor="slack")

    async def update(self, channel: str, ts: str, text: str, blocks: Sequence[dict[str, Any]]) -> None:
        raise NotConfigured("local mode: Slack is not configured", vendor="slack")

    async def user_email(self, user_id: str) -> str:
        raise NotConfigured("local mode: Slack is not configured", vendor="slack")

    async def aclose(self) -> None:
        return None

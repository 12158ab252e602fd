"""The worker's outbound ports: where handoffs go, as two narrow ``Protocol``s.

::

    TicketSink   the help desk: read a ticket, apply a handoff, create a web-chat ticket, assign
    AlertSink    the team chat: post an alert (keyed, so a retry can find it), update it, look up a user

Live mode plugs in :class:`~connectors.zendesk.gateway.ZendeskGateway` and
:class:`~connectors.slack.gateway.SlackGateway`; local mode plugs in :mod:`connectors.worker.local`.
The worker never asks "is Zendesk configured?": a sink's ``lane`` names the outbox lane its actions
go to (``local`` rows are recorded, never sent), and a local sink answers what it can (no ticket URL,
nothing to assign) or raises :class:`~connectors.errors.NotConfigured`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from connectors.zendesk.models import HandoffUpdate, NewTicket, TicketSnapshot


class TicketSink(Protocol):
    #: The outbox lane of ticket actions: ``zendesk``, or ``local`` (recorded, never sent).
    lane: str

    async def read_ticket(self, ticket_id: int) -> TicketSnapshot: ...
    async def apply_handoff(self, update: HandoffUpdate) -> dict[str, Any]: ...
    async def create_ticket(self, new: NewTicket) -> dict[str, Any]: ...
    async def assign(self, ticket_id: int | None, agent_email: str) -> dict[str, Any]: ...
    def ticket_url(self, ticket_id: int | str | None) -> str | None: ...
    def close(self) -> None: ...


class AlertSink(Protocol):
    #: The outbox lane of alert actions: ``slack``, or ``local`` (recorded, never sent).
    lane: str

    async def post(
        self, channel: str, text: str, blocks: Sequence[dict[str, Any]], *, key: str | None = None
    ) -> dict[str, str]: ...
    async def find(self, channel: str, key: str, *, oldest: float) -> dict[str, str] | None: ...
    async def update(self, channel: str, ts: str, text: str, blocks: Sequence[dict[str, Any]]) -> None: ...
    async def user_email(self, user_id: str) -> str: ...
    async def aclose(self) -> None: ...

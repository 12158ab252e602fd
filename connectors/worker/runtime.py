"""Everything the worker holds while it runs, created once in the lifespan and closed on shutdown.

No globals: the :class:`Runtime` lives on ``app.state.runtime``. Settings are read once by the caller
(``handoff serve`` or a test) and passed in. Local mode is two local sinks, not ``None``: with no Zendesk or
Slack credentials the worker plugs in the local sinks (:mod:`connectors.worker.local`), whose lane is
``local``: actions are recorded, never sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from connectors.audit import AuditLog, open_audit
from connectors.errors import ConnectorError
from connectors.metrics import Metrics
from connectors.settings import Settings
from connectors.slack.gateway import SlackGateway, build_client
from connectors.store import WorkerStore, open_store
from connectors.worker.analyses import AnalysisCache
from connectors.worker.local import LocalAlerts, LocalTickets
from connectors.worker.pool import Decider, DecisionPool
from connectors.worker.ports import AlertSink, TicketSink
from connectors.zendesk.gateway import ZendeskConfig, ZendeskGateway
from connectors.zendesk.schedules import resolve_schedules, wants_zendesk_schedules
from handoff_core.engine import DecisionEngine
from handoff_core.knowledge import load_knowledge
from handoff_core.policy import Policy, load_policy

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


def zendesk_config(settings: Settings) -> ZendeskConfig | None:
    if not (settings.zendesk_subdomain and settings.zendesk_email and settings.zendesk_api_token):
        return None
    return ZendeskConfig(
        subdomain=settings.zendesk_subdomain,
        email=settings.zendesk_email,
        token=settings.zendesk_api_token.get_secret_value(),
        timeout=settings.zendesk_timeout,
        ratelimit_budget=settings.zendesk_ratelimit_budget,
    )


def config_problems(settings: Settings) -> list[str]:
    """Configuration that makes the worker unready (it starts, but /readyz says why it is not ready)."""
    problems = []
    if settings.zendesk_live and not settings.zendesk_webhook_secret:
        problems.append("ZENDESK_WEBHOOK_SECRET is required when Zendesk credentials are set")
    if settings.slack_live and not settings.slack_alert_channel:
        problems.append("SLACK_ALERT_CHANNEL is required when Slack credentials are set")
    if (settings.zendesk_live or settings.slack_live) and not settings.webchat_secret:
        problems.append("WEBCHAT_SECRET is required outside local mode")
    if settings.review_schedule is not None:
        problems.append(
            f"REVIEW_SCHEDULE={settings.review_schedule!r} is not read: set review.weekly.schedule in the policy "
            "(a cron expression such as '0 9 * * MON') and unset REVIEW_SCHEDULE"
        )
    return problems


@dataclass
class Runtime:
    """What the worker's parts share: settings, policy, engine, the store, the audit log, metrics and the
    two outbound ports (:mod:`connectors.worker.ports`; local sinks in local mode, never ``None``)."""

    settings: Settings
    policy: Policy
    engine: Decider
    store: WorkerStore
    audit: AuditLog
    metrics: Metrics
    tickets: TicketSink = field(default_factory=LocalTickets)
    alerts: AlertSink = field(default_factory=LocalAlerts)
    #: The Slack client that slack-bolt shares for button clicks (only when Slack is live).
    slack_client: AsyncWebClient | None = None
    problems: list[str] = field(default_factory=list)
    #: The current time given to the core (business hours); the clock, unless a test fixes it.
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    analyses: AnalysisCache = field(default_factory=lambda: AnalysisCache(0))
    outbox_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    inbox_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    #: Where decisions run: off the event loop, bounded, each within the time budget (built from settings).
    decisions: DecisionPool = field(init=False)

    def __post_init__(self) -> None:
        self.decisions = DecisionPool(
            self.engine, workers=self.settings.decision_workers, budget=self.settings.decision_budget_seconds
        )

    @property
    def local_mode(self) -> bool:
        return self.tickets.lane == "local" and self.alerts.lane == "local"

    @classmethod
    def open(cls, settings: Settings) -> Runtime:
        """Load the policy and knowledge, open the store and the clients. Raises on invalid configuration."""
        policy = load_policy(settings.handoff_policy)
        encoder = policy.triggers.low_confidence.knowledge.encoder
        knowledge = load_knowledge(settings.handoff_knowledge, encoder) if settings.handoff_knowledge else None
        engine = DecisionEngine(policy, knowledge)
        store = open_store(settings.handoff_database_url, exclusive=True)
        try:
            audit = open_audit(settings.handoff_database_url)
        except BaseException:
            store.close()
            raise
        runtime = cls(
            settings=settings,
            policy=policy,
            engine=engine,
            store=store,
            audit=audit,
            metrics=Metrics(),
            problems=config_problems(settings),
            analyses=AnalysisCache(settings.analysis_cache_messages),
        )
        zconfig = zendesk_config(settings)
        if zconfig is not None:
            runtime.tickets = ZendeskGateway(zconfig)
        if settings.slack_live and settings.slack_bot_token is not None:
            runtime.slack_client = build_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
            runtime.alerts = SlackGateway(runtime.slack_client)
        log.info(
            "worker runtime ready (%s mode, tickets=%s, alerts=%s)",
            "local" if runtime.local_mode else "live",
            runtime.tickets.lane,
            runtime.alerts.lane,
        )
        return runtime

    async def load_zendesk_schedules(self) -> None:
        """Read the business-hours schedules the policy takes from Zendesk, once at start-up.

        What cannot be read or matched becomes a ``/readyz`` problem: handoffs on those routes then carry
        ``agents_available: null`` rather than a guessed reply time.
        """
        if not wants_zendesk_schedules(self.policy):
            return
        if not isinstance(self.tickets, ZendeskGateway):
            self.problems.append("the policy reads business hours from Zendesk, but Zendesk is not configured")
            return
        try:
            found = await self.tickets.read_schedules()
        except ConnectorError as exc:
            self.problems.append(f"Zendesk business hours could not be read: {exc}")
            log.warning("reading Zendesk business hours failed: %s", exc)
            return
        schedules, problems = resolve_schedules(self.policy, found)
        self.problems.extend(problems)
        if isinstance(self.engine, DecisionEngine):
            self.engine.add_schedules(schedules)
        log.info("business hours read from Zendesk: %s", ", ".join(sorted(schedules)) or "none matched")

    async def aclose(self) -> None:
        self.decisions.close()
        self.tickets.close()
        await self.alerts.aclose()
        self.audit.close()
        self.store.close()

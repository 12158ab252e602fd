"""The worker's composition root: open what the process needs, build each part with only its ports.

Why here and nowhere else: every other worker module receives exactly what it uses (the web-chat route a
:class:`~connectors.worker.webchat_routes.Webchat`, an outbox lane its store port, executors and audit
writer, an executor its sinks, ...). This is the one place that reads the settings (once, passed in by
``handoff serve`` or a test), opens the store, the audit log, the vendor clients and the decision pool,
and wires them; :func:`open_worker` closes all of it, in reverse order, when the app shuts down. There
is no object that everything receives: :class:`Worker` is what the app serves and runs, and the routes
each read their own service from ``app.state``.

Local mode is two local sinks, not ``None``: with no Zendesk or Slack credentials the worker plugs in
:mod:`connectors.worker.local`, whose lane is ``local``: actions are recorded, never sent.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from connectors.audit import AuditLog, open_audit
from connectors.errors import ConnectorError
from connectors.knowledge_cache import prepare_knowledge
from connectors.metrics import Metrics
from connectors.report.cron import next_run
from connectors.settings import Settings
from connectors.store import OutboxStore, RetentionStore, StoreError, WorkerStore, open_store
from connectors.worker import memory
from connectors.worker.analyses import AnalysisCache
from connectors.worker.executors import Executor, build_executors, review_action
from connectors.worker.group_commit import InboxGroupCommit
from connectors.worker.handoffs import ActionPlanner, Handoffs
from connectors.worker.health import Health
from connectors.worker.local import LocalAlerts, LocalTickets
from connectors.worker.offload import StoreCalls, store_calls
from connectors.worker.pool import DecisionPool
from connectors.worker.ports import AlertSink, TicketSink
from connectors.worker.processes import DecisionProcesses, default_processes
from connectors.worker.processors import LANES, InboxProcessor, OutboxProcessor, QueueTuning
from connectors.worker.webchat_routes import Webchat, WebchatAccess
from connectors.worker.zendesk_webhook import ZendeskIntake
from connectors.zendesk.schedules import resolve_schedules, wants_zendesk_schedules
from handoff_core.engine import DecisionEngine
from handoff_core.knowledge import load_knowledge
from handoff_core.policy import Policy, load_policy

if TYPE_CHECKING:
    from connectors.report.data import Review
    from connectors.worker.slack_events import BoltHandler
    from connectors.zendesk.gateway import ZendeskConfig

log = logging.getLogger(__name__)

#: Threads for PostgreSQL store and audit calls: the store's connection pool size (more would only wait).
STORE_THREADS = 8
#: How often the worker purges raw text past the retention (first run at start-up).
PURGE_INTERVAL_SECONDS = 86400.0

Loop = Callable[[], Coroutine[Any, Any, None]]


def zendesk_config(settings: Settings) -> ZendeskConfig | None:
    if not (settings.zendesk_subdomain and settings.zendesk_email and settings.zendesk_api_token):
        return None
    from connectors.zendesk.gateway import ZendeskConfig

    return ZendeskConfig(
        subdomain=settings.zendesk_subdomain,
        email=settings.zendesk_email,
        token=settings.zendesk_api_token.get_secret_value(),
        timeout=settings.zendesk_timeout,
        ratelimit_budget=settings.zendesk_ratelimit_budget,
    )


def decision_processes(settings: Settings) -> int:
    """``DECISION_PROCESSES``, or when unset one per usable core but one (the cores this process may run on,
    which a container or ``taskset`` may limit below ``os.cpu_count()``)."""
    if settings.decision_processes is not None:
        return settings.decision_processes
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return default_processes(usable)


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


async def load_zendesk_schedules(
    policy: Policy, tickets: TicketSink, engine: DecisionEngine, problems: list[str]
) -> None:
    """Read the business-hours schedules the policy takes from Zendesk, once at start-up.

    What cannot be read or matched becomes a ``/readyz`` problem: handoffs on those routes then carry
    ``agents_available: null`` rather than a guessed reply time.
    """
    if not wants_zendesk_schedules(policy):
        return
    from connectors.zendesk.gateway import ZendeskGateway

    if not isinstance(tickets, ZendeskGateway):
        problems.append("the policy reads business hours from Zendesk, but Zendesk is not configured")
        return
    try:
        found = await tickets.read_schedules()
    except ConnectorError as exc:
        problems.append(f"Zendesk business hours could not be read: {exc}")
        log.warning("reading Zendesk business hours failed: %s", exc)
        return
    schedules, unmatched = resolve_schedules(policy, found)
    problems.extend(unmatched)
    engine.add_schedules(schedules)
    log.info("business hours read from Zendesk: %s", ", ".join(sorted(schedules)) or "none matched")


async def purge_once(store: RetentionStore, retention_days: float, now: float) -> dict[str, int]:
    """Purge raw text older than ``retention_days`` (always off the event loop: it may touch many rows)."""
    counts = await asyncio.to_thread(store.purge_raw, now - retention_days * 86400.0)
    log.info("purged raw text older than %g days: %s", retention_days, counts)
    return counts


async def daily_purge(store: RetentionStore, retention_days: float) -> None:
    """Keep raw customer text only as long as the retention says; a failed run is retried the next day."""
    while True:
        try:
            await purge_once(store, retention_days, time.time())
        except StoreError as exc:
            log.warning("raw-text purge failed (retried in a day): %s", exc)
        await asyncio.sleep(PURGE_INTERVAL_SECONDS)


async def review_schedule(
    outbox: OutboxStore, calls: StoreCalls, wakeup: asyncio.Event, cron: str, channel: str
) -> None:
    """Enqueue the weekly review when it is due; the Slack lane posts it (once, whatever the replicas)."""
    while True:
        now = datetime.now(UTC)
        due = next_run(cron, now)
        await asyncio.sleep(max((due - now).total_seconds(), 0.0))
        await calls(outbox.outbox_enqueue, [review_action(due, channel)])
        wakeup.set()


def weekly_review(audit: AuditLog, policy: Policy, due: datetime) -> Review:
    """The week's review, importing the review's modules only when one is due (see ``SlackReview``)."""
    from connectors.report.schedule import build_review

    return build_review(audit, policy, now=due)


@dataclass(frozen=True)
class SlackRoute:
    """What ``POST /slack/events`` uses: bolt's handler (None in local mode) and the checks before it."""

    handler: BoltHandler | None
    signing_secret: str
    max_body_bytes: int
    metrics: Metrics


@dataclass(frozen=True)
class Worker:
    """What the app serves (one service per route family) and runs (named background loops).

    Nothing receives this object: the lifespan puts each service on ``app.state`` for its routes and
    starts the loops. ``store``, ``audit``, ``handoffs``, ``executors`` and ``alerts`` are kept for
    tests and diagnostics, which look inside a running worker.
    """

    webchat: Webchat
    zendesk: ZendeskIntake
    health: Health
    slack: SlackRoute
    loops: Mapping[str, Loop]
    store: WorkerStore
    audit: AuditLog
    handoffs: Handoffs
    executors: Mapping[str, Executor]
    alerts: AlertSink
    local_mode: bool


@asynccontextmanager
async def open_worker(settings: Settings, *, processors: bool = True) -> AsyncIterator[Worker]:
    """Open and wire the worker; close everything on exit. Raises on invalid configuration.

    ``processors=False`` leaves out the inbox and outbox loops (benches measure the request path alone).
    """
    policy = load_policy(settings.handoff_policy)
    encoder = policy.triggers.low_confidence.knowledge.encoder
    knowledge = load_knowledge(settings.handoff_knowledge, encoder) if settings.handoff_knowledge else None
    if knowledge is not None:
        cache = settings.handoff_knowledge_cache
        outcome = prepare_knowledge(knowledge, policy.triggers.low_confidence.knowledge, cache)
        if outcome != "not_fitted":
            log.info("knowledge coverage head: %s (cache folder %s)", outcome, cache)
    engine = DecisionEngine(policy, knowledge)
    memory.limit_arenas(settings.malloc_arena_max)  # before the decision pool's threads first allocate
    async with AsyncExitStack() as stack:
        store = open_store(settings.handoff_database_url, exclusive=True)
        stack.callback(store.close)
        audit = open_audit(settings.handoff_database_url)
        stack.callback(audit.close)
        calls = store_calls(remote=store.remote, workers=STORE_THREADS)
        stack.callback(calls.close)
        # The vendor clients (zenpy with requests; slack_sdk's urllib client; slack_bolt) are imported only when
        # configured: about 12 MB of a worker's memory that local mode never uses (docs/volume.md).
        zconfig = zendesk_config(settings)
        tickets: TicketSink = LocalTickets()
        if zconfig is not None:
            from connectors.zendesk.gateway import ZendeskGateway

            tickets = ZendeskGateway(zconfig)
        stack.callback(tickets.close)
        slack_client = None
        alerts: AlertSink = LocalAlerts()
        if settings.slack_live and settings.slack_bot_token is not None:
            from connectors.slack.gateway import SlackGateway, build_client

            slack_client = build_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
            alerts = SlackGateway(slack_client)
        stack.push_async_callback(alerts.aclose)
        decisions = DecisionPool(
            engine,
            workers=settings.decision_workers,
            budget=settings.decision_budget_seconds,
            max_wait=settings.decision_max_wait_seconds,
        )
        stack.callback(decisions.close)

        problems = config_problems(settings)
        await load_zendesk_schedules(policy, tickets, engine, problems)
        processes = None
        if count := decision_processes(settings):
            # Forked now: the engine is complete (schedules read) and no decision thread has run yet.
            processes = DecisionProcesses(
                engine,
                processes=count,
                budget=settings.decision_budget_seconds,
                max_wait=settings.decision_max_wait_seconds,
                cache_messages=settings.analysis_cache_messages,
                cache_bytes=int(settings.analysis_cache_mb * 1024 * 1024),
            )
            stack.callback(processes.close)
            await processes.start()
        local_mode = tickets.lane == "local" and alerts.lane == "local"
        metrics = Metrics()
        outbox_wakeup, inbox_wakeup = asyncio.Event(), asyncio.Event()
        tuning = QueueTuning.from_settings(settings)
        handoffs = Handoffs(
            decisions=decisions,
            analyses=AnalysisCache(
                settings.analysis_cache_messages, max_bytes=int(settings.analysis_cache_mb * 1024 * 1024)
            ),
            audit=audit,
            calls=calls,
            metrics=metrics,
            planner=ActionPlanner(tickets.lane, alerts.lane, settings.slack_alert_channel),
            processes=processes,
        )
        executors = build_executors(
            tickets=tickets,
            alerts=alerts,
            conversations=store,
            outbox=store,
            audit=audit,
            calls=calls,
            wakeup=outbox_wakeup,
            review=lambda due: weekly_review(audit, policy, due),
        )
        acks = InboxGroupCommit(store, calls)
        loops: dict[str, Loop] = {}
        if processors:
            for lane in LANES:
                lane_processor = OutboxProcessor(
                    lane,
                    store=store,
                    executors=executors,
                    audit=audit,
                    metrics=metrics,
                    tuning=tuning,
                    calls=calls,
                    wakeup=outbox_wakeup,
                    actions_per_minute=settings.zendesk_actions_per_minute if lane == "zendesk" else 0,
                )
                loops[lane_processor.name] = lane_processor.run
            inbox = InboxProcessor(
                store=store,
                tickets=tickets,
                handoffs=handoffs,
                audit=audit,
                tuning=tuning,
                calls=calls,
                wakeup=inbox_wakeup,
                outbox_wakeup=outbox_wakeup,
                assistant_user_ids=settings.zendesk_assistant_user_ids,
                acks=acks,
            )
            loops["inbox"] = inbox.run
            loops["purge"] = lambda: daily_purge(store, settings.raw_retention_days)
        loops["trim"] = lambda: memory.trim_every(settings.memory_trim_seconds)
        weekly = policy.review.weekly
        channel = weekly.slack_channel or settings.slack_review_channel or settings.slack_alert_channel
        if weekly.enabled and weekly.schedule and alerts.lane != "local" and channel:
            cron = weekly.schedule
            loops["review"] = lambda: review_schedule(store, calls, outbox_wakeup, cron, channel)

        slack = SlackRoute(None, "", settings.max_body_bytes, metrics)
        if slack_client is not None and settings.slack_signing_secret is not None:
            from connectors.worker.slack_events import SlackButtons, build_bolt_app, build_handler

            secret = settings.slack_signing_secret.get_secret_value()
            buttons = SlackButtons(store, audit, calls, metrics, outbox_wakeup)
            handler = build_handler(build_bolt_app(slack_client, secret, buttons))
            slack = SlackRoute(handler, secret, settings.max_body_bytes, metrics)
        worker = Worker(
            webchat=Webchat(
                access=WebchatAccess(
                    max_body_bytes=settings.max_body_bytes,
                    secret=settings.webchat_secret,
                    local_mode=local_mode,
                    foreign_tickets=settings.webchat_foreign_tickets,
                ),
                store=store,
                handoffs=handoffs,
                calls=calls,
                metrics=metrics,
                outbox_wakeup=outbox_wakeup,
            ),
            zendesk=ZendeskIntake(
                max_body_bytes=settings.max_body_bytes,
                secret=settings.zendesk_webhook_secret,
                signature_max_age=settings.zendesk_signature_max_age,
                inbox=acks,
                metrics=metrics,
                wakeup=inbox_wakeup,
            ),
            health=Health(
                policy_version=policy.version,
                policy_hash=policy.hash,
                store=store,
                calls=calls,
                metrics=metrics,
                problems=problems,
                ticket_lane=tickets.lane,
                alert_lane=alerts.lane,
            ),
            slack=slack,
            loops=loops,
            store=store,
            audit=audit,
            handoffs=handoffs,
            executors=executors,
            alerts=alerts,
            local_mode=local_mode,
        )
        log.info(
            "worker ready (%s mode, tickets=%s, alerts=%s, store calls %s, decisions in %s)",
            "local" if local_mode else "live",
            tickets.lane,
            alerts.lane,
            "in a thread pool" if store.remote else "inline",
            f"{len(processes.pids)} processes" if processes else "threads",
        )
        yield worker

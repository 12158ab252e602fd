"""Worker commands: ``handoff serve``, ``handoff outbox list|show|retry|lag``, ``handoff purge``,
``handoff zendesk template``.

Settings are read once here (environment and ``.env``) and passed down. Errors are printed as one clear
line and exit with status 2, never as a traceback.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import click
from pydantic import ValidationError

from connectors.metrics import INBOX_LAG_ALERT_SECONDS, KNOWN_LANES, OUTBOX_LAG_ALERT_SECONDS
from connectors.settings import UNAUTHENTICATED_WARNING, Settings
from connectors.store import OutboxItem, OutboxStatus, StoreError, WorkerStore, open_store
from connectors.store.models import Backlog
from connectors.store.sqlite import ProcessLock
from connectors.zendesk.template import TRIGGER_CONDITIONS, TRIGGER_TEMPLATE
from handoff_core.errors import HandoffError


def _settings(env_file: Path | None) -> Settings:
    try:
        if env_file is not None:
            return Settings(_env_file=env_file)
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "_".join(map(str, first["loc"])).upper()
        message = str(first["msg"]).removeprefix("Value error, ")
        raise click.ClickException(f"invalid setting {name}: {message}") from exc


def _store(settings: Settings) -> WorkerStore:
    """The worker's store, for reading: a SQLite file is never created here (an empty new file would look
    like a quiet queue)."""
    try:
        if not settings.database_is_postgres:
            path = settings.database_path
            if not path.exists():
                raise click.ClickException(
                    f"no store at {path.absolute()}: the worker has not run with this HANDOFF_DATABASE_URL "
                    "(set it, or --env-file, to the worker's store)"
                )
        return open_store(settings.handoff_database_url)
    except (StoreError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc


def redacted_url(url: str) -> str:
    """A database URL fit to print: the password, if any, replaced."""
    head, sep, tail = url.partition("@")
    if not sep or ":" not in head.split("//", 1)[-1]:
        return url
    scheme, _, userinfo = head.partition("//")
    return f"{scheme}//{userinfo.split(':', 1)[0]}:***@{tail}"


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


env_option = click.option(
    "--env-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Read settings from this file instead of ./.env",
)


@click.command()
@click.option("--host", default=None, help="Interface to bind (default HOST, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default PORT, 8000).")
@env_option
def serve(host: str | None, port: int | None, env_file: Path | None) -> None:
    """Run the web worker (FastAPI on uvicorn). Without Zendesk/Slack credentials: local mode."""
    import uvicorn

    from connectors.worker.app import create_app
    from connectors.worker.wiring import config_problems
    from handoff_core.policy import load_policy

    settings = _settings(env_file)
    problem = settings.bind_problem(host or settings.host)
    if problem is not None:
        raise click.ClickException(problem)
    try:
        load_policy(settings.handoff_policy)
    except HandoffError as exc:
        raise click.ClickException(f"the policy {settings.handoff_policy} is invalid:\n{exc}") from exc
    try:  # fail here with one clear line, not in the lifespan with a traceback
        if settings.database_is_postgres:
            path: object = redacted_url(settings.handoff_database_url)
            open_store(settings.handoff_database_url).close()  # reachable, migrated
        else:
            path = settings.database_path
            ProcessLock(settings.database_path).acquire().release()
    except (StoreError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    # click's styles, not rich: the worker process runs for weeks, and rich (2.4 MB of RSS) would be loaded
    # for these few lines only (docs/volume.md, round 6).
    live = [name for name, on in (("Zendesk", settings.zendesk_live), ("Slack", settings.slack_live)) if on]
    mode = (
        f"live ({', '.join(live)})" if live else "local (no Zendesk/Slack credentials: actions are recorded, not sent)"
    )
    say = click.echo
    say(
        f"handoff-guard worker: {click.style(mode, bold=True)}; store {path}; policy {settings.handoff_policy}",
        err=True,
    )
    for problem in config_problems(settings):
        say(f"{click.style('not ready:', fg='yellow')} {problem}", err=True)
    if settings.unauthenticated:
        say(f"{click.style('warning:', fg='red', bold=True)} {UNAUTHENTICATED_WARNING}", err=True)
    if not live:
        example = '{"conversation_id":"c1","message_id":"m1","role":"customer","text":"I want a person"}'
        say(
            f"try: curl -s localhost:{port or settings.port}/v1/webchat/messages "
            f"-H 'content-type: application/json' -d '{example}'  then: handoff outbox list",
            err=True,
        )
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level,
        access_log=False,
        lifespan="on",
    )


@click.group()
def outbox() -> None:
    """Actions waiting to be sent, sent, parked as dead, or recorded in local mode."""


@outbox.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include actions already sent (done).")
@click.option(
    "--status",
    type=click.Choice([s.value for s in OutboxStatus]),
    multiple=True,
    help="Only these statuses (repeatable).",
)
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line, payload included.")
@env_option
def outbox_list(show_all: bool, status: tuple[str, ...], limit: int, as_json: bool, env_file: Path | None) -> None:
    """List outbox actions (default: pending, dead and local). In local mode these are what would be sent."""
    store = _store(_settings(env_file))
    try:
        if status:
            statuses = [OutboxStatus(s) for s in status]
        elif show_all:
            statuses = []
        else:
            statuses = [OutboxStatus.PENDING, OutboxStatus.DEAD, OutboxStatus.LOCAL]
        items = store.outbox_list(statuses, limit=limit)
        backlog = store.backlog()
    finally:
        store.close()
    if as_json:
        for item in items:
            click.echo(json.dumps(_as_dict(item), ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"outbox ({len(items)} shown)")
    for col in ("id", "kind", "target", "status", "tries", "next try / updated", "conversation", "detail"):
        table.add_column(col, overflow="fold")
    for item in items:
        when = _when(item.next_attempt_at if item.status is OutboxStatus.PENDING else item.updated_at)
        table.add_row(
            str(item.id),
            item.kind,
            item.target,
            item.status.value,
            str(item.attempts),
            when,
            item.conversation_id or "",
            _detail(item),
        )
    Console().print(table)
    _print_lag(backlog)
    if any(i.status is OutboxStatus.LOCAL for i in items):
        click.echo("local: recorded in local mode (no credentials), never sent; see `handoff outbox show ID`")


@outbox.command("lag")
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON object per queue and lane (idle known lanes at 0, as /metrics)."
)
@env_option
def outbox_lag(as_json: bool, env_file: Path | None) -> None:
    """How far each lane of the inbox and outbox is behind (pending rows, oldest pending age, dead rows).

    Exit code 3 when a lane's oldest pending row is older than the alert threshold, so a cron job or a
    health probe can use it directly.
    """
    store = _store(_settings(env_file))
    try:
        backlog = store.backlog()
    finally:
        store.close()
    now = time.time()
    if as_json:
        # Every lane /metrics exports, at 0 when idle, so a script sees the same lanes on a fresh store.
        lanes = {(b.queue, b.lane): b for b in backlog}
        for queue, lane in KNOWN_LANES:
            lanes.setdefault((queue, lane), Backlog(queue, lane, 0, 0, None))
        for b in lanes.values():
            row = {"queue": b.queue, "lane": b.lane, "pending": b.pending, "dead": b.dead}
            click.echo(json.dumps({**row, "oldest_pending_seconds": round(b.oldest_pending_age(now), 3)}))
    else:
        _print_lag(backlog)
    if any(_behind(b, now) for b in backlog):
        raise SystemExit(3)


def _behind(b: Backlog, now: float) -> bool:
    limit = INBOX_LAG_ALERT_SECONDS if b.queue == "inbox" else OUTBOX_LAG_ALERT_SECONDS
    return b.oldest_pending_age(now) > limit


def _print_lag(backlog: list[Backlog]) -> None:
    """One line per queue and lane with something pending or dead; one line when all is caught up."""
    now = time.time()
    busy = [b for b in backlog if b.pending or b.dead]
    if not busy:
        click.echo("lag: inbox and outbox caught up (nothing pending, nothing dead)")
        return
    for b in busy:
        flag = "  ALERT: behind" if _behind(b, now) else ""
        click.echo(
            f"lag {b.queue}/{b.lane}: {b.pending} pending, oldest {b.oldest_pending_age(now):.1f} s;"
            f" {b.dead} dead{flag}"
        )
    click.echo(
        f"(alert thresholds: inbox {INBOX_LAG_ALERT_SECONDS:.0f} s, outbox {OUTBOX_LAG_ALERT_SECONDS:.0f} s;"
        " see docs/volume.md)"
    )


def _detail(item: OutboxItem) -> str:
    if item.last_error:
        return item.last_error
    p = item.payload
    if item.kind == "zendesk.handoff":
        return f"ticket #{p.get('ticket_id')}: tags {', '.join(p.get('tags', []))}; priority {p.get('priority')}"
    if item.kind == "zendesk.create_ticket":
        return f"new ticket '{p.get('subject')}' for {p.get('requester_name')}; priority {p.get('priority')}"
    if item.kind == "slack.alert":
        content = p.get("content", {})
        target = p.get("channel") or "(no channel)"
        return f"alert to {target}: {content.get('customer')}; vip={content.get('vip')}"
    return json.dumps(item.result or {}, ensure_ascii=False)[:200]


def _as_dict(item: OutboxItem) -> dict[str, object]:
    return {
        "id": item.id,
        "kind": item.kind,
        "target": item.target,
        "status": item.status.value,
        "attempts": item.attempts,
        "conversation_id": item.conversation_id,
        "decision_id": item.decision_id,
        "created_at": _when(item.created_at),
        "updated_at": _when(item.updated_at),
        "next_attempt_at": _when(item.next_attempt_at),
        "last_error": item.last_error,
        "payload": item.payload,
        "result": item.result,
    }


@outbox.command("show")
@click.argument("action_id", type=int)
@env_option
def outbox_show(action_id: int, env_file: Path | None) -> None:
    """Print one action with its full payload (the note, the alert) as JSON."""
    store = _store(_settings(env_file))
    try:
        item = store.outbox_get(action_id)
    finally:
        store.close()
    if item is None:
        raise click.ClickException(f"no outbox action {action_id}")
    click.echo(json.dumps(_as_dict(item), indent=2, ensure_ascii=False))


@outbox.command("retry")
@click.argument("action_id", type=int, required=False)
@click.option("--all-dead", is_flag=True, help="Requeue every dead action.")
@env_option
def outbox_retry(action_id: int | None, all_dead: bool, env_file: Path | None) -> None:
    """Put a dead action (or all of them) back in the queue with a fresh attempt budget."""
    if (action_id is None) == (not all_dead):
        raise click.UsageError("give an action ID or --all-dead (not both)")
    store = _store(_settings(env_file))
    try:
        if all_dead:
            count = store.outbox_retry_dead()
            click.echo(f"requeued {count} dead action(s); a running worker sends them within its poll interval")
            return
        assert action_id is not None
        if not store.outbox_retry(action_id):
            item = store.outbox_get(action_id)
            state = "does not exist" if item is None else f"is {item.status.value}, not dead"
            raise click.ClickException(f"action {action_id} {state}")
        click.echo(f"requeued action {action_id}")
    finally:
        store.close()


@click.command()
@click.option(
    "--older-than-days",
    type=click.FloatRange(min=0),
    default=None,
    help="Purge raw text older than this many days. [default: RAW_RETENTION_DAYS, 30]",
)
@click.option("--dry-run", is_flag=True, help="Only count what would be purged; change nothing.")
@env_option
def purge(older_than_days: float | None, dry_run: bool, env_file: Path | None) -> None:
    """Delete or blank raw customer text older than the retention (pending work is never touched).

    The worker runs the same purge once a day; this is for a one-off, or a shorter window on request.
    """
    settings = _settings(env_file)
    days = settings.raw_retention_days if older_than_days is None else older_than_days
    before = time.time() - days * 86400.0
    store = _store(settings)
    try:
        counts = store.purge_raw(before, dry_run=dry_run)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    verb = "would purge" if dry_run else "purged"
    click.echo(f"{verb} raw text older than {days:g} days (before {_when(before)} UTC):")
    for table, n in counts.items():
        click.echo(f"  {table}: {n}")


@click.group()
def zendesk() -> None:
    """Zendesk setup helpers: trigger template, signing a test webhook."""


@zendesk.command("template")
@click.option("--conditions/--no-conditions", default=True, help="Also print the suggested trigger conditions.")
def zendesk_template(conditions: bool) -> None:
    """Print the JSON body to paste into the Zendesk trigger's webhook action."""
    if conditions:
        click.echo(TRIGGER_CONDITIONS, err=True)
    click.echo(TRIGGER_TEMPLATE, nl=False)


MAX_SIGN_BYTES = 256 * 1024


@zendesk.command("sign")
@click.argument("body_file", metavar="FILE", type=click.Path(path_type=Path))
@click.option("--secret", default=None, help="The webhook signing secret. [default: $ZENDESK_WEBHOOK_SECRET]")
@click.option("--url", default="http://127.0.0.1:8000/webhooks/zendesk", show_default=True, help="For the curl line.")
@click.option("--invocation-id", default=None, help="x-zendesk-webhook-invocation-id. [default: a new UUID]")
@env_option
def zendesk_sign(
    body_file: Path, secret: str | None, url: str, invocation_id: str | None, env_file: Path | None
) -> None:
    """Print the headers Zendesk would send with FILE (a JSON body), and a curl line that posts it.

    The signature is base64(HMAC-SHA256(secret, timestamp + body)) and is valid for
    ZENDESK_SIGNATURE_MAX_AGE seconds (300): sign again for a later test.
    """
    import shlex
    import uuid

    from connectors.zendesk.signature import sign_zendesk_body

    if body_file.is_dir():
        raise click.ClickException(f"{body_file}: is a folder; give the JSON body file")
    try:
        body = body_file.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"{body_file}: cannot read: {exc.strerror or exc}") from exc
    if len(body) > MAX_SIGN_BYTES:
        raise click.ClickException(f"{body_file}: larger than {MAX_SIGN_BYTES} bytes; the worker would refuse it")
    try:
        json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{body_file}: not UTF-8 text (byte {exc.start + 1})") from exc
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"{body_file}:{exc.lineno}: not JSON: {exc.msg}") from exc
    if secret is None:
        configured = _settings(env_file).zendesk_webhook_secret
        if configured is None:
            raise click.ClickException("no secret: give --secret or set ZENDESK_WEBHOOK_SECRET (as the worker has it)")
        secret = configured.get_secret_value()
    headers = sign_zendesk_body(secret, body, now=datetime.now(UTC), invocation_id=invocation_id or str(uuid.uuid4()))
    for name, value in headers.items():
        click.echo(f"{name}: {value}")
    parts = ["curl", "-sS", url, *(x for n, v in headers.items() for x in ("-H", f"{n}: {v}"))]
    parts += ["--data-binary", f"@{body_file}"]
    click.echo("\n" + " ".join(shlex.quote(p) for p in parts))


def register(group: click.Group) -> None:
    """Add this module's commands to the ``handoff`` group."""
    group.add_command(serve)
    group.add_command(outbox)
    group.add_command(purge)
    group.add_command(zendesk)

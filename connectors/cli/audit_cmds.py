"""``handoff decisions`` and ``handoff report``: read the audit log and write the weekly review.

Why these are read-only: both open the store the worker writes, so they refuse to create one (a typo in
``--database`` must not produce an empty report that looks like a quiet week). Errors become a one-line
message and exit code 1 or 2 (usage), never a stack trace.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from connectors.report.period import Period, parse_duration, parse_since

if TYPE_CHECKING:
    from connectors.audit import AuditLog
    from connectors.audit.queries import DecisionRecord

#: The values of ``handoff_core.TriggerName`` and ``Action``, spelled out so that ``handoff decisions``
#: starts without importing the core's models (a quarter of the command's CPU time on a million
#: decisions); ``tests/cli/test_cli_startup.py`` fails when they drift apart.
TRIGGERS: tuple[str, ...] = (
    "human_request",
    "restricted_topic",
    "refund_exception",
    "vip",
    "sentiment",
    "low_confidence",
    "bot_loop",
    "sales_lead",
    "already_handed_off",
)
ACTIONS: tuple[str, ...] = ("continue", "offer_handoff", "handoff")

#: Rows the table shows unless ``--limit`` says otherwise: a terminal screenful many times over, and a
#: listing that costs the same on a million decisions as on a thousand.
TABLE_LIMIT = 200


def _default_database() -> str:
    """``HANDOFF_DATABASE_URL``: the SQLite file or the PostgreSQL database the replicas share."""
    from connectors.settings import Settings

    return Settings().handoff_database_url


def _default_policy() -> Path:
    from connectors.settings import Settings

    return Settings().handoff_policy


@contextmanager
def _open_store(where: Path | str) -> Iterator[AuditLog]:
    url = where if isinstance(where, str) else f"sqlite:///{where}"
    path = Path(url.removeprefix("sqlite:///"))
    if url.startswith("sqlite:///") and not path.exists():
        raise click.ClickException(f"no store at {path} (set --database or HANDOFF_DATABASE_URL)")
    from connectors.audit import open_audit
    from connectors.store import StoreError

    try:
        log = open_audit(url)
    except (StoreError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        yield log
    finally:
        log.close()


@contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        yield handle


def _table(records: list[DecisionRecord], out: TextIO, limit: int | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    title = f"{len(records)} decision(s)"
    if limit and len(records) == limit:
        title += f": the newest {limit} (--limit 0 for all, or --format csv)"
    table = Table(title=title, show_lines=False)
    for column in (
        "time (UTC)",
        "conversation",
        "ticket",
        "channel",
        "action",
        "reasons",
        "feedback",
        "question",
    ):
        table.add_column(column, overflow="fold")
    for r in records:
        reasons = ", ".join(f"{x.trigger} {x.score:.2f}" for x in r.reasons)
        feedback = ", ".join(e.kind for e in r.events)
        sim = " (sim)" if r.simulated else ""
        table.add_row(
            f"{r.decided_at:%Y-%m-%d %H:%M:%S}",
            r.conversation_id,
            r.ticket_id or "",
            r.channel,
            r.action + sim,
            reasons,
            feedback,
            (r.question or "")[:80],
        )
    Console(file=out, width=None if out.isatty() else 160, soft_wrap=False).print(table)


@click.command("decisions")
@click.option("--since", default="7d", show_default=True, help="Duration back from now (7d, 24h) or a date.")
@click.option("--reason", type=click.Choice(TRIGGERS), help="Only decisions with this trigger.")
@click.option("--action", type=click.Choice(ACTIONS), help="Only decisions with this action.")
@click.option("--channel", help="Only this channel (webchat, zendesk, ...).")
@click.option("--simulated", "mode", flag_value="simulated", help="Only simulated decisions.")
@click.option("--live", "mode", flag_value="live", default=True, help="Only live decisions (default).")
@click.option("--all", "mode", flag_value="all", help="Live and simulated decisions.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "jsonl"]), default="table", show_default=True)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    help=f"Only the newest N matches (default for the table: {TABLE_LIMIT}; 0: all). CSV and JSONL export all.",
)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
@click.option("--database", type=click.Path(dir_okay=False, path_type=Path), help="The SQLite store.")
def decisions_cmd(
    *,
    since: str,
    reason: str | None,
    action: str | None,
    channel: str | None,
    mode: str,
    fmt: str,
    limit: int | None,
    output: Path | None,
    database: Path | None,
) -> None:
    """List recorded decisions (with feedback) as a table, CSV or JSON Lines."""
    from connectors.audit.export import write_csv, write_jsonl
    from connectors.audit.queries import DecisionFilter, fetch_decisions, iter_decisions

    try:
        start = parse_since(since, datetime.now(UTC))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc
    simulated = {"live": False, "simulated": True, "all": None}[mode]
    flt = DecisionFilter(since=start, trigger=reason, action=action, channel=channel, simulated=simulated)
    if limit is None and fmt == "table":
        limit = TABLE_LIMIT
    with _open_store(database or _default_database()) as log, _output(output) as out:
        # Exports stream page by page; the table shows the newest matches (read backwards by time).
        records = iter_decisions(log, flt) if not limit else fetch_decisions(log, flt, limit=limit)
        if fmt == "csv":
            count = write_csv(records, out)
        elif fmt == "jsonl":
            count = write_jsonl(records, out)
        else:
            shown = list(records)
            _table(shown, out, limit)
            count = len(shown)
    if output is not None:
        click.echo(f"wrote {count} decision(s) to {output}", err=True)


@click.command("report")
@click.option("--since", help="Duration back from now (default 7d); not with --from/--to.")
@click.option("--from", "first", help="First day (YYYY-MM-DD, UTC), with --to.")
@click.option("--to", "last", help="Last day, included (YYYY-MM-DD, UTC), with --from.")
@click.option("--compare-previous", is_flag=True, help="Compare with the previous period of the same length.")
@click.option("--format", "fmt", type=click.Choice(["html", "md"]), help="Default: from --output's suffix, else html.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
@click.option("--include-simulated", is_flag=True, help="Count decisions recorded by `handoff simulate --record`.")
@click.option("--database", type=click.Path(dir_okay=False, path_type=Path), help="The SQLite store.")
@click.option("--policy", type=click.Path(dir_okay=False, path_type=Path), help="Policy for the launch checklist.")
def report_cmd(
    *,
    since: str | None,
    first: str | None,
    last: str | None,
    compare_previous: bool,
    fmt: str | None,
    output: Path | None,
    include_simulated: bool,
    database: Path | None,
    policy: Path | None,
) -> None:
    """Write the handoff-quality review (self-contained HTML or Markdown)."""
    from connectors.report.checklist import load_checklist
    from connectors.report.html import render_html
    from connectors.report.markdown import render_markdown
    from connectors.report.weekly import review_from_store

    now = datetime.now(UTC)
    try:
        if first or last:
            if since is not None:
                raise click.UsageError("use either --since or --from/--to, not both")
            if not (first and last):
                raise click.UsageError("--from and --to go together")
            period = Period.between(first, last)
        else:
            period = Period.last(parse_duration(since or "7d"), now)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    if fmt is None:
        fmt = "md" if output is not None and output.suffix.lower() in {".md", ".markdown"} else "html"
    checklist = load_checklist(policy or _default_policy())
    with _open_store(database or _default_database()) as log:
        review = review_from_store(
            log,
            period,
            include_simulated=include_simulated,
            compare_previous=compare_previous,
            checklist=checklist,
        )
    text = render_html(review) if fmt == "html" else render_markdown(review)
    with _output(output) as out:
        out.write(text)
    if output is not None:
        click.echo(f"wrote the {fmt} review of {period.label()} to {output}", err=True)


def register(group: click.Group) -> None:
    """Add this module's commands to the ``handoff`` group."""
    group.add_command(decisions_cmd)
    group.add_command(report_cmd)

"""``handoff simulate``, ``handoff explain`` and ``handoff check``: the policy tools.

They only read files and print; a bad policy or knowledge file is reported with its location and exit
status 2, bad input lines with their line number and exit status 1, never a stack trace.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from connectors.simulator import LineError, Simulated, Totals, output_record, simulate
from handoff_core import Action, Conversation, Message, Role
from handoff_core.checklist import example_warnings, run_checklist
from handoff_core.engine import DecisionEngine
from handoff_core.errors import HandoffError
from handoff_core.policy import Policy, effective_policy_data, load_policy
from handoff_core.policy.loader import LoadedPolicy, inspect_policy

if TYPE_CHECKING:
    from connectors.audit import AuditLog

PROGRESS_MIN_LINES = 1000

policy_option = click.option(
    "--policy",
    "policy_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Policy YAML file. [default: $HANDOFF_POLICY, else the built-in default policy]",
)
knowledge_option = click.option(
    "--knowledge",
    "knowledge_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Approved knowledge: a JSON Lines file or a folder of Markdown files. [default: $HANDOFF_KNOWLEDGE]",
)


def _policy_path(given: Path | None) -> Path:
    if given is not None:
        return given
    from connectors.settings import Settings

    # A HANDOFF_POLICY that names a missing file is an error (load_policy says so), never the default in silence.
    return Settings().handoff_policy


def load_engine(policy_path: Path | None, knowledge_path: Path | None) -> tuple[Policy, DecisionEngine]:
    """Policy and knowledge as the user named them; errors become a clean exit 2."""
    path = _policy_path(policy_path)
    try:
        policy = load_policy(path)
        knowledge = None
        if knowledge_path is None:
            from connectors.settings import Settings

            knowledge_path = Settings().handoff_knowledge
        if knowledge_path is not None:
            from connectors.knowledge_cache import prepare_knowledge
            from connectors.settings import Settings
            from handoff_core.knowledge import load_knowledge  # numpy and embeddings: only when asked for

            coverage = policy.triggers.low_confidence.knowledge
            knowledge = load_knowledge(knowledge_path, encoder=coverage.encoder)
            prepare_knowledge(knowledge, coverage, Settings().handoff_knowledge_cache)  # a stored head, or fit it
        engine = DecisionEngine(policy, knowledge)  # fits what the knowledge scorer needs, which can refuse
    except HandoffError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from exc
    return policy, engine


SNIFF_BYTES = 8192


def _input_problem(name: str) -> str | None:
    """Why ``name`` cannot be read as JSON Lines text, before reading it line by line, or None."""
    path = Path(name)
    if not path.exists():
        return f"{name}: no such file"
    if path.is_dir():
        return f"{name}: is a folder; give a JSON Lines file (one conversation per line)"
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as exc:
        return f"{name}: cannot read: {exc.strerror or exc}"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return f"{name}: is UTF-16 text; save it as UTF-8 (one JSON conversation per line)"
    if b"\x00" in head:
        return f"{name}: is a binary file, not JSON Lines text"
    return None


@contextmanager
def _open_input(name: str) -> Iterator[Iterable[bytes]]:
    """The input as raw lines; the simulator decodes each one, so a bad byte is reported with its line."""
    if name == "-":
        yield sys.stdin.buffer
        return
    problem = _input_problem(name)
    if problem is not None:
        raise click.ClickException(problem)
    try:
        handle = open(name, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise click.ClickException(f"{name}: cannot read: {exc.strerror or exc}") from exc
    try:
        yield handle
    finally:
        handle.close()


def _count_lines(name: str) -> int | None:
    if name == "-" or _input_problem(name) is not None:
        return None
    with open(name, "rb") as handle:
        return sum(1 for _ in handle)


def _table(items: list[Simulated], totals: Totals, console: Console) -> None:
    table = Table(title="Simulated decisions", show_lines=False)
    for column in ("line", "turn", "id", "action", "reasons", "priority", "alert", "sentiment", "expected"):
        table.add_column(column, overflow="fold")
    for item in items:
        d = item.decision
        reasons = ", ".join(f"{r.trigger.value}{'/' + r.topic if r.topic else ''}" for r in d.reasons) or "-"
        expected = ""
        if item.expected and "action" in item.expected:
            expected = "✓" if item.expected["action"] == d.action.value else f"✗ {item.expected['action']}"
        table.add_row(
            str(item.line),
            str(item.turn or ""),
            d.id,
            d.action.value,
            reasons,
            d.priority.value,
            "yes" if d.alert else "",
            f"{d.signals.sentiment:+.2f}",
            expected,
        )
    console.print(table)
    _print_totals(totals, console)


def _print_totals(totals: Totals, console: Console) -> None:
    n = totals.conversations
    handoffs = totals.actions.get(Action.HANDOFF.value, 0)
    offers = totals.actions.get(Action.OFFER_HANDOFF.value, 0)
    summary = Table(title=f"Totals: {n} conversations, {totals.failed_lines} bad line(s)")
    summary.add_column("measure")
    summary.add_column("count", justify="right")
    summary.add_column("rate", justify="right")
    summary.add_row("handoff", str(handoffs), f"{totals.rate(handoffs):.1%}")
    summary.add_row("offer_handoff", str(offers), f"{totals.rate(offers):.1%}")
    summary.add_row(
        "continue",
        str(totals.actions.get("continue", 0)),
        f"{totals.rate(totals.actions.get('continue', 0)):.1%}",
    )
    for trigger, count in totals.triggers.most_common():
        summary.add_row(f"  by reason: {trigger}", str(count), f"{totals.rate(count):.1%}")
    for topic, count in totals.topics.most_common():
        summary.add_row(f"  by topic: {topic}", str(count), f"{totals.rate(count):.1%}")
    if totals.labelled:
        summary.add_row(
            "matches expected action",
            f"{totals.matched}/{totals.labelled}",
            f"{totals.matched / totals.labelled:.1%}",
        )
    console.print(summary)


@click.command("simulate")
@click.argument("input_name", metavar="INPUT")
@policy_option
@knowledge_option
@click.option("--format", "fmt", type=click.Choice(["jsonl", "table"]), default="jsonl", show_default=True)
@click.option(
    "--output",
    "output_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write here instead of standard output.",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help=f"Progress bar on standard error. [default: on for terminals and inputs over {PROGRESS_MIN_LINES} lines]",
)
@click.option(
    "--per-message",
    is_flag=True,
    help="Replay each conversation customer message by customer message (one decision per turn, up to the "
    "handoff), as the worker would have decided live.",
)
@click.option(
    "--now",
    "now_text",
    default=None,
    metavar="ISO-TIME",
    help="Decide as if it were this instant (e.g. 2026-11-29T03:00:00Z), for business hours. "
    "[default: each conversation's last timestamp]",
)
@click.option("--record", is_flag=True, help="Also record every decision in the audit log, marked as simulated.")
@click.option(
    "--database",
    "database_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Audit store for --record. [default: $HANDOFF_DATABASE_URL]",
)
def simulate_command(
    input_name: str,
    policy_path: Path | None,
    knowledge_path: Path | None,
    fmt: str,
    output_path: Path | None,
    progress: bool | None,
    per_message: bool,
    now_text: str | None,
    record: bool,
    database_path: Path | None,
) -> None:
    """Replay conversations (JSON Lines, or - for standard input) through the policy.

    Each output line is the decision for one input line. Bad lines are reported on standard error with
    their line number and skipped; the exit status is 1 when any line failed.
    """
    problem = None if input_name == "-" else _input_problem(input_name)
    if problem is not None:
        click.echo(f"error: {problem}", err=True)
        raise SystemExit(2)
    now = parse_now(now_text)
    _, engine = load_engine(policy_path, knowledge_path)
    err = Console(stderr=True)
    total = _count_lines(input_name)
    show = progress if progress is not None else (err.is_terminal and (total or 0) >= PROGRESS_MIN_LINES)
    totals = Totals()
    kept: list[Simulated] = []
    audit: AuditLog | None = None
    if record:
        from connectors.audit import SQLiteAudit, open_audit
        from connectors.settings import Settings

        # --database names a SQLite file; otherwise the store HANDOFF_DATABASE_URL names (also PostgreSQL).
        audit = SQLiteAudit(database_path) if database_path else open_audit(Settings().handoff_database_url)
    out: TextIO = sys.stdout if output_path is None else output_path.open("w", encoding="utf-8")
    try:
        with (
            _open_input(input_name) as handle,
            Progress(
                TextColumn("simulating"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=err,
                disable=not show,
                transient=True,
            ) as bar,
        ):
            task = bar.add_task("simulate", total=total)
            for item in simulate(engine, handle, per_message=per_message, now=now):
                if isinstance(item, LineError) or item.final:
                    bar.advance(task)
                if isinstance(item, LineError):
                    totals.failed_lines += 1
                    click.echo(f"{input_name}:{item.line}: {item.message}", err=True)
                    continue
                totals.add(item)
                if audit is not None:
                    audit.record_decision(
                        item.decision, item.conversation, simulated=True, at=_decided_at(item.conversation)
                    )
                if fmt == "jsonl":
                    out.write(json.dumps(output_record(item), ensure_ascii=False) + "\n")
                else:
                    kept.append(item)
        if fmt == "table":
            _table(kept, totals, Console(file=out, width=160) if output_path else Console(width=160))
        else:
            _print_totals_line(totals)
    finally:
        if audit is not None:
            audit.close()
        if output_path is not None:
            out.close()
    if totals.failed_lines:
        raise SystemExit(1)


def parse_now(text: str | None) -> datetime | None:
    """``--now`` as an aware instant (naive times are UTC); a clear usage error otherwise."""
    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(
            f"{text!r} is not an ISO 8601 time like 2026-11-29T03:00:00Z", param_hint="--now"
        ) from exc
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _decided_at(conversation: Conversation) -> datetime:
    stamps = [m.created_at for m in conversation.messages if m.created_at is not None]
    return max(stamps) if stamps else datetime.now(UTC)


def _print_totals_line(totals: Totals) -> None:
    parts = [f"{totals.conversations} conversations"]
    for action in ("handoff", "offer_handoff", "continue"):
        parts.append(f"{action} {totals.actions.get(action, 0)} ({totals.rate(totals.actions.get(action, 0)):.1%})")
    if totals.labelled:
        parts.append(f"matches expected {totals.matched}/{totals.labelled}")
    if totals.failed_lines:
        parts.append(f"{totals.failed_lines} bad line(s)")
    click.echo("; ".join(parts), err=True)


@click.command("explain")
@click.argument("text")
@policy_option
@knowledge_option
@click.option("--json", "as_json", is_flag=True, help="Print the decision as JSON.")
@click.option(
    "--now", "now_text", default=None, metavar="ISO-TIME", help="Decide as if it were this instant (business hours)."
)
def explain_command(
    text: str, policy_path: Path | None, knowledge_path: Path | None, as_json: bool, now_text: str | None
) -> None:
    """Explain the decision for one customer message."""
    now = parse_now(now_text)
    _, engine = load_engine(policy_path, knowledge_path)
    decision = engine.decide(Conversation(id="explain", messages=(Message(role=Role.CUSTOMER, text=text),)), now=now)
    if as_json:
        click.echo(decision.model_dump_json(indent=2))
        return
    console = Console()
    console.print(
        f"[bold]{decision.action.value}[/bold]  priority {decision.priority.value}"
        f"{'  [red]alert[/red]' if decision.alert else ''}  language {decision.language}"
    )
    s = decision.signals
    coverage = "n/a" if s.knowledge_coverage is None else f"{s.knowledge_coverage:.2f} ({s.knowledge_status})"
    console.print(f"sentiment {s.sentiment:+.2f}{' (angry)' if s.angry else ''}; knowledge coverage {coverage}")
    if not decision.reasons:
        console.print("no trigger fired: the assistant may keep answering")
    for r in decision.reasons:
        console.print(
            f"- {r.trigger.value}{' / ' + r.topic if r.topic else ''} -> {r.action.value} "
            f"(score {r.score:.2f}, severity {r.severity}): {r.detail}",
            markup=False,
        )
        for e in r.evidence:
            bits = []
            if e.matched:
                bits.append("matched " + ", ".join(repr(m) for m in e.matched))
            if e.field:
                bits.append(f"from {e.field}")
            if e.score is not None:
                bits.append(f"score {e.score:.2f}")
            if e.example:
                near = f" (similarity {e.similarity:.2f})" if e.similarity is not None else ""
                bits.append(f"nearest example {e.example!r}{near}")
            if e.quote:
                bits.append(f'in "{e.quote}"')
            if bits:
                console.print("    " + "; ".join(bits), markup=False)
    if decision.route.tags:
        console.print(f"route: group {decision.route.group}, tags {', '.join(decision.route.tags)}", markup=False)
    if decision.lead is not None:
        lead = decision.lead
        basis = f" ({'; '.join(lead.basis)})" if lead.basis else ""
        verdict = "to sales" if lead.qualified else "below the threshold"
        console.print(f"lead: worth {lead.value}{' ' + lead.currency if lead.currency else ''}{basis}, {verdict}")
    if decision.agents_available is not None:
        when = f", reply by {decision.expected_reply_by:%Y-%m-%d %H:%M} UTC" if decision.expected_reply_by else ""
        state = (
            "in hours"
            if decision.agents_available
            else "out of hours" + (", on-call paged" if decision.on_call else "")
        )
        console.print(f"business hours: {state}{when}", markup=False)
    if decision.customer_message:
        console.print(f"to the customer: {decision.customer_message}", markup=False)
    for m in decision.knowledge:
        console.print(f"approved knowledge: {m.id} {m.title!r} ({m.score:.2f})", markup=False)


@click.command("check")
@policy_option
@click.option(
    "--show-effective",
    is_flag=True,
    help="Print the effective policy (your file merged over what it extends, every default filled in) as YAML.",
)
def check_command(policy_path: Path | None, show_effective: bool) -> None:
    """Validate the policy and run the launch checklist; exit 1 when an item fails."""
    path = _policy_path(policy_path)
    try:
        loaded = inspect_policy(path)
    except HandoffError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from exc
    policy = loaded.policy
    if show_effective:
        import yaml

        click.echo(f"# effective policy of {path} (version {policy.version}, {policy.hash})")
        for line in _lexicon_lines(loaded):
            click.echo(f"# {line}")
        click.echo(yaml.safe_dump(effective_policy_data(policy), sort_keys=False, allow_unicode=True, width=100))
    click.echo(f"policy {path}: version {policy.version}, {policy.hash}")
    for finding in loaded.findings:
        click.echo(f"[WARN] {finding}")
    for warning in example_warnings(policy, loaded):
        click.echo(f"[WARN] {warning}")
    items = run_checklist(policy)
    for item in items:
        mark = "PASS" if item.passed else "FAIL"
        click.echo(f"[{mark}] {item.name}: {item.detail}")
        if not item.passed:
            click.echo(f"       fix: {item.fix}")
    failed = sum(not i.passed for i in items)
    click.echo(f"{len(items) - failed}/{len(items)} checks passed")
    if failed:
        raise SystemExit(1)


def _lexicon_lines(loaded: LoadedPolicy) -> list[str]:
    """Which lists below were read from lexicon files, and from which folders (the YAML shows them resolved)."""
    if not loaded.uses:
        return []
    lines = ["lexicon folders, first wins per language: " + ", ".join(loaded.folders)]
    lines.append("lists read from lexicons <folder>/<language>/<name>.txt (shown resolved below):")
    for use in loaded.uses:
        lines.append(f"  {use.field}: {{lexicon: {use.name}}} = {use.phrases} phrases")
        by_folder: dict[str, list[str]] = {}
        for file in use.files:
            path = Path(file)
            by_folder.setdefault(str(path.parent.parent), []).append(path.parent.name)
        lines += [f"      {folder}: {', '.join(languages)}" for folder, languages in by_folder.items()]
    return lines


def register(group: click.Group) -> None:
    group.add_command(simulate_command)
    group.add_command(explain_command)
    group.add_command(check_command)

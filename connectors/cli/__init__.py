"""The ``handoff`` command line.

Each family of commands lives in its own module and registers itself on the group:
``policy_cmds`` (simulate, explain, check), ``worker_cmds`` (serve, outbox, purge, zendesk), ``audit_cmds``
(decisions, report), ``train_cmds`` (train).

Why the group is lazy: importing every command module pulls in pydantic, numpy, FastAPI, rich and the
vendor clients, about 3 s on a busy 2-core machine before ``--help`` could print a word. The table below
names each command's module and one-line help, so ``handoff --help`` imports nothing heavy and
``handoff explain`` imports only the policy tools. ``tests/cli/test_cli_startup.py`` fails if the table and
the registered commands drift apart: add a line here when you add a command.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

_POLICY = "connectors.cli.policy_cmds"
_WORKER = "connectors.cli.worker_cmds"
_AUDIT = "connectors.cli.audit_cmds"
_TRAIN = "connectors.cli.train_cmds"
MODULES = (_POLICY, _WORKER, _AUDIT, _TRAIN)

#: command name -> (module that registers it, the one-line help shown by ``handoff --help``)
COMMANDS: dict[str, tuple[str, str]] = {
    "check": (_POLICY, "Validate the policy and run the launch checklist; exit 1 when an item fails."),
    "decisions": (_AUDIT, "List recorded decisions (with feedback) as a table, CSV or JSON Lines."),
    "explain": (_POLICY, "Explain the decision for one customer message."),
    "outbox": (_WORKER, "Actions waiting to be sent, sent, parked as dead, or recorded in local mode."),
    "purge": (_WORKER, "Delete or blank raw customer text older than the retention (pending work is never touched)."),
    "report": (_AUDIT, "Write the handoff-quality review (self-contained HTML or Markdown)."),
    "serve": (_WORKER, "Run the web worker (FastAPI on uvicorn)."),
    "simulate": (_POLICY, "Replay conversations (JSON Lines, or - for standard input) through the policy."),
    "train": (_TRAIN, "Rebuild the trained detectors' weights from the public datasets (needs the train extra)."),
    "zendesk": (_WORKER, "Zendesk setup helpers: trigger template, signing a test webhook."),
}


class LazyGroup(click.Group):
    """A click group that imports a command's module only when that command runs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loaded: set[str] = set()

    def _load(self, module: str) -> None:
        if module not in self._loaded:
            self._loaded.add(module)
            importlib.import_module(module).register(self)

    def load_all(self) -> None:
        for module in MODULES:
            self._load(module)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            if cmd_name in COMMANDS:
                self._load(COMMANDS[cmd_name][0])
            else:
                self.load_all()
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in sorted(COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="handoff-guard")
def cli() -> None:
    """Decide when an AI support assistant must hand a conversation over to a person."""


def main() -> None:
    cli()

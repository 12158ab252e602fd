"""The ``handoff`` command line.

Each family of commands lives in its own module and registers itself on the group:
``policy_cmds`` (simulate, explain, check), ``worker_cmds`` (serve, outbox, zendesk template),
``audit_cmds`` (decisions, report).
"""

from __future__ import annotations

import click

from connectors.cli import audit_cmds, policy_cmds, worker_cmds


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="handoff-guard")
def cli() -> None:
    """Decide when an AI support assistant must hand a conversation over to a person."""


policy_cmds.register(cli)
worker_cmds.register(cli)
audit_cmds.register(cli)


def main() -> None:
    cli()

"""``python -m connectors.cli``: the same as the ``handoff`` command."""

from connectors.cli import main

main()

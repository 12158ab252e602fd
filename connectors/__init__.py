"""Connectors: thin translators between the outside world (Zendesk, Slack, web chat, files) and the core.

Everything that touches the network, the database or a web framework lives here; ``handoff_core`` never
imports from this package.
"""

"""Zendesk connector: webhook signature and payloads in, ticket reads and handoff writes out (zenpy).

Modules: :mod:`signature` (verify deliveries), :mod:`webhooks` (parse bodies), :mod:`gateway` (zenpy in
threads, errors mapped), :mod:`transcript` (ticket -> Conversation), :mod:`notes` (private note text),
:mod:`template` (the trigger body an admin pastes).
"""

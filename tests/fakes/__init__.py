"""Real local HTTP fakes of Zendesk and Slack, and the signing helpers senders use.

Reusable by any test: start one with :func:`fakes.server.serve` and point the real client at its URL.
"""

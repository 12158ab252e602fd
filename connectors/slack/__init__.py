"""Slack connector: Block Kit alerts out (:mod:`alerts`, :mod:`gateway`), button clicks in
(:mod:`interactivity`, slack-bolt ``AsyncApp`` mounted on ``POST /slack/events``)."""

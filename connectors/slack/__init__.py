"""Slack connector: Block Kit alerts (:mod:`alerts`) and the one Web API gateway (:mod:`gateway`).

Button clicks arrive through the worker (:mod:`connectors.worker.slack_events`, slack-bolt mounted on
``POST /slack/events``), so this package never imports the worker.
"""

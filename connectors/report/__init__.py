"""The weekly handoff-quality review: numbers (:mod:`.data`), charts (:mod:`.charts`), renderings
(:mod:`.html`, :mod:`.markdown`), question grouping (:mod:`.clusters`) and the Slack schedule
(:mod:`.schedule`).

Errors::

    ValueError           a period or cron expression that cannot be parsed (:mod:`.period`, :mod:`.schedule`)
    ReviewPostError      the weekly summary could not be posted to Slack (:mod:`.schedule`)
    ├── ReviewPostTransient   Slack down, rate limited after retries: try at the next run
    └── ReviewPostPermanent   bad token, unknown channel: fix the settings
"""

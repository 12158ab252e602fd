"""A live worker carries the vendor clients it uses and nothing heavier (docs/volume.md, "Worker memory").

Timing or RSS numbers would hinge on the machine, so this checks the cause: which modules a worker
started with Zendesk and Slack configured has loaded. ``bench/soak_worker.py --live`` measures the MB.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from fakes.fixtures import SLACK_SIGNING_SECRET, WEBCHAT_SECRET, ZENDESK_SECRET

#: A fresh interpreter: the test process has imported every library some other test needed.
SCRIPT = """
import asyncio, json, linecache, sys
from connectors.settings import Settings
from connectors.worker.app import create_app

async def main():
    app = create_app(Settings(_env_file=None), processors=False)
    async with app.router.lifespan_context(app):
        worker = app.state.worker
        await asyncio.sleep(0.2)  # the background loops (the weekly review's schedule among them) have started
        lanes = [worker.alerts.lane, type(app.state.slack.handler).__name__, "review" in worker.loops]
    sources = {name: len(entry[2]) for name, entry in linecache.cache.items() if len(entry) > 2}
    print(json.dumps({"lanes": lanes, "modules": sorted(sys.modules), "sources": sources}))

asyncio.run(main())
"""


def test_live_worker_loads_no_aiohttp_and_no_async_slack_client(tmp_path: Path) -> None:
    """Zendesk and Slack on: zenpy and slack-bolt loaded; aiohttp, httpx, the async Slack stack and the review not.

    Nor are the sources of the lifespan's stack held in ``linecache`` (bolt's ``inspect.stack()`` read them).
    """
    env = {
        "PATH": "",
        "HOME": str(tmp_path),
        "OPENBLAS_NUM_THREADS": "1",
        "HANDOFF_DATABASE_URL": f"sqlite:///{tmp_path}/handoff.sqlite3",
        "ZENDESK_SUBDOMAIN": "acme",
        "ZENDESK_EMAIL": "bot@example.com",
        "ZENDESK_API_TOKEN": "zd-api-token-for-tests",
        "ZENDESK_WEBHOOK_SECRET": ZENDESK_SECRET,
        "SLACK_BOT_TOKEN": "xoxb-test-token-for-tests",
        "SLACK_SIGNING_SECRET": SLACK_SIGNING_SECRET,
        "SLACK_ALERT_CHANNEL": "C0ALERTS",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",  # never called while starting: bolt checks the token on first use
        "WEBCHAT_SECRET": WEBCHAT_SECRET,
        "LOG_LEVEL": "warning",
    }
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    modules = set(result["modules"])
    assert result["lanes"] == ["slack", "BoltHandler", True], result["lanes"]
    assert {"zenpy", "slack_sdk.web.client", "slack_bolt"} <= modules  # really a live worker
    assert "aiohttp" not in modules
    # httpx (with the rich, click and pygments its command line loads) is the soak harness's, not the worker's
    assert not {m for m in modules if m.split(".")[0] in {"httpx", "rich", "pygments"}}
    # before: bolt's app module, asyncio's, contextlib's and the lifespan's, 6,300 lines (anyio's two inits remain)
    sources = result["sources"]
    assert not [f for f in sources if "slack_bolt" in f or "asyncio" in f], sorted(sources)
    assert sum(sources.values()) < 1_000, sources
    # of the review, only its cron arithmetic: the rest is loaded when a review is due
    assert {m for m in modules if m.startswith("connectors.report.")} == {"connectors.report.cron"}
    assert not {
        m for m in modules if m.startswith(("slack_sdk.web.async", "slack_bolt.async", "slack_bolt.adapter.fastapi"))
    }

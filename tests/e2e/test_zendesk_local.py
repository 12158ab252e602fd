"""A newcomer without a Zendesk account sees a Zendesk handoff (issue 7, finding 6).

Local mode cannot read the ticket through the API, so it decides on the text the trigger payload carries
(``ticket.latest_comment``), and says in the inbox row and the log when there is none. The request is
signed by ``handoff zendesk sign``, exactly as the README tells a newcomer to do it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from fakes.fixtures import wait_until

from connectors.cli import cli
from connectors.store import InboxStatus, OutboxStatus

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "examples" / "zendesk-trigger.json"
SECRET = "local-test-secret"


def _signed_headers(body_file: Path, invocation_id: str) -> dict[str, str]:
    result = CliRunner().invoke(
        cli, ["zendesk", "sign", str(body_file), "--secret", SECRET, "--invocation-id", invocation_id]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.split("\n\n")[0].splitlines()
    return dict(line.split(": ", 1) for line in lines)


@pytest.fixture
def local_worker(start_worker):
    return start_worker(
        zendesk_subdomain=None,
        zendesk_email=None,
        zendesk_api_token=None,
        slack_bot_token=None,
        slack_signing_secret=None,
        zendesk_webhook_secret=SECRET,
    )


def test_local_mode_decides_from_the_payload_text(local_worker):
    """The signed example webhook becomes a decision and a local Zendesk handoff for that ticket."""
    assert local_worker.parts.local_mode
    response = httpx.post(
        f"{local_worker.server.url}/webhooks/zendesk",
        content=EXAMPLE.read_bytes(),
        headers=_signed_headers(EXAMPLE, "local-1"),
    )
    assert response.status_code == 202, response.text
    store = local_worker.parts.store
    done = wait_until(lambda: store.inbox_list([InboxStatus.DONE]), timeout=60)
    assert len(done) == 1
    actions = store.outbox_list([OutboxStatus.LOCAL])
    handoffs = [a for a in actions if a.kind == "zendesk.handoff"]
    assert len(handoffs) == 1 and handoffs[0].payload["ticket_id"] == 4242
    assert "ai_handoff" in handoffs[0].payload["tags"]


def test_local_mode_says_why_it_cannot_decide(local_worker, tmp_path, caplog):
    """A payload without text is not silently dropped: the row and the log say what is missing."""
    body = json.loads(EXAMPLE.read_text())
    del body["ticket"]["latest_comment"]
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(body))
    with caplog.at_level(logging.WARNING):
        response = httpx.post(
            f"{local_worker.server.url}/webhooks/zendesk",
            content=bare.read_bytes(),
            headers=_signed_headers(bare, "local-2"),
        )
        assert response.status_code == 202
        store = local_worker.parts.store
        ignored = wait_until(lambda: store.inbox_list([InboxStatus.IGNORED]), timeout=60)
    assert "latest_comment" in (ignored[0].last_error or "")
    assert any("latest_comment" in r.getMessage() for r in caplog.records)
    assert store.outbox_list() == []


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: None, "cannot read"),
        (lambda p: p.mkdir(), "is a folder"),
        (lambda p: p.write_text("{not json"), "not JSON"),
        (lambda p: p.write_bytes(b"\xff\xfe{\x00}\x00"), "not UTF-8"),
    ],
)
def test_sign_bad_files_are_clear_errors(tmp_path, make, words):
    """handoff zendesk sign names what is wrong with FILE instead of a traceback."""
    target = tmp_path / "body.json"
    make(target)
    result = CliRunner().invoke(cli, ["zendesk", "sign", str(target), "--secret", "x"])
    assert result.exit_code == 1 and words in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)

"""The same summary reaches the agent in Zendesk (full, issue first) and Slack (issue and why, phone-sized).

The conversation is WRITTEN FOR THIS TEST (a regression test, not evidence of accuracy).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.slack.alerts import alert_blocks, alert_content
from connectors.zendesk.notes import handoff_note
from handoff_core import Conversation, Decision
from handoff_core.engine import DecisionEngine
from handoff_core.policy import load_policy
from handoff_core.summary import SHORT_MAX_CHARS

ROOT = Path(__file__).resolve().parents[2]

THREAD = Conversation.model_validate(
    {
        "id": "t-1",
        "customer": {"name": "Ana Ruiz", "email": "ana.ruiz@example.com", "tags": ["vip"]},
        "messages": [
            {
                "role": "customer",
                "text": "My Kindle stopped syncing my library after the 5.16.2 update, half my books are missing.",
            },
            {"role": "assistant", "text": "Sorry! Have you tried restarting the Kindle?"},
            {"role": "customer", "text": "Yes, restarted twice. My card 4111 1111 1111 1111 was charged again too."},
            {"role": "customer", "text": "Can I talk to a real person please?"},
        ],
    }
)


@pytest.fixture(scope="module")
def decision() -> Decision:
    return DecisionEngine(load_policy(ROOT / "config" / "policy.yaml")).decide(THREAD)


def test_zendesk_note_leads_with_the_full_summary(decision: Decision) -> None:
    """The private note shows the issue-first summary, then the evidence for each reason."""
    note = handoff_note(decision, "d-1")
    assert decision.summary is not None and decision.summary in note
    assert note.index("Issue: Kindle stopped syncing library") < note.index("Evidence:")
    # The version and the restart are in the Issue line, so Details does not repeat them (round 7).
    assert "5.16.2" in note and "Restarted twice" in note and "4111" not in note


def test_slack_alert_shows_issue_and_why_within_phone_size(decision: Decision) -> None:
    """The alert's text is the short form (issue + why, ≤ 300 chars), plain text, without personal data."""
    content = alert_content(decision, "d-1", THREAD, redact=True)
    blocks = alert_blocks(content, ticket_url=None)
    text = blocks[1]["text"]
    assert text["type"] == "plain_text"
    assert text["text"].startswith("Issue: Kindle stopped syncing library")
    assert "\nWhy handoff: " in text["text"]
    assert len(text["text"]) <= SHORT_MAX_CHARS
    rendered = str(blocks)
    assert "4111" not in rendered and "ana.ruiz@example.com" not in rendered and "Ana Ruiz" not in rendered

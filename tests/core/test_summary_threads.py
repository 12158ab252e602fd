"""The summary on multi-turn support threads WRITTEN BY US (tests/data/summary_threads.json): regression, not evidence.

Each thread ends the way real threads often do ("Can I talk to a person about this, please?", "@brand
please read the above", "any update?", "thanks"), which is where the first summary failed: the Issue
must still quote the problem, Details must list what the customer gave, and Assistant so far must show
the bot's questions the customer already answered. Accuracy is measured on DialogSum (bench/).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from handoff_core import Conversation
from handoff_core.summary import SHORT_MAX_CHARS, Summary

from .conftest import ROOT, conversation
from .test_summary import given_once, quoted_above, section, summary_of

#: The customer's answer in an expected Assistant item ('→ "Android 14"', 'said before: "…'; round 8's form).
_ANSWER = re.compile(r'(?:→ |said before: )"([^"]*)"?$')
#: Labels of the Details line's items ("order 55120", "amounts £450", "devices router").
_LABELS = frozenset({"order", "tracking", "devices", "versions", "amounts", "dates", "tried:"})

_DATA = json.loads((ROOT / "tests" / "data" / "summary_threads.json").read_text(encoding="utf-8"))
THREADS: list[dict[str, Any]] = _DATA["threads"]
META: list[str] = _DATA["meta_never_in_issue"]


def _conversation(thread: dict[str, Any]) -> Conversation:
    return conversation(*({"role": role, "text": text} for role, text in thread["messages"]), id=thread["name"])


@pytest.fixture(scope="module")
def summaries() -> dict[str, Summary]:
    return {t["name"]: summary_of(_conversation(t)) for t in THREADS}


@pytest.mark.parametrize("thread", THREADS, ids=[t["name"] for t in THREADS])
def test_issue_quotes_the_problem_not_the_ending(thread: dict[str, Any], summaries: dict[str, Summary]) -> None:
    """The Issue line holds the problem's words and none of the meta-request, handle, link or thanks endings
    (in any case: headline style capitalises a sentence that lost its "My")."""
    issue = section(summaries[thread["name"]], "Issue: ")
    assert not issue.startswith("Issue: not stated yet")
    for expected in thread["issue_has"]:
        assert expected.casefold() in issue.casefold(), (thread["name"], expected, issue)
    for unwanted in META + thread.get("issue_not", []):
        assert unwanted.casefold() not in issue.casefold(), (thread["name"], unwanted, issue)


@pytest.mark.parametrize("thread", THREADS, ids=[t["name"] for t in THREADS])
def test_details_list_what_the_customer_gave(thread: dict[str, Any], summaries: dict[str, Summary]) -> None:
    """Versions, devices, order and tracking numbers, amounts and what was tried are in the note once: in
    Details unless the Issue lines quote them (round 7); nobody else's doing."""
    summary = summaries[thread["name"]]
    details = section(summary, "Details: ")
    for expected in thread.get("details_has", []):
        value = expected.split(" ", 1)[1] if expected.split(" ", 1)[0] in _LABELS else expected
        assert given_once(summary, value), (thread["name"], expected, summary.text)
    for unwanted in thread.get("details_not", []):
        assert unwanted not in details, (thread["name"], unwanted, details)


@pytest.mark.parametrize(
    "thread", [t for t in THREADS if t.get("assistant_has")], ids=[t["name"] for t in THREADS if t.get("assistant_has")]
)
def test_answered_questions_are_shown_with_the_answer(thread: dict[str, Any], summaries: dict[str, Summary]) -> None:
    """A bot question the customer already answered is shown with that answer, so the agent does not ask again;
    a long answer the Issue lines already quote as "→ answered above" (round 7)."""
    summary = summaries[thread["name"]]
    assistant = section(summary, "Assistant so far")
    for expected in thread["assistant_has"]:
        if expected in assistant:
            continue
        quoted = _ANSWER.search(expected)
        question = expected[: quoted.start()].rstrip() if quoted else ""
        answer = (quoted.group(1) or "") if quoted else expected
        assert f"{question} → answered above".lstrip() in assistant, (expected, assistant)
        assert quoted_above(summary, answer), (expected, summary.text)


@pytest.mark.parametrize(
    "thread", [t for t in THREADS if t.get("note_not")], ids=[t["name"] for t in THREADS if t.get("note_not")]
)
def test_note_leaves_out_what_says_nothing(thread: dict[str, Any], summaries: dict[str, Summary]) -> None:
    """Round 9: hashtags, thread counters ("(1/2)"), "sent you a DM", "Any idea?", "Quick question, I was
    wondering if", "can you follow back so I can DM?" are nowhere in the note, nor in the Slack form."""
    summary = summaries[thread["name"]]
    for unwanted in thread["note_not"]:
        assert unwanted.casefold() not in summary.text.casefold(), (thread["name"], unwanted, summary.text)
        assert unwanted.casefold() not in summary.short.casefold(), (thread["name"], unwanted, summary.short)


@pytest.mark.parametrize("thread", THREADS, ids=[t["name"] for t in THREADS])
def test_forms_fit_and_short_form_leads_with_the_issue(thread: dict[str, Any], summaries: dict[str, Summary]) -> None:
    """Full form within 1,200 characters, Slack form within 300 and made of the Issue and Why lines."""
    s = summaries[thread["name"]]
    assert len(s.text) <= 1200 and len(s.short) <= SHORT_MAX_CHARS
    first, why = s.short.split("\n")
    assert first.startswith("Issue: ") and why.startswith("Why handoff: ")
    assert s.issue[:40] in first

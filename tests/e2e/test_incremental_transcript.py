"""A long web chat stored a message per row decides exactly as the same chat read back whole.

The worker keeps each conversation's transcript parsed between two messages and stores only the new one
(connectors/store/transcripts.py). The same messages, posted as whole conversations to
``/v1/webchat/conversations`` under another id (each turn the transcript validated from JSON, as the
one-document store read it), must get byte-identical answers; and the transcript the worker appended
must read back, cold, as exactly the conversation that was posted.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors.store import SQLiteStore
from connectors.store.transcripts import head_document
from e2e.helpers import webchat_post
from handoff_core import Conversation

pytestmark = pytest.mark.e2e

CUSTOMER = (
    "Hi, where is my order 4417?",
    "It says shipped but the tracking page has not changed since Monday.",
    "ok thanks, and can I change the delivery address to my office?",
    "I was charged twice for this order, can you look into it?",
    "This is the third time I ask, nobody answers me properly!",
    "I want to talk to a real person now",
    "hello??",
)
ASSISTANT = "Thanks, let me check that for you. The parcel left our warehouse yesterday."


def _post(worker, path: str, payload: dict) -> dict:
    body, headers = webchat_post(payload)
    response = worker.http.post(path, content=body, headers=headers)
    assert response.status_code == 200, response.text
    answer = response.json()
    for key in ("conversation_id", "decision_id"):
        answer.pop(key)
    return answer


def test_appended_transcript_decides_as_the_transcript_read_whole(fakes, start_worker):
    """14 turns: each answer of the appended chat equals the answer for the whole transcript, byte for byte."""
    worker = start_worker()
    messages: list[dict] = []
    customer = {"name": "Ann Smith", "email": "ann@example.com"}
    answers: list[str] = []
    for turn, text in enumerate(CUSTOMER):
        for role, said in (("customer", text), ("assistant", ASSISTANT)):
            n = len(messages)
            message = {"role": role, "text": said, "message_id": f"m{n}"}
            if role == "assistant":
                message["confidence"] = 0.9
            messages.append(message)
            appended = _post(
                worker,
                "/v1/webchat/messages",
                {"conversation_id": "long-a", **message, **({"customer": customer} if n == 0 else {})},
            )
            whole = _post(
                worker,
                "/v1/webchat/conversations",
                {
                    "id": "long-b",
                    "customer": customer,
                    "messages": [
                        {"role": m["role"], "text": m["text"], "id": m["message_id"], "confidence": m.get("confidence")}
                        for m in messages
                    ],
                },
            )
            # The core's decision id names its conversation; nothing else may differ.
            same = json.dumps(whole, sort_keys=True).replace("long-b", "long-a")
            assert json.dumps(appended, sort_keys=True) == same, (turn, role)
            answers.append(appended["action"])
    assert {"continue", "handoff"} <= set(answers), "the chat continues, then hands off (the state is carried too)"
    store = worker.parts.store
    assert store.transcripts.hits >= len(messages) - 1, "every turn after the first read its transcript from memory"
    rows = store._query("SELECT seq FROM conversation_messages WHERE conversation_id = 'long-a' ORDER BY seq")
    assert [r["seq"] for r in rows] == list(range(len(messages)))
    path = worker.settings.handoff_database_url.removeprefix("sqlite:///")
    cold = SQLiteStore(Path(path))
    try:
        a, b = cold.conversation_get("long-a"), cold.conversation_get("long-b")
        assert a is not None and b is not None
        assert isinstance(a.conversation, Conversation) and len(a.conversation.messages) == len(messages)
        assert head_document(a.conversation).replace("long-a", "long-b") == head_document(b.conversation)
        assert [m.model_dump_json() for m in a.conversation.messages] == [
            m.model_dump_json() for m in b.conversation.messages
        ]
    finally:
        cold.close()

"""Decision processes (DECISION_PROCESSES) end to end: the real worker forks them; nothing is mocked."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fakes.fixtures import WEBCHAT_SECRET, wait_until
from fakes.signing import webchat_headers

from e2e.helpers import webchat_post

pytestmark = pytest.mark.e2e

CORPUS = Path(__file__).resolve().parents[2] / "bench" / "corpus" / "conversations.jsonl"
NOW = datetime(2026, 3, 3, 10, 30, tzinfo=UTC)  # a Tuesday morning: the same business hours for both workers


def _post(worker: Any, conversation_id: str, message_id: str, role: str, text: str) -> httpx.Response:
    body, headers = webchat_post(
        {"conversation_id": conversation_id, "message_id": message_id, "role": role, "text": text}
    )
    return worker.http.post("/v1/webchat/messages", content=body, headers=headers, timeout=30)


def _comparable(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "decision_id"}  # the audit log's id is per worker


def _conversations(count: int) -> list[dict[str, Any]]:
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines[:count]]


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_process_decisions_equal_in_process_decisions(fakes, start_worker, tmp_path):
    """Every answer of a worker deciding in 2 processes equals the thread worker's, turn by turn, on corpus chats."""
    forked = start_worker(decision_processes=2)
    threads = start_worker(decision_processes=0, handoff_database_url=f"sqlite:///{tmp_path}/threads.sqlite3")
    pool = forked.parts.handoffs.processes
    assert pool is not None and len(pool.pids) == 2 and threads.parts.handoffs.processes is None
    for worker in (forked, threads):
        worker.parts.handoffs.clock = lambda: NOW
    chats = _conversations(12)
    assert {pool.lane_of(chat["id"]) for chat in chats} == {0, 1}, "the chats are spread over both processes"
    turns = 0
    for chat in chats:
        for n, message in enumerate(chat["messages"][:8]):
            one = _post(forked, chat["id"], f"m{n}", message["role"], message["text"])
            two = _post(threads, chat["id"], f"m{n}", message["role"], message["text"])
            assert one.status_code == two.status_code == 200, (one.text, two.text)
            assert _comparable(one.json()) == _comparable(two.json()), (chat["id"], n)
            turns += 1
    assert turns > 40
    assert pool.sent_new_only >= turns - 2 * len(chats), "after a chat's first message only new messages are sent"
    # A transcript replaced through /v1/webchat/conversations (an earlier message edited) is sent whole: the
    # process must not decide on the transcript it kept.
    chat = chats[0]
    edited = [dict(m, id=f"m{n}") for n, m in enumerate(chat["messages"][:8])]
    edited[0] = dict(edited[0], text="I want to speak to a human right now, this is useless!")
    raw = json.dumps({"id": chat["id"], "channel": "webchat", "messages": edited}).encode()
    answers = []
    for worker in (forked, threads):
        response = worker.http.post(
            "/v1/webchat/conversations", content=raw, headers=webchat_headers(WEBCHAT_SECRET, raw), timeout=30
        )
        assert response.status_code == 200, response.text
        answers.append(_comparable(response.json()))
    assert answers[0] == answers[1]
    assert pool.sent_whole == len(chats) + 1, "the edited transcript was sent whole"
    assert pool.restarts == 0 and pool.in_flight == 0
    # The process also redacted the audit's texts and planned the handoffs' actions: the rows stored are
    # the thread worker's, but for the audit ids.
    forked_rows, thread_rows = _stored_rows(forked), _stored_rows(threads)
    assert forked_rows == thread_rows and len(forked_rows["decisions"]) == turns + 1
    assert forked_rows["outbox"], "some chats handed off: their planned actions are compared too"


def _stored_rows(worker: Any) -> dict[str, list[tuple[Any, ...]]]:
    """The audit's decisions and reasons and the outbox's actions in the order stored, audit ids numbered."""
    with sqlite3.connect(worker.settings.database_path) as db:
        ids = {
            row[0]: f"<decision {n}>" for n, row in enumerate(db.execute("SELECT id FROM audit_decisions ORDER BY seq"))
        }

        def plain(value: Any) -> Any:
            if isinstance(value, str):
                for real, number in ids.items():
                    value = value.replace(real, number)
            return value

        def rows(sql: str) -> list[tuple[Any, ...]]:
            return [tuple(plain(v) for v in row) for row in db.execute(sql)]

        return {
            "decisions": rows(
                "SELECT id, conversation_id, action, question, route_tags FROM audit_decisions ORDER BY seq"
            ),
            "reasons": rows(
                "SELECT r.decision_id, r.position, r.trigger, r.topic, r.detail, r.evidence_json FROM audit_reasons r"
                " JOIN audit_decisions d ON d.id = r.decision_id ORDER BY d.seq, r.position"
            ),
            "outbox": rows("SELECT kind, target, dedupe_key, decision_id, payload FROM outbox ORDER BY id"),
        }


def test_killed_decision_process_loses_and_duplicates_nothing(fakes, start_worker):
    """A decision process killed with a message in hand: 503 decision_lost, nothing stored; it is restarted and
    the same message posted again is decided once."""
    worker = start_worker(decision_processes=1, decision_budget_seconds=30)
    pool = worker.parts.handoffs.processes
    store = worker.parts.store
    assert _post(worker, "kill-1", "m1", "customer", "Hi, where is my parcel?").status_code == 200
    victim = pool.pids[0]
    os.kill(victim, signal.SIGSTOP)  # holds the next message in hand, for as long as the test needs
    answers: list[httpx.Response] = []
    poster = threading.Thread(
        target=lambda: answers.append(_post(worker, "kill-1", "m2", "customer", "Still nothing."))
    )
    poster.start()
    wait_until(lambda: pool.in_flight == 1)
    os.kill(victim, signal.SIGKILL)
    poster.join(30)
    lost = answers[0]
    assert lost.status_code == 503, lost.text
    assert lost.json()["error"]["code"] == "decision_lost" and lost.headers["retry-after"] == "1"
    assert [m.id for m in store.conversation_get("kill-1").conversation.messages] == ["m1"], "nothing stored"

    wait_until(lambda: pool.pids[0] not in (None, victim))
    assert pool.restarts == 1 and not _alive(victim)
    again = _post(worker, "kill-1", "m2", "customer", "Still nothing.")
    assert again.status_code == 200, again.text
    repeat = _post(worker, "kill-1", "m2", "customer", "Still nothing.")
    assert repeat.json() == again.json(), "the same message again is answered from the stored turn"
    assert [m.id for m in store.conversation_get("kill-1").conversation.messages] == ["m1", "m2"]


def test_processes_shed_load_stop_an_overrun_and_shut_down_clean(fakes, start_worker):
    """With the one process full, a message is 503 overloaded at once; a process stuck on one message is killed and
    restarted a budget after its caller's 503; stopping the worker leaves no decision process behind."""
    worker = start_worker(decision_processes=1, decision_max_wait_seconds=0, decision_budget_seconds=2)
    pool = worker.parts.handoffs.processes
    stuck = pool.pids[0]
    os.kill(stuck, signal.SIGSTOP)
    answers: list[httpx.Response] = []
    posters = [
        threading.Thread(target=lambda n=n: answers.append(_post(worker, f"held-{n}", "m1", "customer", "hello")))
        for n in range(2)
    ]
    for poster in posters:
        poster.start()
    wait_until(lambda: pool.in_flight == 2)  # both slots of the process taken (one deciding, one sent ahead)
    shed = _post(worker, "turned-away", "m1", "customer", "hello")
    assert shed.status_code == 503 and shed.json()["error"]["code"] == "overloaded", shed.text
    assert worker.parts.store.conversation_get("turned-away") is None
    for poster in posters:
        poster.join(30)
    codes = sorted(answer.json()["error"]["code"] for answer in answers)
    assert codes in (["decision_lost", "decision_timeout"], ["decision_timeout", "decision_timeout"]), codes
    wait_until(lambda: pool.pids[0] not in (None, stuck))
    assert not _alive(stuck), "the process that overran was killed"
    assert _post(worker, "held-0", "m1", "customer", "hello").status_code == 200
    metrics = worker.http.get("/metrics").text
    assert 'handoff_webhook_requests_total{outcome="overloaded",source="webchat"} 1.0' in metrics

    running = [pid for pid in pool.pids if pid is not None]
    worker.server.stop()
    assert running and not any(_alive(pid) for pid in running), "shutdown stops every decision process"

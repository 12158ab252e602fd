"""Start-up refuses unusable secrets, empty keys verify nothing, and the decision pool is bounded."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from fakes.signing import webchat_headers, zendesk_headers
from pydantic import ValidationError

from connectors.cli import cli
from connectors.settings import SECRET_FIELDS, Settings
from connectors.webchat.auth import AuthError, verify_webchat
from connectors.worker.pool import DecisionOverload, DecisionPool, DecisionTimeout
from connectors.worker.privacy import install_log_redaction
from connectors.zendesk.signature import SignatureError, verify_zendesk_signature
from handoff_core import Action, Conversation, Decision, Message, PolicyRef, Role


@pytest.mark.parametrize("field", SECRET_FIELDS)
@pytest.mark.parametrize(("value", "says"), [("", "empty"), ("   \t", "empty"), ("fifteen-bytes!!", "shorter")])
def test_set_but_unusable_secret_is_a_configuration_error(field: str, value: str, says: str) -> None:
    """An empty, whitespace or short secret fails at start-up with a message naming the variable."""
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, **{field: value})
    assert field.upper() in str(caught.value)
    assert says in str(caught.value)


def test_empty_secret_from_the_environment_stops_serve(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """``ZENDESK_WEBHOOK_SECRET=`` in the environment makes ``handoff serve`` exit with a clear error."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ZENDESK_WEBHOOK_SECRET", "")
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code != 0
    assert "ZENDESK_WEBHOOK_SECRET is set but empty" in result.output
    assert "Traceback" not in result.output


def test_sixteen_byte_secret_and_unset_secret_are_fine() -> None:
    """The limit is inclusive, and a secret that is not set at all is simply absent (local mode)."""
    settings = Settings(_env_file=None, webchat_secret="x" * 16)
    assert settings.webchat_secret is not None
    assert Settings(_env_file=None).zendesk_webhook_secret is None


def test_an_empty_key_verifies_nothing() -> None:
    """Even if an empty secret got past the settings, a body signed with it is refused."""
    body = b'{"ticket": {"id": 1}}'
    headers = zendesk_headers("", body, invocation_id="i")
    with pytest.raises(SignatureError):
        verify_zendesk_signature("", headers, body, now=datetime.now(UTC), max_age=300)
    with pytest.raises(AuthError):
        verify_webchat("", {"authorization": "Bearer "}, body, now=0)
    with pytest.raises(AuthError):
        verify_webchat(" ", webchat_headers(" ", body), body, now=datetime.now(UTC).timestamp())


class GatedEngine:
    """A stand-in engine whose decisions wait until the test opens the gate; counts concurrent calls."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.running = 0
        self.most = 0
        self.order: list[str] = []
        self._lock = threading.Lock()

    def decide(self, conversation: Conversation, now: datetime | None = None) -> Decision:
        with self._lock:
            self.order.append(conversation.id)
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            self.gate.wait(10)
            return Decision(
                id=conversation.id,
                action=Action.CONTINUE,
                language="en",
                policy=PolicyRef(version="t", hash="h"),
            )
        finally:
            with self._lock:
                self.running -= 1

    def step(self, conversation: Conversation, previous: object = None, now: object = None) -> tuple[Decision, None]:
        return self.decide(conversation), None


def _conversation(n: int) -> Conversation:
    return Conversation(id=f"c{n}", messages=(Message(role=Role.CUSTOMER, text="hi"),))


@pytest.mark.anyio
async def test_pool_runs_off_the_loop_and_times_out_without_growing() -> None:
    """A stuck decision times out; the loop stays free; timed-out work keeps its slot (no unbounded threads)."""
    engine = GatedEngine()
    pool = DecisionPool(engine, workers=2, budget=0.3)
    try:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        tick = asyncio.create_task(ticker())
        results = await asyncio.gather(*(pool.decide(_conversation(i)) for i in range(5)), return_exceptions=True)
        tick.cancel()
        assert all(isinstance(r, DecisionTimeout) for r in results)
        assert ticks > 5  # the event loop ran while the decisions were stuck
        assert engine.most == 2  # never more decisions at once than workers, timed out or not
        engine.gate.set()
        decision = await pool.decide(_conversation(9))
        assert decision.action is Action.CONTINUE
    finally:
        engine.gate.set()
        pool.close()


@pytest.mark.anyio
async def test_pool_serves_waiting_decisions_first_come_first_served() -> None:
    """With every slot busy, queued decisions start in the order they arrived (none starves into the budget)."""
    engine = GatedEngine()
    pool = DecisionPool(engine, workers=1, budget=5.0)
    try:
        tasks = []
        for n in range(6):
            tasks.append(asyncio.create_task(pool.decide(_conversation(n))))
            await asyncio.sleep(0.01)  # c0 holds the only slot; c1..c5 queue behind it in this order
        engine.gate.set()
        await asyncio.gather(*tasks)
        assert engine.order == [f"c{n}" for n in range(6)]
        assert engine.most == 1
    finally:
        engine.gate.set()
        pool.close()


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(1_000):  # waits for an event, not for a duration: 10 s at most, on any machine
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the pool never reached the expected state")


@pytest.mark.anyio
async def test_pool_sheds_only_sheddable_decisions_whose_expected_wait_is_over_the_limit() -> None:
    """Slot busy, mean 0.1 s, limit 0.15 s: 1st waiter queues, 2nd sheddable one is shed, a background one queues."""
    engine = GatedEngine()
    pool = DecisionPool(engine, workers=1, budget=10.0, max_wait=0.15)
    try:
        first = asyncio.create_task(pool.step(_conversation(0), None, may_shed=True))
        await _until(lambda: engine.running == 1)
        pool.mean_seconds = 0.1  # as if each decision had held its slot 0.1 s
        assert pool.expected_wait() == pytest.approx(0.1)
        second = asyncio.create_task(pool.step(_conversation(1), None, may_shed=True))
        await _until(lambda: pool.waiting == 1)
        assert pool.expected_wait() == pytest.approx(0.2)
        with pytest.raises(DecisionOverload):
            await pool.step(_conversation(2), None, may_shed=True)
        background = asyncio.create_task(pool.step(_conversation(3), None))  # the Zendesk inbox: never shed
        await _until(lambda: pool.waiting == 2)
        engine.gate.set()
        results = await asyncio.gather(first, second, background)
        assert [decision.action for decision, _ in results] == [Action.CONTINUE] * 3
        assert engine.order == ["c0", "c1", "c3"]
        assert pool.shed == 1
    finally:
        engine.gate.set()
        pool.close()


@pytest.mark.anyio
async def test_pool_with_a_free_slot_never_sheds_and_zero_wait_sheds_once_all_are_busy() -> None:
    """max_wait=0: a decision is admitted while a slot is free and shed once every slot is busy."""
    engine = GatedEngine()
    pool = DecisionPool(engine, workers=2, budget=10.0, max_wait=0)
    try:
        running = [asyncio.create_task(pool.step(_conversation(n), None, may_shed=True)) for n in range(2)]
        await _until(lambda: engine.running == 2)
        with pytest.raises(DecisionOverload):
            pool.admit()
        engine.gate.set()
        await asyncio.gather(*running)
        await _until(lambda: pool.expected_wait() == 0.0)
        pool.admit()  # both slots free again: admitted
        assert pool.shed == 1
        assert pool.mean_seconds > 0  # measured from the two decisions that ran
    finally:
        engine.gate.set()
        pool.close()


def test_local_mode_refuses_a_network_host_unless_allowed(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Unauthenticated local mode on 0.0.0.0 is refused at start-up; loopback or the explicit flag is fine."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code != 0
    assert "ALLOW_UNAUTHENTICATED_NETWORK" in result.output
    local = Settings(_env_file=None)
    assert local.bind_problem("127.0.0.1") is None
    assert local.bind_problem("0.0.0.0") is not None
    assert Settings(_env_file=None, allow_unauthenticated_network=True).bind_problem("0.0.0.0") is None
    assert Settings(_env_file=None, webchat_secret="s" * 20).bind_problem("0.0.0.0") is None


def test_log_records_pass_the_redaction_edge(caplog: pytest.LogCaptureFixture) -> None:
    """A card, email and phone logged as args, in the format string or in a traceback come out redacted."""
    install_log_redaction(("connectors.test_log_edge",))
    log = logging.getLogger("connectors.test_log_edge")
    caplog.set_level(logging.DEBUG, logger="connectors.test_log_edge")
    raw = ("4111 1111 1111 1111", "ann.smith@globex.example", "+1 415 555 0100")
    log.info("card %s mail %s", raw[0], raw[1])
    log.warning(f"call {raw[2]}")
    try:
        raise ValueError(f"bad customer {raw[1]}")
    except ValueError:
        log.exception("failed for %s", raw[2])
    assert len(caplog.records) == 3
    text = caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert "ValueError" in text and "card" in text
    for value in raw:
        assert value not in text

"""Shared fixtures for the core tests, built once per session.

``policy``/``engine`` use a small fixture policy (tests/fixtures/policy/): unit tests of how the engine
decides do not depend on the shipped default policy's lists. ``default_policy``/``default_engine`` are the
shipped default; modules that check what the default policy decides (its phrases in five languages, its
accuracy floors, its trained detectors) say so by using them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff_core import Conversation, Decision
from handoff_core.engine import DecisionEngine
from handoff_core.policy import Policy, default_policy_path, load_policy

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_POLICY = default_policy_path()
FIXTURE_POLICY = ROOT / "tests" / "fixtures" / "policy" / "policy.yaml"


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy(FIXTURE_POLICY)


@pytest.fixture(scope="session")
def engine(policy: Policy) -> DecisionEngine:
    return DecisionEngine(policy)


@pytest.fixture(scope="session")
def default_policy() -> Policy:
    return load_policy(DEFAULT_POLICY)


@pytest.fixture(scope="session")
def default_engine(default_policy: Policy) -> DecisionEngine:
    return DecisionEngine(default_policy)


def conversation(*texts: str, **extra: Any) -> Conversation:
    """A conversation of customer messages (strings) or explicit message dicts."""
    messages = [{"role": "customer", "text": t} if isinstance(t, str) else t for t in texts]
    return Conversation.model_validate({"id": extra.pop("id", "c1"), "messages": messages, **extra})


def decide(engine: DecisionEngine, *texts: str, **extra: Any) -> Decision:
    return engine.decide(conversation(*texts, **extra))


def topics(decision: Decision) -> set[str]:
    return {r.topic for r in decision.reasons if r.trigger.value == "restricted_topic" and r.topic}

"""Replaying conversations through a policy before launch (``handoff simulate``).

Input is JSON Lines: one conversation per line, as in the decision contract (only ``id`` and
``messages`` are required). An optional ``expected`` object (``{"action": ..., "triggers": [...]}``) is
set aside before validation and compared with the decision, so a labelled file doubles as an accuracy
test. Bad lines are reported with their line number and skipped, never silently dropped.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from handoff_core import Action, Conversation, Decision
from handoff_core.engine import DecisionEngine
from handoff_core.replay import replay

MAX_LINE_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class LineError:
    line: int
    message: str


@dataclass(frozen=True, slots=True)
class Simulated:
    line: int
    conversation: Conversation
    decision: Decision
    expected: dict[str, Any] | None
    #: With per-message replay: the customer message (1-based) this decision followed; None otherwise.
    turn: int | None = None
    #: With per-message replay: whether this is the last decision of its conversation.
    final: bool = True


@dataclass
class Totals:
    conversations: int = 0
    failed_lines: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    triggers: Counter[str] = field(default_factory=Counter)
    topics: Counter[str] = field(default_factory=Counter)
    labelled: int = 0
    matched: int = 0

    def add(self, item: Simulated) -> None:
        if not item.final:
            return  # per-message replay: a conversation counts once, by its final decision
        d = item.decision
        self.conversations += 1
        self.actions[d.action.value] += 1
        if d.action is not Action.CONTINUE:
            for trigger in d.triggers:
                self.triggers[trigger] += 1
            for r in d.reasons:
                if r.topic and r.trigger.value == "restricted_topic":
                    self.topics[r.topic] += 1
        if item.expected and "action" in item.expected:
            self.labelled += 1
            self.matched += int(item.expected["action"] == d.action.value)

    def rate(self, count: int) -> float:
        return count / self.conversations if self.conversations else 0.0


def _error_message(exc: ValidationError) -> str:
    errors = exc.errors()
    # pydantic drops a message that failed validation and then also reports the tuple as too short; that
    # second error would tell the user the conversation has no messages when one of them is merely invalid.
    if any(len(e["loc"]) > 1 and e["loc"][0] == "messages" for e in errors):
        errors = [e for e in errors if not (e["type"] == "too_short" and tuple(e["loc"]) == ("messages",))]
    parts = []
    for err in errors[:3]:
        loc = ".".join(str(p) for p in err["loc"]) or "(line)"
        msg = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
        if err["type"] == "too_short" and loc == "messages":
            msg = "a conversation needs at least one message"
        parts.append(f"{loc}: {msg}")
    more = len(errors) - 3
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def parse_line(line: str | bytes, number: int) -> tuple[Conversation, dict[str, Any] | None] | LineError:
    if len(line) > MAX_LINE_BYTES:
        return LineError(number, f"line is longer than {MAX_LINE_BYTES} bytes")
    if isinstance(line, bytes):
        try:
            text = line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            return LineError(number, f"not UTF-8 text (byte {exc.start + 1} of the line); save the file as UTF-8")
    else:
        text = line.removeprefix("\ufeff") if number == 1 else line
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return LineError(number, f"invalid JSON: {exc.msg} (column {exc.colno})")
    if not isinstance(data, dict):
        return LineError(number, "each line must be a JSON object (a conversation)")
    expected = data.pop("expected", None)
    if expected is not None and not isinstance(expected, dict):
        return LineError(number, '\'expected\' must be an object like {"action": "handoff"}')
    try:
        return Conversation.model_validate(data), expected
    except ValidationError as exc:
        return LineError(number, _error_message(exc))


def simulate(
    engine: DecisionEngine,
    lines: Iterable[str | bytes],
    *,
    per_message: bool = False,
    now: datetime | None = None,
) -> Iterator[Simulated | LineError]:
    """Decide every conversation in ``lines`` (blank lines are skipped). Lines given as bytes are decoded
    here, so a line that is not UTF-8 is a :class:`LineError` with its number (a UTF-8 BOM is accepted).

    ``now`` is the instant every decision is made at (business hours); by default each conversation's
    own last timestamp, so a replay is reproducible.

    ``per_message`` replays each conversation customer message by customer message (see
    :mod:`handoff_core.replay`) and yields one decision per turn, up to the handoff.
    """
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        parsed = parse_line(text, number)
        if isinstance(parsed, LineError):
            yield parsed
            continue
        conversation, expected = parsed
        if not per_message:
            yield Simulated(number, conversation, engine.decide(conversation, now=now), expected)
            continue
        turns = list(replay(engine, conversation, now=now))
        if not turns:  # no customer message at all: one decision on what there is
            yield Simulated(number, conversation, engine.decide(conversation, now=now), expected)
        for turn in turns:
            last = turn is turns[-1]
            yield Simulated(number, turn.conversation, turn.decision, expected if last else None, turn.number, last)


def output_record(item: Simulated) -> dict[str, Any]:
    """The JSON Lines record of one decision: the decision contract, plus the expectation when given."""
    record: dict[str, Any] = item.decision.model_dump(mode="json")
    if item.turn is not None:
        record["turn"] = item.turn
    if item.expected is not None:
        record["expected"] = item.expected
        if "action" in item.expected:
            record["matches_expected"] = item.expected["action"] == item.decision.action.value
    return record

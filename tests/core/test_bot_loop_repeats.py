"""The bot loop's largest group of repeated questions, counted before it is listed, equals the group found
by listing every recent message's (the formulation it replaces, kept here as the reference)."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

import pytest

from handoff_core.triggers.bot_loop import RECENT_MESSAGES, largest_repeat


def _reference(recent: Sequence[int], similar: Mapping[int, frozenset[int] | None]) -> list[int]:
    """Every message's group listed, 20 x 20 membership tests: the first largest wins."""
    best: list[int] = []
    for i in recent:
        mine = similar[i]
        if mine is None:
            continue
        same = [j for j in recent if (j in mine if j <= i else i in (similar[j] or ()))]
        if len(same) > len(best):
            best = same
    return best


CASES: list[tuple[str, list[int], dict[int, frozenset[int] | None], list[int]]] = [
    ("no repeats: the first message alone", [0, 2, 4], {0: frozenset({0}), 2: frozenset({2}), 4: frozenset({4})}, [0]),
    ("every message too short", [1, 3], {1: None, 3: None}, []),
    (
        "a message repeats two earlier ones",
        [0, 2, 4],
        {0: frozenset({0}), 2: frozenset({2}), 4: frozenset({0, 2, 4})},
        [0, 2, 4],
    ),
    (
        "repeated by later ones only",
        [0, 2, 4, 6],
        {0: frozenset({0}), 2: None, 4: frozenset({0, 4}), 6: frozenset({0, 6})},
        [0, 4, 6],
    ),
    ("a repeat of a message now out of the window", [10, 12], {10: frozenset({2, 10}), 12: frozenset({12})}, [10]),
    (
        "ties: the first largest group wins",
        [0, 2, 4, 6],
        {0: frozenset({0}), 2: frozenset({0, 2}), 4: frozenset({4}), 6: frozenset({4, 6})},
        [0, 2],
    ),
    (
        "a message that does not repeat itself (the later one that repeats it wins)",
        [0, 2],
        {0: frozenset(), 2: frozenset({0})},
        [2],
    ),
]


@pytest.mark.parametrize(("name", "recent", "similar", "expected"), CASES, ids=[c[0] for c in CASES])
def test_largest_repeat_cases(
    name: str, recent: list[int], similar: dict[int, frozenset[int] | None], expected: list[int]
) -> None:
    """Written cases: no repeats, short messages, repeats of earlier and by later messages, ties."""
    assert largest_repeat(recent, similar) == _reference(recent, similar) == expected, name


def test_largest_repeat_equals_the_listing_on_random_windows() -> None:
    """On 3,000 random windows of recent messages (gaps, short messages, repeats reaching before the
    window, messages that repeat many), the counted group is the listed one."""
    rng = random.Random(8)
    for _ in range(3_000):
        start = rng.randrange(0, 40)
        recent = sorted(rng.sample(range(start, start + 60), rng.randrange(1, RECENT_MESSAGES + 1)))
        similar: dict[int, frozenset[int] | None] = {}
        for i in recent:
            if rng.random() < 0.2:
                similar[i] = None
                continue
            earlier = [j for j in range(max(0, i - 40), i) if rng.random() < 0.15]
            similar[i] = frozenset([*earlier, i] if rng.random() < 0.95 else earlier)
        assert largest_repeat(recent, similar) == _reference(recent, similar)

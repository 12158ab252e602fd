"""An evidence quote never carries part of an e-mail, card or phone number: the redaction edge knows them
by their whole shape, so a quote cut through one would let its first or last half out unredacted."""

from __future__ import annotations

import pytest

from handoff_core.text.normalize import quote

FILLER = "the parcel never arrived and nobody answers my questions about it"
SHAPES = {
    "email": "zed.quill@example.org",
    "card": "4111 1111 1111 1111",
    "phone": "+1 415 555 0100",
}


def _fragments(value: str) -> list[str]:
    """Every proper prefix and suffix of ``value`` of four or more characters, without edge spaces."""
    parts = {value[:k].strip() for k in range(4, len(value))} | {value[k:].strip() for k in range(1, len(value) - 3)}
    return [p for p in parts if len(p) >= 4 and p != value]


@pytest.mark.parametrize("kind", sorted(SHAPES))
@pytest.mark.parametrize("side", ["before", "after"])
def test_a_quote_holds_a_shape_whole_or_not_at_all(kind: str, side: str) -> None:
    """Whatever the width, the quote holds the value whole or none of its fragments (before and after the match)."""
    value = SHAPES[kind]
    text = f"{FILLER} {value} {FILLER}" if side == "before" else f"{FILLER} {FILLER} {value} {FILLER}"
    match = "nobody" if side == "after" else "questions"
    start = text.index(match, text.index(value) + len(value)) if side == "before" else text.index(match)
    seen_cut = False
    for width in range(0, 120):
        q = quote(text, start, start + len(match), width=width)
        assert match in q
        if value in q:
            continue
        leaked = [f for f in _fragments(value) if f in q]
        assert not leaked, f"width {width}: {q!r} carries {leaked}"
        seen_cut = seen_cut or "…" in q
    assert seen_cut


def test_a_quote_with_nothing_shaped_at_its_cut_is_cut_at_a_word() -> None:
    """Without personal data near the cut the quote still ends on whole words, and keeps the match."""
    text = f"{FILLER} refund {FILLER}"
    start = text.index("refund")
    assert quote(text, start, start + 6, width=20) == "…questions about it refund the parcel never…"
    assert quote(text, 0, 3, width=0) == "the…"

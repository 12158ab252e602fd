"""The redaction edge's fast paths (no digit or "@"; no "…" at the end; no "@") scrub as every rule does."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

from connectors.redaction import _CUT_TAIL, _DATETIME, _STREET, scrub
from handoff_core.redact import redact

CORPUS = Path(__file__).resolve().parents[2] / "bench" / "corpus" / "messages.jsonl"


def _full(text: str, known: Iterable[str] = ()) -> str:
    """Every rule on every text (the edge before the fast path), as the reference."""
    kept: list[str] = []

    def keep(match: re.Match[str]) -> str:
        kept.append(match.group(0))
        return f"\x00{len(kept) - 1}\x00"

    text = redact(_DATETIME.sub(keep, text))
    text = re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], text)
    for value in known:
        text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", "[customer]", text, flags=re.IGNORECASE)
    text = _STREET.sub("[address]", text)
    return _CUT_TAIL.sub("[…]", text)


def test_scrub_equals_the_full_rule_set_on_real_messages_and_their_pieces() -> None:
    """Every corpus message, each sentence of it and each cut-off prefix scrub the same both ways."""
    known = ("Annabel Smithers", "ann.smith@globex.example", "+1 415 555 0100", "Annabel", "Smithers")
    texts = [
        "Call Annabel Smithers at 221 Baker Street",
        "annabel smithers wants a refund",
        "my card 4111 1111 1111 1111 and mail ann.smith@globex.example",
        "ring me on +1 415 55…",
        "meeting 2026-11-30 14:00 then",
        "nothing personal here at all",
        "call +1 415 555 01…\n",
        "call +1 415 555 01…\n\n",
        "mail me: ann@example.com…",
    ]
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        message = json.loads(line)["text"]
        texts.append(message)
        texts.extend(re.split(r"(?<=[.!?])\s+", message))
        texts.append(message[:120] + "…")
    assert len(texts) > 3_000
    digit_free = [t for t in texts if not re.search(r"[\d@]", t)]
    assert len(digit_free) > 1_000, "the fast path is exercised"
    for text in texts:
        assert scrub(text, known) == _full(text, known), text
        assert scrub(text) == _full(text), text

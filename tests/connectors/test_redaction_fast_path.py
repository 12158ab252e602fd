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


#: The shape patterns as first written (a lookbehind or ``\b`` first), the reference for their rewrites.
_WRITTEN = {
    "card": r"(?<![\w])(?:\d[ -]?){12,18}\d(?![\w])",
    "iban": r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}(?:\s?[A-Z0-9]{1,3})?\b",
    "phone": r"(?<![\w+(])(?:\+|00|\()?\d[\d\s().-]{7,18}\d(?![\w])",
    "datetime": r"\b\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?\b",
    "street": r"\b\d{1,5}[A-Za-z]?\s+(?:[A-Z][\w'.-]*\s+){1,4}"
    r"(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Boulevard|Blvd|Drive|Dr|Way|Court|Ct|Place|Pl|Square|Sq"
    r"|Terrace|Close|Crescent|Parkway|Pkwy|Highway|Hwy)\b\.?",
}


def test_shape_patterns_that_start_with_their_character_match_as_written() -> None:
    """Each rewritten shape pattern finds exactly the spans of the pattern as first written: every corpus
    message and 20,000 generated strings dense in digits, separators, phone prefixes ("+", "00", "("),
    capitals and non-ASCII digits."""
    import random

    from handoff_core import redact as core

    rewritten = {"card": core._CARD, "iban": core._IBAN, "phone": core._PHONE, "datetime": _DATETIME, "street": _STREET}
    texts = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    rnd = random.Random(12)
    alphabet = "0123456789" * 4 + "  --ABCDEFGHIJKLMNOPQRSTUVWXYZabcxyzé_.()+:T\n'٣४"
    pieces = ["Street", "St", "Ave", "Main", "Baker", "DE89", "GB29", "NWBK", "2026-11-30", "14:00", "4111 1111"]
    pieces += ["+44 ", "00", "000", "(0)", "+(", "(+", "0049 ", "x+1"]
    for _ in range(20_000):
        parts = [rnd.choice(alphabet) if rnd.random() < 0.75 else rnd.choice(pieces) for _ in range(rnd.randint(1, 60))]
        texts.append(("" if rnd.random() < 0.5 else " ").join(parts))
    for name, written in _WRITTEN.items():
        reference, fast = re.compile(written), rewritten[name]
        for text in texts:
            spans = [(m.span(), m.group()) for m in fast.finditer(text)]
            assert spans == [(m.span(), m.group()) for m in reference.finditer(text)], (name, text)


def test_core_redact_skips_texts_without_a_digit_and_still_redacts_as_every_rule_does() -> None:
    """redact() returns a text without a digit after the e-mail rule (card, IBAN and phone rules need one)
    and equals every rule applied in turn on corpus messages, their sentences and digit-free lines."""
    from handoff_core import redact as core

    def every_rule(text: str) -> str:
        text = core._EMAIL.sub("[email]", text)
        text = core._CARD.sub(core._card, text)
        text = core._IBAN.sub("[iban]", text)
        return core._PHONE.sub(core._phone, text)

    texts = ["Why handoff: the customer asked for a person", "mail ann@example.com now", "IBAN DE89 3704 0044"]
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        message = json.loads(line)["text"]
        texts.append(message)
        texts.extend(re.split(r"(?<=[.!?])\s+", message))
    assert sum(1 for t in texts if not re.search(r"\d", t)) > 1_000, "the shortcut is exercised"
    for text in texts:
        assert redact(text) == every_rule(text), text

"""Redaction of personal data and extraction of key facts for the agent."""

from __future__ import annotations

import pytest

from handoff_core.facts import extract_facts
from handoff_core.redact import luhn_valid, mask_email, redact


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        ("card 4111 1111 1111 1111 please", "4111", None),
        ("card 4111-1111-1111-1111", "4111", None),
        ("order 4111111111111112 (not a card)", None, "4111111111111112"),
        ("mail jane.doe+x@mail.example.com now", "jane.doe", None),
        ("call +44 20 7946 0958", "7946", None),
        ("call (555) 123-4567", "123-4567", None),
        ("order number 123456789012", None, "123456789012"),
        ("bought on 2026-11-03 and 03/11/2026", None, "2026-11-03"),
        ("IBAN DE89 3704 0044 0532 0130 00", "3704", None),
    ],
)
def test_redact(text: str, gone: str | None, kept: str | None) -> None:
    """Cards (Luhn-valid only), emails, phones and IBANs are redacted; order numbers and dates are kept."""
    out = redact(text)
    if gone:
        assert gone not in out, out
    if kept:
        assert kept in out, out


def test_luhn_and_mask() -> None:
    """The Luhn check and the email mask behave as documented."""
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert mask_email("jane.doe@example.com") == "j***@example.com"


def test_extract_facts_in_several_languages() -> None:
    """Order numbers, amounts, dates and contacts are pulled out of messy text."""
    facts = extract_facts(
        [
            "My order #A12345 cost $249.99 and order number 88123 was 30 EUR on March 3rd, 2026",
            "pedido nº 778812, 45,50 € el 03/11/2026, escribe a x@y.com o +34 612 345 678",
            "order status please",
        ]
    )
    assert facts.order_ids == ["A12345", "88123", "778812"]
    assert facts.amounts == ["$249.99", "30 EUR", "45,50 €"]
    assert facts.dates == ["March 3rd, 2026", "03/11/2026"]
    assert facts.emails == ["x@y.com"] and facts.phones == ["+34 612 345 678"]

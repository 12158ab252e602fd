"""Redaction of customer text before it enters the audit log.

Why this module: the core owns the one redaction rule set (``handoff_core.redact.redact``: e-mails,
phone numbers, card numbers that pass the Luhn check), so the Zendesk note, the Slack alert and the
audit log all hide the same things. While the core's function is not available in this checkout, an
equivalent local rule set is used so that the audit log never stores personal data in the meantime.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
PHONE = re.compile(r"(?<![\w+])\+?\d[\d ().-]{6,}\d(?!\w)")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char)
        if i % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "[card]" if 13 <= len(digits) <= 19 and _luhn_ok(digits) else match.group(0)


def _phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "[phone]" if 7 <= len(digits) <= 15 else match.group(0)


def local_redact(text: str) -> str:
    """E-mails, Luhn-valid card numbers and phone numbers replaced by ``[email]``, ``[card]``, ``[phone]``."""
    text = EMAIL.sub("[email]", text)
    text = CARD.sub(_card, text)
    return PHONE.sub(_phone, text)


def _core_redactor() -> Callable[[str], str]:
    try:
        module = importlib.import_module("handoff_core.redact")
    except ImportError:
        return local_redact
    redact: Callable[[str], str] = module.redact
    return redact


def redact_text(text: str) -> str:
    """Customer text with personal data replaced (the core's rules when available)."""
    return _core_redactor()(text)

"""Key facts pulled out of a transcript for the agent: order numbers, amounts, dates, contact details.

Deliberately conservative patterns: a wrong "fact" in a handoff note costs an agent more time than a
missing one, and the transcript is one click away.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_ORDER = re.compile(
    r"(?:\border|\bpedido|\bcommande|\bbestellung|\bencomenda|\bordine|\bbestelling|\bticket|\bcase|\binvoice"
    r"|\bfactura|\bfacture|\brechnung|\bfatura)s?"
    r"\s*(?:no\.?|nr\.?|n[º°o]\.?|number|num\.?|numero|número|nummer|id|#)?\s*[:#]?\s*"
    r"(?P<id>[A-Z0-9][A-Z0-9-]{3,24})\b",
    re.IGNORECASE,
)
_HASH_ID = re.compile(r"(?<![\w&])#(?P<id>[A-Z0-9][A-Z0-9-]{3,24})\b", re.IGNORECASE)
_AMOUNT = re.compile(
    r"(?:(?P<sym>[$€£¥])\s?(?P<a1>\d{1,3}(?:[.,\s]\d{3})*(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)"
    r"|(?P<a2>\d{1,3}(?:[.,\s]\d{3})*(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)\s?(?P<code>[$€£]|eur|euros?|usd|dollars?"
    r"|gbp|pounds?|chf|brl|reais|mxn))(?![\w])",
    re.IGNORECASE,
)
_DATE = re.compile(
    r"\b(?:\d{4}-\d{2}-\d{2}|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}"
    r"|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? \d{1,2}(?:st|nd|rd|th)?(?:,? \d{4})?"
    r"|\d{1,2}(?:st|nd|rd|th)? (?:of )?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*(?:,? \d{4})?)\b",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?:\+|00)\d[\d\s().-]{7,16}\d")


@dataclass
class Facts:
    order_ids: list[str] = field(default_factory=list)
    amounts: list[str] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)


def _add(values: list[str], value: str, limit: int = 5) -> None:
    value = value.strip()
    if value and value not in values and len(values) < limit:
        values.append(value)


def extract_facts(texts: list[str]) -> Facts:
    facts = Facts()
    for text in texts:
        if not _DIGIT.search(text):
            # Every pattern but the e-mail one needs a digit: most chat lines have none.
            if "@" in text:
                for m in _EMAIL.finditer(text):
                    _add(facts.emails, m.group(0))
            continue
        for m in _ORDER.finditer(text):
            candidate = m.group("id")
            if any(ch.isdigit() for ch in candidate):
                _add(facts.order_ids, candidate)
        # A pattern that needs a character the text lacks cannot match: "in" is far cheaper than a scan.
        if "#" in text:
            for m in _HASH_ID.finditer(text):
                if any(ch.isdigit() for ch in m.group("id")):
                    _add(facts.order_ids, m.group("id"))
        for m in _AMOUNT.finditer(text):
            _add(facts.amounts, m.group(0))
        for m in _DATE.finditer(text):
            _add(facts.dates, m.group(0))
        if "@" in text:
            for m in _EMAIL.finditer(text):
                _add(facts.emails, m.group(0))
        if "+" in text or "00" in text:
            for m in _PHONE.finditer(text):
                _add(facts.phones, m.group(0))
    return facts


def merge_facts(parts: Iterable[Facts]) -> Facts:
    """Facts of several texts from the facts of each, equal to :func:`extract_facts` on all of them.

    Each list keeps its first five distinct values, and a text contributes at most five, so the facts of
    one message are enough to fold: the per-message results are kept, the transcript is not re-read.
    """
    facts = Facts()
    for part in parts:
        for mine, theirs in (
            (facts.order_ids, part.order_ids),
            (facts.amounts, part.amounts),
            (facts.dates, part.dates),
            (facts.emails, part.emails),
            (facts.phones, part.phones),
        ):
            for value in theirs:
                _add(mine, value)
    return facts

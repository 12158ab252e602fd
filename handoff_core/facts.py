"""Key facts pulled out of a transcript for the agent: order numbers, amounts, dates, contact details.

Deliberately conservative patterns: a wrong "fact" in a handoff note costs an agent more time than a
missing one, and the transcript is one click away.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
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
#: Where a match of :data:`_ORDER` and :data:`_DATE` can start in an ASCII text (see :func:`_matches`): the
#: order words, the month names (the patterns ignore case: on ASCII text that is finding them in the
#: lower-cased text) and the digits; where a match of :data:`_AMOUNT` can start in any text: a currency
#: sign or a digit. Other texts take the patterns' own scan.
_ORDER_WORDS = (
    "order pedido commande bestellung encomenda ordine bestelling ticket case invoice factura facture rechnung fatura"
).split()
_MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
_ASCII_DIGIT = re.compile(r"[0-9]")
_AMOUNT_START = re.compile(r"[$€£¥\d]")
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
        lowered = text.lower() if text.isascii() else None
        for m in order_matches(text, lowered):
            candidate = m.group("id")
            if any(ch.isdigit() for ch in candidate):
                _add(facts.order_ids, candidate)
        # A pattern that needs a character the text lacks cannot match: "in" is far cheaper than a scan.
        if "#" in text:
            for m in _HASH_ID.finditer(text):
                if any(ch.isdigit() for ch in m.group("id")):
                    _add(facts.order_ids, m.group("id"))
        for m in amount_matches(text):
            _add(facts.amounts, m.group(0))
        for m in date_matches(text, lowered):
            _add(facts.dates, m.group(0))
        if "@" in text:
            for m in _EMAIL.finditer(text):
                _add(facts.emails, m.group(0))
        if "+" in text or "00" in text:
            for m in _PHONE.finditer(text):
                _add(facts.phones, m.group(0))
    return facts


def order_matches(text: str, lowered: str | None) -> Iterable[re.Match[str]]:
    """``_ORDER.finditer(text)``; ``lowered`` is ``text.lower()`` when ``text`` is ASCII, else None."""
    if lowered is None:
        return _ORDER.finditer(text)
    return _matches(_ORDER, text, _found(lowered, _ORDER_WORDS))


def amount_matches(text: str) -> Iterable[re.Match[str]]:
    """``_AMOUNT.finditer(text)``."""
    return _matches(_AMOUNT, text, [m.start() for m in _AMOUNT_START.finditer(text)])


def date_matches(text: str, lowered: str | None) -> Iterable[re.Match[str]]:
    """``_DATE.finditer(text)``; ``lowered`` as for :func:`order_matches`."""
    if lowered is None:
        return _DATE.finditer(text)
    return _matches(_DATE, text, sorted({*_found(lowered, _MONTHS), *(m.start() for m in _ASCII_DIGIT.finditer(text))}))


def _matches(pattern: re.Pattern[str], text: str, starts: Iterable[int]) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)``, given ``starts``: ascending positions that include every position where
    a match of ``pattern`` can start (none of these patterns matches the empty string).

    Why: the patterns open with an alternation or a word boundary, so the regex engine tries every one of
    a 2 KB message's 2,000 positions (~150-200 µs a pattern); anchored at the few places a match can
    start it answers the same in a fraction of that. ``finditer`` goes on from the end of each match, and
    so does this; ``match`` at a position sees the text before it (look-behinds and ``\\b`` read it).
    """
    end = 0
    for start in starts:
        if start >= end:
            found = pattern.match(text, start)
            if found is not None:
                yield found
                end = found.end()


def _found(lowered: str, words: Iterable[str]) -> list[int]:
    """Every position where one of ``words`` occurs in ``lowered``, ascending."""
    starts = []
    for word in words:
        at = lowered.find(word)
        while at >= 0:
            starts.append(at)
            at = lowered.find(word, at + 1)
    starts.sort()
    return starts


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

"""What the customer already told us beyond order numbers and amounts: versions, devices, what they tried.

An agent who asks "which version are you on?" or "have you tried restarting?" after the customer said so
three messages ago loses the customer. These patterns are deliberately narrow (see facts.py for the
same reasoning): a missing detail costs a click on the transcript, a wrong one costs trust.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

_VERSION_WORD = r"(?:versions?|ver\.?|v|ios|ipados|watchos|macos|os|android|windows|firmware|build|release|update|app)"
_VERSION_NUM = r"\d+(?:\.\d+){1,3}"
_VERSION_LIST = re.compile(
    rf"\b{_VERSION_WORD}(?:\s+(?:is|was|now|at|on))?\s*[:=]?\s*"
    rf"({_VERSION_NUM}(?:\s*(?:,|and|&|/|y|et|und|e)\s*{_VERSION_NUM})*)\b",
    re.IGNORECASE,
)
_DOTTED = re.compile(r"(?<!\d)(?<!\d\.)\d+\.\d+\.\d+(?:\.\d+)?(?!\d|\.\d)")
#: A UPU S10 postal item number ("RR123456785DE"): a parcel's tracking number even without the word "tracking".
_S10 = re.compile(r"\b[A-Z]{2}\d{9}[A-Z]{2}\b")
_DATE_LIKE = re.compile(r"^\d{1,2}\.\d{1,2}\.\d{2,4}$")
_NUMBER = re.compile(_VERSION_NUM)

_DEVICE = re.compile(
    r"\b(?:apple watch(?: series \d+| ultra| se)?|iphone(?: ?\d+)?(?: pro| max| plus| mini)*|ipad(?: pro| air| mini)?"
    r"|macbook(?: pro| air)?|imac|airpods(?: pro| max)?|apple tv|pixel(?: \d+a?)?(?: pro)?"
    r"|galaxy(?: [a-z]{0,2}\d+)?(?: ultra| plus|\+)?|android phone|android|smart tv|fire tv|fire stick|roku|chromecast"
    r"|kindle|echo dot|alexa|xbox(?: one| series [xs])?|playstation(?: \d)?|ps[345]|nintendo switch"
    r"|laptop|desktop|router|modem|printer|tablet|smartphone|smartwatch|headphones|earbuds|thermostat"
    r"|fitbit|garmin)\b",
    re.IGNORECASE,
)

_TRIED = re.compile(
    r"\b(tried|restarted|rebooted|re-?started|re-?installed|uninstalled|deleted and re-?installed|reset"
    r"|factory reset|re-?paired|unpaired|updated|upgraded|downgraded|cleared|logged out|signed out"
    r"|logged back in|turned (?:it|them)? ?off|switched (?:it|them)? ?off|power[- ]cycled|unplugged"
    r"|checked|contacted|called|emailed|changed|disabled|enabled|removed|re-?added|force[- ](?:closed|quit)"
    r"|reinstalled|filled (?:in|out)|filled|submitted|re-?submitted|re-?seated)"
    r"\b((?:\s+(?!and\b|but\b|then\b|so\b|because\b|which\b|still\b|again\b|already\b|as\b)"
    r"[\w'’-]+){0,4})",
    re.IGNORECASE,
)
_TRACKING = re.compile(
    r"tracking(?:\s+(?:number|no\.?|nr\.?|code|id|#))?\s*(?:is\s+)?[:#]?\s*(?P<id>(?=[A-Z]*\d)[A-Z0-9]{8,34})\b",
    re.IGNORECASE,
)
_NEGATED = re.compile(r"(?:\bnot|n['’]t|\bnever|\bno)\s+(?:\w+\s+)?$", re.IGNORECASE)
#: What stands before a "tried" verb in its sentence when the customer did it: "I", "we", "already",
#: or nothing but an answer word ("Yes, power-cycled it"). "The kids changed schools" is not something
#: the customer tried.
_SENTENCE_START = re.compile(r"[.!?;]\s")
_BY_CUSTOMER = re.compile(
    r"\b(?:i|we|i['’]ve|we['’]ve|i['’]d|we['’]d|i['’]m|we['’]re|already|also|just)\b", re.IGNORECASE
)
_ONLY_ANSWER = re.compile(r"^[\W_]*(?:(?:yes|yeah|yep|ok|okay|so|well|and|then|sure)\b[\W_]*)*$", re.IGNORECASE)
#: Filler that trails a "tried" value and says nothing ("checked to be honest", "restarted it again please").
#: Between two items of one list of what the customer tried ("cleared cache, reinstalled, same loop").
_LIST_GAP = re.compile(r"[\s,;]*(?:(?:and|then|also|&)\s+)?$")
_TRIED_TAIL = re.compile(r"(?:\s+(?:to be honest|please|thanks|as well|too|tbh|lol))+$", re.IGNORECASE)
#: Round 9: the words a "tried" value's four-word window can end on mid-phrase ("called Barclay Card to
#: have", "contacted the", "submitted a prior complaint to"): without them the value says the same and
#: reads as a whole ("called Barclay Card", "submitted a prior complaint").
_TRIED_DANGLING = re.compile(
    r"""(?:\s+(?:to|the|a|an|by|with|on|of|that|this|these|those|was|were|is|are|while|they|he|she|we|i|have|has
    |had|when|via|for|from|at|in|into|my|our|their|his|her|your|its|and|or|but|so|if|as|about|because|which|who
    |what|than|then|be|been|being|mr|mrs|ms|dr|[a-z]))+$""",
    re.IGNORECASE | re.VERBOSE,
)


def _by_customer(text: str, start: int) -> bool:
    """Whether the verb at ``start`` is the customer's own doing (see :data:`_BY_CUSTOMER`)."""
    before = text[max(0, start - 60) : start]
    cut = list(_SENTENCE_START.finditer(before))
    if cut:
        before = before[cut[-1].end() :]
    return bool(_BY_CUSTOMER.search(before) or _ONLY_ANSWER.match(before))


#: First words of the device and "tried" patterns: the patterns only run on messages that contain one.
DEVICE_WORDS = frozenset(
    """apple iphone ipad macbook imac airpods pixel galaxy android smart fire roku chromecast kindle echo
    alexa xbox playstation ps3 ps4 ps5 nintendo laptop desktop router modem printer tablet smartphone
    smartwatch headphones earbuds thermostat fitbit garmin""".split()
)
TRIED_WORDS = frozenset(
    """tried restarted rebooted re-started reinstalled re-installed uninstalled deleted reset factory repaired
    re-paired unpaired updated upgraded downgraded cleared logged signed turned switched power unplugged
    checked contacted called emailed changed disabled enabled removed readded re-added force power-cycled
    force-closed force-quit filled submitted resubmitted re-submitted reseated re-seated""".split()
)
TRACKING_WORDS = frozenset({"tracking"})
#: Which kinds of detail a message may hold (bits), known from its words before any pattern runs.
MAY_DEVICE = 1
MAY_TRIED = 2
MAY_TRACKING = 4
MAY_VERSION = 8
_DOTTED_NUMBER = re.compile(r"\d\.\d")
_WORTH_A_LOOK = re.compile(r"\d\.\d|[A-Z]{2}\d{9}[A-Z]{2}")


def has_dotted_number(text: str) -> bool:
    """Whether ``text`` may hold a version ("4.1") or a postal tracking number; else only keywords need a look."""
    return _WORTH_A_LOOK.search(text) is not None


_WORD_CHARS = frozenset("'’-")


def _starts_of(text: str, low: str, word: str) -> list[int]:
    """Where ``word`` (folded, ASCII) stands as a whole word in ``text`` (``low`` is it lower-cased)."""
    if len(low) != len(text):  # a case mapping changed the length (rare): positions would drift
        pattern = re.compile(rf"(?<![\w'’-]){re.escape(word)}(?![\w'’-])", re.IGNORECASE)
        return [m.start() for m in pattern.finditer(text)]
    out: list[int] = []
    at = low.find(word)
    while at >= 0:
        before = low[at - 1 : at] if at else ""
        after = low[at + len(word) : at + len(word) + 1]
        if not (before and (before.isalnum() or before == "_" or before in _WORD_CHARS)) and not (
            after and (after.isalnum() or after == "_" or after in _WORD_CHARS)
        ):
            out.append(at)
        at = low.find(word, at + len(word))
    return out


def starts_for(words: Sequence[str], kinds: int) -> tuple[str, ...]:
    """The device, "tracking" and "tried" words of ``words`` whose kind is in ``kinds`` (``MAY_*`` bits).

    A word's kind is the pattern :func:`message_details` runs at it (a device word first): a "tried" item's
    customer test reads only earlier "tried" items, so leaving out the other kinds' words changes no value.
    """
    return tuple(
        w
        for w in words
        if kinds & (MAY_DEVICE if w in DEVICE_WORDS else MAY_TRACKING if w in TRACKING_WORDS else MAY_TRIED)
    )


def message_details(text: str, starts: Sequence[str] = (), dotted: bool | None = None) -> tuple[tuple[str, str], ...]:
    """``(kind, value)`` details of one cleaned message, in the order they appear.

    ``starts`` are the folded device and "tried" words the message contains (the caller has them
    already); the long patterns are tried only where one of them stands, so most messages cost nothing.
    ``dotted`` says whether the message may hold a version or postal number, when the caller knows.
    """
    found: list[tuple[int, str, str]] = []
    listed = -1  # where the customer's last "tried" item ends: the next one in the list is theirs too
    if has_dotted_number(text) if dotted is None else dotted:
        if _DOTTED_NUMBER.search(text):
            for v in _VERSION_LIST.finditer(text):
                found.extend((v.start(1), "version", number) for number in _NUMBER.findall(v.group(1)))
            found.extend(
                (d.start(), "version", d.group(0)) for d in _DOTTED.finditer(text) if not _DATE_LIKE.match(d.group(0))
            )
        found.extend((m.start(), "tracking", m.group(0)) for m in _S10.finditer(text))
    low = text.lower() if starts else text
    hits = sorted(
        (start, word) for word in starts for start in _starts_of(text, low, word)
    )  # in text order: a "tried" item after another one of the customer's list is theirs too
    for start, word in hits:
        pattern = _DEVICE if word in DEVICE_WORDS else _TRACKING if word in TRACKING_WORDS else _TRIED
        m = pattern.match(text, start)
        if m is None:
            continue
        if pattern is _DEVICE:
            found.append((m.start(), "device", m.group(0)))
        elif pattern is _TRACKING:
            found.append((m.start(), "tracking", m.group("id")))
        elif not _NEGATED.search(text[max(0, m.start() - 20) : m.start()]) and (
            _by_customer(text, m.start()) or (listed >= 0 and _LIST_GAP.match(text, listed, m.start()) is not None)
        ):
            value = " ".join((m.group(1) + m.group(2)).split())
            if len(value) > 48:  # cut at a space, not inside a word
                value = value[: value.rfind(" ", 0, 49)]
            value = _TRIED_DANGLING.sub("", _TRIED_TAIL.sub("", value)) or value
            found.append((m.start(), "tried", value))
            listed = m.end()
    found.sort()
    return tuple((kind, value) for _, kind, value in found)


@dataclass
class Details:
    """What the customer gave, each kind kept once (case-insensitively) and at most ``limit`` times."""

    versions: list[str] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)
    tried: list[str] = field(default_factory=list)
    tracking: list[str] = field(default_factory=list)
    _seen: set[tuple[str, str]] = field(default_factory=set, repr=False)

    def wants(self, kinds: int, limit: int = 4) -> bool:
        """Whether a message that may hold ``kinds`` (``MAY_*`` bits of the message scan) can add anything."""
        return bool(
            (kinds & MAY_DEVICE and len(self.devices) < limit)
            or (kinds & MAY_TRIED and len(self.tried) < limit)
            or (kinds & MAY_TRACKING and len(self.tracking) < limit)
            or (kinds & MAY_VERSION and len(self.versions) < limit)
        )

    def wanted(self, kinds: int, limit: int = 4) -> int:
        """The ``MAY_*`` bits of ``kinds`` that still have room: a kind at ``limit`` drops every further value
        of its own (:meth:`add`) and nothing else, so searching a message only for these adds the same."""
        return (
            (kinds & MAY_DEVICE if len(self.devices) < limit else 0)
            | (kinds & MAY_TRIED if len(self.tried) < limit else 0)
            | (kinds & MAY_TRACKING if len(self.tracking) < limit else 0)
            | (kinds & MAY_VERSION if len(self.versions) < limit else 0)
        )

    def full(self, limit: int = 4) -> bool:
        """Whether no message can add anything any more (every kind has ``limit`` values)."""
        return min(len(self.versions), len(self.devices), len(self.tried), len(self.tracking)) >= limit

    def copy(self) -> Details:
        """An independent copy (a running summary state extends a copy, never the state it came from)."""
        return Details(list(self.versions), list(self.devices), list(self.tried), list(self.tracking), set(self._seen))

    def add(self, kind: str, value: str, limit: int = 4) -> None:
        values = self.versions if kind == "version" else self.devices if kind == "device" else None
        if values is None:
            values = self.tried if kind == "tried" else self.tracking
        if len(values) >= limit:
            return
        value = value.strip(" ,.;:")
        folded = (kind, value.casefold())
        if value and folded not in self._seen:
            self._seen.add(folded)
            values.append(value)

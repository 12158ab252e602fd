"""Which of the customer's own sentences say what their problem is: extractive, deterministic salience.

The agent who takes over must not ask the customer to repeat themselves, and the customer's last message
is often no help ("Can I talk to a person about this, please?", "@brand please read the above",
"thanks"). So the Issue line is chosen from the *whole* conversation:

1. every customer sentence is cleaned (links, @handles, signatures) and reduced to content keys;
   sentences with none (greetings, thanks, pure meta-requests) are never candidates;
2. a key weighs more the more often it is used in the conversation, by the customer and by the
   assistant alike (the bot usually restates the problem: on the DialogSum tune split a customer word the
   bot used twice is in the reference summary three times as often as one it never used), and when it is
   a problem word ("stopped", "charged", "missing"), a number or a product name; light words ("think",
   "thing", "sure", "go") weigh less;
3. sentences are picked greedily by the weight of keys not yet covered per word (a coverage objective,
   so a repeated complaint is quoted once), with the problem statement that opens the conversation
   slightly preferred; the lazy-greedy heap keeps this linear in practice (scores only ever shrink);
4. the picked sentences lose filler that says nothing ("I think", "just", "kind of", "please") and, since
   round 6, are written in headline style (:func:`condense`: "My account was closed" -> "Account closed",
   "I have been charged twice" -> "Charged twice"), so more of the problem fits; a further sentence is
   quoted only while it adds a fair share of what the first one did (``Weights.min_gain``). They are
   shown in conversation order, so a problem told over several messages reads as the customer told it;
5. round 9, for social-post threads: openers ("Hmm,", "As you can see,"), a closing courtesy or sign-off
   ("…, thank you for your help."), a closing meta-request ("…, can I talk to a person?", "… any update?"),
   "I'd like to", hashtags, thread counters ("(1/2)") and "please read the above," go from a quoted
   sentence, and a sentence that is only a channel move ("Sent you a DM 20 mins ago") or only an opener
   ("Quick question, I was wondering if you could help me.", "Any idea?") is never a candidate.

Summation and tie-breaking follow conversation order, never set or hash order, so the same conversation
gives the same sentences byte for byte in every process.
"""

from __future__ import annotations

import heapq
import math
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from operator import add

from handoff_core.models import Message, Role
from handoff_core.text.cache import byte_bounded
from handoff_core.text.messages import (
    NAME,
    NUMBER,
    PROBLEM,
    UNREAD,
    MessageScan,
    MessageText,
    SentenceText,
    analyze_message,
    light_message,
    scan_message,
)
from handoff_core.text.sentences import clip, word_key


@dataclass(frozen=True, slots=True)
class Weights:
    """The salience knobs, tuned on the DialogSum ``tune`` split only (see bench/bench_summary.py).

    A key's weight is ``min(cap, customer uses + echo × assistant uses) ** power`` (× ``light`` for a
    light word), plus the flag boosts. Round 3 replaced ``1 + log(customer uses) + echo`` (echo: used by
    the assistant at all) with it: on ``tune`` a key used once hits the reference 15 % of the time, used
    twice 36–40 %, three times about 60 %: closer to linear in the count than logarithmic.
    """

    echo: float = 1.0
    power: float = 1.3
    cap: int = 4
    light: float = 0.4
    problem: float = 1.0
    number: float = 0.75
    name: float = 0.5
    negation: float = 0.5
    question: float = 0.5
    #: Penalty for a sentence that opens with "yes"/"no": an answer to the bot, shown under Assistant so far.
    answer: float = 0.5
    #: The first ``lead_sentences`` content sentences' score is multiplied by this (round 3; before, 3.0 was
    #: added): a long opening problem statement ("my internet drops every evening between 7 and 10pm, the
    #: router light goes red …") keeps its edge over a short later sentence whatever the word weights.
    lead: float = 2.0
    #: How strongly long sentences are penalised (0: not at all, 1: per word).
    length_power: float = 1.0
    #: Words added to a sentence's length before dividing by it, so a two-word fragment does not win on
    #: one lucky key.
    smoothing: float = 3.0
    lead_sentences: int = 2
    #: Round 6: a further sentence is quoted only while it adds at least this share of the first pick's gain
    #: (weight of new keys per word), so the room freed by headline style (:func:`condense`) is not filled
    #: with "Still waiting, message 12." On ``cfpb-tune`` 1.173 -> 1.187 (0.1: 1.180, 0.3: 1.212 but
    #: recall itself falls, 0.253 -> 0.240); DialogSum ``tune`` all 1.264 -> 1.285.
    min_gain: float = 0.3


DEFAULT_WEIGHTS = Weights()


class Powers(dict[float, float]):
    """``float(min(cap, uses) ** power)`` by ``uses``, each worked out once.

    Why: a key's weight is a power of its capped uses, and Python's ``int ** float`` costs about a
    microsecond (the int is converted on every call); a summary weighs a few hundred keys and the
    running state reweighs keys on every message. Looking the value up gives the same float.
    """

    __slots__ = ("cap", "power")

    def __init__(self, cap: float, power: float) -> None:
        super().__init__()
        self.cap, self.power = cap, power

    def __missing__(self, uses: float) -> float:
        if len(self) >= 4_096:  # uses past the cap are all distinct keys: keep the table small
            self.clear()
        value = self[uses] = float(min(self.cap, uses) ** self.power)
        return value


_POWERS: dict[tuple[float, float], Powers] = {}


def powers(cap: float, power: float) -> Powers:
    """The shared :class:`Powers` table of ``cap`` and ``power``."""
    found = _POWERS.get((cap, power))
    if found is None:
        found = _POWERS[(cap, power)] = Powers(cap, power)
    return found


@dataclass(frozen=True, slots=True)
class Sentence:
    """A chosen customer sentence and where it stands in the conversation."""

    message_index: int
    #: Position among all candidate sentences of the conversation.
    order: int
    text: str


@dataclass(frozen=True, slots=True)
class IssuePick:
    sentences: tuple[Sentence, ...]
    #: The rendered Issue text (clipped sentences in conversation order), "" when nothing qualified.
    text: str


def candidate_sentences(
    messages: Sequence[Message], analyses: Sequence[MessageText] | Mapping[int, MessageText] | None = None
) -> list[tuple[int, SentenceText]]:
    """Customer sentences that carry content, in conversation order, with their message index.

    ``analyses`` may hold only the messages split into sentences, by index in ascending order.
    """
    texts = _by_index(messages, analyses)
    return [
        (index, s)
        for index, text in texts.items()
        if messages[index].role is Role.CUSTOMER
        for s in issue_sentences(text)
    ]


def issue_sentences(text: MessageText) -> tuple[SentenceText, ...]:
    """The sentences of one message that may be Issue candidates (were it the customer's): the one place
    the candidate rules live. Worked out once when a message arrives and kept with it (round 9, summary
    speed: :attr:`~handoff_core.summary_state.SummaryFeatures.issue`), so a summary does not filter again;
    the message's own tuple when every sentence qualifies (no second copy kept)."""
    kept = tuple(
        s
        for s in text.sentences
        if not _META_ONLY.issuperset(s.keys)
        and s.keys not in _OPENERS
        and not _ASIDE_ONLY.issuperset(s.keys)
        and _CHANNEL_MOVE.match(s.text) is None
    )
    return text.sentences if len(kept) == len(text.sentences) else kept


#: Keys that make a sentence a channel move or an opener when they are all it has ("DM'd you", "quick one",
#: "quick question"): the shared meta list (text/sentences.py) does not know these spellings.
_META_ONLY = frozenset(
    word_key(w)
    for w in """dmd dmed inboxed idea ideas quick question wondering wonder actually goodbye bye concern advise
    respectfully sincerely regards anyone someone somebody asap pls plz hello hi hey still waiting follow
    followed back""".split()
)
#: Round 9: a sentence that only reports a move to another channel ("Sent you a DM 20 mins ago", "Just DM'd
#: you my details", "I've messaged you privately"): the Assistant line shows it as the answer to the bot's ask.
_CHANNEL_MOVE = re.compile(
    r"""(?:i\s+|i['’]ve\s+|i\s+have\s+)?(?:just\s+|already\s+)?(?:sent|dm['’]?e?d|pm['’]?e?d|inboxed|messaged|emailed)
    (?:\s+(?:you|u|y['’]all|them))?(?:\s+(?:a|the|my|an))?(?:\s+(?:dm|pm|direct\s+message|private\s+message|message|email
    |details|info|privately))?(?:\s+(?:with|about)\s+(?:my\s+|the\s+)?(?:details|info|account\s+details))?
    (?:\s+(?:\d+|a\s+few|few)\s+(?:mins?|minutes?|hours?|hrs?)\s+ago|\s+(?:earlier|yesterday|already|now))?\s*[.!]*$""",
    re.IGNORECASE | re.VERBOSE,
)
#: Keys of a sentence that only points at attachments or pages ("Proof attached.", "There are no additional
#: pages.", "See the screenshots below."): the agent opens the attachment; the Issue says what is wrong.
_ASIDE_ONLY = frozenset(
    word_key(w)
    for w in """attach attached attachment attachments enclose enclosed proof page pages additional copy copies
    document documents documentation screenshot screenshots picture pictures photo photos pdf evidence
    included include includes see refer below above following find""".split()
)
_OPENERS = frozenset(
    {(word_key("quick"),), (word_key("quick"), word_key("one")), (word_key("quick"), word_key("question"))}
)


def _by_index(
    messages: Sequence[Message], analyses: Sequence[MessageText] | Mapping[int, MessageText] | None
) -> Mapping[int, MessageText]:
    if analyses is None:
        return {i: analyze_message(m.text) for i, m in enumerate(messages)}
    if isinstance(analyses, Mapping):
        return analyses
    return dict(enumerate(analyses))


def _echoes(messages: Sequence[Message], texts: Mapping[int, MessageText]) -> Counter[str]:
    """How many assistant messages use each key (a bot reply that is not read counts for none)."""
    return Counter(chain.from_iterable(t.keys for i, t in texts.items() if messages[i].role is not Role.CUSTOMER))


#: Words that carry little of what a problem is about ("think", "thing", "sure", "go"): content words to
#: the function-word lists, but rarely what a reference summary names. Their weight is scaled down.
LIGHT_KEYS = frozenset(
    word_key(w)
    for w in """think thought guess mean meant sound seem feel felt believe suppose hope wonder let make made
    take took taken go going goes gone went come came give gave put keep kept start started happen happened
    say said tell told look see saw seen find found thing something anything everything nothing stuff lot
    bit little few enough quite pretty even ever yet still already same other another such both first last
    next good bad better best great nice fine sure right wrong able easy hard long sort kind way idea mind
    name real really probably maybe usually always often sometimes around whole else""".split()
)

#: Filler inside a quoted sentence that says nothing about the problem: hedges ("I think", "I'm afraid"),
#: softeners ("just", "kind of", "a bit") and politeness ("please"). Dropped so more of the problem fits
#: the Issue's characters; meaning-bearing hedges ("maybe", "I hope", "I feel") are kept, and so is a
#: filler after "a"/"an" ("a very important job" must not become "a important job"), "just in case" and
#: "you know" unless it stands between commas ("do you know her mother?" keeps it).
_FILLER = re.compile(
    r"""(?<!\ba\s)(?<!\ban\s)\b(?:i\s+(?:just\s+)?(?:think|guess|believe|suppose|mean|wonder\s+if
    |was\s+(?:just\s+)?wondering\s+if)(?:\s+that(?![\w'’]))?
    |(?:if\s+)?(?:you|u)\s+(?:can|could)\s+(?:maybe\s+|please\s+)?help\s+(?:me|us)(?:\s+with\s+(?:this|that))?
    |(?:can|could|would)\s+you\s+(?:maybe\s+|please\s+)?help\s+(?:me|us)(?:\s+with\s+(?:this|that))?
    |i['’]?m\s+afraid(?:\s+that(?![\w'’]))?|to\s+be\s+honest|by\s+the\s+way
    |kind\s+of|sort\s+of|a\s+little\s+bit(?!\s+of\b)|a\s+bit(?!\s+of\b)|just(?!\s+in\s+case)|actually|really|basically|definitely
    |quite|very|please)\b,?\s*""",
    re.IGNORECASE | re.VERBOSE,
)
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.?!])")
#: "you know" only between commas or before the end ("it was, you know, broken"; not "do you know her?").
_YOU_KNOW = re.compile(r",\s+you\s+know\s*(?:,|(?=[.!?]))", re.IGNORECASE)
#: What removing a trailing filler can leave: "… on the 12th floor, I guess." -> "… on the 12th floor,."
_COMMA_BEFORE_END = re.compile(r"[,;:]+([.?!])")


#: Narrative preamble at the start of a sentence that says when or in what order, not what is wrong: a
#: connective ("However,", "In addition,", "Secondly,") or a dated opener ("On 03/12/2019,", "In XX/XX/XXXX,",
#: "On Tuesday, March 3,"). The date itself stays in the Details line.
_PREAMBLE = re.compile(
    r"""^(?:(?:however|additionally|furthermore|moreover|in\s+addition|also|again|therefore|as\s+such|thus
    |unfortunately|secondly|thirdly|firstly|finally|lastly|accordingly|to\s+whom\s+it\s+may\s+concern
    |(?:on|in|as\s+of|around|in\s+or\s+around|back\s+in|sometime\s+in)\s+
     (?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?(?:(?:early|mid|late|or|of|about|around)\s+)*
     {date}(?:,?\s+(?:of\s+)?{date})*)
    ,\s+)+""".replace(
        "{date}",
        r"(?:[\w/.-]*(?:\d|XX)[\w/.-]*|(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
        r"|sep(?:t|tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b)",
    ),
    re.IGNORECASE | re.VERBOSE,
)
#: A run of masked values ("XXXX XXXX XXXX", "XX/XX/XXXX XXXX") says no more than one placeholder.
_MASKED_RUN = re.compile(r"(?<!\S)([X*]{2,}\S*)(?:\s+[X*]{2,}\S*)+")
#: An aside pointing at an attachment ("( Please see page attached. )", "(details attached)"): nothing to read here.
_SEE_ATTACHED = re.compile(
    r"\s*\(\s*(?:(?:please\s+)?(?:see|refer\s+to)\b[^()]{0,80}|[^()]{0,40}\b(?:attached|enclosed)\b[^()]{0,40})\)",
    re.IGNORECASE,
)
#: A letter's heading up to its salutation ("Re: card 1234 Dear Sir or Madam:", "To whom it may concern,") and
#: a self-introduction ("My name is Jane Doe,"): who writes to whom, not what is wrong (the name is in the
#: Customer line).
_LETTERHEAD = re.compile(
    r"""^(?:.{0,80}?\b(?i:dear\s+[^,:;.]{1,30}?|to\s+whom(?:ever)?\s+(?:it|this)\s+may\s+concern)\s*[:,]\s*
    |(?i:my\s+name\s+is)\s+(?:[A-Z][\w'’-]*|[X*]{2,})(?:\s+(?:[A-Z][\w'’-]*|[X*]{2,})){0,2}\s*[,.;:]?\s+(?=[A-Z]))""",
    re.VERBOSE,
)
#: Masked values and bare punctuation before the sentence proper ("XXXX -- I am not aware", "XX/XX/2019 I
#: received a letter").
_MASKED_LEAD = re.compile(r"^(?:(?:[X*]{2,}\S*|[-–—/#:.|]+)\s+)+(?=[A-Z])")


#: A request for a person that opens a sentence with more in it ("can I speak to a human please, I have an
#: order arriving tomorrow"): the request is the Why line's; the rest may be the problem (round 6).
_ASK_FOR_PERSON = re.compile(
    r"""^(?:(?:can|could|may)\s+(?:i|we)\s+(?:please\s+)?|(?:i|we)\s+(?:want|need|would\s+like|['’]d\s+like)\s+to\s+
    |please\s+(?:let\s+(?:me|us)\s+)?)?(?:speak|talk|chat)\s+(?:to|with)\s+
    (?:(?:a|an|some|your)\s+)?(?:(?:real|actual|live)\s+)?(?:human|person|agent|representative|rep|someone|somebody
    |manager|supervisor)(?:\s+please)?(?:\s*[,.;:!?–—-]+\s*|\s+(?=(?:i|we|my|our)\b))(?=\w)""",
    re.IGNORECASE | re.VERBOSE,
)


#: What a chat or social post adds that says nothing in a note (round 6): emoji and pictographs, internet
#: interjections ("smh", "lol", "ugh"), repeated "!!!"/"???" and a trailing "..." (kept: one "!" or "?").
_EMOJI = re.compile(r"\s*[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D\u20E3]+")
_INTERJECTION = re.compile(r"\b(?:smh|tbh|lol|lmao|lmfao|rofl|omg|omfg|ugh|ffs|fml|wtf|wth)\b[.!?]*\s*", re.IGNORECASE)
_INTERJECTION_START = ("smh", "tbh", "lol", "lmao", "lmfao", "rofl", "omg", "omfg", "ugh", "ffs", "fml", "wtf", "wth")
_REPEATED_MARK = re.compile(r"([!?])[!?]+|\s*\.{3,}$")


#: Round 9: words that open a sentence and say nothing of the problem: hesitations ("Hmm,", "Er, well,"),
#: discourse openers ("Well,", "OK so", "You know,", "In fact,", "As you can see,", "Of course,").
_LEAD_WORDS = re.compile(
    r"""^(?:(?:h?m{2,}|hmm+|er+m?|um+|uh+|ah+|oh+|well|ok(?:ay)?|so|yeah|right|alright|anyway|honestly|frankly
    |you\s+know|in\s+fact|that\s+is|as\s+you\s+(?:can\s+)?(?:see|know)|of\s+course|as\s+a\s+matter\s+of\s+fact)
    (?:\s*[,.!]+\s*|\s+(?=(?:so|well|ok(?:ay)?)\b))|(?:thanks|thank\s+you|thx)(?:\s*,)?\s+but\s+)+(?=\w)""",
    re.IGNORECASE | re.VERBOSE,
)
#: Round 9: a courtesy or a sign-off that closes a sentence ("…, thank you for your help.", "… Thanks in
#: advance!", "… Respectfully Mr. XXXX"): the agent reads the problem, not the manners. Only what a sign-off
#: says may follow it ("so much", "again", "in advance", "for your help", a name), never a contrast or a
#: negation ("thank you for the fast shipping but it is broken" keeps its problem), and "thanks to" and "in
#: regards to" stay.
_SIGN_OFF = re.compile(
    r"""(?:[,.;:!]\s*|\s+)(?:thank\s+you|thanks(?!\s+to\b)|thx|respectfully|sincerely|(?:best|kind|warm)\s+regards
    |(?<!\bin\s)(?<!\bwith\s)regards(?!\s+(?:to|of)\b)|cheers)\b
    (?:\s+(?:so\s+much|very\s+much|a\s+lot|again|in\s+advance)
    |\s+for\s+(?:your|the|any|all|my|this)\b(?:(?!\b(?:but|however|though|although|yet|except|not|never|no)\b|n['’]t)[^.!?]){0,40})?
    (?:[\s,.-]+(?:(?:mr|mrs|ms|dr)\.?\s*)?(?-i:[A-Z][\w'’-]*|[X*]{2,})(?:\s+(?-i:[A-Z][\w'’-]*|[X*]{2,}))?)?
    \s*[.!?]*$""",
    re.IGNORECASE | re.VERBOSE,
)


#: Round 9, what a social post adds: a thread counter ("(1/2)", "2/3"), a run of hashtags without a digit
#: ("#fail #skyrail"; "#A77120" is an order number and stays), and a pointer back at earlier posts ("please
#: read the above,", "see my previous tweets:") before the sentence proper.
_THREAD_COUNTER = re.compile(r"\s*(?:\(\s*[1-9]\s*/\s*[1-9]\s*\)|(?<=\s)[1-9]/[1-9](?=\s*$))")
_HASHTAG_RUN = re.compile(r"(?:\s*#[^\W\d]+)+(?=\s*[.!?]*\s*$)")
_READ_ABOVE = re.compile(
    r"""^(?:(?:please|pls|plz|kindly)\s+)?(?:read|see|check|look\s+at)\s+(?:the\s+|my\s+)?
    (?:above|thread|(?:previous|last|earlier|first)\s+(?:tweets?|posts?|messages?|replies))\s*[,.;:!–—-]*\s+(?=\w)""",
    re.IGNORECASE | re.VERBOSE,
)


#: Round 9: a meta-request that closes a sentence with more in it ("…, can I talk to a person?", "… any update?",
#: "… please help!", "… please advise", "… DM me"): the Why line says it; the rest is the problem.
_META_TAIL = re.compile(
    r"""(?:[,.;:!?–—-]\s*|\s+)(?:(?:so\s+|and\s+|but\s+)?(?:(?:can|could|may)\s+(?:i|we)\s+(?:please\s+)?
    (?:speak|talk|chat)\s+(?:to|with)\s+(?:a|an|some|your)?\s*(?:real\s+|actual\s+|live\s+)?
    (?:human|person|agent|representative|rep|someone|somebody|manager|supervisor)(?:\s+please)?
    |any\s+(?:update|news|ideas?)(?:\s+(?:on\s+this|please))?|(?:please|pls|plz)\s+(?:help(?:\s+me)?|advise|assist)
    |can\s+(?:you|u|someone|anyone)\s+help(?:\s+me)?(?:\s+please)?|(?:please\s+)?dm\s+me|help(?:\s+me)?\s+please)
    )\s*[.!?]*$""",
    re.IGNORECASE | re.VERBOSE,
)
_LIKE_TO = re.compile(r"(?:(?<=^)|(?<=[,;:.!?]\s))(?:i|we)(?:['’]d|\s+would)\s+like\s+to\s+(?=\w)", re.IGNORECASE)


def compact(sentence: str) -> str:
    """``sentence`` without filler (:data:`_FILLER`), narrative preamble (:data:`_PREAMBLE`), runs of masked
    values, asides about attachments and an opening request for a person (:data:`_ASK_FOR_PERSON`);
    unchanged when fewer than three words would be left."""
    text = _ASK_FOR_PERSON.sub("", sentence, count=1)
    if not text.isascii():
        text = _EMOJI.sub("", text)
    if "!!" in text or "?!" in text or "!?" in text or "??" in text or text.endswith("..."):
        text = _REPEATED_MARK.sub(r"\1", text)
    lowered = text.lower()
    if any(word in lowered for word in _INTERJECTION_START):
        text = " ".join(_INTERJECTION.sub("", text).split())
    if "(" in text:
        text = _SEE_ATTACHED.sub("", text)
    if "XX" in text or "**" in text:
        text = _MASKED_RUN.sub(r"\1", text)
    for _ in range(2):  # "To whom it may concern: My name is Jane Doe. …"
        text = _LETTERHEAD.sub("", text, count=1)
    if "XX" in text or "**" in text or "-" in text:
        text = _MASKED_LEAD.sub("", text, count=1)
    if "," in text:
        text = _PREAMBLE.sub("", text)
    text = _SIGN_OFF.sub(".", _LEAD_WORDS.sub("", text, count=1), count=1)
    if "/" in text:
        text = _THREAD_COUNTER.sub("", text)
    if "#" in text:
        text = _HASHTAG_RUN.sub("", text)
    text = _READ_ABOVE.sub("", text, count=1)
    text = _LIKE_TO.sub("", _META_TAIL.sub(".", text, count=1))
    if text != sentence and len(text.split()) >= 3:
        sentence = text[:1].upper() + text[1:] if sentence[:1].isupper() else text
    if _FILLER.search(sentence) is None and _YOU_KNOW.search(sentence) is None:
        return sentence
    text = _FILLER.sub("", _YOU_KNOW.sub("", sentence))
    text = _COMMA_BEFORE_END.sub(r"\1", _SPACE_BEFORE_PUNCT.sub(r"\1", text)).lstrip(" ,;:")
    if len(text.split()) < 3:
        return sentence
    return text[:1].upper() + text[1:] if sentence[:1].isupper() else text


#: Headline style (round 6): words a note-taker leaves out because the reader restores them. Articles and
#: the customer's own possessives ("the", "a", "my", "our": the Issue is about the customer's things; "a"
#: stays in "twice a month", "a few", "a lot"), a subject "I" with its auxiliaries opening a clause ("I
#: have been charged" -> "charged", "I'm unable to" -> "unable to"), a passive or progressive auxiliary
#: after a noun ("my account was closed" -> "account closed"; not after a pronoun: "it was bought out"
#: keeps its "was"), and "that" after a verb of saying ("they said that …" -> "they said …"). Negations,
#: prepositions, other people's pronouns ("they", "his"), numbers and every content word are kept, in the
#: customer's order.
_ARTICLES = re.compile(
    r"\b(?<!['’-])(?:the|a|an|my|our)\s+(?=[\w$£€#(\"“])"
    r"(?<![aA]\s(?=(?:day|week|month|year|hour|minute|time|few|couple|lot|little|bit|while|look|total)\b))",
    re.IGNORECASE,
)
_I_AUX = re.compile(
    r"""\b(?=i[\s'’])(?:(?<=^)|(?<=[,;:.!?]\s)|(?<=\band\s)|(?<=\bbut\s)|(?<=\bso\s))
    i(?:\s+(?:have|had|am|was)|['’](?:ve|m))?(?:\s+(?:also|still|now|then|recently|already|again|even))?
    (?:\s+(?:been|be))?\s+(?=[a-z])""",
    re.IGNORECASE | re.VERBOSE,
)
#: A participle after the auxiliary: "-ed", "-ing" or a common irregular one (not "sixteen", "often", "open").
_PARTICIPLE = (
    r"(?:[a-z]{2,}(?:ed|ing)|known|shown|done|gone|taken|given|sent|paid|made|told|said|stolen|broken|frozen"
    r"|written|seen|held|found|left|lost|sold|bought|brought|put|cut|set|hit|kept|built|spent|hidden|withdrawn"
    r"|drawn|thrown|hung|stuck|torn|worn|shut|run|won|got|gotten|forgotten)\b"
)
_AUX = re.compile(
    r"\b(?=(?:is|are|was|were|has|have|had|been|being)\s)"
    r"(?<!\b(?:it|he|we|us|me|is|so|or|as)\s)(?<!\b(?:she|you|who|and|but|not)\s)"
    r"(?<!\b(?:this|that|they|them|what|when|then|here)\s)(?<!\b(?:which|these|those|there|where)\s)"
    r"(?<!\bi\s)(?<!['’](?:ve|re|ll)\s)(?<!['’][ms]\s)(?<![.!?,;:]\s)(?<!^)"
    r"\b(?:is|are|was|were|has\s+been|have\s+been|had\s+been|been|being)\s+"
    r"(?=(?:not\s+|never\s+|still\s+)?" + _PARTICIPLE + ")",
    re.IGNORECASE,
)
_SAID_THAT = re.compile(
    r"\b((?:said|says|say|told\s+(?:me|us)|stated|states|claimed|claims|informed\s+(?:me|us)|advised\s+(?:me|us)"
    r"|noticed|realized|realised|learned|explained|confirmed)\s+)that\s+(?=\w)",
    re.IGNORECASE,
)


#: Round 9: an empty subject opening a clause ("There's a collection showing" -> "Collection showing", "It's
#: been 3 days" -> "Been 3 days", "This is John Cruise" -> "John Cruise") and wordy phrases ("in order to" ->
#: "to", "at this time"): a note-taker leaves them out too. DialogSum ``tune`` Issue 1.324 -> 1.337 / 1.294 ->
#: 1.305, ``cfpb-tune`` 1.193 -> 1.198 ("we are"/"we have" as well: no further gain, and "we have 2 kids"
#: would lose its verb).
_EXPLETIVE = re.compile(
    r"(?:(?<=^)|(?<=[,;:.!?]\s))(?:there(?:['’]s|\s+is|\s+are|\s+was|\s+were)|it(?:['’]s|\s+is)|this\s+is)\s+(?=[\w$£€#])",
    re.IGNORECASE,
)
_WORDY = re.compile(r"\s+(?:in\s+order(?=\s+to\b)|at\s+this\s+(?:time|point)(?:\s+in\s+time)?)\b", re.IGNORECASE)


def condense(sentence: str) -> str:
    """``sentence`` in headline style (:data:`_ARTICLES`, :data:`_I_AUX`, :data:`_AUX`, :data:`_SAID_THAT`,
    :data:`_EXPLETIVE`, :data:`_WORDY`):
    the same words in the same order, without the ones a reader restores; unchanged when fewer than three
    words would be left."""
    text = _AUX.sub("", _I_AUX.sub("", _ARTICLES.sub("", sentence)))
    text = _WORDY.sub("", _EXPLETIVE.sub("", text))
    if "that " in text.lower():
        text = _SAID_THAT.sub(r"\1", text)
    if text == sentence or len(text.split()) < 3:
        return sentence
    return text[:1].upper() + text[1:] if sentence[:1].isupper() else text


def select_issue(
    messages: Sequence[Message],
    budget: int,
    *,
    first_budget: int | None = None,
    problem_budget: int = 0,
    max_sentences: int = 4,
    sentence_cap: int = 220,
    weights: Weights = DEFAULT_WEIGHTS,
    analyses: Sequence[MessageText] | Mapping[int, MessageText] | None = None,
    counts: Mapping[str, int] | None = None,
    candidates: Sequence[tuple[int, SentenceText]] | None = None,
) -> IssuePick:
    """The customer's most informative sentences within ``budget`` characters, in their order.

    The best sentence alone may use up to ``first_budget`` characters (default ``budget``), so a short
    budget shortens the Issue to one sentence rather than cutting that sentence in the middle. When a
    sentence names a problem word none of the chosen ones covers (a second problem: "… and my card was
    charged again"), it is added as long as the whole Issue stays within ``problem_budget``.
    ``analyses`` are the messages' :func:`analyze_message` results when the caller has them already
    (a sequence, or a mapping by index of the messages split into sentences); in a long conversation
    only some are (:func:`pool`), and ``counts`` then give how many customer messages use each key,
    over the whole conversation. ``candidates`` are :func:`candidate_sentences` of them when the caller
    kept them (round 9: the summary's view, from each message's :func:`issue_sentences`).
    """
    texts = _by_index(messages, analyses)
    sentences = candidate_sentences(messages, texts) if candidates is None else candidates
    if not sentences or budget <= 0:
        return IssuePick((), "")
    echoes = _echoes(messages, texts)
    if counts is None:
        counts = Counter(chain.from_iterable(s.keys for _, s in sentences))
    echo, cap, power, light = weights.echo, weights.cap, weights.power, weights.light
    # Only the keys of the candidate sentences are ever looked up.
    uses_weight = powers(cap, power)
    keys = list(dict.fromkeys(chain.from_iterable(s.keys for _, s in sentences)))
    if echo == 1.0:
        # Round 9: the uses summed in C. ``uses_weight`` is keyed by value, and ``c + e`` equals ``c + 1.0 * e``
        # (small integers): the same entries, so the same floats as the loop below.
        uses: Iterable[float] = map(add, map(counts.__getitem__, keys), map(echoes.get, keys, repeat(0)))
    else:
        uses = [counts[key] + echo * echoes.get(key, 0) for key in keys]
    weight = dict(zip(keys, map(uses_weight.__getitem__, uses), strict=True))
    for key in LIGHT_KEYS.intersection(keys):
        weight[key] *= light  # ``w * 1.0`` is ``w``: only light keys change
    boost_of = [
        (weights.problem if flags & PROBLEM else 0.0)
        + (weights.number if flags & NUMBER else 0.0)
        + (weights.name if flags & NAME else 0.0)
        for flags in range(8)
    ]
    first_message = sentences[0][0]
    lead = {n for n, (index, _) in enumerate(sentences[: weights.lead_sentences]) if index == first_message}
    get_weight, get_boost = weight.__getitem__, boost_of.__getitem__
    lead_factor, length_power, smoothing = weights.lead, weights.length_power, weights.smoothing

    def extras(i: int) -> float:
        s = sentences[i][1]
        return (
            (weights.negation if s.negated else 0.0)
            + (weights.question if s.question else 0.0)
            - (weights.answer if s.answer else 0.0)
        )

    def gain(i: int, covered: set[str]) -> float:
        s = sentences[i][1]
        total = sum([weight[k] + boost_of[f] for k, f in zip(s.keys, s.flags, strict=True) if k not in covered])
        if total == 0.0:
            return 0.0
        lead_or_not = lead_factor if i in lead else 1.0
        return (total + extras(i)) * lead_or_not / float((s.n_words + smoothing) ** length_power)

    negation, question, answer = weights.negation, weights.question, weights.answer
    heap = [
        (
            # extras(i) written out (round 9: a call per sentence), the same terms in the same order
            -(
                sum(map(add, map(get_weight, s.keys), map(get_boost, s.flags)))
                + ((negation if s.negated else 0.0) + (question if s.question else 0.0) - (answer if s.answer else 0.0))
            )
            * (lead_factor if i in lead else 1.0)
            / float((s.n_words + smoothing) ** length_power),
            i,
        )
        for i, (_, s) in enumerate(sentences)
    ]
    covered: set[str] = set()
    heapq.heapify(heap)
    chosen: list[tuple[int, str]] = []
    used = 0
    first_gain = 0.0
    while heap and len(chosen) < max_sentences:
        _, i = heapq.heappop(heap)
        current = gain(i, covered)
        if current <= 0.0:
            continue
        if heap and current < -heap[0][0]:
            heapq.heappush(heap, (-current, i))
            continue
        if not chosen:
            first_gain = current / (lead_factor if i in lead else 1.0)
        elif current < weights.min_gain * first_gain:
            break  # every sentence left adds less than this (the heap holds upper bounds)
        text = clip(_squeeze(_with_no(texts[sentences[i][0]].cleaned, sentences[i][1])), sentence_cap)
        cost = len(text) + (3 if chosen else 0)
        if used + cost > budget:
            if chosen:
                continue
            text = clip(text, max(budget, first_budget or budget))
            cost = len(text)
        chosen.append((i, text))
        used += cost
        covered.update(sentences[i][1].keys)
    if chosen and problem_budget > used:
        taken = {i for i, _ in chosen}
        best, best_new = -1, 0
        for i, (_, s) in enumerate(sentences):
            if i in taken or used + 3 + min(len(s.text), sentence_cap) > problem_budget:
                continue  # cheap tests first: most sentences do not fit what is left
            new = sum(1 for k, f in zip(s.keys, s.flags, strict=True) if f & PROBLEM and k not in covered)
            if new > best_new:
                best, best_new = i, new
        if best >= 0:
            text = _with_no(texts[sentences[best][0]].cleaned, sentences[best][1])
            chosen.append((best, clip(_squeeze(text), sentence_cap)))
    chosen.sort()
    parts: list[str] = []
    previous: tuple[int, int] | None = None
    for i, text in chosen:
        index = sentences[i][0]
        if previous is not None:
            adjacent = previous == (index, i - 1)
            parts.append(" " if adjacent else " … ")
        parts.append(text[:1].upper() + text[1:] if not text[1:2].isupper() else text)
        previous = (index, i)
    picked = tuple(Sentence(sentences[i][0], i, text) for i, text in chosen)
    return IssuePick(picked, "".join(parts))


def rest_of_issue(
    messages: Sequence[Message],
    pick: IssuePick,
    budget: int,
    analyses: Sequence[MessageText] | Mapping[int, MessageText] | None = None,
) -> str:
    """The customer's other content sentences, in their order, that add a word the Issue does not have.

    For a short conversation (the customer wrote less than the Issue's room): the Issue keeps the most
    informative sentences, and this keeps the rest of what the customer said in the note, in the same
    headline style, so the agent does not need the transcript (round 7). Empty when nothing adds a word.
    """
    texts = _by_index(messages, analyses)
    sentences = candidate_sentences(messages, texts)
    taken = {s.order for s in pick.sentences}
    covered = set(chain.from_iterable(sentences[i][1].keys for i in taken if i < len(sentences)))
    parts: list[str] = []
    used = 0
    previous: tuple[int, int] | None = None
    for i, (index, s) in enumerate(sentences):
        if i in taken or covered.issuperset(s.keys):
            continue
        text = _squeeze(_with_no(texts[index].cleaned, s))
        gap = "" if previous is None else " " if previous == (index, i - 1) else " … "
        if used + len(gap) + len(text) > budget:
            break
        covered.update(s.keys)
        parts.append(gap + (text[:1].upper() + text[1:] if not text[1:2].isupper() else text))
        used += len(gap) + len(text)
        previous = (index, i)
    return "".join(parts)


#: Memory the memo of :func:`_squeeze` may use (round 9). A sentence the Issue quotes at one handoff is
#: usually quoted again at the next (the engine hands a long conversation off on most new messages once it
#: is past the window, and the Issue's pool changes by a message or two), and its ~20 regular-expression
#: passes cost more than the rest of the pick; charged per character (tests/core/test_cache.py).
SQUEEZE_CACHE_BYTES = 256 * 1024


def _squeeze_cost(sentence: str, _result: str) -> int:
    return 400 + 8 * len(sentence)


@byte_bounded(SQUEEZE_CACHE_BYTES, _squeeze_cost)
def _squeeze(sentence: str) -> str:
    """A chosen sentence as the Issue quotes it: without filler and preamble, in headline style."""
    return condense(compact(sentence))


#: A "no" that opens a sentence as part of it ("no internet since 6am"), not as an answer ("No, it's …"):
#: the sentence split trims it as a filler word, which turns the problem into its opposite.
_NO_BEFORE = re.compile(r"(?:^|[.!?:;]\s+|\s)(no|No|NO)\s+$")


def _with_no(cleaned: str, s: SentenceText) -> str:
    """The sentence with the "no" that opened it in the message, when the split trimmed it off.

    Only before a content word ("no internet", "no refund"), not before an answer ("No I don't", "No
    problem, …" keeps its comma and is an answer anyway).
    """
    sentence = s.text
    first = sentence.split(None, 1)[0] if sentence else ""
    if not s.keys or word_key(first.strip(".,;:!?")) != s.keys[0] or first[:1].isupper():
        return sentence
    at = cleaned.find(sentence)
    if at <= 0:
        return sentence
    found = _NO_BEFORE.search(cleaned, max(0, at - 8), at)
    return f"{found.group(1)} {sentence}" if found is not None else sentence


#: Conversations with at most this many customer messages (and bot replies) have every sentence weighed.
WINDOW = 64
#: In a longer conversation: how many customer messages are split into sentences for the Issue, and how
#: many of the bot's most recent replies (with the customer's answer to each) for the Assistant line.
ISSUE_POOL = 24
BOT_POOL = 8
#: Of the :data:`ISSUE_POOL`, how many are the customer messages with the most weight in all (not per word).
LONG_POOL = 6


def pool(
    customer: Sequence[int],
    others: Sequence[int],
    counts: Mapping[str, int],
    scanned: Sequence[tuple[frozenset[str], int]],
    echo_keys: Iterable[frozenset[str]],
) -> list[int]:
    """The messages of a long conversation to split into sentences, in ascending order.

    Past :data:`WINDOW` every customer message is only scanned (its keys and word count, ``scanned``,
    aligned with ``customer``; ``counts`` are taken over all of them), and :data:`ISSUE_POOL` of them are
    split into sentences: the first two (where the problem is usually stated), those whose keys weigh
    most per word, and :data:`LONG_POOL` whose keys weigh most in all (a long message that states the
    problem once, among rambling, scores low per word); keys weigh as in :func:`select_issue`, the bot's
    first :data:`BOT_POOL` replies (``echo_keys``) giving the echo. Of the other messages only the first
    and last :data:`BOT_POOL` are split, with the customer message after each: the early replies are
    where the bot restates the problem (the echo weight), the late ones are what the Assistant line
    quotes. The replies in between are counted but not read.
    """
    echoes = Counter(chain.from_iterable(echo_keys))
    weight = _weights(counts, echoes, DEFAULT_WEIGHTS).__getitem__
    # fsum: the keys are a set, and a float sum must not depend on its (hash-seeded) order.
    totals = {i: math.fsum(map(weight, keys)) for (keys, _), i in zip(scanned[2:], customer[2:], strict=True)}
    return pool_of_totals(customer, others, totals, [n for _, n in scanned])


def pool_of_totals(
    customer: Sequence[int], others: Sequence[int], totals: Mapping[int, float], n_words: Sequence[int]
) -> list[int]:
    """:func:`pool` from each customer message's total key weight (``totals``) and word count (``n_words``,
    aligned with ``customer``)."""
    weighed = [(totals[i], n, i) for i, n in zip(customer[2:], n_words[2:], strict=True)]
    # nsmallest(n, xs) is sorted(xs)[:n]; the indexes make every tuple distinct.
    by_density = heapq.nsmallest(DENSE_POOL, [(-total / (n + 3), i) for total, n, i in weighed])
    heaviest = heapq.nsmallest(HEAVY_RANKS, [(-total, i) for total, _, i in weighed])
    return pool_of_ranks(customer, others, [i for _, i in by_density], [i for _, i in heaviest])


#: Of the :data:`ISSUE_POOL`, how many are the customer messages whose keys weigh most per word.
DENSE_POOL = ISSUE_POOL - 2 - LONG_POOL
#: How many of the heaviest customer messages (in all) the pool may have to look through: the first
#: :data:`LONG_POOL` of them not already in the pool are among the first ``LONG_POOL + 2 + DENSE_POOL``.
HEAVY_RANKS = LONG_POOL + 2 + DENSE_POOL


def pool_of_ranks(
    customer: Sequence[int], others: Sequence[int], dense: Sequence[int], heavy: Sequence[int]
) -> list[int]:
    """:func:`pool` from the customer messages (past the first two) ranked by key weight per word
    (``dense``: the first :data:`DENSE_POOL`) and in all (``heavy``: the first :data:`HEAVY_RANKS`), best
    first: what a running summary state keeps up to date message by message."""
    full = set(customer[:2])
    full.update(dense[:DENSE_POOL])
    # A short key sentence inside a long, rambling message is diluted per word: the messages that carry
    # the most weight in all get places of their own.
    full.update([i for i in heavy if i not in full][:LONG_POOL])
    for i in list(others[:BOT_POOL]) + list(others[-BOT_POOL:]):
        full.add(i)
        after = bisect_right(customer, i)
        full.add(customer[after] if after < len(customer) else i)
    return sorted(full)


def _weights(counts: Mapping[str, int], echoes: Mapping[str, int], w: Weights) -> dict[str, float]:
    """Every key's weight (see :class:`Weights`): one power per distinct (uses, light) pair, not per key."""
    cap, echo, power, light = w.cap, w.echo, w.power, w.light
    values: dict[tuple[float, bool], float] = {}
    out: dict[str, float] = {}
    get_echo = echoes.get
    for key, n in counts.items():
        found = (min(cap, n + echo * get_echo(key, 0)), key in LIGHT_KEYS)
        value = values.get(found)
        if value is None:
            value = values[found] = float(found[0] ** power) * (light if found[1] else 1.0)
        out[key] = value
    return out


def window(
    messages: Sequence[Message], scans: dict[int, MessageScan] | None = None
) -> tuple[list[MessageText], Counter[str] | None]:
    """Each message's analysis, split into sentences only where a sentence can be quoted; the key counts.

    Up to :data:`WINDOW` customer messages and bot replies every message is split into sentences and the
    counts are ``None``; past it see :func:`pool` (a message not split is its scan without sentences, a
    bot reply not read is empty). The summary reads the sparse form of the same view
    (:mod:`handoff_core.summary_state`); this dense list is for inspection and tests.
    """
    customer = [i for i, m in enumerate(messages) if m.role is Role.CUSTOMER]
    others = [i for i, m in enumerate(messages) if m.role is not Role.CUSTOMER]
    if len(customer) <= WINDOW and len(others) <= WINDOW:
        return [analyze_message(m.text) for m in messages], None
    found = {i: scan_message(messages[i].text) for i in customer}
    if scans is not None:
        scans.update(found)
    counts = Counter(chain.from_iterable(scan.keys for scan in found.values()))
    full = set(
        pool(
            customer,
            others,
            counts,
            [(found[i].keys, found[i].n_words) for i in customer],
            [scan_message(messages[i].text).keys for i in others[:BOT_POOL]],
        )
    )
    return [
        analyze_message(m.text) if i in full else light_message(found[i]) if i in found else UNREAD
        for i, m in enumerate(messages)
    ], counts

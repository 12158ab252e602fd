"""What in a chat message is not the problem, and the words that carry its meaning.

The handoff summary quotes the customer's sentences (split in :mod:`handoff_core.text.messages`).
Support messages carry a lot that is not the problem: @handles and links (social channels), e-mail
signatures, greetings, thanks, and *meta* requests about the conversation itself ("can I talk to a
person?", "please read the above", "any update?"). Those are stripped or marked here, once, so every
summary section agrees on what counts as content.

Word keys use a light, cached suffix stripper instead of a full stemmer: the summary only needs
"restarted" and "restart" or "orders" and "order" to meet, and must stay linear and cheap on a
1,000-message conversation in the default install (where Snowball is pure Python).
"""

from __future__ import annotations

import re
from functools import lru_cache

from handoff_core.text.cache import CACHED_WORD_CHARS, WORD_CACHE_ENTRIES
from handoff_core.text.normalize import fold

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<![\w.])@\w{1,30}")
#: Social-media agent initials at the end of a reply ("… let us know! ^JD", "-MK").
_INITIALS = re.compile(r"\s(?:\^|[-–—]\s?)[A-Z]{1,3}\s*$")
#: A line that starts an e-mail signature or a sign-off; everything from it on is dropped.
_SIGNATURE = re.compile(
    r"^\s*(?:--\s*$|__+\s*$|sent from my\b|get outlook for\b|enviado desde\b|envoyé de mon\b"
    r"|von meinem\b.*gesendet"
    r"|(?:best|kind|warm|many)?\s*(?:regards|wishes)\b[^\n]{0,40}$"
    r"|(?:cheers|thanks|thank you|many thanks|thx|sincerely|best|yours|saludos|cordialement"
    r"|mit freundlichen grüßen|atenciosamente|obrigad[oa]|gracias|merci|danke)[,.!]*(?:\s+[\w.'-]+){0,3}\s*$)",
    re.IGNORECASE,
)

#: Greetings, thanks, acknowledgements and fillers in the supported languages: never the problem.
COURTESY = frozenset(
    """hi hello hey hiya dear good morning afternoon evening day night thanks thank thx ty tysm please pls
    plz ok okay k yes yeah yep yup no nope nah sure great cool fine alright awesome perfect cheers bye
    goodbye regards best kind sincerely appreciate appreciated welcome lol haha guys team folks sir madam
    mr mrs ms miss well oh ah um hmm wow really right exactly excuse absolutely certainly course indeed anyway
    hola gracias buenos buenas dias tardes noches bonjour merci salut bonsoir hallo danke bitte guten tag
    morgen abend ola olá obrigado obrigada bom dia boa tarde ciao grazie buongiorno""".split()
)

#: Words of requests about the conversation itself ("talk to a person", "please read the above",
#: "any update?", "DM sent"): a sentence made only of these, courtesy and function words says nothing
#: about the customer's problem.
META = frozenset(
    """talk talking speak speaking chat chatting person people human humans agent agents representative
    rep operator someone somebody anyone anybody real live actual transfer escalate supervisor
    read reading above below previous earlier message messages msg dm dms pm inbox reply replied replies
    respond responded response responses answer answered answers update updates news hear heard back
    still waiting wait waited follow followed following help helping helped assist assistance bot bots
    robot automated machine again already told tell said say asked ask asking explained explain repeat
    time times twice sent send check checking look looking see please let know hello anyone there soon
    asap quickly now today fast urgent urgently thread tweet tweets post comment comments sorry
    hablar persona personas humano agente asesor operador alguien respuesta respondan ayuda parler personne
    humain conseiller quelqu'un réponse aide sprechen mensch menschen mitarbeiter jemand antwort hilfe
    falar pessoa atendente alguém resposta ajuda parlare persona operatore qualcuno risposta aiuto""".split()
)

#: How the customer feels, not what is wrong: the Customer line reports sentiment, the Issue line the problem.
EMOTION = frozenset(
    """annoying annoyed frustrating frustrated frustration ridiculous unacceptable terrible horrible awful
    worst joke useless pathetic disappointed disappointing disappointment angry furious upset sad mad crazy
    insane seriously honestly literally pity shame unbelievable disgusting disgraceful outrageous hate
    love glad happy pleased nice lovely wonderful amazing fantastic excellent
    smh tbh lol lmao lmfao rofl omg omfg ugh ffs fml wtf wth""".split()
)

NEGATIONS = frozenset(
    """not no never nothing none nobody cannot cant can't dont don't doesnt doesn't didnt didn't isnt
    isn't wasnt wasn't wont won't aint havent haven't hasnt hasn't couldnt couldn't wouldnt wouldn't
    neither nor unable""".split()
)

#: Words that usually describe something going wrong; a sentence with them is likely the problem.
PROBLEM_WORDS = frozenset(
    """broken break breaks broke stopped stop stops stopping fail fails failed failing failure error errors
    crash crashes crashed crashing freeze freezes froze frozen stuck missing lost lose losing disappeared
    gone arrived arrive delivered delivery late delay delayed damaged wrong charged charge charges
    overcharged double twice refund refunded refunds cancel cancelled canceled cancellation issue issues
    problem problems bug bugs glitch declined denied locked blocked hacked deleted empty defective faulty
    leaking leak cracked dead drain draining slow incorrect complaint complain return returned replace
    replacement exchange cant unable working work works recording record sync syncing connect connection
    login log password reset payment paid pay bill billed invoice fee fees stolen fraud scam unauthorized
    expired expire suspended closed banned mistake mistakes spill spilled dirty noisy noise leaks rude cold
    stain stained smell smells torn ripped scratched scratch dent dented shortage overdraft debt debts owe
    owed owing collect collection collections dispute disputed disputes incorrect inaccurate fraudulent
    identity theft inquiry inquiries harass harassment harassing threaten threatened threatening
    misleading deceptive foreclosure withheld withhold hold held interest penalty""".split()
)

_SUFFIXES = ("'s", "’s", "ing", "ies", "ied", "ed", "es", "s", "ly")


def word_key(word: str) -> str:
    """A folded word with a common suffix stripped: ``Restarted`` -> ``restart``, ``orders`` -> ``order``.

    Cached for words up to :data:`CACHED_WORD_CHARS` characters (:data:`word_key_cache`).
    """
    return word_key_cache(word) if len(word) <= CACHED_WORD_CHARS else _word_key(word)


def _word_key(word: str) -> str:
    w = fold(word).replace("-", "")
    for suffix in _SUFFIXES:
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            if suffix in ("ies", "ied"):
                return w[: -len(suffix)] + "y"
            if suffix == "s" and w.endswith("ss"):
                return w
            return w[: -len(suffix)]
    return w


#: ~200 B an entry with ordinary words (at most :data:`WORD_ENTRY_BYTES`): about 1 MB, 4 MiB at worst.
word_key_cache = lru_cache(maxsize=WORD_CACHE_ENTRIES)(_word_key)


def clean(text: str) -> str:
    """``text`` without links, @handles, agent initials and anything from a signature line on."""
    if "\n" in text:
        lines = text.splitlines()
        for i in range(1, len(lines)):
            if _SIGNATURE.match(lines[i]):
                text = "\n".join(lines[:i])
                break
    if "://" in text or "www." in text or "WWW." in text:
        text = _URL.sub(" ", text)
    if "@" in text:
        text = _HANDLE.sub(" ", text)
    if "^" in text or "-" in text or "–" in text or "—" in text:
        text = _INITIALS.sub("", text)
    return text


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, marked with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    if limit <= 1:
        return "…"[:limit]
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + "…"

"""Function words per language: used to guess a message's language and to ignore filler when matching.

Short, hand-picked lists of the most frequent words; enough to tell the supported languages apart on a
one-line support message, and small enough to read. Words are accent-folded and lower-case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        """a an the and or but if of to in on at for from with by about as is are was were be been being am
        i me my mine you your yours we our us they them their he she it its this that these those there here
        do does did done have has had having can could would should will shall may might must not no yes
        what which who whom when where why how than then so just very too also any some all each every
        please thanks thank hi hello hey dont don't cant can't wont won't im i'm ive i've its it's
        into out up""".split()
    ),
    "es": frozenset(
        """el la los las un una unos unas y o pero si de del al a en con por para sobre como es son era fue ser
        estar esta este esto estos estas ese esa eso yo me mi mis tu tus usted ustedes nosotros nuestro nuestra
        su sus lo le les se que qué cual cuál quien quién cuando cuándo donde dónde por qué porque muy también
        ya no sí hola gracias hay tengo tiene puedo puede quiero necesito ha he han mas más pero""".split()
    ),
    "fr": frozenset(
        """le la les un une des et ou mais si de du au aux à en dans avec par pour sur comme est sont était
        être avoir ai as a avons avez ont je me moi mon ma mes tu te toi ton ta tes vous votre vos nous notre
        nos il elle ils elles leur leurs ce cet cette ces ça cela que qui quoi quand où pourquoi comment très
        aussi déjà ne pas non oui bonjour merci salut suis veux voudrais peux puis plus""".split()
    ),
    "de": frozenset(
        """der die das den dem des ein eine einen einem einer und oder aber wenn von zu im in an auf für mit
        bei über als ist sind war waren sein haben habe hat hatte ich mich mir mein meine meinen du dich dir
        dein sie ihr ihre wir uns unser es er man nicht kein keine ja nein was wer wann wo warum wie sehr
        auch schon noch hallo danke bitte kann können möchte will muss doch nur""".split()
    ),
    "pt": frozenset(
        """o a os as um uma uns umas e ou mas se de do da dos das ao à em no na nos nas com por para sobre como
        é são era foi ser estar está estou eu me meu minha meus minhas você vocês nós nosso nossa seu sua
        lhe que qual quem quando onde porque por que muito também já não sim olá oi obrigado obrigada tenho
        tem posso pode quero preciso há""".split()
    ),
    "it": frozenset(
        """il lo la i gli le un uno una e o ma se di del della dei al alla a in con per su come è sono era
        essere avere ho hai ha abbiamo io mi mio mia miei tu ti tuo tua voi vostro noi nostro che chi quando
        dove perché molto anche già non sì ciao grazie voglio posso""".split()
    ),
    "nl": frozenset(
        """de het een en of maar als van te in op aan voor met bij over is zijn was waren ben heb heeft hebben
        ik mij me mijn jij je jou jouw u uw wij we ons onze zij ze hun dit dat deze die er hier wat wie wanneer
        waar waarom hoe zeer ook al niet geen ja nee hallo bedankt dank alstublieft kan wil moet""".split()
    ),
}

#: Snowball stemmer names for the languages we detect.
STEMMER_NAMES: dict[str, str] = {
    "en": "english",
    "es": "spanish",
    "fr": "french",
    "de": "german",
    "pt": "portuguese",
    "it": "italian",
    "nl": "dutch",
}

SUPPORTED_LANGUAGES: tuple[str, ...] = tuple(STOPWORDS)

#: Words so frequent in every language that they say nothing about which one it is.
_AMBIGUOUS = frozenset({"a", "o", "e", "de", "la", "le", "in", "en", "me", "se", "no", "si", "die", "is", "van"})

_DISTINCTIVE: dict[str, frozenset[str]] = {
    lang: frozenset(w for w in words if w not in _AMBIGUOUS) for lang, words in STOPWORDS.items()
}

#: Each distinctive function word and the languages it belongs to (in the order above): one look-up
#: per token instead of one per token and language.
_LANGUAGES_OF: dict[str, tuple[str, ...]] = {
    word: tuple(lang for lang, words in _DISTINCTIVE.items() if word in words)
    for word in frozenset().union(*_DISTINCTIVE.values())
}


def language_votes(tokens: Sequence[str]) -> dict[str, int]:
    """How many function words of each language ``tokens`` contain, in order of first appearance."""
    counts: dict[str, int] = {}
    languages_of = _LANGUAGES_OF
    for token in tokens:
        langs = languages_of.get(token)
        if langs:
            for lang in langs:
                counts[lang] = counts.get(lang, 0) + 1
    return counts


def add_votes(before: Mapping[str, int], more: Mapping[str, int]) -> dict[str, int]:
    """Votes of two texts together, as :func:`language_votes` counts their concatenation."""
    total = dict(before)
    for lang, count in more.items():
        total[lang] = total.get(lang, 0) + count
    return total


def pick_language(counts: Mapping[str, int], default: str = "en") -> str:
    """The language with most votes; ``default`` wins ties it is part of, and when there are no votes."""
    best, best_count = default, 0
    for lang, count in counts.items():
        if count > best_count or (count == best_count and lang == default):
            best, best_count = lang, count
    return best


def detect_language(tokens: Sequence[str], default: str = "en") -> str:
    """Guess the language from function words; ``default`` when nothing tells the languages apart.

    Support messages are short, so character models guess poorly on them; counting function words is
    robust, fast, and good enough to pick stemmers and customer-facing texts. Votes add up across
    messages (:func:`add_votes`), so a conversation's language is a fold over its messages.
    """
    return pick_language(language_votes(tokens), default)

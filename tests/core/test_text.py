"""Text handling: folding, phrase matching (typos, inflections, gaps, sentences), flat cost in policy size."""

from __future__ import annotations

import pytest

from handoff_core.text.languages import detect_language
from handoff_core.text.normalize import fold, token_spans, tokenize
from handoff_core.text.phrases import Analyzer, PhraseMatcher, vocabulary_of

PHRASES = ["money back", "refund", "talk to a human", "stolen card", "rückerstattung", "unauthorized charge"]


def _matcher(extra: list[str] | None = None) -> tuple[Analyzer, PhraseMatcher[str]]:
    phrases = PHRASES + (extra or [])
    vocabulary = vocabulary_of([phrases])
    matcher: PhraseMatcher[str] = PhraseMatcher(vocabulary)
    for p in phrases:
        matcher.add(p, p)
    return Analyzer(vocabulary), matcher


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("I want my money back", "money back"),
        ("I want my money sent back", "money back"),  # one word in between
        ("REFUNDED twice??", "refund"),  # case and inflection
        ("please refnud me", "refund"),  # transposed letters
        ("can i talk to human", "talk to a human"),  # article skipped
        ("Ich möchte eine Rueckerstattung", None),  # transliteration is not folded
        ("Ich möchte eine Ruckerstattung", "rückerstattung"),  # accents folded
        ("there is an unauthorised charrge", "unauthorized charge"),  # added letter in a long word
        ("my card. Stolen? no", None),  # phrases do not cross sentences
        ("I want my money. Back to the topic", None),
    ],
)
def test_phrase_matching(text: str, phrase: str | None) -> None:
    """Matching survives case, accents, inflection, typos and fillers, and stays within a sentence."""
    analyzer, matcher = _matcher()
    found = {h.phrase for h in matcher.find(analyzer.analyze(text, "en"))}
    if phrase is None:
        assert not (found & {"stolen card", "money back"}), found
    else:
        assert phrase in found, found


@pytest.mark.parametrize("short", ["care", "looked"])
def test_short_words_are_not_typo_corrected(short: str) -> None:
    """Short real words are not read as typos of policy words ("care" is not "card")."""
    analyzer, matcher = _matcher(["card", "locked"])
    found = {h.phrase for h in matcher.find(analyzer.analyze(f"the {short} thing", "en"))}
    assert not found & {"card", "locked"}


def test_matcher_size_does_not_change_results() -> None:
    """Adding thousands of unrelated phrases does not change what matches (the index is keyed)."""
    small_analyzer, small = _matcher()
    noise = [f"zzphrase{i} token{i}" for i in range(5000)]
    big_analyzer, big = _matcher(noise)
    text = "I want my money back, someone has a stolen card"
    a = {h.phrase for h in small.find(small_analyzer.analyze(text, "en"))}
    b = {h.phrase for h in big.find(big_analyzer.analyze(text, "en"))}
    assert a == b == {"money back", "stolen card"}
    assert big.size == small.size + 5000


def test_fold_and_tokenize() -> None:
    """Folding strips accents and apostrophes; tokens keep their spans and sentence numbers."""
    assert fold("Rückerstattung") == "ruckerstattung"
    assert fold("don't") == "dont"
    assert fold("Straße") == "strasse"
    text = "Hi there! Where's my order?"
    tokens = tokenize(text)
    assert list(tokens.norms) == ["hi", "there", "wheres", "my", "order"]
    assert list(tokens.words) == ["Hi", "there", "Where's", "my", "order"]
    assert list(tokens.sentences) == [0, 0, 1, 1, 1]
    start, end = token_spans(text)[2]
    assert text[start:end] == "Where's"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Hello, where is my order?", "en"),
        ("Hola, ¿dónde está mi pedido?", "es"),
        ("Bonjour, où est ma commande ?", "fr"),
        ("Hallo, wo ist meine Bestellung?", "de"),
        ("Olá, onde está o meu pedido?", "pt"),
        ("Ciao, dove è il mio ordine?", "it"),
        ("Hallo, waar is mijn bestelling?", "nl"),
        ("12345", "en"),
    ],
)
def test_language_detection(text: str, lang: str) -> None:
    """Function words tell the supported languages apart on one-line messages."""
    assert detect_language(tokenize(text).norms) == lang

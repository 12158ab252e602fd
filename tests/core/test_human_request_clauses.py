"""WRITTEN REGRESSION CASES (not evidence): round 8's clause rules for requests for a person.

The kinds of error read on real development text (XED subtitle lines in es/fr/de/pt that the trained head
never saw, the Rasa dev half, XED/GoEmotions dev; docs/models.md, round 8): outside English a combo counted
with its words anywhere in a sentence and in any form of their stems ("quieres", "llamó", "personas ... que
quieren"); a negation after the request word ("je ne veux pas parler à un humain") or reported speech and
advice ("me dijeron que hablara con alguien", "you should talk to someone") still asked; a name placeholder
("[PERSON]") read as the word "person". The messages below were written for this project; real-text
accuracy is measured by ``bench/eval_real.py --only human-dev`` (dev) and ``--only human`` (test).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff_core.decision import Reason
from handoff_core.engine import DecisionEngine
from handoff_core.policy import Policy
from handoff_core.text.phrases import Analyzer, vocabulary_of
from handoff_core.text.rules import RuleSet
from tests.core.conftest import decide


def _request(engine: DecisionEngine, text: str, language: str) -> Reason | None:
    found = [r for r in decide(engine, text, language=language).reasons if r.trigger.value == "human_request"]
    return found[0] if found else None


@pytest.mark.parametrize(
    ("text", "language", "fires"),
    [
        # Requests whose words stand together, as listed: they ask.
        ("Quiero hablar con una persona", "es", True),
        ("Je veux parler à une personne", "fr", True),
        ("Ich will mit einem Menschen reden", "de", True),
        ("Quero falar com uma pessoa", "pt", True),
        ("Pásame con un agente ya, por favor", "es", True),
        ("Verbinden Sie mich bitte mit einem Berater", "de", True),
        # The same words far apart, in another form or in someone else's mouth: no request.
        ("Quiero actualizar la dirección de la persona que recibe el pedido", "es", False),
        ("Je voudrais modifier le nom de la personne sur la commande", "fr", False),
        ("Quieres que una persona te llame?", "es", False),
        ("Tu amigo quiere hablar con una persona de ventas?", "es", False),
    ],
)
def test_combos_outside_english_stand_as_a_request(
    default_engine: DecisionEngine, text: str, language: str, fires: bool
) -> None:
    """Outside English a combo counts only with its words as listed, close together and in one clause."""
    assert (_request(default_engine, text, language) is not None) is fires


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("No quiero hablar con un agente, solo quiero saber el horario", "es"),
        ("Je ne veux pas parler à un conseiller, je veux juste mon numéro de suivi", "fr"),
        ("Ich möchte nicht mit einem Mitarbeiter sprechen, nur die Sendungsnummer", "de"),
        ("Ich möchte mit keinem Mitarbeiter sprechen", "de"),
        ("Não quero falar com um atendente, só quero o código de rastreio", "pt"),
    ],
)
def test_negations_inside_the_request_cancel_it(default_engine: DecisionEngine, text: str, language: str) -> None:
    """A negation before or between a combo's words cancels it, and keeps the head (which reads no negation) quiet."""
    assert _request(default_engine, text, language) is None


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("No, quiero hablar con un agente", "es"),
        ("Non, je veux parler à un conseiller", "fr"),
        ("Nein, ich möchte mit einem Mitarbeiter sprechen", "de"),
        ("Não, quero falar com um atendente", "pt"),
    ],
)
def test_a_bare_no_answers_something_else(default_engine: DecisionEngine, text: str, language: str) -> None:
    """A negation that is its own clause ("No, ...") does not negate the request after it."""
    assert _request(default_engine, text, language) is not None


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Mi hermana me dijo que hablara con un agente", "es"),
        ("Deberías hablar con alguien de confianza", "es"),
        ("Le livreur m'a dit de parler à un conseiller", "fr"),
        ("Der Fahrer hat mir gesagt, ich soll mit einem Mitarbeiter sprechen", "de"),
        ("Meu irmão me disse para falar com um atendente", "pt"),
        ("Você deveria falar com alguém sobre isso", "pt"),
        ("You should talk to someone about that", "en"),
        ("They said I should speak to someone in billing", "en"),
    ],
)
def test_advice_and_reported_speech_ask_for_no_one(default_engine: DecisionEngine, text: str, language: str) -> None:
    """Advice to the listener or someone else's words before the request, in its clause, is not a request."""
    assert _request(default_engine, text, language) is None


def test_reported_words_in_another_clause_do_not_reach(default_engine: DecisionEngine) -> None:
    """ "They said it shipped; I want to talk to a person": the report ends at the semicolon."""
    assert _request(default_engine, "They said it shipped; I want to talk to a real person", "en") is not None
    assert _request(default_engine, "Me dijeron que ya salió; quiero hablar con una persona", "es") is not None


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("¿Eres un robot o una persona?", "es"),
        ("Êtes-vous un robot ?", "fr"),
        ("Bist du ein Mensch?", "de"),
        ("Você é humano?", "pt"),
    ],
)
def test_identity_questions_outside_english(default_engine: DecisionEngine, text: str, language: str) -> None:
    """Asking whether the assistant is a person is not asking for one, in every language (as "are you a human")."""
    assert _request(default_engine, text, language) is None


def test_a_name_placeholder_is_not_the_word_person(default_engine: DecisionEngine) -> None:
    """ "[PERSON]" (an anonymised name) is not a person word: "Let me talk to [PERSON]" names someone."""
    assert _request(default_engine, "Let me talk to [PERSON] about the delivery", "en") is None
    assert _request(default_engine, "Let me talk to a person about the delivery", "en") is not None


def test_two_word_messages_do_not_match_examples(default_engine: DecisionEngine) -> None:
    """A two-word refusal is not near an example request: "Não quero." once sat at 0.75 from one."""
    assert _request(default_engine, "Não quero.", "pt") is None


def test_french_advisor_phrase_is_not_the_verb(default_engine: DecisionEngine) -> None:
    """ "Conseiller" is also a verb and "conseils" shares its stem: only asking for one counts."""
    assert _request(default_engine, "Il faut conseiller à Paul de ne rien signer", "fr") is None
    assert _request(default_engine, "Un conseiller, s'il vous plaît", "fr") is not None
    assert _request(default_engine, "Passez-moi un conseiller", "fr") is not None


def test_combo_words_lists_every_occurrence(default_policy: Policy) -> None:
    """``RuleSet.combo_words`` returns each group's occurrences in the hit's sentence, not just the first."""
    rules = RuleSet(vocabulary_of([["quiero", "hablar", "agente"]]), {"r": default_policy.triggers.human_request})
    text = Analyzer(rules._matcher.vocabulary).analyze("Quiero hablar hoy con un agente. Quiero otra cosa.", "es")
    hit = next(h for h in rules.match(text) if h.via == "combo")
    groups = rules.combo_words(text, hit)
    assert sorted(h.first for h in groups[0]) == [0, 1]  # "Quiero" and "hablar", not the second sentence's
    assert {h.first for h in groups[1]} == {5}  # "agente" (listed as "agent" and "agente")


def test_hand_labelled_xed_file_is_well_formed() -> None:
    """The hand-labelled XED look-alikes (bench/data) have a language, a split, a SHA-1 and a 0/1/a label."""
    path = Path(__file__).parents[2] / "bench" / "data" / "xed_human_request_labels.tsv"
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    assert rows[0][:4] == ["language", "split", "sha1", "label"]
    for row in rows[1:]:
        assert row[0] in {"es", "fr", "de", "pt"} and row[1] in {"dev", "train"}
        assert len(row[2]) == 40 and int(row[2], 16) >= 0 and row[3] in {"0", "1", "a"}

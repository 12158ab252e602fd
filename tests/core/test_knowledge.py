"""Approved knowledge: loading JSON Lines and Markdown, coverage, ambiguity, and the low_confidence trigger."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff_core import Action
from handoff_core.engine import DecisionEngine
from handoff_core.errors import KnowledgeError
from handoff_core.knowledge import KnowledgeBase, KnowledgeEntry, load_knowledge
from handoff_core.policy import Policy

from .conftest import ROOT, conversation

KB = KnowledgeBase(
    [
        KnowledgeEntry(
            "kb-returns",
            "Returning an item",
            "You can return unworn items within 30 days for free.",
            ("How do I return an item?", "Can I send back shoes?"),
        ),
        KnowledgeEntry(
            "kb-topup",
            "Topping up your card",
            "Add money by bank transfer or debit card in the app.",
            ("How do I top up?", "How can I add money to my card?"),
        ),
        KnowledgeEntry(
            "kb-hours",
            "Support hours",
            "Our team answers chats from 8:00 to 20:00 on weekdays.",
            ("When are you open?",),
        ),
    ]
)


def test_covered_question_continues_with_the_entry(policy: Policy) -> None:
    """A question an entry answers continues and names the entry."""
    engine = DecisionEngine(policy, KB)
    d = engine.decide(conversation("how can I add money to my card with a bank transfer?"))
    assert d.action is Action.CONTINUE
    assert d.knowledge and d.knowledge[0].id == "kb-topup"
    assert d.signals.knowledge_coverage is not None
    assert d.signals.knowledge_coverage >= policy.triggers.low_confidence.knowledge.calibration(KB.encoder).min_score
    assert d.knowledge_version == KB.version


def test_uncovered_question_is_low_confidence(policy: Policy) -> None:
    """A question no entry covers is 'no approved source': low_confidence, offer a person."""
    engine = DecisionEngine(policy, KB)
    d = engine.decide(conversation("Do you sell travel insurance for skiing holidays?"))
    reason = next(r for r in d.reasons if r.trigger.value == "low_confidence")
    assert reason.topic == "no_source"
    assert d.action is Action.OFFER_HANDOFF


def test_short_messages_are_not_checked(policy: Policy) -> None:
    """Greetings and thanks are not knowledge questions."""
    d = DecisionEngine(policy, KB).decide(conversation("thanks!"))
    assert d.signals.knowledge_status == "not_checked" and d.action is Action.CONTINUE


def test_no_knowledge_means_no_coverage_check(engine: DecisionEngine) -> None:
    """Without configured knowledge the coverage signal is null and never fires."""
    d = engine.decide(conversation("Do you sell travel insurance for skiing holidays?"))
    assert d.signals.knowledge_coverage is None and "low_confidence" not in d.triggers


def test_ambiguous_between_two_entries(policy: Policy) -> None:
    """Two entries that fit equally make the question ambiguous."""
    kb = KnowledgeBase(
        [
            KnowledgeEntry("a", "Card limits", "Card spending limits per day.", ("What is my card limit?",)),
            KnowledgeEntry("b", "Card limits", "Card spending limits per day.", ("What is my card limit?",)),
        ]
    )
    cov = kb.coverage("What is my daily card spending limit?", policy.triggers.low_confidence.knowledge)
    assert cov.status == "ambiguous"


def test_load_example_knowledge_both_formats() -> None:
    """The example knowledge loads from JSON Lines and from a folder of Markdown files."""
    jsonl = load_knowledge(ROOT / "config" / "examples" / "knowledge.jsonl")
    folder = load_knowledge(ROOT / "config" / "examples" / "knowledge")
    assert len(jsonl) >= 25 and len(folder) >= 8
    assert {e.id for e in folder.entries} <= {e.id for e in jsonl.entries}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": "a", "title": "A"}\n{not json}\n', "invalid JSON"),
        ('{"id": "a"}\n', "title"),
        ('{"id": "a", "title": "A", "questions": "one"}\n', "questions"),
        ('{"id": "a", "title": "A", "colour": "red"}\n', "unknown field"),
        ('{"id": "a", "title": "A"}\n{"id": "a", "title": "B"}\n', "duplicate"),
        ("", "no knowledge entries"),
    ],
)
def test_bad_knowledge_files(tmp_path: Path, content: str, message: str) -> None:
    """Bad knowledge files fail with the file, the line and the problem."""
    path = tmp_path / "kb.jsonl"
    path.write_text(content)
    with pytest.raises(KnowledgeError, match=message):
        load_knowledge(path)


def test_encoders_are_chosen_as_configured() -> None:
    """'static' uses the bundled embeddings, 'words' none; 'auto' prefers the transformer when installed."""
    from handoff_core.transformer import minilm_available

    path = ROOT / "config" / "examples" / "knowledge.jsonl"
    assert load_knowledge(path, encoder="static").encoder == "static"
    assert load_knowledge(path, encoder="words").encoder == "words"
    assert load_knowledge(path).encoder == ("transformer" if minilm_available() else "static")

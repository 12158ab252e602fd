"""Phrase lists in lexicon files: the shipped ones stay clean, user ones extend or replace them, and every
duplicate or conflicting tier is reported with the FILE:LINE it was written at."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from handoff_core.engine import DecisionEngine
from handoff_core.errors import PolicyError
from handoff_core.policy import default_policy_path, load_policy
from handoff_core.policy.lexicons import LANGUAGE_ORDER, LEXICON_SUFFIX, Origin, Sourced, duplicate_findings
from handoff_core.policy.loader import LoadedPolicy, inspect_policy

DEFAULT_LEXICONS = default_policy_path().parent / "lexicons"


@pytest.fixture(scope="module")
def shipped() -> LoadedPolicy:
    return inspect_policy(default_policy_path())


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "policy.yaml"


# --- the shipped default policy ----------------------------------------------------------------------------


def test_shipped_lexicons_have_no_duplicates_or_conflicting_tiers(shipped: LoadedPolicy) -> None:
    """No list of the default policy holds a phrase twice, and no anger cue sits in two weight tiers."""
    assert [str(f) for f in shipped.findings] == []


def test_shipped_phrase_lists_come_from_lexicon_files(shipped: LoadedPolicy) -> None:
    """The default policy names its cue and phrase lists as lexicons, one folder per language, and every
    shipped lexicon file is used by some list (no orphan files)."""
    used = {f for use in shipped.uses for f in use.files}
    files = {str(p) for p in DEFAULT_LEXICONS.rglob(f"*{LEXICON_SUFFIX}")}
    assert files and used == files
    assert {p.parent.name for p in DEFAULT_LEXICONS.rglob(f"*{LEXICON_SUFFIX}")} <= set(LANGUAGE_ORDER)
    names = {use.field: use.name for use in shipped.uses}
    assert names["triggers.restricted_topic.topics.refund.phrases"] == "refund"
    assert names["triggers.sentiment.cues.1.phrases"] == "anger_strong"
    assert len(shipped.policy.triggers.restricted_topic.topics["account_security"].phrases) > 200


def test_shipped_anger_tiers_are_one_file_each(shipped: LoadedPolicy) -> None:
    """Each sentiment tier reads its own lexicon, so a tier's weight is said once, in the policy."""
    tiers = [use.name for use in shipped.uses if use.field.startswith("triggers.sentiment.cues.")]
    assert tiers == ["anger_profanity", "anger_strong", "anger_threats", "anger_repeated", "anger_mild"]


# --- the checks themselves ----------------------------------------------------------------------------------


def test_duplicate_rule_table() -> None:
    """Same text anywhere is a duplicate; an accent twin is one inside a lexicon file, not across languages."""
    es, pt, inline = Origin("l/es/x.txt", 1), Origin("l/pt/x.txt", 1), Origin("policy.yaml", 3)
    cases: list[tuple[list[str], list[str]]] = [
        ([Sourced("usuario", es), Sourced("usuário", pt)], []),
        ([Sourced("não", pt), Sourced("nao", pt)], ["nao"]),
        ([Sourced("Fed up", inline), Sourced("fed  up", es)], ["fed  up"]),
        ([Sourced("perdí", inline), Sourced("perdi", inline)], []),
        (["plain", "plain"], ["plain"]),
    ]
    for phrases, flagged in cases:
        found = duplicate_findings("f", phrases)
        assert [f.message.split("'")[1] for f in found] == flagged, phrases


def test_user_lexicon_duplicates_and_tiers_are_reported_with_file_and_line(tmp_path: Path) -> None:
    """A phrase written twice in a user's lexicon, and 'garbage' put in a new tier at another weight, are
    reported at the user's file and line, naming the earlier place."""
    policy = _write(
        tmp_path,
        {
            "policy.yaml": "extends: default\nversion: u\nlexicons: [words]\ntriggers:\n  sentiment:\n    cues+:\n"
            "      - weight: 0.3\n        phrases: [{lexicon: shop_anger}]\n",
            "words/en/shop_anger.txt": "# shop words\nrubbish app\ngarbage\nrubbish app\n",
        },
    )
    findings = {(f.kind, str(f.where)) for f in inspect_policy(policy).findings}
    lexicon = tmp_path / "words" / "en" / "shop_anger.txt"
    assert findings == {("duplicate", f"{lexicon}:4"), ("conflicting_tier", f"{lexicon}:3")}
    tier = next(f for f in inspect_policy(policy).findings if f.kind == "conflicting_tier")
    assert "anger_repeated.txt" in tier.message and "0.35" in tier.message


def test_multiword_sentiment_negation_is_reported(tmp_path: Path) -> None:
    """A sentiment negation of two words is reported at its line: each word would negate on its own."""
    policy = _write(
        tmp_path,
        {
            "policy.yaml": "extends: default\nversion: u\ntriggers:\n  sentiment:\n"
            "    negations+:\n      - no way\n",
        },
    )
    found = [f for f in inspect_policy(policy).findings if f.kind == "multiword_negation"]
    assert [(str(f.where), f.field) for f in found] == [(f"{policy}:6", "triggers.sentiment.negations")]
    assert "'way'" in found[0].message


# --- user lexicons ------------------------------------------------------------------------------------------


def test_user_lexicon_replaces_one_language_of_a_default_lexicon(tmp_path: Path) -> None:
    """A user's words/en/refund.txt replaces the built-in English refund phrases; Spanish ones stay."""
    policy = _write(
        tmp_path,
        {
            "policy.yaml": "extends: default\nversion: u\nlexicons: [words]\n",
            "words/en/refund.txt": "store credit please\n",
        },
    )
    phrases = load_policy(policy).triggers.restricted_topic.topics["refund"].phrases
    assert "store credit please" in phrases and "reembolso" in phrases
    assert "money back" not in phrases


def test_user_lexicon_extends_a_list_and_languages_can_be_chosen(tmp_path: Path) -> None:
    """phrases+ appends a user lexicon to the default list; languages: [en] keeps only English."""
    policy = _write(
        tmp_path,
        {
            "policy.yaml": "extends: default\nversion: u\nlexicons: [words]\ntriggers:\n  human_request:\n"
            "    phrases+: [{lexicon: shop_requests}]\n  restricted_topic:\n    topics:\n      legal:\n"
            "        phrases: {lexicon: legal, languages: [en]}\n",
            "words/en/shop_requests.txt": "floor manager\n",
            "words/es/shop_requests.txt": "encargado de tienda\n",
        },
    )
    loaded = load_policy(policy)
    phrases = loaded.triggers.human_request.phrases
    assert phrases[-2:] == ("floor manager", "encargado de tienda") and "real person" in phrases
    legal = loaded.triggers.restricted_topic.topics["legal"].phrases
    assert "lawyer" in legal and "abogado" not in legal


@pytest.mark.parametrize(
    ("policy_text", "files", "expected"),
    [
        (
            "version: u\nlexicons: [words]\ntriggers:\n  human_request:\n    phrases: [{lexicon: nope}]\n",
            {"words/en/other.txt": "x\n"},
            ["policy.yaml:5:", "no lexicon 'nope'"],
        ),
        (
            "version: u\nlexicons: [missing]\n",
            {},
            ["policy.yaml:2:", "'missing' is not a folder"],
        ),
        (
            "version: u\nlexicons: [words]\nurgency:\n  phrases: [{lexicon: urgent, langs: [en]}]\n",
            {"words/en/urgent.txt": "asap\n"},
            ["policy.yaml:4:", "only 'lexicon' and 'languages'"],
        ),
        (
            "version: u\nlexicons: [words]\nurgency:\n  phrases: {lexicon: urgent, languages: [de]}\n",
            {"words/en/urgent.txt": "asap\n"},
            ["policy.yaml:4:", "has no de file"],
        ),
        (
            "version: u\nlexicons: [words]\nurgency:\n  phrases: [{lexicon: urgent}]\n",
            {"words/en/urgent.txt": "asap\n" + "x" * 201 + "\n"},
            ["urgent.txt:2", "longer than 200"],
        ),
    ],
)
def test_bad_lexicon_references_and_files_name_the_place(
    tmp_path: Path, policy_text: str, files: dict[str, str], expected: list[str]
) -> None:
    """An unknown lexicon, a missing folder, a typo in a reference, a missing language or a bad phrase in
    a lexicon file is a PolicyError that says FILE:LINE and what is wrong."""
    policy = _write(tmp_path, {"policy.yaml": policy_text, **files})
    with pytest.raises(PolicyError) as err:
        load_policy(policy)
    for part in expected:
        assert part in str(err.value)


def test_lexicon_file_that_is_not_utf8_is_an_error(tmp_path: Path) -> None:
    """A lexicon saved in Latin-1 is refused with its file and line, not read as garbage."""
    policy = _write(tmp_path, {"policy.yaml": "version: u\nlexicons: [w]\nurgency:\n  phrases: [{lexicon: u}]\n"})
    (tmp_path / "w" / "en").mkdir(parents=True)
    (tmp_path / "w" / "en" / "u.txt").write_bytes(b"asap\nimm\xe9diatement\n")
    with pytest.raises(PolicyError, match=r"u\.txt:2.*not valid UTF-8"):
        load_policy(policy)


def test_policy_diff_lists_the_decisions_a_policy_change_moves(
    engine: DecisionEngine, default_engine: DecisionEngine
) -> None:
    """bench/policy_diff.py finds no difference between a policy and itself, and finds the fixture policy
    deciding differently from the default on the project's data."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    import policy_diff

    total, same = policy_diff.diff(engine, engine, limit=40)
    assert total == 40 and same == []
    _, moved = policy_diff.diff(default_engine, engine, limit=40)
    assert moved and all(" -> " in line for line in moved)

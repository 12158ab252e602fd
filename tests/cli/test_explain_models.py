"""``handoff explain`` shows the evidence of model-based reasons: top n-grams, nearest example and score."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from connectors.cli import cli

#: Only trained or example-defined detectors can fire: no phrase list, no other trigger.
POLICY = """\
version: "explain-models"
summary: {enabled: false}
triggers:
  human_request: {phrases: []}
  refund_exception: {enabled: false}
  restricted_topic:
    topics:
      cancellation:
        threshold: 0.7
        examples:
          - I want to cancel my subscription
          - please stop my membership
          - how do I end my plan, I don't want it anymore
          - cancel my account renewal
"""


def _explain(tmp_path: Path, text: str) -> str:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    result = CliRunner().invoke(cli, ["explain", "--policy", str(policy), text])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_trained_head_reason_shows_ngrams_and_score(tmp_path: Path) -> None:
    """A human request found by the trained head alone lists the n-grams it quoted and its probability."""
    out = _explain(tmp_path, "can you connect me with a live agent please")
    assert "- human_request -> handoff" in out
    evidence = re.search(r"matched (.+); score (0\.\d\d)", out)
    assert evidence, out
    quoted = re.findall(r"'([^']+)'", evidence.group(1))
    assert quoted
    assert all(q.lower() in "can you connect me with a live agent please" for q in quoted)


def test_example_topic_reason_shows_nearest_example_and_score(tmp_path: Path) -> None:
    """A topic defined by examples shows the nearest example from the policy and the similarity."""
    out = _explain(tmp_path, "cancel my subscription now please")
    assert "restricted_topic / cancellation" in out
    assert re.search(r"score 0\.\d\d; nearest example 'I want to cancel my subscription'", out), out


def test_fitted_knowledge_reason_shows_the_nearest_question(tmp_path: Path) -> None:
    """With the fitted knowledge scorer, an uncovered question's reason names each best entry's nearest
    example question and its similarity beside the entry's score."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        'version: "fitted-knowledge"\ntriggers:\n  low_confidence:\n    knowledge: {scorer: fitted}\n', encoding="utf-8"
    )
    knowledge = Path(__file__).resolve().parents[2] / "config" / "examples" / "knowledge.jsonl"
    runner = CliRunner(env={"HANDOFF_KNOWLEDGE_CACHE": str(tmp_path / "cache")})
    question = "can you write me a short poem about cats"
    args = ["explain", "--policy", str(policy), "--knowledge", str(knowledge), question]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "low_confidence / no_source" in result.stdout
    assert re.search(r"kb-[a-z-]+: nearest question '[^']+' \(0\.\d\d\)", result.stdout), result.stdout
    # The head fitted by the first call was stored; the second call reads it and explains the same.
    assert len(list((tmp_path / "cache").glob("knowledge_jsonl-*.fitted.npz"))) == 1
    assert runner.invoke(cli, args).stdout == result.stdout


def test_human_request_reason_shows_sentence_words_and_detector_score() -> None:
    """Under the default policy a request for a person found by its words quotes the sentence the detector
    read (not the story before it), the words, and the detector's score on that sentence."""
    text = "My parcel is late again and nobody answers the phone. Quiero hablar con una persona, por favor."
    result = CliRunner().invoke(cli, ["explain", text])
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    evidence = re.search(r"- human_request -> handoff .*? matched (.+?); score (0\.\d\d); in \"([^\"]+)\"", out)
    assert evidence, out
    assert "'Quiero'" in evidence.group(1) and "'persona'" in evidence.group(1)
    assert evidence.group(3).startswith("Quiero hablar con una persona") and "parcel" not in evidence.group(3)

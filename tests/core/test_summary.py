"""The handoff summary tells the agent the customer's problem: issue first, extractive, short, redacted.

The threads below were WRITTEN FOR THESE TESTS (modelled on public support threads on social media and
chat, not copied): they are regression tests of behaviour, not evidence of accuracy. Accuracy is
measured on DialogSum by bench/bench_summary.py; the DialogSum checks at the end only guard the
properties that must hold on real dialogues (length, extractiveness, a floor on the tuned dev split).
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest

from handoff_core import Conversation
from handoff_core.decision import Action, Reason, TriggerName
from handoff_core.engine import DecisionEngine
from handoff_core.facts import extract_facts
from handoff_core.issue import BOT_POOL, ISSUE_POOL, LIGHT_KEYS, window
from handoff_core.models import Role
from handoff_core.sentiment import MessageSentiment
from handoff_core.summary import SHORT_MAX_CHARS, Summary, SummaryInput, summarize
from handoff_core.summary_state import state_of
from handoff_core.text.messages import analyze_message
from handoff_core.text.sentences import word_key

from .conftest import ROOT, conversation

C, A = "customer", "assistant"


def thread(*turns: tuple[str, str], **extra: Any) -> Conversation:
    return conversation(*({"role": role, "text": text} for role, text in turns), **extra)


def summary_of(conv: Conversation, *, max_chars: int = 1200, redact: bool = True, **extra: Any) -> Summary:
    customer = [m.text for m in conv.messages if m.role is Role.CUSTOMER]
    reason = Reason(
        trigger=TriggerName.HUMAN_REQUEST, action=Action.HANDOFF, detail="customer asked for a person", score=1.0
    )
    data = SummaryInput(
        conversation=conv,
        action=Action.HANDOFF,
        reasons=(reason,),
        sentiments=(),
        facts=extract_facts(customer),
        collected={},
        missing=(),
        language="en",
        want_index=None,
        vip=False,
    )
    return summarize(replace(data, **extra), max_chars=max_chars, redact_pii=redact)


def section(summary: Summary, label: str) -> str:
    return next((line for line in summary.text.split("\n") if line.startswith(label)), "")


def above(summary: Summary) -> str:
    """The customer's words the note quotes first: the Issue and "Also said" lines."""
    return section(summary, "Issue: ") + "\n" + section(summary, "Also said: ")


def words_of(text: str) -> set[str]:
    """The word keys of ``text`` but light ones ("already"): headline style drops "the", "my", so compare words."""
    return (
        {word_key(w) for w in re.findall(r"[^\W_]+(?:['’.-][^\W_]+)*", text)}
        - {"the", "a", "an", "my", "i"}
        - LIGHT_KEYS
    )


def quoted_above(summary: Summary, value: str) -> bool:
    """Every word of ``value`` is in the Issue or "Also said" line."""
    return words_of(value) <= words_of(above(summary))


def given_once(summary: Summary, value: str) -> bool:
    """``value`` is in the Details line, or in the Issue lines and then not again in Details (round 7)."""
    details = section(summary, "Details: ")
    if quoted_above(summary, value):
        return value not in details
    return value in details


HEALTH_STEPS = thread(
    (
        C,
        "@AppleSupport my Apple Watch and iPhone stopped recording steps in the Health app since "
        "yesterday. https://t.co/x1y2z3",
    ),
    (A, "@jane_d Sorry to hear your steps aren't recording. Which versions of iOS and watchOS are you on? ^JD"),
    (C, "@AppleSupport iOS 11.1.2 and watchOS 4.1"),
    (A, "Thanks. Have you tried restarting both devices and re-pairing the watch? ^JD"),
    (C, "Yes I restarted both and re-paired, still nothing. Other apps like Strava are fine."),
    (A, "Let's move to DM so we can look into this further. ^JD"),
    (C, "@AppleSupport please read the above"),
    (C, "Can I talk to a person about this, please?"),
)

LOST_PACKAGE = thread(
    (C, "Hi there!"),
    (
        C,
        "I ordered a Baratza coffee grinder on 3 November, order #88123. The app says the package was "
        "delivered on Monday but it never arrived. Tracking number 1Z999AA10123456784.",
    ),
    (A, "I'm sorry about that! Could you check with your neighbours and your building's mailroom?"),
    (
        C,
        "I checked with the neighbours and the mailroom, nobody has it. The driver photo in the app shows a "
        "different door, a blue one, and our building does not have blue doors at all.",
    ),
    (A, "Thanks for checking. I've raised this with the courier, they usually answer within 48 hours."),
    (
        C,
        "It is a gift for my father's birthday on Saturday, so I would rather have a replacement sent by "
        "express than a refund. I can pay the difference for express shipping if needed.",
    ),
    (C, "@ShopCo any update?"),
    (C, "@ShopCo please read the above"),
    (C, "Thanks"),
)


def test_issue_quotes_the_problem_not_the_last_meta_request() -> None:
    """A thread ending in "talk to a person" still leads with the customer's actual problem."""
    s = summary_of(HEALTH_STEPS)
    issue = section(s, "Issue: ")
    assert s.text.startswith("Issue: ")
    assert "stopped recording steps" in issue
    assert "talk to a person" not in issue and "read the above" not in issue
    assert "@" not in issue and "http" not in issue


def test_details_keep_versions_devices_and_what_was_tried() -> None:
    """Versions, devices and the steps the customer already took are in the note once: in Details when the
    Issue lines do not quote them."""
    s = summary_of(HEALTH_STEPS)
    for expected in ("11.1.2", "4.1", "Apple Watch", "iPhone", "restarted", "re-paired"):
        assert given_once(s, expected), (expected, s.text)


def test_details_list_what_the_issue_does_not_quote() -> None:
    """A version, device or step the Issue lines leave out is listed in Details; one they quote is not repeated."""
    long_story = (
        "My Apple Watch stopped recording steps in the Health app yesterday and the whole week of workouts "
        "is gone from the summary page, which matters because my doctor asked me to track my walking after "
        "the knee operation and I have an appointment with her on Friday where she wants to see the numbers."
    )
    conv = thread(
        (C, long_story),
        (A, "Which versions are you on?"),
        (C, "iOS 11.1.2 and watchOS 4.1, and I restarted the iPhone already, nothing changed at all."),
        (C, "Can I talk to a person about this, please?"),
    )
    s = summary_of(conv)
    details = section(s, "Details: ")
    assert "Apple Watch" in section(s, "Issue: ") and "Apple Watch" not in details
    assert "versions 11.1.2, 4.1" in details and "restarted the iPhone" in details


def test_assistant_section_shows_questions_already_answered() -> None:
    """The bot's questions are listed with the customer's answer, so the agent does not ask again."""
    assistant = section(summary_of(HEALTH_STEPS), "Assistant so far")
    assert "(3 replies)" in assistant
    assert 'asked "Which versions of iOS and watchOS are you on?" → "iOS 11.1.2 and watchOS 4.1"' in assistant
    # A longer answer the "Also said" line already quotes is not quoted again (round 7).
    assert 're-pairing the watch?" → answered above' in assistant
    assert "Restarted both and re-paired" in above(summary_of(HEALTH_STEPS))


def test_question_answered_before_it_was_asked_says_so() -> None:
    """A bot question about something the customer already wrote is shown with what they wrote."""
    conv = thread(
        (C, "My refund never came through and the shop stopped answering my emails about it."),
        (C, "It was order #88123."),
        (A, "Sorry! Could you share the order number?"),
        (C, "I want a human."),
    )
    assistant = section(summary_of(conv), "Assistant")
    assert 'order number?" → said before: "It was order #88123."' in assistant
    # A longer sentence the Issue already quotes is pointed at, not quoted twice (round 7).
    conv = thread(
        (C, "My refund for order #88123 never came through, it was 49.99."),
        (A, "Sorry! Could you share the order number?"),
        (C, "I want a human."),
    )
    s = summary_of(conv)
    assert 'order number?" → answered above' in section(s, "Assistant")
    assert "order #88123 never came through" in section(s, "Issue: ")


def test_generic_bot_questions_are_not_listed() -> None:
    """ "Anything else?" and "Could you rephrase?" leave room for the questions about the problem."""
    conv = thread(
        (C, "I was charged twice for my Premium subscription, $14.99 on Nov 3 and again on Nov 4."),
        (A, "Can you check your bank statement for the second one?"),
        (C, "Both are on my statement."),
        (A, "Is there anything else I can help with?"),
        (C, "The double charge!!"),
        (A, "I'm sorry, I didn't understand that. Could you rephrase?"),
        (C, "I want to speak to a manager"),
    )
    assistant = section(summary_of(conv), "Assistant")
    assert 'asked "Can you check your bank statement for the second one?" → "Both are on my statement."' in (assistant)
    assert "anything else" not in assistant and "rephrase" not in assistant


def test_unanswered_question_is_marked() -> None:
    """A question the customer never answered says so."""
    conv = thread(
        (C, "My refund for the blender never came through."),
        (A, "Could you share the order number?"),
        (C, "I want a human."),
    )
    assert 'asked "Could you share the order number?" → not answered' in section(summary_of(conv), "Assistant")


def test_meta_only_messages_are_left_out_and_order_is_kept() -> None:
    """Greetings, @handles, "any update?", "read the above" and thanks are dropped; the story keeps its order."""
    s = summary_of(LOST_PACKAGE)
    issue = section(s, "Issue: ")
    for meta in ("Hi there", "any update", "read the above", "Thanks"):
        assert meta not in issue
    assert "never arrived" in issue
    first, second = issue.find("never arrived"), issue.find("express")
    assert 0 <= first < second, "a multi-message problem is quoted in the customer's order"


def test_order_and_tracking_numbers_are_details() -> None:
    """Order and tracking numbers and dates the customer gave are in the note once (Details or the Issue)."""
    s = summary_of(LOST_PACKAGE)
    for expected in ("88123", "1Z999AA10123456784", "3 November", "checked with the neighbours"):
        assert given_once(s, expected), (expected, s.text)


def test_a_second_problem_in_a_short_thread_is_kept() -> None:
    """A short thread with two problems quotes both, even though the Issue is kept to half the text."""
    conv = thread(
        (C, "My Kindle stopped syncing my library after the 5.16.2 update, half my books are missing."),
        (A, "Sorry! Have you tried restarting the Kindle?"),
        (C, "Yes, restarted twice. My card was charged again too."),
        (C, "Can I talk to a real person please?"),
    )
    issue = section(summary_of(conv), "Issue: ")
    assert "stopped syncing library" in issue and "charged again" in issue and "real person" not in issue


def test_signature_and_greeting_are_not_the_issue() -> None:
    """E-mail signatures and greetings never make the Issue line."""
    conv = thread(
        (
            C,
            "Hello,\nThe invoice INV-20931 charges us for 12 seats but we cancelled 4 of them in March.\n"
            "Best regards,\nJane Smith\nHead of IT, Acme\nSent from my iPhone",
        ),
    )
    issue = section(summary_of(conv), "Issue: ")
    assert "12 seats" in issue and "cancelled 4" in issue
    assert "Jane Smith" not in issue and "Sent from" not in issue and "Hello" not in issue


def test_nothing_but_a_request_for_a_person_says_so() -> None:
    """When the customer never said what is wrong, the Issue says it is not stated yet."""
    issue = section(summary_of(thread((C, "I want to talk to a human right now"))), "Issue: ")
    assert issue.startswith("Issue: not stated yet")


def test_personal_data_is_redacted_in_both_forms() -> None:
    """Card numbers, e-mails and phone numbers never appear in the summary or its short form."""
    conv = thread(
        (C, "You charged my card 4111 1111 1111 1111 twice for $49.99, call me on +44 20 7946 0958."),
        (A, "Sorry about that. Which email is on the account?"),
        (C, "jane.doe@example.com, and the double charge is from 3 March."),
    )
    s = summary_of(conv)
    for form in (s.text, s.short):
        assert "4111" not in form and "jane.doe@example.com" not in form and "7946" not in form
    assert "charged card [card] twice" in s.text and "$49.99" in s.text
    # Round 7: the customer's other sentences in "Also said" pass the same redaction.
    also = summary_of(
        thread(
            (
                C,
                "My Kindle stopped syncing my library after the update, half my books are missing and the sync "
                "icon keeps spinning.",
            ),
            (A, "Sorry! How can we reach you?"),
            (C, "Email jane.doe@example.com or phone +44 20 7946 0958. Card on file 4111 1111 1111 1111."),
        )
    )
    line = section(also, "Also said: ")
    assert "[email]" in line and "[phone]" in line and "[card]" in line, also.text
    assert "jane.doe@example.com" not in also.text and "7946" not in also.text and "4111" not in also.text


def test_redaction_can_be_switched_off() -> None:
    """With redaction off the agent sees the values the customer typed."""
    conv = thread((C, "Please change the email on my order #A12345 to jo@example.com, it bounces."))
    assert "jo@example.com" in summary_of(conv, redact=False).text


def test_other_languages_keep_the_customer_words() -> None:
    """A Spanish thread is quoted in Spanish without its greeting."""
    conv = thread(
        (C, "Hola, buenas tardes."),
        (C, "Mi pedido 55231 llegó roto y la caja estaba mojada."),
        (C, "Quiero hablar con una persona"),
    )
    issue = section(summary_of(conv), "Issue: ")
    assert "llegó roto" in issue and "Hola" not in issue


def test_waiting_time_is_reported_when_known() -> None:
    """With timestamps the Customer line says how long the customer has been waiting."""
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    conv = thread(
        (C, "My parcel is stuck in customs for a week."),
        (C, "Anyone?"),
    )
    stamped = conv.model_copy(
        update={
            "messages": tuple(
                m.model_copy(update={"created_at": start + timedelta(minutes=65 * i)})
                for i, m in enumerate(conv.messages)
            )
        }
    )
    assert "waiting 1 h 05 min" in section(summary_of(stamped), "Customer: ")
    assert "waiting" not in section(summary_of(conv), "Customer: ")


@pytest.mark.parametrize("max_chars", [200, 600, 1200, 5000])
def test_long_conversation_stays_within_limits(max_chars: int) -> None:
    """A 1,000-message conversation fits the policy's limit; the short form fits a phone."""
    turns = []
    for i in range(500):
        turns.append((C, f"Order {10_000 + i} arrived damaged, the box was crushed and item {i} is cracked."))
        turns.append((A, f"Sorry! Could you send a photo of item {i}? Please check the packaging too."))
    s = summary_of(thread(*turns), max_chars=max_chars)
    assert len(s.text) <= max_chars and len(s.short) <= SHORT_MAX_CHARS
    assert s.text.startswith("Issue: ") and s.short.startswith("Issue: ")


def test_short_form_is_issue_and_why() -> None:
    """The Slack form is the Issue line and the reason, in at most 300 characters."""
    s = summary_of(HEALTH_STEPS)
    issue_line, why = s.short.split("\n")
    assert issue_line.startswith("Issue: Apple Watch") and why == "Why handoff: customer asked for a person"
    assert len(s.short) <= SHORT_MAX_CHARS


def test_short_form_cuts_a_long_issue_after_a_whole_sentence() -> None:
    """A long Issue is cut for the phone after its last whole sentence that fits (marked " …"), not mid-word;
    a first sentence too long for the room is still clipped."""
    long_problem = (
        "The bank charged a late fee of $35 on my Visa card on 3 May although the payment left my account on 1 May. "
        "I disputed the $35 late fee twice by phone and the second agent promised a refund of the fee "
        "within five days. "
        "The refund of the late fee never came and the $35 fee now shows on my Visa statement "
        "with interest added to it. "
        "My credit score dropped 40 points after the bank reported the Visa payment as late to the credit bureaus. "
        "The mortgage lender now wants a letter that explains the late Visa payment before the loan closes on 20 June. "
        "The bank closed my dispute without a reason and the late fee was charged a second time on 3 June."
    )
    s = summary_of(thread((C, long_problem), (A, "Sorry to hear that."), (C, "Can I talk to a person?")))
    issue_line = s.short.split("\n")[0]
    assert len(s.issue) > len(issue_line) - len("Issue: ")
    assert issue_line.endswith(". …") and len(s.short) <= SHORT_MAX_CHARS
    assert issue_line.removeprefix("Issue: ").removesuffix(" …") in s.issue
    one_long = "My card " + "was charged again and again " * 14 + "this month."
    s = summary_of(thread((C, one_long), (A, "Sorry to hear that."), (C, "Can I talk to a person?")))
    assert s.short.split("\n")[0].endswith("…") and len(s.short) <= SHORT_MAX_CHARS


_DETERMINISM = """
import sys
sys.path.insert(0, {tests!r})
from core.test_summary import HEALTH_STEPS, LOST_PACKAGE, _long_thread, _kept_long, round8_note, summary_of
from core.test_summary_threads import THREADS, _conversation
for s in [summary_of(conv) for conv in (HEALTH_STEPS, LOST_PACKAGE, _long_thread(200))] + [round8_note(), _kept_long()]:
    sys.stdout.write(s.text + "\\x00" + s.short + "\\x00")
for s in [summary_of(_conversation(t)) for t in THREADS]:  # round 9: every written thread too
    sys.stdout.write(s.text + "\\x00" + s.short + "\\x00")
"""


def _kept_long() -> Summary:
    """The long thread's summary folded over its kept state (the engine's path, round 9: its candidates,
    counts and memos must not depend on hash order either)."""
    conv = _long_thread(200)
    return summary_of(conv, prepared=state_of(conv.messages))


def test_summary_is_identical_across_processes_and_hash_seeds() -> None:
    """Same conversation, same bytes, short or long (two-pass), read or kept, and every written thread: no set
    or hash order (PYTHONHASHSEED varies)."""
    outputs = set()
    for seed in ("0", "1", "12345"):
        result = subprocess.run(
            [sys.executable, "-c", _DETERMINISM.format(tests=str(ROOT / "tests"))],
            capture_output=True,
            check=True,
            cwd=ROOT,
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
            timeout=120,
        )
        outputs.add(result.stdout)
    assert len(outputs) == 1
    from .test_summary_threads import THREADS, _conversation

    in_process = "".join(
        s.text + "\x00" + s.short + "\x00"
        for s in [summary_of(c) for c in (HEALTH_STEPS, LOST_PACKAGE, _long_thread(200))]
        + [round8_note(), _kept_long()]
        + [summary_of(_conversation(t)) for t in THREADS]
    )
    assert outputs == {in_process.encode()}


def test_engine_puts_both_forms_on_the_decision(engine: DecisionEngine) -> None:
    """A handoff decision carries the issue-first summary and the short form; VIP and mood are in it."""
    d = engine.decide(
        thread(
            (C, "The espresso machine I bought leaks water from the bottom after two weeks."),
            (A, "Sorry to hear that! Have you tried descaling it?"),
            (C, "Yes, twice. It still leaks. This is ridiculous, I want a real person now!"),
            customer={"name": "Ana", "tags": ["vip"]},
        )
    )
    assert d.action is Action.HANDOFF and d.summary is not None and d.summary_short is not None
    assert d.summary.startswith("Issue: Espresso machine I bought leaks water")
    customer = next(line for line in d.summary.split("\n") if line.startswith("Customer: "))
    assert "VIP" in customer and "angry" in customer and "Why handoff:" in d.summary  # round 8: no "sentiment"
    assert d.summary_short.startswith("Issue: ") and len(d.summary_short) <= SHORT_MAX_CHARS


# -- DialogSum (development data, CC BY-NC-SA: read from ../shared, never shipped) -------------------------


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_summary", ROOT / "bench" / "bench_summary.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_summary"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def dialogsum_dev() -> tuple[ModuleType, list[Any]]:
    bench = _bench()
    root = bench.dialogsum_dir()
    if root is None:
        pytest.skip("DialogSum is not beside the clone (../shared/datasets/dialogsum)")
    return bench, list(bench.examples("dev", "service", root))


def test_dialogsum_summaries_are_extractive_and_bounded(dialogsum_dev: tuple[ModuleType, list[Any]]) -> None:
    """On real dialogues every Issue sentence is the customer's own words, and both forms fit their limits."""
    bench, items = dialogsum_dev
    stated = 0
    for ex in items:
        s = bench.summary_of(ex.conversation)
        assert len(s.text) <= 1200 and len(s.short) <= SHORT_MAX_CHARS
        if s.issue.startswith("not stated yet"):
            continue
        stated += 1
        customer = [w.casefold() for m in ex.conversation.customer_messages for w in m.text.split()]
        also = section(s, "Also said: ").removeprefix("Also said: ")  # round 7: the same rule holds there
        for piece in re.split(r" … |(?<=[.!?]) ", s.issue) + (re.split(r" … |(?<=[.!?]) ", also) if also else []):
            # Fillers may be trimmed ("Yes, …", "…, please.", "I think", "just"); the words kept are the
            # customer's, in the customer's order.
            quoted = piece.removesuffix("…").rstrip(".!?")
            if "[" not in quoted:  # redaction placeholders are not the customer's words
                assert _in_order(quoted.casefold().split(), customer), (ex.fname, quoted)
    assert stated >= 0.95 * len(items)


def _in_order(words: list[str], text: list[str]) -> bool:
    """Whether ``words`` occur in ``text`` in order (a subsequence), punctuation aside."""
    strip = ".,;:!?\"'()…"
    it = iter(w.strip(strip) for w in text)
    return all(any(w.strip(strip) == t for t in it) for w in words)


def test_dialogsum_dev_issue_is_denser_than_the_customer_text(dialogsum_dev: tuple[ModuleType, list[Any]]) -> None:
    """Regression floor on the tuned dev split: the Issue line beats the same-length customer text by 20 %
    (1.29 at round 3's end), and the summary's quoted content beats it too."""
    bench, items = dialogsum_dev
    quality = bench.measure(items)
    assert quality.issue / quality.issue_base >= 1.2
    assert quality.quoted / quality.quoted_base >= 1.1


def test_dialogsum_dev_whole_note_is_denser_than_the_customer_text(
    dialogsum_dev: tuple[ModuleType, list[Any]],
) -> None:
    """Regression floor on the dev split it was tuned on: the whole note (what the agent reads) beats the
    customer's own text cut to its length by 33.5 %: 1.344 at round 8's end, 1.320 on round 7's code (which
    fails this floor), about 1.18 before round 7."""
    bench, items = dialogsum_dev
    quality = bench.measure(items)
    assert quality.full / quality.full_base >= 1.335


def test_cfpb_round5_split_is_pinned() -> None:
    """Round 5's CFPB split is a fixed hash of the Complaint ID: these complaints stay where they are, the
    three parts are disjoint, the report splits need --final, and (when the sample is beside the clone)
    the sizes are 390 / 385 / 757."""
    bench = _bench()
    pinned = {
        "3384392": "cfpb-tune",
        "3433198": "cfpb-holdout",
        "3558212": "cfpb-tune",
        "3446975": "cfpb-holdout",
    }
    for cid, split in pinned.items():
        assert bench.cfpb_round5_partition(cid) == split
        assert bench.in_cfpb_split(cid, split) and bench.in_cfpb_split(cid, "cfpb-dev")
        assert not bench.in_cfpb_split(cid, "cfpb-report")
    assert {"cfpb-holdout", "cfpb-report", "test"} <= bench.REPORT_SPLITS
    assert "cfpb-tune" not in bench.REPORT_SPLITS
    root = bench.cfpb_dir()
    if root is None:
        pytest.skip("the CFPB sample is not beside the clone (../shared/datasets/cfpb_complaints_sample)")
    ids = {split: {ex.fname for ex in bench.cfpb_examples(split, root)} for split in bench.CFPB_SPLITS}
    assert [len(ids[s]) for s in ("cfpb-tune", "cfpb-holdout", "cfpb-report")] == [390, 385, 757]
    assert ids["cfpb-tune"] | ids["cfpb-holdout"] == ids["cfpb-dev"]
    assert not ids["cfpb-tune"] & ids["cfpb-holdout"] and not ids["cfpb-dev"] & ids["cfpb-report"]


def test_round9_report_split_is_fixed() -> None:
    """Round 9 reports on DialogSum ``test`` (the least recently read split, not a never-read one), which the
    bench reads only with --final; cfpb-holdout, read in round 8, is not round 9's report split."""
    bench = _bench()
    assert bench.ROUND9_REPORT_SPLIT == "test"
    assert bench.ROUND9_REPORT_SPLIT in bench.REPORT_SPLITS
    assert bench.READINGS_BEFORE_ROUND9[bench.ROUND9_REPORT_SPLIT] == 4


def _long_thread(filler_pairs: int) -> Conversation:
    """A problem stated first, a version given in the middle, a bot question answered at the end."""
    turns: list[tuple[str, str]] = [
        (C, "My Kindle stopped syncing my library after the update, half my books are missing."),
        (A, "Sorry about that! Which firmware version is it on?"),
    ]
    for i in range(filler_pairs):
        turns.append((C, f"Still waiting, message {i}." if i != filler_pairs // 2 else "It is on firmware 5.16.2."))
        turns.append((A, f"We are looking into it, update {i}."))
    turns += [(A, "Did you try a restart of the Kindle?"), (C, "Yes, restarted it twice, no change.")]
    return thread(*turns)


def test_long_conversation_quotes_the_problem_details_and_latest_answer() -> None:
    """Past the window (only some messages split into sentences) the Issue, Details and last answer still hold."""
    s = summary_of(_long_thread(400))
    assert "stopped syncing library" in section(s, "Issue: ")
    assert given_once(s, "5.16.2")
    assert 'restart of the Kindle?" → "restarted it twice, no change."' in section(s, "Assistant so far")


def test_assistant_line_quotes_what_the_bot_told_not_its_courtesy() -> None:
    """What the bot already told the customer is quoted (so the agent does not contradict it); apologies and
    channel moves are not."""
    s = summary_of(
        thread(
            (C, "My refund for order 7781 has not arrived yet."),
            (A, "Sorry for the trouble, Sam! Your refund was sent on 3 May and takes up to 14 days to arrive."),
            (A, "Sorry to hear the refund has not arrived. Let's move to DM so we can look into this further."),
            (C, "Can I talk to a person please?"),
        )
    )
    line = section(s, "Assistant so far")
    assert 'told "Your refund sent on 3 May and takes up to 14 days to arrive."' in line
    assert "Sorry" not in line and "DM" not in line


def _buried_thread() -> Conversation:
    """Past the window: the problem told once, in the middle of a long rambling message, among many short ones."""
    turns: list[tuple[str, str]] = [
        (C, "hi"),
        (C, "hello?"),
        (
            C,
            "So this is a bit of a long story, I was away over the weekend visiting my family out in the countryside "
            "with the kids and the dog and we only got back late on Sunday night after a long drive. When I came "
            "back I noticed the March invoice charged my card twice for the premium plan. Anyway I have been going "
            "back and forth with this chat for a while now and the kids are loud in the background.",
        ),
        (A, "Sorry the invoice charged your card twice! Let me look at the premium plan billing."),
    ]
    for i in range(70):
        turns.append((C, ["the app shows a spinner", "spinner on the app screen again", "app screen spinner"][i % 3]))
        turns.append((A, f"Thanks for waiting, step {i}."))
    return thread(*turns)


def test_long_conversation_finds_a_key_sentence_inside_a_long_low_scoring_message() -> None:
    """Past the window, a problem told once inside a long message (low weight per word) still reaches the Issue."""
    conv = _buried_thread()
    texts, counts = window(conv.messages)
    assert counts is not None and texts[2].sentences  # the long message is split into sentences
    assert "March invoice charged card twice for premium plan" in section(summary_of(conv), "Issue: ")


def test_customer_had_said_covers_actions_already_taken() -> None:
    """ "Have you tried restarting?" after "I already restarted it" shows what the customer had said; a symptom or a
    negated action does not count."""
    done = summary_of(
        thread(
            (C, "My Galaxy S21 keeps dropping wifi every few minutes since Tuesday."),
            (C, "I've already reset the network settings."),
            (A, "Sorry to hear that. Could you try resetting the network settings?"),
            (C, "Can I talk to a person please?"),
        )
    )
    assert 'said before: "I\'ve already reset the network settings."' in section(done, "Assistant so far")
    # A longer sentence the Issue lines quote already is pointed at, not quoted twice (round 7).
    longer = summary_of(
        thread(
            (C, "My Galaxy S21 keeps dropping wifi every few minutes since Tuesday."),
            (C, "I've already reset the network settings and restarted the router."),
            (A, "Sorry to hear that. Could you try resetting the network settings?"),
            (C, "Can I talk to a person please?"),
        )
    )
    assert 'network settings?" → answered above' in section(longer, "Assistant so far")
    assert quoted_above(longer, "reset the network settings and restarted the router")
    for said in ("My phone keeps restarting by itself.", "I haven't restarted it yet."):
        s = summary_of(thread((C, said), (A, "Have you tried restarting it?"), (C, "Can I talk to a person please?")))
        assert "said before" not in section(s, "Assistant so far"), said


def test_window_splits_every_message_of_a_short_conversation_and_few_of_a_long_one() -> None:
    """Up to the window every message is split into sentences; beyond it only a bounded pool is."""
    short = _long_thread(20).messages
    texts, counts = window(short)
    assert counts is None and texts == [analyze_message(m.text) for m in short]
    long = _long_thread(400).messages
    texts, counts = window(long)
    assert counts is not None and counts[word_key("kindle")] >= 1
    split = sum(1 for t in texts if t.sentences)
    assert split <= ISSUE_POOL + 4 * BOT_POOL < len(long) // 4  # pools, plus the answer after each bot reply


def test_fields_without_a_value_are_left_out() -> None:
    """Round 7: placeholders a help desk puts in empty fields ("N/A", "none", "-"), an unknown customer and an
    unknown sentiment take no room in the note; a real value is still shown."""
    conv = thread(
        (C, "My Kindle stopped syncing my library after the update, half my books are gone."),
        (A, "Did you restart it?"),
        (C, "Yes, twice. I want to talk to a human please."),
        customer={"id": "u1", "name": "N/A", "plan": "none", "organization": "-"},
        context={"order_id": "n/a", "product": "Kindle Paperwhite"},
    )
    s = summary_of(conv)
    customer, details = section(s, "Customer: "), section(s, "Details: ")
    assert customer == "Customer: u1 · en", customer
    assert details == "Details: product Kindle Paperwhite", details
    nobody = summary_of(thread((C, "My Kindle stopped syncing my library after the update."), (A, "Sorry!")))
    assert section(nobody, "Customer: ") == "Customer: en"
    assert "unknown" not in nobody.text and "n/a" not in s.text.casefold()


def test_details_do_not_repeat_what_the_issue_quotes() -> None:
    """Round 7: an order number or amount the Issue line already quotes is not listed again in Details; a date
    and a step tried that it does not quote still are."""
    conv = thread(
        (
            C,
            "I was charged $49.99 twice for order #88123 and the second charge never came back, even though the "
            "store agreed to reverse it last week when I phoned them about it.",
        ),
        (A, "Could you share the order number?"),
        (
            C,
            "It is in my first message. The shop manager, who was very friendly on the phone on 03/04/2019, told "
            "me it would be sorted within three to five working days, and I kept the confirmation e-mail they "
            "sent afterwards, and I have checked my statement every morning since then.",
        ),
        (C, "Can I talk to a person about this, please?"),
    )
    s = summary_of(conv)
    issue, details = section(s, "Issue: "), section(s, "Details: ")
    assert "#88123" in issue and "$49.99" in issue, issue
    assert "88123" not in details and "49.99" not in details, details
    assert "dates 03/04/2019" in details and "tried: checked my statement" in details, details


def note(conv: Conversation, **fields: Any) -> Summary:
    """The summary of ``conv`` with some of the engine's inputs set (reasons, sentiments, VIP, language)."""
    return summary_of(conv, **{"reasons": (), **fields})


def _reason(detail: str) -> Reason:
    return Reason(trigger=TriggerName.HUMAN_REQUEST, action=Action.HANDOFF, detail=detail, score=1.0)


_KINDLE = thread((C, "My Kindle stopped syncing my library after the update, half my books are gone."), (A, "Sorry!"))


@pytest.mark.parametrize(
    ("details", "why"),
    [
        (
            ["the customer asked to talk to a person (combo words backed by the trained detector, score 0.90)"],
            "the customer asked to talk to a person",
        ),
        (
            [
                "restricted topic: account security (trained detector, score 0.62)",
                "restricted topic: legal matter",
                "the customer asked to talk to a person",
            ],
            "restricted topics: account security, legal matter; the customer asked to talk to a person",
        ),
        (
            [
                "the customer asked to talk to a person",
                "restricted topic: refund request (nearest example, score 0.71)",
            ],
            "the customer asked to talk to a person; restricted topic: refund request",
        ),
        (["angry customer (sentiment -0.71), getting worse (-0.20 → -0.71)"], "angry customer, getting worse"),
        (
            ["no approved source covers the question (best match 0.42)"],
            "no approved source covers the question",
        ),
        # Kept: an aside without a score says why, and numbers outside an aside are the reason itself.
        (
            ["restricted topic: medical question (a question about the rules; this topic always goes to a person)"],
            "restricted topic: medical question (a question about the rules; this topic always goes to a person)",
        ),
        (
            ["refund exception: amount 249.99 EUR is above the 200 EUR limit (order 4411)"],
            "refund exception: amount 249.99 EUR is above the 200 EUR limit (order 4411)",
        ),
        (["assistant confidence 0.42 is below 0.60"], "assistant confidence 0.42 is below 0.60"),
        ([], "no trigger"),
    ],
)
def test_why_line_speaks_to_the_agent(details: list[str], why: str) -> None:
    """Round 8: the Why line (note and Slack form) leaves out the detectors' scores, which the audit log keeps
    with the reason, and names restricted topics once; asides that say why and the reasons' own numbers stay."""
    s = note(_KINDLE, reasons=tuple(_reason(d) for d in details))
    assert section(s, "Why handoff: ") == "Why handoff: " + why
    short_why = s.short.split("\n")[-1]  # the phone's line: the same, clipped at 110 characters
    assert short_why == "Why handoff: " + why or ("Why handoff: " + why).startswith(short_why.removesuffix("…"))


def test_customer_line_says_only_what_the_agent_acts_on() -> None:
    """Round 8: "VIP" only for a VIP, the language code, the mood's label and trend without scores, the wait."""
    sentiments = tuple(MessageSentiment(message_index=i, score=score, cues=()) for i, score in ((0, -0.2), (1, -0.75)))
    conv = thread((C, "My parcel is stuck in customs for a week."), (C, "This is a joke, nobody answers!"))
    conv = conv.model_copy(update={"customer": conv.customer.model_copy(update={"name": "Ana", "email": "ana@x.io"})})
    s = note(conv, vip=True, language="es", sentiments=sentiments)
    assert section(s, "Customer: ") == "Customer: Ana <a***@x.io> · VIP · es · angry, worsening"
    calm = note(conv, sentiments=(MessageSentiment(message_index=0, score=0.1, cues=()),))
    assert section(calm, "Customer: ") == "Customer: Ana <a***@x.io> · en · neutral"
    for text in (s.text, calm.text):
        assert "not VIP" not in text and "lang " not in text and "worst" not in text and "ana@x.io" not in text


def test_scored_why_and_new_lines_are_redacted() -> None:
    """The shortened Why line still goes through redaction in both forms: no e-mail or phone number leaks."""
    detail = (
        "the customer asked to talk to a person at ann@example.com or +44 20 7946 0958 (trained detector, score 0.91)"
    )
    s = note(_KINDLE, reasons=(_reason(detail),))
    for text in (s.text, s.short):
        assert "ann@example.com" not in text and "7946" not in text and "score" not in text, text
        assert "[email]" in text and "[phone]" in text, text


def test_assistant_line_is_left_out_when_the_bot_asked_and_told_nothing() -> None:
    """Round 8: no "nothing asked" / "nothing yet" line; a question the bot asked is still listed."""
    said_nothing = thread(
        (C, "My Kindle stopped syncing my library after the update."),
        (A, "Thank you, I'm reading along."),
        (C, "Can I talk to a person?"),
    )
    assert "Assistant" not in summary_of(said_nothing).text
    assert "Assistant" not in summary_of(thread((C, "My Kindle stopped syncing my library."))).text
    asked = thread((C, "My Kindle stopped syncing my library."), (A, "Which firmware version is it on?"))
    assert (
        'Assistant so far (1 reply): asked "Which firmware version is it on?" → not answered' in summary_of(asked).text
    )


def round8_note() -> Summary:
    """A note with every round-8 line filled (VIP, mood, scored and merged reasons), for the determinism test."""
    sentiments = tuple(MessageSentiment(message_index=i, score=v, cues=()) for i, v in ((0, 0.1), (2, -0.65)))
    details = (
        "restricted topic: account security (trained detector, score 0.62)",
        "the customer asked to talk to a person (combo words backed by the trained detector, score 0.90)",
        "restricted topic: legal matter",
    )
    return note(
        HEALTH_STEPS, reasons=tuple(_reason(d) for d in details), sentiments=sentiments, vip=True, language="en"
    )

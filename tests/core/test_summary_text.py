"""The text pieces the summary is built from: what counts as content, what is trimmed, which details are found.

Sentences are WRITTEN FOR THESE TESTS (regression tables, not evidence of accuracy).
"""

from __future__ import annotations

import pytest

from handoff_core.issue import candidate_sentences, compact, condense
from handoff_core.models import Conversation, Message, Role
from handoff_core.text import messages
from handoff_core.text.messages import analyze_message, message_details_of, trim
from handoff_core.text.sentences import clean, clip


@pytest.mark.parametrize(
    "text",
    [
        "Can I talk to a person about this, please?",
        "@brand please read the above",
        "Any update?",
        "Hello??",
        "Thanks so much!",
        "Hi there, good morning",
        "This is ridiculous!!!",
        "Quiero hablar con una persona",
        "Je veux parler à un humain",
        "DM sent",
    ],
)
def test_meta_greeting_and_feeling_sentences_carry_no_content(text: str) -> None:
    """Requests about the conversation, greetings, thanks and feelings are never Issue candidates."""
    assert analyze_message(text).sentences == ()


@pytest.mark.parametrize(
    "text",
    [
        "Any update on my refund?",
        "My package never arrived",
        "The app crashes when I open settings",
        "Mi pedido llegó roto",
    ],
)
def test_problem_sentences_are_candidates(text: str) -> None:
    """A sentence that names the problem is a candidate, even with meta words around it."""
    assert len(analyze_message(text).sentences) == 1


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("@AppleSupport my watch broke https://t.co/abc", "my watch broke"),
        ("Try restarting it! ^JD", "Try restarting it!"),
        ("The invoice is wrong.\nBest regards,\nJane Smith", "The invoice is wrong."),
        ("It double charged me.\n--\nJane\nSent from my iPhone", "It double charged me."),
        ("Line one\nline two", "Line one\nline two"),
    ],
)
def test_clean_drops_links_handles_initials_and_signatures(raw: str, cleaned: str) -> None:
    """Links, @handles, agent initials and signature blocks are removed; the message itself stays."""
    assert " ".join(clean(raw).split()) == " ".join(cleaned.split())


@pytest.mark.parametrize(
    ("sentence", "trimmed"),
    [
        ("Yes, well, I think so, please.", "I think so."),
        ("No, I only have a handbag.", "I only have a handbag."),
        ("I'd like cream onion soup please.", "I'd like cream onion soup."),
        ("Yes, please.", "Yes, please."),
        ("Sorry to hear that", "Sorry to hear that"),
        ("The screen is cracked", "The screen is cracked"),
    ],
)
def test_trim_removes_fillers_but_never_everything(sentence: str, trimmed: str) -> None:
    """Leading fillers and a trailing please/thanks go; a sentence made only of them is kept whole."""
    assert trim(sentence) == trimmed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("iOS 11.1.2 and watchOS 4.1", [("version", "11.1.2"), ("version", "4.1")]),
        ("Running version 3.2 of the app", [("version", "3.2")]),
        ("It cost $249.99 on 12.10.2026", []),
        ("My Apple Watch and iPhone 15 Pro", [("device", "Apple Watch"), ("device", "iPhone 15 Pro")]),
        (
            "I restarted the router and re-paired the watch",
            [("tried", "restarted the router"), ("tried", "re-paired the watch")],
        ),
        ("I haven't restarted it", []),
        ("tracking number 1Z999AA10123456784", [("tracking", "1Z999AA10123456784")]),
        ("tracking is not updating", []),
        ("Router firmware is 2.3.1.", [("version", "2.3.1")]),
        ("Yes, it is RR123456785DE and it shows delivered", [("tracking", "RR123456785DE")]),
    ],
)
def test_details_found_in_a_message(text: str, expected: list[tuple[str, str]]) -> None:
    """Versions, devices, tracking numbers and what was tried are found; dates, amounts and negations are not."""
    found = list(dict.fromkeys(analyze_message(text).details))
    kinds = {kind for kind, _ in expected}
    assert [d for d in found if d[0] in kinds] == expected
    if not expected:
        assert found == []


@pytest.mark.parametrize(("text", "limit"), [("word " * 100, 50), ("short", 50), ("a" * 80, 20)])
def test_clip_respects_the_limit(text: str, limit: int) -> None:
    """Clipping never exceeds the limit and marks a cut with an ellipsis."""
    out = clip(text, limit)
    assert len(out) <= limit
    assert out.endswith("…") == (len(" ".join(text.split())) > limit)


def test_token_cache_stays_bounded() -> None:
    """The summary's token cache is emptied at its cap, so endless new words cannot grow it without bound."""
    for i in range(messages._TOKEN_CACHE_SIZE + 10):
        messages.trim(f"word{i}x")
        assert len(messages._TOKENS) <= messages._TOKEN_CACHE_SIZE


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("I think my card was kind of charged twice this month.", "My card was charged twice this month."),
        ("I'm afraid that's too loud for me.", "That's too loud for me."),
        ("So I was just wondering if you could help me, the app crashes on login.", "So the app crashes on login."),
        ("It was, you know, broken when it arrived.", "It was broken when it arrived."),
        ("They were from the company on the 12th floor, I guess.", "They were from the company on the 12th floor."),
        ("The box was really badly damaged, I guess.", "The box was badly damaged."),
        # Round 5: narrative preamble, runs of masked values and asides about attachments.
        ("However, they still reported the late payment.", "They still reported the late payment."),
        ("On XX/XX/2019, I called the bank about the fee.", "I called the bank about the fee."),
        ("On Tuesday, March 3, 2020, the order arrived broken.", "The order arrived broken."),
        ("In addition, they charged a fee.", "They charged a fee."),
        ("XXXX XXXX XXXX refused to remove the inquiry.", "XXXX refused to remove the inquiry."),
        (
            "I disputed it twice ( Please see page attached from my report. ) with no answer.",
            "I disputed it twice with no answer.",
        ),
        ("To whom it may concern: My name is Jane Doe. The card was charged twice.", "The card was charged twice."),
        ("Re: card XXXX Dear Sir or Madam: In early XX/XX/2019, I disputed the fee.", "I disputed the fee."),
        ("XXXX -- -- I am not aware of this debt.", "I am not aware of this debt."),
        ("I sent the statement ( details attached ) to the bank.", "I sent the statement to the bank."),
        # Not preamble: a phrase that says where, a month-like word, a date that is the point.
        ("In my letter, I asked them to close it.", "In my letter, I asked them to close it."),
        ("In marketing, we see this happen.", "In marketing, we see this happen."),
        ("Since March 3, my card is declined.", "Since March 3, my card is declined."),
        # Not filler here: a question, an article's adjective, a phrase, too little left.
        ("Then do you know her mother?", "Then do you know her mother?"),
        ("I have a very important job.", "I have a very important job."),
        ("I'd like to have insurance just in case.", "Have insurance just in case."),
        ("I think so.", "I think so."),
        ("Maybe it is the battery.", "Maybe it is the battery."),
        # Round 6: an opening request for a person goes when the sentence says more; "a bit of" is no softener.
        (
            "can I speak to a human please, I have an order arriving tomorrow I need to change",
            "I have an order arriving tomorrow I need to change",
        ),
        ("I want to talk to a manager, my card was stolen.", "My card was stolen."),
        ("Can I talk to someone about my refund?", "Can I talk to someone about my refund?"),
        ("This is a bit of a long story.", "This is a bit of a long story."),
        # Round 6: what a social post adds that says nothing in a note.
        ("my band stopped syncing since the update 😤😤 smh", "my band stopped syncing since the update"),
        ("still nothing!!! 🙄 the data is gone", "still nothing! the data is gone"),
        ("lol the app crashed again...", "the app crashed again"),
        # Round 9: openers, sign-offs, a request to do something, social-post counters and hashtags, a pointer
        # back at earlier posts, a meta-request closing a sentence that says more.
        ("Hmm, what should I wear to the interview?", "What should I wear to the interview?"),
        ("Er, well, the return flight is on the 29th.", "The return flight is on the 29th."),
        ("As you can see, I always paid on time.", "I always paid on time."),
        ("Thanks but the refund never arrived.", "The refund never arrived."),
        ("My order #A123 never came, thank you for your help.", "My order #A123 never came."),
        ("They still report the late payment. Respectfully Mr. XXXX", "They still report the late payment."),
        ("In regards to the debt, they keep calling me.", "In regards to the debt, they keep calling me."),
        ("It broke after a week. Regards, Jane Doe", "It broke after a week."),
        ("Still no refund, thank you for your help with this.", "Still no refund."),
        # A courtesy followed by the problem, or by more than a sign-off says, stays whole.
        (
            "I received it, thank you for your fast shipping but it is broken",
            "I received it, thank you for your fast shipping but it is broken",
        ),
        (
            "Got the parcel thanks, the order number is 12345 and the box was empty",
            "Got the parcel thanks, the order number is 12345 and the box was empty",
        ),
        ("The refund came thanks to your colleague Sam.", "The refund came thanks to your colleague Sam."),
        ("I'd like to book three seats to Calgary.", "Book three seats to Calgary."),
        ("We would like to cancel the second room.", "Cancel the second room."),
        ("train 07:42 from Leeds cancelled AGAIN #fail #skyrail", "train 07:42 from Leeds cancelled AGAIN"),
        ("charged a £25 fee though my salary went in (1/2)", "charged a £25 fee though my salary went in"),
        ("ORDER #A77120 NEVER ARRIVED", "ORDER #A77120 NEVER ARRIVED"),
        ("Please read the above, it has been 3 days", "It has been 3 days"),
        ("My card was declined twice at checkout, can I talk to a person?", "My card was declined twice at checkout."),
        ("Refund still not in my account, any update?", "Refund still not in my account."),
        ("The app crashes on launch please help!", "The app crashes on launch."),
        ("Any update on my refund?", "Any update on my refund?"),
    ],
)
def test_compact_drops_filler_but_keeps_meaning(sentence: str, expected: str) -> None:
    """Hedges, softeners and 'please' go; hedges that carry meaning, articles' adjectives and questions stay."""
    assert compact(sentence) == expected


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        # Articles and the customer's own possessives go; the customer's words stay in their order.
        (
            "My Apple Watch and iPhone stopped recording steps in the Health app.",
            "Apple Watch and iPhone stopped recording steps in Health app.",
        ),
        # A subject "I" with its auxiliaries opening a clause.
        ("I was charged twice for my Premium plan.", "Charged twice for Premium plan."),
        ("I have been waiting for a refund since May.", "Waiting for refund since May."),
        ("I'm unable to log in, and I have reset the password.", "Unable to log in, and reset password."),
        # A passive auxiliary after a noun goes; after a pronoun it stays ("it bought out" would mislead).
        ("My account was closed without notice.", "Account closed without notice."),
        ("It was bought out by another bank last year.", "It was bought out by another bank last year."),
        ("The refund is not showing in my account.", "Refund not showing in account."),
        # "that" after a verb of saying.
        ("They told me that the parcel was lost.", "They told me parcel lost."),
        # Kept: negations, other people's pronouns, "a" in a rate, words that only look like participles.
        ("I have not been successful with the bank.", "Not been successful with bank."),
        ("He charged me twice a month for his service.", "He charged me twice a month for his service."),
        ("My son has been sixteen since May.", "Son has been sixteen since May."),
        ("I've been smoking since I was sixteen.", "Smoking since I was sixteen."),
        # Round 9: an empty subject opening a clause, wordy phrases.
        ("There's a collection showing on my credit report.", "Collection showing on credit report."),
        ("It's been 3 days and the refund is not showing.", "Been 3 days and refund not showing."),
        ("This is John Cruise from the sales office.", "John Cruise from sales office."),
        ("I called in order to cancel the card at this time.", "Called to cancel card."),
        ("Is it the same card?", "Is it same card?"),
        # Too little left: unchanged.
        ("My card expired.", "My card expired."),
    ],
)
def test_condense_writes_headline_style_without_changing_meaning(sentence: str, expected: str) -> None:
    """Headline style drops only words a reader restores (articles, own possessives, "I have been", a passive
    auxiliary after a noun, "said that"); negations, pronouns of others, numbers and content words stay."""
    assert condense(sentence) == expected


def test_sentences_that_only_point_at_attachments_are_not_issue_candidates() -> None:
    """'Proof attached.' and 'There are no additional pages.' say nothing the agent needs in the Issue line."""
    conv = Conversation(
        id="c",
        messages=(
            Message(role=Role.CUSTOMER, text="Proof attached. There are no additional pages."),
            Message(role=Role.CUSTOMER, text="The bank charged a late fee twice on my card."),
        ),
    )
    assert [s.text for _, s in candidate_sentences(conv.messages)] == ["The bank charged a late fee twice on my card."]


@pytest.mark.parametrize(
    ("word", "content"),
    [("XXXX", False), ("XX/XX/2019", False), ("****1234", False), ("Xbox", True), ("XL", True), ("2019", True)],
)
def test_masked_values_are_not_content_words(word: str, content: bool) -> None:
    """A value masked before it reached us ("XXXX", "XX/XX/2019") is no content word and no product name."""
    keys = analyze_message(f"The {word} was wrong.").sentences[0].keys
    assert (len(keys) == 2) == content, keys


@pytest.mark.parametrize(
    ("message", "tried"),
    [
        # Round 9: a value's four-word window no longer ends mid-phrase on a function word or an initial.
        ("I called Barclay Card to have it removed", "called Barclay Card"),
        ("I submitted a prior complaint to the CFPB", "submitted a prior complaint"),
        ("I contacted them via email by Mr. Smith", "contacted them via email"),
        ("I have contacted XXXX while this was pending", "contacted XXXX"),
        # Unchanged: a whole phrase, a pronoun object, a verb alone.
        ("Yes, power-cycled it", "power-cycled it"),
        ("I already restarted the phone and the router", "restarted the phone"),
        ("I called the", "called"),
    ],
)
def test_tried_values_end_on_a_whole_phrase(message: str, tried: str) -> None:
    """The Details line's "tried" value is the customer's verb and its words up to a whole phrase."""
    assert next(v for kind, v in message_details_of(message) if kind == "tried") == tried

"""The cold summary's shortcuts (round 9, issue 10's < 20 ms) give what the plain reads give, value for value.

A long conversation's cold view now splits the pool's messages from the tokens their count looked up
(``scan_of_count``), searches their details only for the kinds with room, and counts and searches a text the
customer sent twice once. Each is only worth having if the view, and so the summary, is the same: checked
here against :func:`scan_message` / :func:`analyze_message` and against the kept state, which adds every
message's own full details one by one.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from handoff_core import Conversation
from handoff_core.models import Message, Role
from handoff_core.summary import summarize
from handoff_core.summary_state import state_of, view_of_messages
from handoff_core.text.messages import (
    analyze_message,
    count_message,
    message_details_of,
    scan_message,
    scan_of_count,
    split_scan,
)

from .test_summary_incremental import _data

TEXTS = [
    "",
    "   ",
    "Thanks!",
    "My iPhone 14 Pro on iOS 17.2.1 stopped syncing, tracking number 1Z999AA10123456784 shows nothing.",
    "Where is my tracking? No number yet.",
    "I restarted the router\nand re-paired the Apple Watch Series 8, version 4.1 and 11.1.2.\n\nStill nothing.",
    "line one\r\nline two with a Pixel 7a",
    "Yes, please. Thank you so much!",
    "Hi @brand see https://example.com/x the Galaxy S23 Ultra, ticket 12345678A and v2.3",
    "Ich habe das Gerät neu gestartet, Version 3.2.1 — bitte",
    "XXXX XX/XX/2019 I was charged $ 249.99 twice on order #88123.",
]


@pytest.mark.parametrize("text", TEXTS)
def test_the_scan_of_a_count_is_the_scan(text: str) -> None:
    """Built from a count's tokens, the scan has the same fields as the scan of the text."""
    assert scan_of_count(count_message(text)) == scan_message(text)


@pytest.mark.parametrize("text", TEXTS)
def test_splitting_a_scan_is_analysing_the_text(text: str) -> None:
    """``split_scan`` with the message's details is :func:`analyze_message` (which now calls it)."""
    analyze_message.cache_clear()
    assert split_scan(scan_of_count(count_message(text)), message_details_of(text)) == analyze_message(text)


_DETAILY = [t for t in TEXTS if t.strip()]
_BOT = ["Could you share the order number?", "Have you tried restarting the router?", "Which version are you on?"]


def _thread(n: int, seed: int, repeats: float) -> Conversation:
    """``n`` messages, the customer's full of details, a share ``repeats`` of them sent again word for word."""
    rng = random.Random(seed)
    sent: list[str] = []
    messages = []
    for i in range(n):
        if i % 2:
            messages.append(Message(role=Role.ASSISTANT, text=rng.choice(_BOT)))
            continue
        if sent and rng.random() < repeats:
            text = rng.choice(sent)
        else:
            text = " ".join(rng.sample(_DETAILY, rng.randint(1, 3)))
            if rng.random() < 0.5:
                text += f" Firmware {rng.randint(1, 30)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}, I reset the hub {i}."
            sent.append(text)
        messages.append(Message(role=Role.CUSTOMER, text=text))
    return Conversation(id=f"cold-{n}-{seed}", messages=tuple(messages))


@pytest.mark.parametrize(("n", "seed", "repeats"), [(140, 1, 0.0), (140, 2, 0.6), (400, 3, 0.3), (600, 4, 0.9)])
def test_the_cold_view_is_the_kept_view(n: int, seed: int, repeats: float) -> None:
    """Past the window, with and without repeated texts: the cold summary (and its Details) equals the
    summary folded over the kept state, which searches every message in full as it arrives."""
    conv = _thread(n, seed, repeats)
    scan_message.cache_clear()
    analyze_message.cache_clear()
    cold_details = view_of_messages(conv.messages).details
    data = _data(conv)
    cold = summarize(data, 1200, True)
    kept = summarize(replace(data, prepared=state_of(conv.messages)), 1200, True)
    assert cold == kept
    assert cold_details == state_of(conv.messages).log.long.details  # type: ignore[union-attr]


def _numbers() -> list[str]:
    """Plain numbers of every length with the punctuation a message puts around them, masked ones too."""
    rng = random.Random(10)
    out = ["0", "7", "12", "2024", "88123", "12345678", "0000000000000", "1" * 40]
    for _ in range(400):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 14)))
        before = "".join(rng.choice("#(*$€'\"«[-") for _ in range(rng.randint(0, 2)))
        after = "".join(rng.choice(".,;:!?)*’»]…") for _ in range(rng.randint(0, 3)))
        out.append(before + digits + after)
    return out


def test_a_plain_number_token_is_the_general_token() -> None:
    """The plain-number shortcut of ``_make_token`` gives the record the general path works out, for every
    number with the punctuation a message puts around it (masked ones take the general path)."""
    from handoff_core.text import messages

    def general(raw: str) -> object:
        tail = raw.rstrip(messages._CLOSERS)[-1:]
        end = 2 if tail == "?" else 1 if tail in (".", "!", "…") else 0
        return messages._general_token(raw, raw.strip(messages._PUNCT), end)

    differ = [raw for raw in _numbers() if messages._make_token(raw) != general(raw)]
    assert differ == []

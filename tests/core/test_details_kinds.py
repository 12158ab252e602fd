"""Searching a message only for the kinds of detail the Details line still has room for finds the same values.

Round 9 (issue 10's speed): a long conversation's cold summary searches a counted message only for the kinds
of detail not yet full. That is only safe if the restricted search returns exactly the full search's values
of those kinds, in the same order, and a full kind is never asked for; and the token bits the digit
patterns set must not change when the patterns are skipped on letters-only words.
"""

from __future__ import annotations

import pytest

from handoff_core.details import MAY_DEVICE, MAY_TRACKING, MAY_TRIED, MAY_VERSION, Details
from handoff_core.text.messages import ALL_KINDS, count_message, details_of_count, details_of_scan, scan_message

_KIND_BIT = {"device": MAY_DEVICE, "tried": MAY_TRIED, "tracking": MAY_TRACKING, "version": MAY_VERSION}

MESSAGES = [
    "My iPhone 14 Pro on iOS 17.2.1 stopped syncing, tracking number 1Z999AA10123456784 shows nothing.",
    "I restarted the router and re-paired the Apple Watch Series 8, version 4.1 and 11.1.2.",
    "We already tried logged out and back in, cleared the cache, reinstalled the app.",
    "Parcel RR123456785DE never came, my Galaxy S23 Ultra and the Pixel 7a both show it.",
    "I haven't restarted it yet, the kids changed schools, firmware 10.0.3 on the modem.",
    "Cleared cache, reinstalled, power-cycled the router, tracking: ZX123456789Q9 still stuck.",
    "Where is my tracking? The laptop and the printer still do not work after the update 2.3.4.",
    "No details here at all, just a complaint about the smell.",
]
SUBSETS = list(range(16))


@pytest.mark.parametrize("text", MESSAGES)
@pytest.mark.parametrize("kinds", SUBSETS)
def test_restricted_search_is_the_full_search_filtered(text: str, kinds: int) -> None:
    """For every message and every set of kinds: the same values of those kinds, in order, counted or scanned.

    Values of other kinds may come along (the version and postal patterns run together); the Details line
    drops them, as those kinds are full when left out.
    """
    full = details_of_count(count_message(text))

    def of_kinds(found: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        return tuple((kind, value) for kind, value in found if _KIND_BIT[kind] & kinds)

    assert of_kinds(details_of_count(count_message(text), kinds)) == of_kinds(full)
    assert of_kinds(details_of_scan(scan_message(text), kinds)) == of_kinds(full)
    assert details_of_scan(scan_message(text)) == details_of_scan(scan_message(text), ALL_KINDS) == full


def test_a_full_kind_is_not_wanted() -> None:
    """``wanted`` drops exactly the kinds at their limit, and the messages' details fill the others."""
    details = Details()
    for value in ("iPhone", "iPad", "laptop", "printer"):
        details.add("device", value)
    details.add("version", "4.1")
    assert details.wanted(ALL_KINDS) == MAY_TRIED | MAY_TRACKING | MAY_VERSION
    assert details.wanted(MAY_DEVICE) == 0
    assert not details.wants(MAY_DEVICE)
    assert details.wanted(MAY_DEVICE | MAY_VERSION) == MAY_VERSION


@pytest.mark.parametrize(
    ("text", "dotted", "id_like", "number"),
    [
        ("version 4.1.2 please", True, False, True),
        ("(1Z999AA10123456784),", False, True, True),
        ("RR123456785DE", True, True, True),
        ("Rückerstattung", False, False, False),
        ("tracking!", False, False, False),
        ("88123", False, False, True),
    ],
)
def test_token_digit_bits(text: str, dotted: bool, id_like: bool, number: bool) -> None:
    """A token's version, tracking-id and number marks: set for a digit, never for a letters-only word."""
    count = count_message(text)
    scan = scan_message(text)
    assert bool(count.detail_kinds & MAY_VERSION) is dotted
    assert bool(scan.detail_kinds & MAY_VERSION) is dotted
    if number:
        assert any(key[:1].isdigit() or any(ch.isdigit() for ch in key) for key in count.keys)
    else:
        assert not any(ch.isdigit() for key in count.keys for ch in key)
    if id_like:
        assert details_of_count(count_message(f"tracking {text.strip('(),')}"), MAY_TRACKING)

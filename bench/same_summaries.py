"""Does a speed change leave every summary byte for byte as it was? Checked against another checkout.

A faster summary is only worth having if the agent reads the same note: round 9 cut the cold path's cost
(issue 10's < 20 ms for 1,000 messages) and claims the same bytes. This script summarises the same inputs
in this checkout and in ``--baseline DIR`` (a clean checkout of the commit the change started from), each
in its own process with its own ``handoff_core`` first on the path, and exits non-zero on any difference:

- the DialogSum dev dialogues (``tune`` and ``check``, all of them) and the ``cfpb-tune`` complaints, when
  the datasets are there (development splits only: no report split is read);
- synthetic long threads (100 to 1,999 messages, the speed bench's and ones full of versions, tracking
  numbers, devices and "tried" verbs, so every Details branch is walked past the window);

each summarised cold (from the text, caches cleared) and on the engine's path (the kept state of
:mod:`handoff_core.summary_state`), full note, Slack short form and Issue line.

Usage:
    python bench/same_summaries.py --baseline /tmp/base    # prints the counts; exit 1 on any difference
    python bench/same_summaries.py --baseline /tmp/base --speed 6   # and the cold 1,000 messages, A/B
                                                                    # (round 9: also the detail-heavy threads)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import cast

sys.path.insert(0, str(Path(__file__).resolve().parent))
from checkouts import measure_in

BENCH = Path(__file__).resolve().parent

#: The speed bench's detail-heavy thread (every Details kind, fresh numbers and tracking ids), built by the
#: same code on both sides of a comparison.
_DETAILY_CODE = """
import random
from handoff_core.models import Conversation, Message, Role
_DETAILY = (
    "My iPhone 14 Pro on iOS 17.2.1 stopped syncing, tracking number 1Z999AA10123456784 shows nothing.",
    "I restarted the router and re-paired the Apple Watch Series 8, version 4.1 and 11.1.2.",
    "We already tried logged out and back in, cleared the cache, reinstalled the app.",
    "Parcel RR123456785DE never came, my Galaxy S23 Ultra and the Pixel 7a both show it.",
    "I checked with the neighbours and called the courier twice, order 88123 for 249.99 EUR.",
    "Where is my tracking? The laptop and the printer still do not work after the update 2.3.4.",
    "I haven't restarted it yet, the kids changed schools, firmware 10.0.3 on the modem.",
)


def detaily(n, seed):
    rng = random.Random(seed)
    msgs = []
    for i in range(n):
        if i % 2 == 0:
            text = " ".join(rng.sample(_DETAILY, rng.randint(1, 3)))
            if rng.random() < 0.15:  # rare fresh values: a kind fills late, or never (devices here)
                text += rng.choice((
                    f" Firmware {rng.randint(1, 30)}.{rng.randint(0, 9)}.{rng.randint(0, 9)} now.",
                    f" I {rng.choice(('reset', 'unplugged', 'emailed', 'removed'))} the {rng.choice(('hub', 'card'))}.",
                    f" Tracking: ZX{rng.randint(100_000_000, 999_999_999)}Q9 is stuck.",
                ))
            if rng.random() < 0.3:
                ticket = f"{rng.randint(10_000_000, 99_999_999)}{rng.choice('ABCXYZ')}"
                text += f" Ticket {ticket} and v{rng.randint(1, 9)}.{rng.randint(0, 9)}"
            msgs.append(Message(role=Role.CUSTOMER, text=text))
        else:
            msgs.append(Message(role=Role.ASSISTANT, text=rng.choice((
                "Could you share the order number?", "Have you tried restarting the router?",
                "Which version of the app are you on?", "Refunds can take up to 14 days after the return arrives.",
            ))))
    return Conversation(id=f"detaily-{n}-{seed}", messages=tuple(msgs))


def detaily_unique(n, seed):
    # Round 9: the same thread with no customer text sent twice (each ends with its own message number), so
    # the cold view's sharing of a repeated text's count and details search does not help.
    conv = detaily(n, seed)
    msgs = [m if m.role is not Role.CUSTOMER else Message(role=m.role, text=f"{m.text} (message {i})")
            for i, m in enumerate(conv.messages)]
    return Conversation(id=f"detaily-unique-{n}-{seed}", messages=tuple(msgs))
"""

#: Run inside each checkout: its ``handoff_core`` is first on the path, the inputs are built by this
#: checkout's bench code (the same inputs on both sides). Prints ``{name: [text, short, issue], ...}``.
_CODE = """
import json, random, sys
from dataclasses import replace
sys.path.append(BENCH)
import bench_summary as b
from handoff_core.models import Conversation, Message, Role
from handoff_core.summary import summarize

convs = []
for split in ("tune", "check"):
    root = b.dialogsum_dir()
    if root is not None:
        convs += [(f"dialogsum/{e.fname}", e.conversation) for e in b.examples(split, "all", root)]
root = b.cfpb_dir()
if root is not None:
    convs += [(f"cfpb/{e.fname}", e.conversation) for e in b.cfpb_examples("cfpb-tune", root)]
for n in (100, 400, 999, 1000, 1001, 1999):
    convs.append((f"synthetic/{n}", b.synthetic_conversation(n)))
for n, seed in ((150, 1), (600, 2), (1000, 3), (1500, 4)):
    convs.append((f"detaily/{n}/{seed}", detaily(n, seed)))

out = {}
for name, conv in convs:
    b._clear_caches()
    s = summarize(b.summary_input(conv), max_chars=1200, redact_pii=True)
    out["cold " + name] = [s.text, s.short, s.issue]
    if name.startswith(("synthetic", "detaily")) or len(out) % 7 == 0:  # the kept state: every long, a sample
        try:
            from handoff_core.summary_state import state_of
        except ImportError:
            continue
        k = summarize(replace(b.summary_input(conv), prepared=state_of(conv.messages)), max_chars=1200, redact_pii=True)
        out["kept " + name] = [k.text, k.short, k.issue]
        if len(conv.messages) > 300:  # the Details found past the window, before the line drops repeats
            from handoff_core.summary_state import view_of_messages
            out["details " + name] = [repr(view_of_messages(conv.messages).details)]
print(json.dumps(out))
"""


def summaries_in(checkout: Path) -> dict[str, list[str]]:
    """Every summary as that checkout writes it."""
    code = f"BENCH = {str(BENCH)!r}\n" + _DETAILY_CODE + _CODE
    return measure_in(checkout, code)  # type: ignore[return-value]  # the JSON holds lists of strings


#: The cold summary of the speed bench's 1,000-message thread (bench_summary.speed's first figure), and (round
#: 10) of the detail-heavy thread, with and without repeated texts, CPU time.
_SPEED = """
import json, statistics, sys, time
sys.path.append(BENCH)
import bench_summary as b
from handoff_core.summary import summarize
out = {}
for name, conv in (("synthetic", b.synthetic_conversation(1000)), ("detaily", detaily(1000, 3)),
                   ("detaily-unique", detaily_unique(1000, 3))):
    data = b.summary_input(conv)
    summarize(data, max_chars=1200, redact_pii=True)
    samples = []
    for _ in range(15):
        b._clear_caches()
        start = time.process_time()
        summarize(data, max_chars=1200, redact_pii=True)
        samples.append(time.process_time() - start)
    out[name] = [statistics.median(samples), min(samples)]
print(json.dumps(out))
"""


def speed_ab(baseline: Path, rounds: int) -> None:
    """Same-run A/B of the cold 1,000-message summaries, alternating checkouts, fresh process each time."""
    for r in range(rounds):
        for label, checkout in (("here", BENCH.parent), ("baseline", baseline))[:: 1 if r % 2 == 0 else -1]:
            got = cast(
                "dict[str, list[float]]", measure_in(checkout, f"BENCH = {str(BENCH)!r}\n" + _DETAILY_CODE + _SPEED)
            )
            cells = ", ".join(
                f"{name} median {median * 1000:5.1f} / fastest {fastest * 1000:5.1f} ms"
                for name, (median, fastest) in got.items()
            )
            print(f"round {r + 1} {label:>8}: {cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--baseline", type=Path, required=True, help="a clean checkout to compare with")
    parser.add_argument("--speed", type=int, default=0, metavar="ROUNDS", help="also a same-run speed A/B")
    args = parser.parse_args()
    if args.speed:
        speed_ab(args.baseline, args.speed)
    here = summaries_in(BENCH.parent)
    there = summaries_in(args.baseline)
    differ = sorted(k for k in here.keys() | there.keys() if here.get(k) != there.get(k))
    kinds = {k.split(" ", 1)[1].split("/", 1)[0] for k in here}
    print(f"{len(here)} summaries here, {len(there)} in {args.baseline} ({', '.join(sorted(kinds))}):", end=" ")
    print(f"{len(differ)} differ")
    for k in differ[:10]:
        print(f"  {k}:\n    here:  {here.get(k)!r}\n    there: {there.get(k)!r}")
    if differ:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

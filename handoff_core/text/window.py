"""The part of a long message that per-message analysis reads: its opening and its close.

Why: most of a realistic decision's cost grows with the message's length (tokens, word pieces, the
phrase trie, the n-gram buckets the trained heads and the example head read, VADER), and the long
messages dominate: in ``bench/corpus`` a fifth of the messages are longer than 700 characters and carry
three quarters of the characters. A 2,000-character complaint cost about seven times a 50-character
question (``python bench/profile_core.py --lengths 50,200,500,1000,2000``). Reading a fixed window
bounds that cost, so a 2 KB message costs about what a message of the window's length costs.

Why the opening and the close: people say what they want and how they feel at the start and at the end
(the middle of a complaint is the story: dates, amounts, who said what), and the trained heads learned
from openings (CFPB narratives are cut to their first 400 characters for training,
``connectors.training.data.CFPB_CHARS``). :data:`HEAD_CHARS` is at least that, so no training text is
changed by the window: training (``connectors/training/detectors.py``) and the engine read messages
through this one function, and a retrained head meets at decision time exactly what it learned from.

What is NOT windowed: the facts (order numbers, e-mail addresses, amounts anywhere in the message) and
the handoff summary read the whole message (bounded only by ``engine.MESSAGE_WINDOW``), because a
number in the middle of the story is exactly what an agent needs.

The window changes verdicts on long messages only (a cue in the middle of a long complaint is no longer
seen); ``docs/accuracy.md`` gives the real-data numbers before and after (full-length CFPB narratives).
"""

from __future__ import annotations

#: Characters read from the start of a long message (at least the 400 the heads learned CFPB openings from).
HEAD_CHARS = 500
#: Characters read from its end (where "please call me", "I want my money back", "third time" usually are).
TAIL_CHARS = 250
#: Messages up to this length are read whole; a longer one is read as its head, " ... " and its tail.
WINDOW_CHARS = HEAD_CHARS + TAIL_CHARS
#: What joins the two parts: an ellipsis ends a sentence, so no phrase spans the cut; plain ASCII, so a plain
#: ASCII message keeps its fast paths (word pieces, the capitals check).
JOINT = " ... "


def analysis_window(text: str) -> str:
    """``text`` if it has at most :data:`WINDOW_CHARS` characters, else its opening and its close.

    Cut at spaces where one is near (within a quarter of each part), so no word is read half.
    """
    head_chars, tail_chars = HEAD_CHARS, TAIL_CHARS  # read at call time: bench/eval_real.py --windows sweeps them
    if len(text) <= head_chars + tail_chars:
        return text
    head = text[:head_chars]
    tail = text[-tail_chars:] if tail_chars else ""
    cut = head.rfind(" ", head_chars * 3 // 4)
    if cut > 0:
        head = head[:cut]
    if not tail:
        return head.rstrip()
    start = tail.find(" ", 0, tail_chars // 4)
    if start >= 0:
        tail = tail[start + 1 :]
    return f"{head.rstrip()}{JOINT}{tail.lstrip()}"

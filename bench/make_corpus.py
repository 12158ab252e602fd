"""Build the realistic benchmark corpus in ``bench/corpus/`` (run once; the output is committed).

Why: speed measured on one-line synthetic strings said 6,000 decisions/s; real support messages are
longer (a complaint is often a paragraph or a page) and the same engine did 750-1,650/s on them. The
benchmark must run on messages shaped like real traffic: lengths from 20 to 2,000 characters, several
languages, and multi-turn conversations.

Sources (see ``bench/corpus/README.md`` for licences):

- CFPB consumer complaint narratives (real, English, public domain): the long tail, clipped to 2,000
  characters at a word boundary;
- Bitext customer-support requests (English, partly generated, CDLA-Sharing-1.0): short chat lines;
- the non-English messages of the project's held-out sets (es/fr/de/pt, written by the team: realistic
  in length and wording, not real traffic; labelled ``team-written``).

Fixed seed; the same inputs give the same corpus.
"""

from __future__ import annotations

import csv
import json
import random
import statistics
from pathlib import Path

from connectors.training.data import default_datasets

ROOT = Path(__file__).resolve().parents[1]
DATASETS = default_datasets()
OUT = ROOT / "bench" / "corpus"
SEED = 20261127
MIN_CHARS, MAX_CHARS = 20, 2_000
SINGLES = 1_000
CONVERSATIONS = 150

#: Assistant turns between customer messages (written by us; the corpus measures customer text).
ASSISTANT_REPLIES = [
    "Thanks for reaching out. Let me look into that for you.",
    "I understand. Could you tell me your order number?",
    "Sorry, I didn't get that. Could you rephrase?",
    "Here is what I found in our help centre: you can manage this under Settings > Account.",
    "I can help with that. It usually takes 3 to 5 working days.",
    "Is there anything else I can help you with?",
]


def _clip(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= MAX_CHARS:
        return text
    cut = text[:MAX_CHARS].rsplit(" ", 1)[0]
    return cut


def _cfpb() -> list[dict[str, str]]:
    path = DATASETS / "cfpb_complaints_sample" / "cfpb_complaints_with_narrative.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    out = []
    for row in rows:
        text = _clip(row["Consumer complaint narrative"])
        if len(text) >= MIN_CHARS:
            out.append({"text": text, "lang": "en", "source": "cfpb"})
    return out


def _bitext() -> list[dict[str, str]]:
    path = DATASETS / "bitext_customer_support" / "bitext_customer_support_4514.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        {"text": r["instruction"].strip(), "lang": "en", "source": "bitext"}
        for r in rows
        if MIN_CHARS <= len(r["instruction"].strip()) <= MAX_CHARS
    ]


def _team_written() -> list[dict[str, str]]:
    out = []
    for path in sorted((ROOT / "tests" / "data").glob("written_*_round*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            data = json.loads(line)
            text = str(data.get("text", "")).strip()
            if data.get("lang") != "en" and MIN_CHARS <= len(text) <= MAX_CHARS:
                out.append({"text": text, "lang": str(data["lang"]), "source": "team-written"})
    return out


def main() -> None:
    rng = random.Random(SEED)
    pools = {"cfpb": _cfpb(), "bitext": _bitext(), "team-written": _team_written()}
    for pool in pools.values():
        rng.shuffle(pool)
    # Mix: mostly short chat lines, a long tail of paragraph-length complaints, a fifth not in English.
    shares = {"bitext": 0.45, "team-written": 0.20, "cfpb": 0.35}
    singles: list[dict[str, str]] = []
    for name, share in shares.items():
        singles += pools[name][: int(SINGLES * share)]
    rng.shuffle(singles)
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / "messages.jsonl").open("w", encoding="utf-8") as handle:
        for item in singles:
            handle.write(json.dumps(item, ensure_ascii=False) + "\n")

    by_lang: dict[str, list[dict[str, str]]] = {}
    for item in singles:
        by_lang.setdefault(item["lang"], []).append(item)
    with (OUT / "conversations.jsonl").open("w", encoding="utf-8") as handle:
        for n in range(CONVERSATIONS):
            lang = rng.choice(["en"] * 4 + sorted(k for k in by_lang if k != "en"))
            turns = rng.randint(2, 8)
            messages: list[dict[str, str]] = []
            for t in range(turns):
                messages.append({"role": "customer", "text": rng.choice(by_lang[lang])["text"]})
                if t < turns - 1:
                    messages.append({"role": "assistant", "text": rng.choice(ASSISTANT_REPLIES)})
            handle.write(json.dumps({"id": f"bench-{n}", "messages": messages}, ensure_ascii=False) + "\n")

    lengths = sorted(len(s["text"]) for s in singles)
    langs = sorted({s["lang"] for s in singles})
    print(
        f"{len(singles)} messages, chars min {lengths[0]} median {statistics.median(lengths):.0f} "
        f"p90 {lengths[int(len(lengths) * 0.9)]} max {lengths[-1]}; languages {', '.join(langs)}; "
        f"{CONVERSATIONS} conversations"
    )


if __name__ == "__main__":
    main()

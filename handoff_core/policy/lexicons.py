"""Phrase lists kept in lexicon files: one phrase a line, one file per language and list, referenced by name.

A 650-line policy that mixes five languages and five anger tiers inline cannot be maintained: the same
phrase crept into a list twice, and ``garbage`` sat in two sentiment tiers at different weights, so
which weight won was an accident of order. Lexicon files split the lists by language and purpose::

    lexicons/en/refund.txt      # English refund phrases, one a line; '#' starts a comment line
    lexicons/es/refund.txt
    lexicons/any/anger_emoji.txt  # language-neutral entries (emoji)

and the policy refers to them by name anywhere a list of phrases is expected::

    lexicons: [lexicons]               # folders (relative to this file), searched before inherited ones
    triggers:
      restricted_topic:
        topics:
          refund:
            phrases: [{lexicon: refund}, store credit instead]   # every language of 'refund', plus one inline

A reference ``{lexicon: NAME}`` (optionally ``languages: [en, es]``) becomes the phrases of every
``<language>/NAME.txt`` found in the lexicon folders; for each language the first folder that has the
file wins, so a user's ``lexicons/en/refund.txt`` replaces the built-in English refund phrases and keeps
the other languages. The folders come from the ``lexicons:`` key of the policy file and of every file it
``extends``, nearest first (the default policy names its own ``lexicons`` folder).

Every phrase remembers where it was written (:class:`Sourced`), so :func:`lexicon_findings` can say
``FILE:LINE`` for a phrase written twice in one list or put in two sentiment tiers at different weights.
Files are read when the policy is loaded, never at decision time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handoff_core.text.phrases import phrase_words

LEXICON_SUFFIX = ".txt"
#: Language folders, in the order their phrases are listed when a lexicon is resolved. ``any`` holds
#: entries that belong to no language (emoji); other two-letter folders are read after these, by name.
LANGUAGE_ORDER = ("en", "es", "fr", "de", "pt", "it", "nl", "any")
MAX_LEXICON_BYTES = 1024 * 1024
MAX_PHRASE_CHARS = 200
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
LANGUAGE = re.compile(r"^(?:[a-z]{2}|any)$")
REFERENCE_KEYS = frozenset({"lexicon", "languages"})


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a phrase was written: a policy file or a lexicon file, and the line."""

    file: str
    line: int | None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line is not None else self.file


class Sourced(str):
    """A phrase that remembers its :class:`Origin` while the policy is loaded (validation gets plain text)."""

    origin: Origin

    def __new__(cls, text: str, origin: Origin) -> Sourced:
        self = super().__new__(cls, text)
        self.origin = origin
        return self


class LexiconProblem(Exception):
    """A lexicon reference or file is wrong; the loader turns it into a PolicyProblem at the right place."""

    def __init__(self, message: str, origin: Origin | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.origin = origin


@dataclass(frozen=True, slots=True)
class LexiconUse:
    """One ``{lexicon: NAME}`` reference as resolved: where it was written and the files it read."""

    #: The list it fills (``triggers.restricted_topic.topics.refund.phrases``).
    field: str
    name: str
    written_at: Origin
    files: tuple[str, ...]
    phrases: int

    def __str__(self) -> str:
        return f"{self.field}: lexicon {self.name!r} ({self.phrases} phrases from {', '.join(self.files)})"


class LexiconLibrary:
    """The lexicon folders of one policy chain (nearest first), each file read and checked once."""

    def __init__(self, folders: Sequence[Path]) -> None:
        self.folders = tuple(folders)
        self._files: dict[Path, tuple[Sourced, ...]] = {}
        self.uses: list[LexiconUse] = []

    def resolve(self, reference: Mapping[str, Any], written_at: Origin, field: str = "") -> list[Sourced]:
        """The phrases a ``{lexicon: NAME, languages: [...]}`` reference stands for, in language order."""
        unknown = set(map(str, reference)) - REFERENCE_KEYS
        if unknown:
            raise LexiconProblem(
                f"a lexicon reference takes only 'lexicon' and 'languages', not {', '.join(sorted(unknown))}"
            )
        name = reference.get("lexicon")
        if not isinstance(name, str) or not NAME.match(name):
            raise LexiconProblem(f"lexicon must be a name such as refund or anger_strong, got {name!r}")
        wanted = reference.get("languages")
        if wanted is not None and (
            not isinstance(wanted, list) or not all(isinstance(w, str) and LANGUAGE.match(w) for w in wanted)
        ):
            raise LexiconProblem(f"languages must be a list of language folders such as [en, es], got {wanted!r}")
        found = self._files_of(name)
        if not found:
            where = ", ".join(str(f) for f in self.folders) or "no lexicon folders (add `lexicons: [folder]`)"
            raise LexiconProblem(f"no lexicon {name!r}: no <language>/{name}{LEXICON_SUFFIX} in {where}")
        if wanted is not None:
            missing = [w for w in wanted if w not in found]
            if missing:
                raise LexiconProblem(f"lexicon {name!r} has no {', '.join(missing)} file (it has {', '.join(found)})")
            found = {lang: path for lang, path in found.items() if lang in wanted}
        phrases: list[Sourced] = []
        for path in found.values():
            phrases.extend(self._read(path))
        self.uses.append(LexiconUse(field, name, written_at, tuple(str(p) for p in found.values()), len(phrases)))
        return phrases

    def _files_of(self, name: str) -> dict[str, Path]:
        """Language -> file, the first folder holding the language's file winning."""
        found: dict[str, Path] = {}
        for folder in self.folders:
            if not folder.is_dir():
                continue
            for lang_dir in sorted(folder.iterdir()):
                path = lang_dir / f"{name}{LEXICON_SUFFIX}"
                if LANGUAGE.match(lang_dir.name) and lang_dir.name not in found and path.is_file():
                    found[lang_dir.name] = path
        rank = {lang: i for i, lang in enumerate(LANGUAGE_ORDER)}
        return dict(sorted(found.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0])))

    def _read(self, path: Path) -> tuple[Sourced, ...]:
        if path not in self._files:
            self._files[path] = read_lexicon(path)
        return self._files[path]


def read_lexicon(path: Path) -> tuple[Sourced, ...]:
    """The phrases of one lexicon file: one a line; blank lines and lines starting with ``#`` skipped."""
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LexiconProblem(f"cannot read the lexicon: {exc.strerror or exc}", Origin(source, None)) from exc
    if len(raw) > MAX_LEXICON_BYTES:
        raise LexiconProblem(f"lexicon file is larger than {MAX_LEXICON_BYTES} bytes", Origin(source, None))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise LexiconProblem("lexicon file is not valid UTF-8 text", Origin(source, line)) from exc
    out = []
    for number, written in enumerate(text.splitlines(), start=1):
        phrase = written.strip()
        if not phrase or phrase.startswith("#"):
            continue
        origin = Origin(source, number)
        if len(phrase) > MAX_PHRASE_CHARS:
            raise LexiconProblem(f"phrase longer than {MAX_PHRASE_CHARS} characters", origin)
        if any(ord(ch) < 32 for ch in phrase):
            raise LexiconProblem("phrase contains a control character", origin)
        out.append(Sourced(phrase, origin))
    return tuple(out)


def plain(data: Any) -> Any:
    """``data`` with every :class:`Sourced` turned back into plain text (what the policy model keeps)."""
    if isinstance(data, Sourced):
        return str.__str__(data)
    if isinstance(data, dict):
        return {k: plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [plain(v) for v in data]
    return data


def phrase_lists(data: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, list[Any]]]:
    """Every list of phrases in merged policy data, with its dotted path (``triggers.sentiment.cues.1.phrases``)."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from phrase_lists(value, (*path, str(key)))
    elif isinstance(data, list):
        if data and all(isinstance(v, str) for v in data):
            yield ".".join(path), data
        else:
            for i, value in enumerate(data):
                yield from phrase_lists(value, (*path, str(i)))


@dataclass(frozen=True, slots=True)
class LexiconFinding:
    """A phrase written twice in one list, or put in two sentiment tiers at different weights."""

    kind: str  # "duplicate" or "conflicting_tier"
    where: Origin | None
    field: str
    message: str

    def __str__(self) -> str:
        place = f"{self.where}: " if self.where is not None else ""
        return f"{place}{self.field}: {self.message}"


def phrase_key(phrase: str) -> str:
    """What matching sees of a phrase (case, accents, apostrophes and punctuation ignored)."""
    return " ".join(phrase_words(phrase)) or phrase.strip().lower()


def origin_of(phrase: Any) -> Origin | None:
    """Where a phrase was written, when it was loaded with its origin."""
    return phrase.origin if isinstance(phrase, Sourced) else None


def duplicate_findings(field: str, phrases: Sequence[Any]) -> list[LexiconFinding]:
    """Phrases of one list written again: the same text anywhere in the list, or, within one lexicon file
    (one language), a phrase that matches exactly what an earlier one matches ("não" / "nao"). Across
    languages a spelling shared after folding accents ("usuario" es / "usuário" pt) is expected, so
    lists written inline in a policy, which mix languages, are only checked for the same text."""
    first: dict[tuple[str, str | None], Any] = {}
    exact: dict[str, Any] = {}
    out = []
    for phrase in phrases:
        if not isinstance(phrase, str):
            continue
        origin = origin_of(phrase)
        text = " ".join(phrase.casefold().split())
        in_lexicon = origin is not None and origin.file.endswith(LEXICON_SUFFIX)
        key = (phrase_key(phrase), origin.file if in_lexicon and origin is not None else None)
        earlier = exact.get(text, first.get(key) if in_lexicon else None)
        if earlier is not None:
            same = "the same phrase" if str(earlier) == str(phrase) else f"the same phrase as {str(earlier)!r}"
            at = f" (first at {origin_of(earlier)})" if origin_of(earlier) is not None else ""
            out.append(LexiconFinding("duplicate", origin, field, f"{str(phrase)!r} is {same} again{at}"))
            continue
        exact[text] = phrase
        first[key] = phrase
    return out


def tier_findings(data: Mapping[str, Any]) -> list[LexiconFinding]:
    """Anger cues in two tiers (``triggers.sentiment.cues``) at different weights: which weight wins is an
    accident of order, so say where both are."""
    triggers = data.get("triggers")
    sentiment = triggers.get("sentiment") if isinstance(triggers, dict) else None
    cues = sentiment.get("cues") if isinstance(sentiment, dict) else None
    seen: dict[str, tuple[Any, Any, int]] = {}
    out = []
    for tier, group in enumerate(cues if isinstance(cues, list) else []):
        if not isinstance(group, dict):
            continue
        weight = group.get("weight")
        for phrase in group.get("phrases") or []:
            if not isinstance(phrase, str):
                continue
            key = phrase_key(phrase)
            if key in seen and seen[key][1] != weight and seen[key][2] != tier:
                earlier, other, other_tier = seen[key]
                at = f" at {origin_of(earlier)}" if origin_of(earlier) is not None else ""
                out.append(
                    LexiconFinding(
                        "conflicting_tier",
                        origin_of(phrase),
                        f"triggers.sentiment.cues.{tier}.phrases",
                        f"{str(phrase)!r} has weight {weight} here and {other} in tier {other_tier}{at}",
                    )
                )
            else:
                seen.setdefault(key, (phrase, weight, tier))
    return out


#: Negation lists read word by word: a longer entry would make each of its words a negation on its own.
WORD_NEGATIONS = ("triggers.sentiment.negations",)


def negation_findings(field: str, phrases: Sequence[Any]) -> list[LexiconFinding]:
    """Entries of a word-by-word negation list that are more than one word ("no way" makes "way" negate)."""
    out = []
    for phrase in phrases:
        words = phrase_words(phrase) if isinstance(phrase, str) else []
        if len(words) > 1:
            message = (
                f"{str(phrase)!r} is {len(words)} words; sentiment negations are single words, so each of "
                f"{', '.join(repr(w) for w in words)} would negate a cue on its own"
            )
            out.append(LexiconFinding("multiword_negation", origin_of(phrase), field, message))
    return out


def lexicon_findings(data: Mapping[str, Any]) -> list[LexiconFinding]:
    """Every duplicate, conflicting tier and multi-word sentiment negation in merged policy data whose
    phrases carry their origins."""
    out = []
    for field, phrases in phrase_lists(data):
        out += duplicate_findings(field, phrases)
        if field in WORD_NEGATIONS:
            out += negation_findings(field, phrases)
    return out + tier_findings(data)

"""Per-message analysis: what the engine learns from one message, computed once, when it arrives.

Why: the worker decides again after every new message. Re-reading the whole transcript each time makes
a conversation cost O(n²) over its life (a 1,000-message chat took 0.4 s per decision). Instead each
message is analysed once into a :class:`MessageAnalysis` (tokens, phrase hits, and the results of every
:class:`MessageDetector`: topic hits, sentiment, human-request cues, a trained model's score…), and the
records are kept with the conversation (:class:`ConversationAnalysis`). Deciding on message n+1 then
costs analysing message n+1 plus a small fold over the records.

Adding a detector (a trained model, a new cue list) is adding a :class:`MessageDetector`: a unique
``key``, the roles it reads, and a pure ``analyze(index, text)``. The engine runs it on every new message
of those roles and keeps the result; a trigger reads it back, typed, with
``ctx.records[i].result(detector)``.

One subtlety keeps the incremental path byte-for-byte equal to analysing from scratch: phrase matching
depends on the conversation's language, which is voted by the function words of *all* customer
messages. Votes are kept cumulatively per record, so the language after message n+1 is known from
record n and message n+1 alone; in the rare case it changes, every record is re-keyed in the new
language (from its text: records keep the text, the folded words and the results, not the heavier
token arrays, word ids and phrase hits, which only the detectors read).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Protocol, TypeVar, cast

from handoff_core.models import Role
from handoff_core.text.phrases import AnalyzedText

R_co = TypeVar("R_co", covariant=True)
R = TypeVar("R")
S = TypeVar("S")
_MISSING = object()

CUSTOMER: frozenset[Role] = frozenset({Role.CUSTOMER})
ASSISTANT: frozenset[Role] = frozenset({Role.ASSISTANT})


class MessageDetector(Protocol[R_co]):
    """Computes one thing from one message. Pure: the same text and language give the same result."""

    #: Unique name of the result in :attr:`MessageAnalysis.results`.
    @property
    def key(self) -> str: ...

    #: The roles whose messages it reads (most read only the customer's).
    @property
    def roles(self) -> frozenset[Role]: ...

    def analyze(self, index: int, text: AnalyzedText) -> R_co: ...


@dataclass(frozen=True, slots=True)
class MessageAnalysis:
    """Everything learnt from one message, kept with the conversation."""

    index: int
    role: Role
    text: str
    #: Language votes of the customer messages up to and including this one (insertion-ordered).
    votes: Mapping[str, int]
    #: The conversation language :attr:`analyzed` and :attr:`results` were computed in.
    language: str
    #: The analysed text, slimmed (:meth:`AnalyzedText.slim`): text, folded words and sentence numbers.
    analyzed: AnalyzedText
    #: Detector results by :attr:`MessageDetector.key`. Lazily computed results (knowledge coverage of
    #: the latest question) and running folds (:func:`running`) are added under their own key the first
    #: time they are needed.
    results: dict[str, object] = field(default_factory=dict)
    #: The message's own fields (assistant confidence, fallback reply, time): a record is reused only while
    #: they match too, so folds may read them from the record.
    confidence: float | None = None
    fallback: bool = False
    created_at: datetime | None = None
    #: The message's own field values (its ``__dict__``: role, text, time, confidence, fallback, id), the
    #: very mapping of the message the record was made from: a decision checks that every kept record
    #: still stands for its message by comparing these with the transcript's. The same message object
    #: compares by identity (a pointer per message); one read back from a store compares its values.
    fields: Mapping[str, object] = field(default_factory=dict)

    def result(self, detector: MessageDetector[R]) -> R:
        """The result ``detector`` computed for this message (a KeyError if it does not read this role)."""
        return cast(R, self.results[detector.key])


@dataclass(frozen=True, slots=True)
class ConversationAnalysis:
    """The analysed messages of one conversation, index-aligned with ``Conversation.messages``.

    Keep it with the conversation and hand it back to :meth:`DecisionEngine.decide` on the next
    message; records of unchanged messages are reused. It belongs to the engine that made it: another
    engine (a reloaded policy) analyses from scratch.
    """

    owner: object
    language: str
    records: tuple[MessageAnalysis, ...]
    #: Indexes of the customer messages, in order.
    customer_indexes: tuple[int, ...] = ()
    #: Collections the owner gathers from the records for every decision (its own types), extended
    #: from the previous analysis rather than gathered again when only messages were added.
    gathered: object = None
    #: ``records[i].fields`` for every record, in one tuple: the reuse check compares it with the new
    #: transcript's in one C-level tuple comparison instead of reading a field of every record.
    fields: tuple[Mapping[str, object], ...] = ()


def running(records: Sequence[MessageAnalysis], key: str, initial: S, step: Callable[[S, MessageAnalysis], S]) -> S:
    """``step`` folded over ``records`` from ``initial``, resuming where an earlier decision stopped.

    The state after each record is kept in that record under ``key``. A record is reused only while
    every message up to it is unchanged, so the state it keeps is still the state of that prefix: the
    fold restarts from the last record that has one, and a decision costs the new records only. ``step``
    must read nothing but the record (and the engine's fixed configuration) for this to hold.
    """
    start = len(records)
    state = initial
    while start > 0:
        kept = records[start - 1].results.get(key, _MISSING)
        if kept is not _MISSING:
            state = cast(S, kept)
            break
        start -= 1
    for record in records[start:]:
        state = step(state, record)
        record.results[key] = state
    return state


@dataclass(frozen=True, slots=True)
class FunctionDetector(Generic[R]):
    """A detector made of a key, roles and a function: most triggers need nothing more."""

    key: str
    roles: frozenset[Role]
    function: Callable[[int, AnalyzedText], R]

    def analyze(self, index: int, text: AnalyzedText) -> R:
        return self.function(index, text)

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

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar, cast

from handoff_core.models import Role
from handoff_core.text.phrases import AnalyzedText

R_co = TypeVar("R_co", covariant=True)
R = TypeVar("R")

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
    #: the latest question) are added under their own key the first time they are needed.
    results: dict[str, object] = field(default_factory=dict)

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

    @property
    def customer_indexes(self) -> tuple[int, ...]:
        return tuple(r.index for r in self.records if r.role is Role.CUSTOMER)


@dataclass(frozen=True, slots=True)
class FunctionDetector(Generic[R]):
    """A detector made of a key, roles and a function: most triggers need nothing more."""

    key: str
    roles: frozenset[Role]
    function: Callable[[int, AnalyzedText], R]

    def analyze(self, index: int, text: AnalyzedText) -> R:
        return self.function(index, text)

"""The one retry policy: tenacity, bounded, honouring ``Retry-After``.

Two levels, both bounded:

- *inline*: a few quick attempts inside one processing run (:func:`inline_retrying`), waiting what the
  vendor asked for (``Retry-After``) or a short jittered exponential backoff;
- *durable*: when the inline attempts are spent, the row is rescheduled with :func:`backoff_delay`
  (stored in the row, so it survives restarts) until ``outbox_max_attempts``, then parked as dead.
"""

from __future__ import annotations

import random

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.stop import stop_base
from tenacity.wait import wait_base, wait_exponential_jitter

from connectors.errors import TransientError


class wait_retry_after(wait_base):
    """Wait the vendor's ``Retry-After`` (capped), else fall back to another wait strategy."""

    def __init__(self, fallback: wait_base, cap: float) -> None:
        self.fallback = fallback
        self.cap = cap

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, TransientError) and exc.retry_after is not None:
            return float(min(max(exc.retry_after, 0.0), self.cap))
        return min(float(self.fallback(retry_state)), self.cap)


class stop_on_long_retry_after(stop_base):
    """Stop quick retries when the vendor asks for a longer pause: the row is rescheduled instead."""

    def __init__(self, cap: float) -> None:
        self.cap = cap

    def __call__(self, retry_state: RetryCallState) -> bool:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        return isinstance(exc, TransientError) and (exc.retry_after or 0) > self.cap


def inline_retrying(attempts: int, *, cap: float = 30.0, base: float = 0.2) -> AsyncRetrying:
    """A few quick attempts on :class:`TransientError` only; a Retry-After above ``cap`` stops at once."""
    return AsyncRetrying(
        stop=stop_after_attempt(max(attempts, 1)) | stop_on_long_retry_after(cap),
        wait=wait_retry_after(wait_exponential_jitter(multiplier=base, max=cap, jitter=base), cap),
        retry=retry_if_exception_type(TransientError),
        reraise=True,
    )


def backoff_delay(attempt: int, *, base: float, cap: float, retry_after: float | None = None) -> float:
    """Seconds until the next durable attempt: exponential with jitter, never below ``Retry-After``."""
    delay: float = min(cap, base * 2.0 ** max(attempt - 1, 0))
    delay = delay * (0.8 + 0.4 * random.random())
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay

"""Per-model limits: concurrency, request and token rates, retry back-off.

* :class:`TokenBucket` — a rate limiter that refills continuously; its burst is one
  second's worth of the rate (at least one unit), so a per-minute budget is spread
  over the minute instead of being spent in the first instant.
* :class:`ModelLimiter` — one per model and event loop: an ``asyncio.Semaphore`` for
  calls in flight, plus optional request-per-minute and token-per-minute buckets.
* :func:`backoff_delay` — exponential back-off with jitter that honours ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import ModelSpec

__all__ = [
    "BASE_DELAY_S",
    "MAX_DELAY_S",
    "MAX_RETRY_AFTER_S",
    "ModelLimiter",
    "TokenBucket",
    "backoff_delay",
    "estimate_tokens",
]

BASE_DELAY_S = 0.25
MAX_DELAY_S = 20.0
MAX_RETRY_AFTER_S = 120.0


class TokenBucket:
    """Continuous-refill token bucket: ``rate_per_minute`` units, burst ``capacity``.

    :meth:`acquire` waits until ``amount`` units are available and takes them. An
    amount larger than the capacity is allowed (it waits for a full bucket and leaves
    it in debt) so that one big request is never refused forever. :meth:`adjust`
    settles the difference once the real amount is known (e.g. tokens used).
    """

    def __init__(self, rate_per_minute: float, capacity: float | None = None) -> None:
        self.rate = rate_per_minute / 60.0  # units per second
        self.capacity = capacity if capacity is not None else max(1.0, self.rate)
        self._level = self.capacity
        self._stamp = time.monotonic()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = time.monotonic()
        self._level = min(self.capacity, self._level + (now - self._stamp) * self.rate)
        self._stamp = now

    async def acquire(self, amount: float = 1.0) -> None:
        """Wait until ``amount`` units can be taken, then take them (FIFO among waiters)."""
        async with self._lock:
            self._refill()
            need = min(amount, self.capacity)
            while self._level < need:
                await asyncio.sleep((need - self._level) / self.rate)
                self._refill()
            self._level -= amount

    def adjust(self, delta: float) -> None:
        """Take ``delta`` more units (or give back if negative) without waiting."""
        self._refill()
        self._level = min(self.capacity, self._level - delta)


def estimate_tokens(messages: list[dict[str, str]], max_tokens: object = None) -> int:
    """A cheap upper-ish estimate of a call's tokens: ~4 characters per token plus output."""
    chars = 0
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            chars += len(content)
    out = max_tokens if isinstance(max_tokens, int) and max_tokens > 0 else 256
    return chars // 4 + 4 * len(messages) + out


class ModelLimiter:
    """The limits of one model within one event loop.

    Use ``await limiter.enter(tokens)`` / ``limiter.exit()`` around each attempt.
    """

    __slots__ = ("_semaphore", "rpm", "tpm")

    def __init__(self, spec: ModelSpec) -> None:
        self._semaphore = asyncio.Semaphore(spec.max_concurrency)
        self.rpm = TokenBucket(spec.requests_per_minute) if spec.requests_per_minute else None
        self.tpm = TokenBucket(spec.tokens_per_minute) if spec.tokens_per_minute else None

    async def enter(self, tokens: int = 0) -> None:
        """Wait for a concurrency slot, then for the rate budgets.

        The slot is taken first so that requests leave at the pace the buckets allow
        (taking rate budget first would let budget pile up behind busy slots and go
        out in a burst when they free up).
        """
        await self._semaphore.acquire()
        try:
            if self.rpm is not None:
                await self.rpm.acquire(1.0)
            if self.tpm is not None and tokens:
                await self.tpm.acquire(float(tokens))
        except BaseException:
            self._semaphore.release()
            raise

    def exit(self) -> None:
        """Give the concurrency slot back."""
        self._semaphore.release()

    def settle_tokens(self, estimated: int, actual: int) -> None:
        """Correct the token bucket once the real usage of a call is known."""
        if self.tpm is not None and estimated:
            self.tpm.adjust(actual - estimated)


def backoff_delay(
    attempt: int,
    retry_after: float | None = None,
    *,
    base: float = BASE_DELAY_S,
    cap: float = MAX_DELAY_S,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before attempt ``attempt + 1`` after attempt ``attempt`` failed.

    Exponential (``base * 2**(attempt-1)``, capped) with "equal jitter" (between half
    and all of it). A server's ``Retry-After`` is a floor: we wait at least that long
    (capped at :data:`MAX_RETRY_AFTER_S`), plus up to 10 % jitter so that many
    callers told the same instant do not all return together.
    """
    r = (rng or random).random()
    exp = min(cap, base * (2 ** max(0, attempt - 1)))
    delay = exp * (0.5 + 0.5 * r)
    if retry_after is not None and retry_after > 0:
        floor = min(retry_after, MAX_RETRY_AFTER_S)
        delay = max(delay, floor * (1.0 + 0.1 * r))
    return delay

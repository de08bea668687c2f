"""CompoundLimiter: several limits on one request, accepted only if every one accepts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from throttle_core.errors import ConfigError, ReserveNotSupported
from throttle_core.limiter import Limiter, NoLimiter, check_tokens
from throttle_core.result import RateLimit, Reservation


class CompoundLimiter:
    """All members must accept. A refusal gives back what the others took in the same call,
    and reports the longest retry among the refusing members; `members` of the result hold
    each member's own decision, in order."""

    def __init__(self, limiters: Sequence[Limiter | NoLimiter]) -> None:
        if not limiters:
            raise ConfigError("a compound limiter needs at least one limiter, got none")
        self.limiters = tuple(limiters)

    @property
    def limit(self) -> int:
        return min(limiter.limit for limiter in self.limiters)

    def _check(self, tokens: int) -> None:
        for limiter in self.limiters:
            check_tokens(tokens, limiter.limit)

    def consume(self, tokens: int = 1) -> RateLimit:
        self._check(tokens)
        results = [limiter.consume(tokens) for limiter in self.limiters]
        if tokens and not all(results):
            for limiter, result in zip(self.limiters, results, strict=True):
                if result.accepted:
                    limiter.refund(tokens, result.now)
        return combine(results, tokens)

    async def aconsume(self, tokens: int = 1) -> RateLimit:
        self._check(tokens)
        results = [await limiter.aconsume(tokens) for limiter in self.limiters]
        if tokens and not all(results):
            for limiter, result in zip(self.limiters, results, strict=True):
                if result.accepted:
                    await limiter.arefund(tokens, result.now)
        return combine(results, tokens)

    def reserve(self, tokens: int = 1, max_wait: float | None = None) -> Reservation:
        raise ReserveNotSupported("a compound limiter cannot reserve; reserve on each limiter")

    async def areserve(self, tokens: int = 1, max_wait: float | None = None) -> Reservation:
        raise ReserveNotSupported("a compound limiter cannot reserve; reserve on each limiter")

    def reset(self) -> None:
        for limiter in self.limiters:
            limiter.reset()

    async def areset(self) -> None:
        for limiter in self.limiters:
            await limiter.areset()


def combine(results: Sequence[RateLimit], tokens: int) -> RateLimit:
    """One result for several: refused if any refused (its longest retry wins), else the
    member with the least remaining speaks; given-back members report what they have now."""
    accepted = all(results)
    if not accepted:
        results = [
            replace(r, remaining=min(r.limit, r.remaining + tokens)) if r.accepted else r
            for r in results
        ]
        lead = max((r for r in results if not r.accepted), key=lambda r: r.retry_after)
    else:
        lead = min(results, key=lambda r: r.remaining)
    return RateLimit(
        accepted,
        lead.limit,
        lead.remaining,
        lead.retry_after,
        max(r.reset_after for r in results) if accepted else lead.reset_after,
        max(r.now for r in results),
        tuple(results),
    )

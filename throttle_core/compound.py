"""CompoundLimiter: several limits on one request, accepted only if every one accepts."""

from __future__ import annotations

from collections.abc import Sequence

from throttle_core.errors import ConfigError, ReserveNotSupported
from throttle_core.limiter import Limiter, NoLimiter, check_tokens
from throttle_core.programs import Effect, Program, arun, run
from throttle_core.result import RateLimit, Reservation


def _members(limiters: object) -> tuple[Limiter | NoLimiter, ...]:
    """The limiters of a compound, checked: a non-empty list of `Limiter`s."""
    if not isinstance(limiters, Sequence) or isinstance(limiters, str):
        raise ConfigError(f"a compound limiter takes a list of limiters, got {limiters!r:.100}")
    if not limiters:
        raise ConfigError("a compound limiter needs at least one limiter, got none")
    for member in limiters:
        if not isinstance(member, Limiter | NoLimiter):
            raise ConfigError(
                "a compound limiter's members must be Limiters (factory.create(key)), "
                f"got {member!r:.100}"
            )
    return tuple(limiters)


class CompoundLimiter:
    """All members must accept. A refusal gives back what the others took in the same call,
    and reports the longest retry among the refusing members; `members` of the result hold
    each member's own decision, in order."""

    def __init__(self, limiters: Sequence[Limiter | NoLimiter]) -> None:
        self.limiters = _members(limiters)

    @property
    def limit(self) -> int:
        return min(limiter.limit for limiter in self.limiters)

    def _counts(self, tokens: int | Sequence[int]) -> list[int]:
        """One token count per member: `tokens` for all, or a sequence giving each its own."""
        if not isinstance(tokens, Sequence):
            tokens = [tokens] * len(self.limiters)
        elif len(tokens) != len(self.limiters):
            raise ValueError(
                f"got {len(tokens)} token counts for a compound of {len(self.limiters)} limiters"
            )
        return [check_tokens(n, lim.limit) for lim, n in zip(self.limiters, tokens, strict=True)]

    def consume(self, tokens: int | Sequence[int] = 1) -> RateLimit:
        """Take `tokens` from every member (a sequence: each member's own count) or none."""
        return run(self._deciding(self._counts(tokens)))

    async def aconsume(self, tokens: int | Sequence[int] = 1) -> RateLimit:
        return await arun(self._deciding(self._counts(tokens)))

    def _deciding(self, counts: Sequence[int]) -> Program[RateLimit]:
        """Each member's decision in turn; on a refusal, what the accepting ones took is
        given back."""
        members = list(zip(self.limiters, counts, strict=True))
        results: list[RateLimit] = []
        for limiter, n in members:
            results.append((yield Effect(limiter.consume, limiter.aconsume, (n,))))
        if not all(results):
            for i, ((limiter, n), result) in enumerate(zip(members, results, strict=True)):
                if result.accepted and n:
                    after = yield Effect(limiter.refund, limiter.arefund, (n, result.now))
                    results[i] = given_back(result, n, after)
        return combine(results)

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


def given_back(result: RateLimit, tokens: int, after: RateLimit | None) -> RateLimit:
    """A member's accepted `result` once its `tokens` were given back: what the refund reports
    it has now (or, from a storage that does not report, the tokens added back)."""
    if after is None:
        return result._replace(remaining=min(result.limit, result.remaining + tokens))
    return result._replace(remaining=after.remaining, reset_after=after.reset_after)


def combine(results: Sequence[RateLimit]) -> RateLimit:
    """One result for several: refused if any refused (its longest retry wins), else the
    member with the least remaining speaks."""
    accepted = all(results)
    if not accepted:
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

"""The outcome of a decision (`RateLimit`) and of a booking ahead (`Reservation`)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, NamedTuple, Protocol

from throttle_core.errors import RateLimitExceeded

if TYPE_CHECKING:
    from throttle_core.clock import Clock


class RateLimit(NamedTuple):
    """What one decision said: accepted or not, how much is left, and when to come back.

    `now` is the time the decision was taken at (server time for storages that decide on
    their server); `members` holds each member's result for a compound decision. An
    immutable named tuple: cheap to build on every request.
    """

    accepted: bool
    limit: int
    remaining: int
    retry_after: float
    reset_after: float
    now: float
    members: tuple[RateLimit, ...] = ()

    def __bool__(self) -> bool:
        return self.accepted

    @property
    def reset_time(self) -> datetime:
        """Aware UTC datetime at which the limiter is fully replenished."""
        return datetime.fromtimestamp(self.now + self.reset_after, tz=timezone.utc)

    @property
    def retry_time(self) -> datetime:
        """Aware UTC datetime at which a retry can succeed."""
        return datetime.fromtimestamp(self.now + self.retry_after, tz=timezone.utc)

    def ensure_accepted(self) -> RateLimit:
        """Return self when accepted; raise `RateLimitExceeded` otherwise."""
        if not self.accepted:
            raise RateLimitExceeded(self)
        return self


_tuple_new = tuple.__new__


def rate_limit(
    accepted: bool, limit: int, remaining: int, retry_after: float, reset_after: float, now: float
) -> RateLimit:
    """`RateLimit(accepted, limit, remaining, retry_after, reset_after, now)`, built as the
    tuple it is: the named tuple's own constructor costs twice as much, on every decision."""
    return _tuple_new(RateLimit, (accepted, limit, remaining, retry_after, reset_after, now, ()))


class Refundable(Protocol):
    """Something that can take back tokens it handed out (a limiter); used by reservations."""

    def refund(self, tokens: int, at: float) -> RateLimit | None: ...

    async def arefund(self, tokens: int, at: float) -> RateLimit | None: ...


class Reservation:
    """Tokens booked ahead: usable after `delay` seconds, or given back with `cancel()`."""

    __slots__ = ("_cancelled", "_clock", "_owner", "rate_limit", "tokens")

    def __init__(
        self, owner: Refundable | None, tokens: int, rate_limit: RateLimit, clock: Clock
    ) -> None:
        self._owner = owner
        self._clock = clock
        self._cancelled = owner is None or tokens == 0
        self.tokens = tokens
        self.rate_limit = rate_limit

    @property
    def delay(self) -> float:
        """Seconds from the decision until the booked tokens may be used."""
        return 0.0 if self.rate_limit.accepted else self.rate_limit.retry_after

    @property
    def time_to_act(self) -> float:
        """Epoch seconds at which the booked tokens may be used."""
        return self.rate_limit.now + self.delay

    def wait(self) -> None:
        """Block until the booked tokens may be used."""
        self._clock.sleep(self.time_to_act - self._clock.now())

    async def await_(self) -> None:
        """Async twin of `wait()` (`await` itself is a keyword)."""
        await self._clock.asleep(self.time_to_act - self._clock.now())

    def cancel(self) -> None:
        """Give the booked tokens back; a second call does nothing."""
        if self._cancelled or self._owner is None:
            return
        self._cancelled = True
        self._owner.refund(self.tokens, self.time_to_act)

    async def acancel(self) -> None:
        """Async twin of `cancel()`."""
        if self._cancelled or self._owner is None:
            return
        self._cancelled = True
        await self._owner.arefund(self.tokens, self.time_to_act)

    def __repr__(self) -> str:
        return f"Reservation(tokens={self.tokens}, delay={self.delay:.6f})"

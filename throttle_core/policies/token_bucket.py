"""Token bucket: burst `limit`, refilled continuously at `rate`; can go into debt to reserve."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from throttle_core.duration import Rate, describe_seconds
from throttle_core.policies.base import (
    MAX_STORED_COUNT,
    Arg,
    RatedPolicy,
    StateBase,
    count_problem,
    far_from,
    ttl_seconds,
)
from throttle_core.policies.spec import (
    ServerSide,
    counted,
    near,
    rated_spec,
    server_file,
)
from throttle_core.result import RateLimit, rate_limit


@dataclass(slots=True)
class TokenBucketState(StateBase):
    """`tokens` in the bucket at time `timer` (negative while in debt)."""

    type: ClassVar[str] = "token_bucket"
    id: str
    limit: int
    rate: float
    tokens: float
    timer: float

    @property
    def expiration_time(self) -> int:
        return ttl_seconds((self.limit - self.tokens) / self.rate)

    def problem(self, now: float | None = None) -> str | None:
        if not self.rate > 0:
            return f"rate {self.rate!r} is not positive"
        return (
            count_problem("limit", self.limit, 1)
            or count_problem("tokens", self.tokens, -MAX_STORED_COUNT)
            or (f"tokens {self.tokens!r} exceed the limit" if self.tokens > self.limit else None)
            or far_from(now, self.timer)
        )

    def available(self, now: float) -> float:
        """The tokens in the bucket at `now` (the limit it was decided under)."""
        elapsed = now - self.timer
        return min(float(self.limit), self.tokens + (elapsed if elapsed > 0 else 0.0) * self.rate)

    def usage(self, now: float) -> tuple[int, float]:
        available = self.available(now)
        return self.limit - max(0, math.floor(available)), (self.limit - available) / self.rate

    def summary(self, now: float, used: int) -> str:
        return (
            f"{self.tokens:.3f} tokens of {self.limit} "
            f"{describe_seconds(max(0.0, now - self.timer))} ago, refilling "
            f"{self.rate:.4g} per second"
        )

    def implied_config(self, id: str) -> dict[str, Any] | None:
        return {
            "policy": self.type, "id": id, "limit": self.limit,
            "rate": {"interval": self.limit / self.rate, "amount": self.limit},
        }  # fmt: skip

    def mismatch(self, config: Mapping[str, Any]) -> str | None:
        if self.limit == config["limit"]:
            return None
        return f"the stored bucket's burst is {self.limit} but the limit's is {config['limit']}"


class TokenBucket(RatedPolicy):
    """available(now) = min(limit, tokens + (now - timer) * rate); a new bucket is full."""

    name: ClassVar[str] = "token_bucket"
    books_ahead: ClassVar[bool] = True
    state_type: ClassVar[type[TokenBucketState]] = TokenBucketState
    server: ClassVar[ServerSide] = ServerSide(
        params=(("limit", "bigint"), ("rate", "float8")),
        lua=server_file("lua/token_bucket.lua"),
        sql=server_file("sql/token_bucket.sql"),
        checks=(
            '@."rate" > 0', counted("limit", 1), counted("tokens", -MAX_STORED_COUNT),
            '@."tokens" <= @."limit"', near("timer"),
        ),
    )  # fmt: skip

    def __init__(self, limit: int, rate: Rate) -> None:
        super().__init__(limit, rate)
        self.per_second = rate.tokens_per_second
        self.full = float(self.limit)
        """What `available` returns for a full bucket (this very float)."""
        self.full_less_one = self.full - 1.0
        """What a full bucket holds after one token: one float shared by every such state
        (a new key's, or one idle until refilled), 24 bytes a key in memory."""

    def window_seconds(self) -> float:
        return self.limit / self.per_second

    def available(self, state: TokenBucketState | None, now: float) -> float:
        if state is None:
            return self.full
        elapsed = now - state.timer
        if elapsed <= 0:
            return min(self.full, state.tokens)
        return min(self.full, state.tokens + elapsed * self.per_second)

    def server_args(self) -> tuple[Arg, ...]:
        return self.limit, float(self.per_second)

    def from_reply(
        self, accepted: bool, now: float, retry: float, fields: Sequence[bytes | str]
    ) -> RateLimit:
        return self.result(accepted, float(fields[0]), retry, now)

    def _wait(self, available: float, tokens: int) -> float:
        return 0.0 if available >= tokens else (tokens - available) / self.per_second

    def result(self, accepted: bool, tokens: float, retry: float, now: float) -> RateLimit:
        """The decision for a bucket holding `tokens` afterwards (storages that decide on their
        server rebuild their result with it, so the arithmetic lives in one place)."""
        reset = (self.limit - tokens) / self.per_second if tokens < self.limit else 0.0
        remaining = math.floor(tokens) if tokens > 0 else 0
        return rate_limit(accepted, self.limit, remaining, retry, reset, now)

    def decide(
        self,
        id: str,
        state: TokenBucketState | None,
        now: float,
        tokens: int,
        max_wait: float | None,
    ) -> tuple[TokenBucketState | None, RateLimit]:
        available = self.available(state, now)
        if tokens == 0:
            return None, self.result(available >= 0, available, self._wait(available, 1), now)
        wait = self._wait(available, tokens)
        if max_wait is not None and wait > max_wait:
            return None, self.result(False, available, wait, now)
        left = self.full_less_one if available is self.full and tokens == 1 else available - tokens
        timer = now if state is None or now > state.timer else state.timer
        new = TokenBucketState(id, self.limit, self.per_second, left, timer)
        return new, self.result(wait == 0.0, left, wait, now)

    def refund(
        self, state: TokenBucketState | None, now: float, tokens: int, at: float
    ) -> TokenBucketState | None:
        if state is None:
            return None
        tokens_back = min(self.full, self.available(state, now) + tokens)
        timer = now if now > state.timer else state.timer
        return TokenBucketState(state.id, self.limit, self.per_second, tokens_back, timer)


SPEC = rated_spec(TokenBucket, TokenBucketState, "refilled ")

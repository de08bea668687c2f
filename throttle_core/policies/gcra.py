"""GCRA, the generic cell rate algorithm: a burst of `limit`, then one token per `period`.

A request of n tokens is admitted once its theoretical arrival time, pushed back by n
periods, is at most `limit` periods ahead of now. The arrival time is kept as `base +
count·period` (`count` tokens taken since `base`, the last moment nothing was owed), so it
is one rounding away from exact however many decisions built it: a full burst is always
admitted, and a request is admitted at exactly the instant its `retry_after` names.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from throttle_core.duration import Rate, describe_seconds
from throttle_core.policies.base import (
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


def admitted_at(base: float, count: int, tokens: int, limit: int, period: float) -> float:
    """When `tokens` more are admitted after `count` taken since `base`; every storage
    computes it with these two roundings, in this order."""
    return base + (count + tokens - limit) * period


def room(base: float, count: int, limit: int, period: float, now: float) -> int:
    """How many tokens are admitted at `now`: the most n ≤ `limit` whose `admitted_at` is not
    after now (estimated by division, then settled by the comparison a decision makes)."""
    ahead = count - limit
    n = math.floor((now - base) / period) - ahead
    n = 0 if n < 0 else limit if n > limit else n
    # admitted_at(base, count, n, limit, period), with its roundings, spelt out (ints are exact)
    while n > 0 and base + (ahead + n) * period > now:
        n -= 1
    while n < limit and base + (ahead + n + 1) * period <= now:
        n += 1
    return n


@dataclass(slots=True)
class GCRAState(StateBase):
    """`count` tokens taken since `base` at one per `period`: the theoretical arrival time is
    `base + count·period`; `timer` is when it was last decided on."""

    type: ClassVar[str] = "gcra"
    id: str
    limit: int
    period: float
    base: float
    count: int
    timer: float

    @property
    def arrival(self) -> float:
        """The theoretical arrival time: when nothing is owed any more."""
        return self.base + self.count * self.period

    @property
    def expiration_time(self) -> int:
        return ttl_seconds(self.arrival - self.timer)

    def problem(self, now: float | None = None) -> str | None:
        if not self.period > 0:
            return f"period {self.period!r} is not positive"
        return (
            count_problem("limit", self.limit, 1)
            or count_problem("count", self.count)
            or far_from(now, self.base, self.timer)
        )

    def usage(self, now: float) -> tuple[int, float]:
        if self.arrival <= now:
            return 0, 0.0
        free = room(self.base, self.count, self.limit, self.period, now)
        return self.limit - free, self.arrival - now

    def summary(self, now: float, used: int) -> str:
        ahead = self.arrival - now
        owed = f"arrival time {describe_seconds(ahead)} ahead" if ahead > 0 else "nothing owed"
        return (
            f"{owed} ({self.count} tokens since {describe_seconds(max(0.0, now - self.base))} "
            f"ago, one per {describe_seconds(self.period)}, burst {self.limit})"
        )

    def implied_config(self, id: str) -> dict[str, Any] | None:
        return {
            "policy": self.type, "id": id, "limit": self.limit,
            "rate": {"interval": self.period * self.limit, "amount": self.limit},
        }  # fmt: skip

    def mismatch(self, config: Mapping[str, Any]) -> str | None:
        period = config["rate"]["interval"] / config["rate"]["amount"]
        if self.limit == config["limit"] and self.period == period:
            return None
        return (
            f"the stored state's burst is {self.limit}, one token per "
            f"{describe_seconds(self.period)}, but the limit's is {config['limit']}, one per "
            f"{describe_seconds(period)}"
        )


class GCRA(RatedPolicy):
    """Admits n tokens at now iff base + (count + n − limit)·period ≤ now; books ahead to
    reserve (a booking pushes the arrival time later, a cancel pulls it back)."""

    name: ClassVar[str] = "gcra"
    books_ahead: ClassVar[bool] = True
    state_type: ClassVar[type[GCRAState]] = GCRAState
    server: ClassVar[ServerSide] = ServerSide(
        params=(("limit", "bigint"), ("period", "float8")),
        lua=server_file("lua/gcra.lua"),
        sql=server_file("sql/gcra.sql"),
        checks=(
            '@."period" > 0', counted("limit", 1), counted("count"), near("base"),
            near("timer"),
        ),
    )  # fmt: skip

    def __init__(self, limit: int, rate: Rate) -> None:
        super().__init__(limit, rate)
        self.period = rate.interval / rate.amount

    def window_seconds(self) -> float:
        return self.limit * self.period

    def server_args(self) -> tuple[Arg, ...]:
        return self.limit, float(self.period)

    def from_reply(
        self, accepted: bool, now: float, retry: float, fields: Sequence[bytes | str]
    ) -> RateLimit:
        return self.result(accepted, float(fields[0]), int(float(fields[1])), retry, now)

    def position(self, state: GCRAState | None, now: float) -> tuple[float, int]:
        """`(base, count)` at `now`: the stored ones while something is owed, else (now, 0)."""
        if state is None or state.base + state.count * self.period <= now:
            return now, 0
        return state.base, state.count

    def result(
        self, accepted: bool, base: float, count: int, retry: float, now: float
    ) -> RateLimit:
        """The decision for `count` taken since `base` afterwards (also used by storages that
        decide on their server)."""
        arrival = base + count * self.period
        reset = arrival - now if arrival > now else 0.0
        remaining = room(base, count, self.limit, self.period, now)
        return rate_limit(accepted, self.limit, remaining, retry, reset, now)

    def decide(
        self,
        id: str,
        state: GCRAState | None,
        now: float,
        tokens: int,
        max_wait: float | None,
    ) -> tuple[GCRAState | None, RateLimit]:
        base, count = self.position(state, now)
        at = admitted_at(base, count, tokens or 1, self.limit, self.period)
        wait = at - now if at > now else 0.0
        if tokens == 0:
            in_credit = admitted_at(base, count, 0, self.limit, self.period) <= now
            return None, self.result(in_credit, base, count, wait, now)
        if max_wait is not None and wait > max_wait:
            return None, self.result(False, base, count, wait, now)
        new = GCRAState(id, self.limit, self.period, base, count + tokens, now)
        return new, self.result(wait == 0.0, base, count + tokens, wait, now)

    def refund(
        self, state: GCRAState | None, now: float, tokens: int, at: float
    ) -> GCRAState | None:
        if state is None:
            return None
        base, count = self.position(state, now)
        if count == 0:
            return None
        left = count - tokens if count > tokens else 0
        return GCRAState(state.id, self.limit, self.period, base, left, now)


SPEC = rated_spec(GCRA, GCRAState, "")

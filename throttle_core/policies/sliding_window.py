"""Sliding-window counter: the previous window's count weighted by how much of it still overlaps."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from throttle_core.duration import describe_period, describe_seconds, parse_count, parse_interval
from throttle_core.policies.base import (
    Arg,
    ClockWindows,
    StateBase,
    count_problem,
    far_from,
    interval_mismatch,
    ttl_seconds,
)
from throttle_core.policies.spec import (
    INTERVAL,
    LIMIT,
    PolicySpec,
    ServerSide,
    counted,
    counted_limit,
    near,
    server_file,
)
from throttle_core.result import RateLimit, rate_limit


@dataclass(slots=True)
class SlidingWindowState(StateBase):
    """Counts of the clock-aligned window starting at `start` and of the one before it."""

    type: ClassVar[str] = "sliding_window"
    id: str
    interval: float
    start: float
    previous: int
    current: int
    timer: float

    @property
    def expiration_time(self) -> int:
        return ttl_seconds(self.start + 2 * self.interval - self.timer)

    def problem(self, now: float | None = None) -> str | None:
        if not self.interval > 0:
            return f"interval {self.interval!r} is not positive"
        return (
            count_problem("previous", self.previous)
            or count_problem("current", self.current)
            or far_from(now, self.start, self.timer)
        )

    def usage(self, now: float) -> tuple[int, float]:
        sliding = SlidingWindow(1, self.interval)
        start, previous, current = sliding.windows(self, now)
        reset = sliding.result(True, start, previous, current, 0.0, now).reset_after
        return sliding.estimate(start, previous, current, now), reset

    def summary(self, now: float, used: int) -> str:
        return (
            f"estimate {used} (previous window {self.previous}, current "
            f"{self.current}, windows of {describe_seconds(self.interval)})"
        )

    def mismatch(self, config: Mapping[str, Any]) -> str | None:
        return interval_mismatch(self.interval, config)


class SlidingWindow:
    """estimate = floor(previous·(1 − elapsed/I) + current); admits n iff estimate + n ≤ limit.

    The decision is the estimate's at `now`; a refusal is never a booking (`books_ahead` is
    False), so the limiter turns a refused `reserve()` within its `max_wait` into
    `ReserveNotSupported`.
    """

    name: ClassVar[str] = "sliding_window"
    books_ahead: ClassVar[bool] = False
    state_type: ClassVar[type[SlidingWindowState]] = SlidingWindowState
    server: ClassVar[ServerSide] = ServerSide(
        params=(("limit", "bigint"), ("interval", "float8")),
        lua=server_file("lua/sliding_window.lua"),
        sql=server_file("sql/sliding_window.sql"),
        checks=(
            '@."interval" > 0', counted("previous"), counted("current"), near("start"),
            near("timer"),
        ),
    )  # fmt: skip

    def __init__(self, limit: int, interval: float) -> None:
        self.limit = parse_count(limit, "limit")
        self.interval = parse_interval(interval)
        self._windows = ClockWindows(self.interval)

    def window_seconds(self) -> float:
        return self.interval

    def server_args(self) -> tuple[Arg, ...]:
        return self.limit, float(self.interval)

    def from_reply(
        self, accepted: bool, now: float, retry: float, fields: Sequence[bytes | str]
    ) -> RateLimit:
        start, previous, current = float(fields[0]), int(fields[1]), int(fields[2])
        return self.result(accepted, start, previous, current, retry, now)

    def windows(self, state: SlidingWindowState | None, now: float) -> tuple[float, int, int]:
        """(start, previous, current) of the window holding `now`."""
        start = self._windows.start(now)
        if state is None:
            return start, 0, 0
        shift = round((start - state.start) / self.interval)
        if shift <= 0:
            return state.start, state.previous, state.current
        if shift == 1:
            return start, state.current, 0
        return start, 0, 0

    def estimate(self, start: float, previous: int, current: int, now: float) -> int:
        elapsed = now - start if now > start else 0.0
        return math.floor(previous * (1.0 - elapsed / self.interval) + current)

    def wait(self, start: float, previous: int, current: int, now: float, tokens: int) -> float:
        """Exact time until the estimate admits `tokens`: 0 when it admits them now, else the
        wait to the infimum (admitted at any moment after it; 0 at the infimum itself)."""
        return self._wait(
            self.estimate(start, previous, current, now), start, previous, current, now, tokens
        )

    def admitted_after(self, start: float, previous: int, current: int, tokens: int) -> float:
        """The infimum of the times at which the estimate admits `tokens` (counts of the window
        at `start` and of the one before it), allowing for the roll-over into the next window."""
        room = self.limit - tokens + 1 - current
        if room > 0:
            return start + self.interval * (1.0 - room / previous)
        room = self.limit - tokens + 1
        at = start + self.interval
        if current >= room:
            at += self.interval * (1.0 - room / current)
        return at

    def _wait(
        self, estimate: int, start: float, previous: int, current: int, now: float, tokens: int
    ) -> float:
        """`wait` given the estimate at `now`."""
        if estimate + tokens <= self.limit:
            return 0.0
        at = self.admitted_after(start, previous, current, tokens)
        return at - now if at > now else 0.0

    def result(
        self, accepted: bool, start: float, previous: int, current: int, retry: float, now: float
    ) -> RateLimit:
        """The decision for these counts afterwards (also used by storages that decide on
        their server)."""
        estimate = self.estimate(start, previous, current, now)
        reset = self._wait(estimate, start, previous, current, now, self.limit)
        remaining = self.limit - estimate if estimate < self.limit else 0
        return rate_limit(accepted, self.limit, remaining, retry, reset, now)

    def decide(
        self,
        id: str,
        state: SlidingWindowState | None,
        now: float,
        tokens: int,
        max_wait: float | None,
    ) -> tuple[SlidingWindowState | None, RateLimit]:
        start, previous, current = self.windows(state, now)
        estimate = self.estimate(start, previous, current, now)
        if tokens == 0 or estimate + tokens > self.limit:
            wait = self._wait(estimate, start, previous, current, now, max(tokens, 1))
            return None, self.result(tokens == 0, start, previous, current, wait, now)
        current += tokens
        new = SlidingWindowState(id, self.interval, start, previous, current, now)
        return new, self.result(True, start, previous, current, 0.0, now)

    def refund(
        self, state: SlidingWindowState | None, now: float, tokens: int, at: float
    ) -> SlidingWindowState | None:
        if state is None:
            return None
        start, previous, current = self.windows(state, now)
        shift = round((start - math.floor(at / self.interval) * self.interval) / self.interval)
        if shift == 0 and current:
            current = max(0, current - tokens)
        elif shift == 1 and previous:
            previous = max(0, previous - tokens)
        else:
            return None
        return SlidingWindowState(state.id, self.interval, start, previous, current, now)


SPEC = PolicySpec(
    name=SlidingWindow.name,
    options={
        "limit": LIMIT,
        "interval": INTERVAL,
    },
    build=lambda c: SlidingWindow(c["limit"], c["interval"]),
    describe=lambda c: f"sliding_window, {c['limit']} per {describe_period(c['interval'])}",
    state_type=SlidingWindowState,
    policy_type=SlidingWindow,
    from_limit=counted_limit,
)

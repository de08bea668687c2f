"""Fixed window: at most `limit` hits per window; windows aligned to the clock or to a first hit."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from throttle_core.duration import describe_period, describe_seconds, parse_count, parse_interval
from throttle_core.errors import ConfigError
from throttle_core.policies.base import (
    MAX_STORED_COUNT,
    MAX_TTL_SECONDS,
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
    Option,
    PolicySpec,
    ServerSide,
    counted_limit,
    near,
    server_file,
)
from throttle_core.result import RateLimit, rate_limit

Align = Literal["clock", "first_hit"]
ALIGNMENTS: tuple[Align, ...] = ("clock", "first_hit")
_ONE_WINDOW: tuple[tuple[int], ...] = tuple((count,) for count in range(256))
"""Shared `hits` of one window holding a small count: states are immutable, so keys share them."""


@dataclass(slots=True)
class FixedWindowState(StateBase):
    """`hits[k]` counts window [start + k·interval, start + (k+1)·interval); k > 0 are bookings.

    A booked window emptied by a refund stays in `hits` (at 0): it stays open, so a first-hit
    window a reservation opened ahead keeps its start after the reservation is cancelled.
    """

    type: ClassVar[str] = "fixed_window"
    id: str
    interval: float
    start: float
    hits: tuple[int, ...]
    timer: float

    @property
    def expiration_time(self) -> int:
        return ttl_seconds(self.start + len(self.hits) * self.interval - self.timer)

    def problem(self, now: float | None = None) -> str | None:
        if not self.interval > 0:
            return f"interval {self.interval!r} is not positive"
        if not self.hits:
            return "no windows in hits"
        for count in self.hits:
            if not 0 <= count <= MAX_STORED_COUNT:
                return count_problem("hits", count)
        if now is not None and self.start + len(self.hits) * self.interval - now > MAX_TTL_SECONDS:
            return f"the windows booked from {self.start!r} end too far from now ({now!r})"
        return far_from(now, self.start, self.timer)

    def usage(self, now: float) -> tuple[int, float]:
        # A stored state's windows read the same in either alignment.
        window = FixedWindow(1, self.interval, "first_hit")
        start, hits = window.windows(self, now)
        return hits[0], window.result(True, start, hits, 0.0, now).reset_after

    def summary(self, now: float, used: int) -> str:
        booked = sum(self.hits) - used if len(self.hits) > 1 else 0
        text = f"{used} hits in the current {describe_seconds(self.interval)} window"
        return text + (f", {booked} booked in later windows" if booked > 0 else "")

    def mismatch(self, config: Mapping[str, Any]) -> str | None:
        return interval_mismatch(self.interval, config)


class FixedWindow:
    """Accepts iff hits + n ≤ limit in the current window; books later windows to reserve."""

    name: ClassVar[str] = "fixed_window"
    books_ahead: ClassVar[bool] = True
    state_type: ClassVar[type[FixedWindowState]] = FixedWindowState
    server: ClassVar[ServerSide] = ServerSide(
        params=(("limit", "bigint"), ("interval", "float8"), ("align", "text")),
        lua=server_file("lua/fixed_window.lua"),
        sql=server_file("sql/fixed_window.sql"),
        checks=(
            '@."interval" > 0', f'!exists(@."hits"[*] ? (@ > {MAX_STORED_COUNT}))',
            near("start"), near("timer"),
            f'@."start" + @."hits".size() * @."interval" - $now <= {MAX_TTL_SECONDS}',
        ),
    )  # fmt: skip

    def __init__(self, limit: int, interval: float, align: Align = "clock") -> None:
        if align not in ALIGNMENTS:
            raise ConfigError(f"align must be one of {', '.join(ALIGNMENTS)}; got {align!r:.60}")
        self.limit = parse_count(limit, "limit")
        self.interval = parse_interval(interval)
        self.align = align
        self._windows = ClockWindows(self.interval)

    def window_seconds(self) -> float:
        return self.interval

    def server_args(self) -> tuple[Arg, ...]:
        return self.limit, float(self.interval), self.align

    def from_reply(
        self, accepted: bool, now: float, retry: float, fields: Sequence[bytes | str]
    ) -> RateLimit:
        hits = [int(count) for count in fields[1:]]
        return self.result(accepted, float(fields[0]), hits, retry, now)

    def windows(self, state: FixedWindowState | None, now: float) -> tuple[float, tuple[int, ...]]:
        """The current window's start and the counts of it and of the booked windows after it."""
        size = self.interval
        if self.align == "clock":
            start = self._windows.start(now)
            if state is None:
                return start, (0,)
            if start == state.start:
                return start, state.hits
            shift = round((start - state.start) / size)
            if shift <= 0:
                return state.start, state.hits
            return start, state.hits[shift:] or (0,)
        if state is None or now >= state.start + len(state.hits) * size:
            return now, (0,)
        shift = max(0, math.floor((now - state.start) / size))
        return state.start + shift * size, state.hits[shift:]

    def _first_room(self, hits: tuple[int, ...], tokens: int) -> int:
        k = 0
        while k < len(hits) and hits[k] + tokens > self.limit:
            k += 1
        return k

    def result(
        self, accepted: bool, start: float, hits: Sequence[int], retry: float, now: float
    ) -> RateLimit:
        """The decision for windows from `start` holding `hits` afterwards (also used by
        storages that decide on their server)."""
        last = len(hits)
        while last and not hits[last - 1]:
            last -= 1
        reset = start + last * self.interval - now if last else 0.0
        remaining = self.limit - hits[0]
        return rate_limit(
            accepted, self.limit, remaining if remaining > 0 else 0, retry,
            reset if reset > 0.0 else 0.0, now,
        )  # fmt: skip

    def decide(
        self,
        id: str,
        state: FixedWindowState | None,
        now: float,
        tokens: int,
        max_wait: float | None,
    ) -> tuple[FixedWindowState | None, RateLimit]:
        start, hits = self.windows(state, now)
        if tokens and len(hits) == 1:
            count = hits[0] + tokens
            if count <= self.limit:
                reset = start + self.interval - now
                return FixedWindowState(
                    id, self.interval, start, _ONE_WINDOW[count] if count < 256 else (count,), now
                ), rate_limit(
                    True, self.limit, self.limit - count, 0.0, reset if reset > 0.0 else 0.0, now
                )
        k = self._first_room(hits, max(tokens, 1))
        wait = 0.0 if k == 0 else start + k * self.interval - now
        if tokens == 0:
            return None, self.result(True, start, hits, wait, now)
        if max_wait is not None and wait > max_wait:
            return None, self.result(False, start, hits, wait, now)
        booked = list(hits) + [0] * (k + 1 - len(hits))
        booked[k] += tokens
        new = FixedWindowState(id, self.interval, start, tuple(booked), now)
        return new, self.result(k == 0, start, booked, wait, now)

    def _accept_alone(
        self, id: str, start: float, count: int, now: float
    ) -> tuple[FixedWindowState, RateLimit]:
        """`decide` when the current window has room and nothing is booked after it: the
        common case, with `result`'s arithmetic for a single window holding `count`."""
        hits = _ONE_WINDOW[count] if count < len(_ONE_WINDOW) else (count,)
        reset = start + self.interval - now
        return FixedWindowState(id, self.interval, start, hits, now), rate_limit(
            True, self.limit, self.limit - count, 0.0, reset if reset > 0.0 else 0.0, now
        )

    def refund(
        self, state: FixedWindowState | None, now: float, tokens: int, at: float
    ) -> FixedWindowState | None:
        if state is None:
            return None
        start, windows = self.windows(state, now)
        k = math.floor((at - start) / self.interval + 1e-9)
        if not 0 <= k < len(windows) or windows[k] == 0:
            return None
        hits = list(windows)
        hits[k] = max(0, hits[k] - tokens)
        return FixedWindowState(state.id, self.interval, start, tuple(hits), now)


def _align(value: object) -> Align:
    if value not in ALIGNMENTS:
        raise ConfigError(f"align must be one of {', '.join(ALIGNMENTS)}; got {value!r}")
    return value


def _describe(config: Mapping[str, Any]) -> str:
    text = f"fixed_window, {config['limit']} per {describe_period(config['interval'])}"
    return text + (" (first-hit windows)" if config.get("align") == "first_hit" else "")


SPEC = PolicySpec(
    name=FixedWindow.name,
    options={
        "limit": LIMIT,
        "interval": INTERVAL,
        "align": Option(_align, "clock"),
    },
    build=lambda c: FixedWindow(c["limit"], c["interval"], c["align"]),
    describe=_describe,
    state_type=FixedWindowState,
    policy_type=FixedWindow,
    from_limit=counted_limit,
)

"""Where limiters read the time: the system clock, or a frozen one for tests and simulations."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol, runtime_checkable

from throttle_core.errors import ConfigError

MAX_TIME = 1e11
"""The latest time a clock may be set to (about the year 5138): later ones leave no room
for the intervals a limiter adds to them."""


@runtime_checkable
class Clock(Protocol):
    """A source of time in float seconds since the epoch, and a way to wait on it."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    async def asleep(self, seconds: float) -> None: ...


def check_time(value: object, field: str) -> float:
    """`value` as float seconds since the epoch, or `ConfigError` naming `field`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{field} must be a number of seconds since the epoch, got {value!r:.40}")
    if not -MAX_TIME <= value <= MAX_TIME:
        raise ConfigError(
            f"{field} must be within ±{MAX_TIME:g} seconds of the epoch, got {value!r:.60}"
        )
    return float(value)


def check_clock(clock: object, field: str = "clock") -> Clock | None:
    """`clock` if it is None or a clock object (now, sleep, asleep), else `ConfigError`
    naming `field` (a class instead of an instance, `time.time`, a number)."""
    if clock is None or (not isinstance(clock, type) and isinstance(clock, Clock)):
        return clock
    if isinstance(clock, type):
        raise ConfigError(
            f"{field} must be a clock object, not the class {clock.__name__}; "
            f"write {clock.__name__}(...)"
        )
    raise ConfigError(
        f"{field} must be a clock with now(), sleep() and asleep() (such as SystemClock() or "
        f"FrozenClock(t)), got {clock!r:.100}"
    )


class SystemClock:
    """The wall clock (`time.time`); sleeping really sleeps."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        if seconds > 0:
            await asyncio.sleep(seconds)


class FrozenClock:
    """A clock that moves only when told to; sleeping advances it instantly."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = check_time(start, "start")

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward (or back, with a negative value) by `seconds`."""
        self._now += seconds

    def set(self, timestamp: float) -> None:
        """Jump to an absolute time."""
        self._now = check_time(timestamp, "timestamp")

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)

    def __repr__(self) -> str:
        return f"FrozenClock({self._now!r})"

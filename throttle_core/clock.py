"""Where limiters read the time: the system clock, or a frozen one for tests and simulations."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """A source of time in float seconds since the epoch, and a way to wait on it."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    async def asleep(self, seconds: float) -> None: ...


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
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward (or back, with a negative value) by `seconds`."""
        self._now += seconds

    def set(self, timestamp: float) -> None:
        """Jump to an absolute time."""
        self._now = float(timestamp)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)

    def __repr__(self) -> str:
        return f"FrozenClock({self._now!r})"

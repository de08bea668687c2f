"""What a conformance scenario runs against: a `Bench` (storage + clock + sync/async API).

A `Backend` opens a Bench for a test's `FrozenClock`; `backends.py` lists them all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from throttle_core import (
    CompoundLimiter,
    FrozenClock,
    InMemoryStorage,
    Limiter,
    LocalLock,
    NoLimiter,
    RateLimit,
    RateLimiterFactory,
    Reservation,
    state_from_dict,
)

AnyLimiter = Limiter | NoLimiter | CompoundLimiter


@dataclass
class Bench:
    """One storage under test, a clock, and the API flavour (sync or async) to drive it with."""

    clock: FrozenClock
    storage: Any
    is_async: bool
    lock: Any = None

    def factory(self, config: dict[str, Any] | str) -> RateLimiterFactory:
        return RateLimiterFactory(config, self.storage, self.lock, clock=self.clock)

    def limiter(self, config: dict[str, Any] | str, key: str = "k") -> Limiter | NoLimiter:
        return self.factory(config).create(key)

    async def consume(self, limiter: AnyLimiter, tokens: int = 1) -> RateLimit:
        if self.is_async:
            return await limiter.aconsume(tokens)
        return limiter.consume(tokens)

    async def reserve(
        self, limiter: AnyLimiter, tokens: int = 1, max_wait: float | None = None
    ) -> Reservation:
        if self.is_async:
            return await limiter.areserve(tokens, max_wait)
        return limiter.reserve(tokens, max_wait)

    async def cancel(self, reservation: Reservation) -> None:
        if self.is_async:
            await reservation.acancel()
        else:
            reservation.cancel()

    async def reset(self, limiter: AnyLimiter) -> None:
        if self.is_async:
            await limiter.areset()
        else:
            limiter.reset()

    async def admitted_after(
        self,
        limiter: AnyLimiter,
        wait: float,
        tokens: int = 1,
        *,
        before: float = 1e-3,
        after: float = 0.0,
    ) -> RateLimit:
        """Check that `tokens` are still refused `before` seconds short of `wait` seconds from
        now, then return the decision `after` seconds past `wait` (0: at `wait` exactly)."""
        self.clock.advance(wait - before)
        early = await self.consume(limiter, tokens)
        assert not early.accepted, f"{tokens} admitted {before}s before the {wait}s wait"
        self.clock.advance(before + after)
        return await self.consume(limiter, tokens)


class DictStorage:
    """A user storage as @zeitar/throttle's guide writes one: JSON in a dict, no TTLs."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    def save(self, state: Any) -> None:
        import json

        self.data[state.id] = json.dumps(state.to_dict())

    def fetch(self, id: str) -> Any:
        import json

        raw = self.data.get(id)
        return None if raw is None else state_from_dict(json.loads(raw))

    def delete(self, id: str) -> None:
        self.data.pop(id, None)


class AsyncDictStorage(DictStorage):
    """The same storage with `async def` methods, as a direct translation of the TypeScript."""

    async def save(self, state: Any) -> None:  # type: ignore[override]
        super().save(state)

    async def fetch(self, id: str) -> Any:
        return super().fetch(id)

    async def delete(self, id: str) -> None:  # type: ignore[override]
        super().delete(id)


Opener = Callable[[FrozenClock], AbstractAsyncContextManager[Bench]]


@dataclass(frozen=True)
class Backend:
    name: str
    open: Opener
    marks: tuple[Any, ...] = field(default=())


def memory(is_async: bool) -> Opener:
    @asynccontextmanager
    async def open(clock: FrozenClock) -> AsyncIterator[Bench]:
        yield Bench(clock, InMemoryStorage(clock=clock), is_async)

    return open


def user_dict(is_async: bool) -> Opener:
    @asynccontextmanager
    async def open(clock: FrozenClock) -> AsyncIterator[Bench]:
        storage = AsyncDictStorage() if is_async else DictStorage()
        yield Bench(clock, storage, is_async, LocalLock())

    return open

"""The lock interface (acquire/release/with_lock) and what every lock gets for free."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Generator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Protocol, TypeVar, runtime_checkable

from throttle_core.aio import call_async, call_sync
from throttle_core.errors import ConfigError, LockError

T = TypeVar("T")

DEFAULT_TTL = 10.0
DEFAULT_TIMEOUT = 10.0
MAX_SECONDS = 86400.0
"""The longest lock timeout or ttl: a day (longer ones overflow what threading and Redis take)."""


@runtime_checkable
class Lock(Protocol):
    """A lock: `acquire` returns whether the lock was taken, `release` gives it up,
    `with_lock` runs a callback holding it. The limiter itself needs only acquire/release."""

    def acquire(self, key: str, ttl: float = DEFAULT_TTL) -> bool: ...

    def release(self, key: str) -> None: ...

    def with_lock(self, key: str, callback: Callable[[], T], ttl: float = DEFAULT_TTL) -> T: ...


def check_seconds(value: object, name: str, error: type[ValueError] = ValueError) -> float:
    """`value` as float seconds from 0 to a day, or `error` naming `name` and the value."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise error(f"{name} must be a number of seconds ≥ 0, got {value!r:.60}")
    if not value <= MAX_SECONDS:
        raise error(f"{name} must be at most a day (86400 seconds), got {value!r:.60}")
    return float(value)


def check_flag(value: object, name: str) -> bool:
    """`value` if it is a bool, else `ConfigError` naming `name`."""
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be True or False, got {value!r:.60}")
    return value


@runtime_checkable
class BasicLock(Protocol):
    """All a limiter needs of a lock: `acquire` (True if taken) and `release`, plain methods
    or coroutines (as locks written for @zeitar/throttle are). Every `Lock` is one."""

    def acquire(self, key: str, ttl: float = DEFAULT_TTL) -> Any: ...

    def release(self, key: str) -> object: ...


def check_lock(lock: object, field: str = "lock") -> BasicLock | None:
    """`lock` if it is None or a lock object (acquire and release), else `ConfigError`
    naming `field` (a class instead of an instance, a number)."""
    if lock is None:
        return None
    if isinstance(lock, type):
        raise ConfigError(
            f"{field} must be a lock object, not the class {lock.__name__}; "
            f"write {lock.__name__}(...)"
        )
    if not all(callable(getattr(lock, m, None)) for m in ("acquire", "release")):
        raise ConfigError(f"{field} must have acquire() and release(), got {lock!r:.100}")
    return lock  # type: ignore[return-value]


def backoff_delays(first: float = 0.001, cap: float = 0.05) -> Generator[float, None, None]:
    """Jittered exponential backoff: roughly 1 ms, 2 ms, 4 ms … up to `cap`."""
    delay = first
    while True:
        yield random.uniform(delay / 2, delay)
        delay = min(cap, delay * 2)


def acquire_within(lock: object, key: str, ttl: float, timeout: float) -> None:
    """Take `lock` for `key`, retrying a lock that says no (as a SET NX lock does) until
    `timeout` seconds have passed; then raise `LockError`."""
    deadline = time.monotonic() + timeout
    for delay in backoff_delays():
        if call_sync(lock, "acquire", key, ttl):
            return
        if time.monotonic() + delay > deadline:
            raise LockError(f"could not acquire the lock for {key!r} within {timeout:g}s")
        time.sleep(delay)


async def aacquire_within(lock: object, key: str, ttl: float, timeout: float) -> None:
    """Async twin of `acquire_within`."""
    deadline = time.monotonic() + timeout
    for delay in backoff_delays():
        if await call_async(lock, "acquire", key, ttl):
            return
        if time.monotonic() + delay > deadline:
            raise LockError(f"could not acquire the lock for {key!r} within {timeout:g}s")
        await asyncio.sleep(delay)


class LockBase:
    """`with_lock`, `awith_lock` and the `hold()` context managers on top of acquire/release."""

    def acquire(self, key: str, ttl: float = DEFAULT_TTL) -> bool:
        raise NotImplementedError

    def release(self, key: str) -> None:
        raise NotImplementedError

    async def aacquire(self, key: str, ttl: float = DEFAULT_TTL) -> bool:
        raise NotImplementedError

    async def arelease(self, key: str) -> None:
        raise NotImplementedError

    def with_lock(self, key: str, callback: Callable[[], T], ttl: float = DEFAULT_TTL) -> T:
        """Run `callback` holding the lock for `key`; `LockError` if it cannot be taken."""
        with self.hold(key, ttl):
            return callback()

    async def awith_lock(
        self, key: str, callback: Callable[[], Awaitable[T]], ttl: float = DEFAULT_TTL
    ) -> T:
        """Async twin of `with_lock`: awaits `callback()` holding the lock."""
        async with self.ahold(key, ttl):
            return await callback()

    @contextmanager
    def hold(self, key: str, ttl: float = DEFAULT_TTL) -> Generator[None, None, None]:
        """`with lock.hold("key"):` — the lock for the block, `LockError` if not acquired."""
        if not self.acquire(key, ttl):
            raise LockError(f"could not acquire the lock for {key!r}")
        try:
            yield
        finally:
            self.release(key)

    @asynccontextmanager
    async def ahold(self, key: str, ttl: float = DEFAULT_TTL) -> Any:
        """`async with lock.ahold("key"):` — async twin of `hold()`."""
        if not await self.aacquire(key, ttl):
            raise LockError(f"could not acquire the lock for {key!r}")
        try:
            yield
        finally:
            await self.arelease(key)

"""ResilientStorage: a primary storage with a fallback and a circuit breaker between them."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from throttle_core.aio import call_async, call_sync
from throttle_core.errors import ConfigError
from throttle_core.policies import LimiterPolicy
from throttle_core.result import RateLimit
from throttle_core.storage.base import is_atomic
from throttle_core.storage.memory import InMemoryStorage

log = logging.getLogger("throttle_core.storage")


def connection_errors() -> tuple[type[BaseException], ...]:
    """The errors that mean "the server is unreachable" for the clients that are installed."""
    errors: list[type[BaseException]] = [ConnectionError, TimeoutError]
    try:
        import redis.exceptions

        errors += [redis.exceptions.ConnectionError, redis.exceptions.TimeoutError]
    except ImportError:
        pass
    try:
        import psycopg

        errors.append(psycopg.OperationalError)
    except ImportError:
        pass
    return tuple(errors)


class ResilientStorage:
    """Uses `primary` until it raises a connection error, then `fallback` (in-memory by default).

    After a failure the circuit stays open for `cooldown` seconds: requests go straight to the
    fallback, so a dead server costs no timeout per request. Then the next call tries the
    primary again and, if it answers, the circuit closes by itself. Counts taken by the
    fallback stay in this process and are not copied back.
    """

    def __init__(
        self,
        primary: Any,
        fallback: Any = None,
        *,
        cooldown: float = 5.0,
        errors: tuple[type[BaseException], ...] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.fallback = fallback if fallback is not None else InMemoryStorage()
        self.supports_atomic = is_atomic(primary)
        if self.supports_atomic and not is_atomic(self.fallback):
            raise ConfigError(
                f"the fallback {self.fallback!r} must decide atomically like the primary "
                f"{primary!r} (InMemoryStorage does)"
            )
        if not cooldown >= 0:
            raise ConfigError(f"cooldown must be a number of seconds ≥ 0, got {cooldown!r}")
        self.cooldown = cooldown
        self.errors = errors if errors is not None else connection_errors()
        self._monotonic = monotonic
        self._opened_at: float | None = None
        self._guard = threading.Lock()

    @property
    def failed_over(self) -> bool:
        """Whether requests are going to the fallback right now."""
        opened = self._opened_at
        return opened is not None and self._monotonic() - opened < self.cooldown

    def _trip(self, error: BaseException) -> None:
        with self._guard:
            first = self._opened_at is None
            self._opened_at = self._monotonic()
        if first:
            log.warning("storage %r failed (%s); using the fallback", self.primary, error)

    def _recovered(self) -> None:
        if self._opened_at is not None:
            with self._guard:
                self._opened_at = None
            log.warning("storage %r answers again; fallback no longer used", self.primary)

    def _call(self, name: str, *args: Any) -> Any:
        if self.failed_over:
            return call_sync(self.fallback, name, *args)
        try:
            result = call_sync(self.primary, name, *args)
        except self.errors as error:
            self._trip(error)
            return call_sync(self.fallback, name, *args)
        self._recovered()
        return result

    async def _acall(self, name: str, *args: Any) -> Any:
        if self.failed_over:
            return await call_async(self.fallback, name, *args)
        try:
            result = await call_async(self.primary, name, *args)
        except self.errors as error:
            self._trip(error)
            return await call_async(self.fallback, name, *args)
        self._recovered()
        return result

    def save(self, state: Any) -> None:
        self._call("save", state)

    def fetch(self, id: str) -> Any:
        return self._call("fetch", id)

    def delete(self, id: str) -> None:
        self._call("delete", id)

    async def asave(self, state: Any) -> None:
        await self._acall("save", state)

    async def afetch(self, id: str) -> Any:
        return await self._acall("fetch", id)

    async def adelete(self, id: str) -> None:
        await self._acall("delete", id)

    def consume(
        self,
        policy: LimiterPolicy,
        id: str,
        tokens: int,
        max_wait: float | None,
        now: float | None,
    ) -> RateLimit:
        return self._call("consume", policy, id, tokens, max_wait, now)  # type: ignore[no-any-return]

    async def aconsume(
        self,
        policy: LimiterPolicy,
        id: str,
        tokens: int,
        max_wait: float | None,
        now: float | None,
    ) -> RateLimit:
        return await self._acall("consume", policy, id, tokens, max_wait, now)  # type: ignore[no-any-return]

    def refund(
        self, policy: LimiterPolicy, id: str, tokens: int, at: float, now: float | None
    ) -> RateLimit | None:
        return self._call("refund", policy, id, tokens, at, now)  # type: ignore[no-any-return]

    async def arefund(
        self, policy: LimiterPolicy, id: str, tokens: int, at: float, now: float | None
    ) -> RateLimit | None:
        return await self._acall("refund", policy, id, tokens, at, now)  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"ResilientStorage({self.primary!r}, fallback={self.fallback!r})"

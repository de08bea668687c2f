"""ResilientStorage: a primary storage with a fallback and a circuit breaker between them."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from throttle_core.aio import call_async, call_sync
from throttle_core.errors import ConfigError
from throttle_core.policies import LimiterPolicy
from throttle_core.result import RateLimit
from throttle_core.storage.base import Storage, is_atomic
from throttle_core.storage.memory import InMemoryStorage
from throttle_core.storage.url import resolve_storage

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


CLOSED, PROBE, FALLBACK = "closed", "probe", "fallback"
"""Where a call goes: to the primary (circuit closed), to the primary as the one probe of a
half-open circuit, or to the fallback (circuit open, or half-open with a probe under way)."""
MAX_COOLDOWN = 86400.0


def check_cooldown(cooldown: object) -> float:
    if isinstance(cooldown, bool) or not isinstance(cooldown, int | float):
        raise ConfigError(f"cooldown must be a number of seconds, got {cooldown!r:.60}")
    if not 0 <= cooldown <= MAX_COOLDOWN:
        raise ConfigError(f"cooldown must be from 0 to 86400 seconds, got {cooldown!r:.60}")
    return float(cooldown)


def check_errors(errors: object) -> tuple[type[BaseException], ...]:
    if errors is None:
        return connection_errors()
    if (
        not isinstance(errors, tuple)
        or not errors
        or not all(isinstance(e, type) and issubclass(e, BaseException) for e in errors)
    ):
        raise ConfigError(
            f"errors must be a non-empty tuple of exception classes, got {errors!r:.100}"
        )
    return errors


class ResilientStorage:
    """Uses `primary` until it raises a connection error, then `fallback` (in-memory by default);
    each may be a storage or a storage URL.

    A circuit breaker sits between them. A failure opens it: for `cooldown` seconds every call
    goes to the fallback, so a dead or hung server costs no timeout per request. Then it is
    half-open: exactly one call probes the primary while the others keep using the fallback;
    if the probe is answered the circuit closes by itself, if it fails the cooldown starts
    again. Counts taken by the fallback stay in this process and are not copied back.
    """

    def __init__(
        self,
        primary: Storage | str,
        fallback: Storage | str | None = None,
        *,
        cooldown: float = 5.0,
        errors: tuple[type[BaseException], ...] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary: Any = resolve_storage(primary, "primary")
        self.fallback: Any = (
            InMemoryStorage() if fallback is None else resolve_storage(fallback, "fallback")
        )
        self.supports_atomic = is_atomic(self.primary)
        if self.supports_atomic and not is_atomic(self.fallback):
            raise ConfigError(
                f"the fallback {self.fallback!r} must decide atomically like the primary "
                f"{self.primary!r} (InMemoryStorage does)"
            )
        self.cooldown = check_cooldown(cooldown)
        self.errors = check_errors(errors)
        if not callable(monotonic):
            raise ConfigError(
                f"monotonic must be a function returning seconds, got {monotonic!r:.60}"
            )
        self._monotonic = monotonic
        ceilings = [getattr(s, "max_limit", None) for s in (self.primary, self.fallback)]
        known = [c for c in ceilings if isinstance(c, int)]
        self.max_limit: int | None = min(known) if known else None
        self._opened_at: float | None = None
        self._probing = False
        self._guard = threading.Lock()

    @property
    def failed_over(self) -> bool:
        """Whether the circuit is open (or half-open): calls are going to the fallback."""
        return self._opened_at is not None

    def _route(self) -> str:
        """Where the next call goes; at most one call at a time is given `PROBE`."""
        opened = self._opened_at
        if opened is None:
            return CLOSED
        if self._monotonic() - opened < self.cooldown:
            return FALLBACK
        with self._guard:
            if self._probing or self._opened_at is None:
                return FALLBACK if self._probing else CLOSED
            self._probing = True
            return PROBE

    def _failed(self, error: BaseException) -> None:
        """The primary did not answer: (re)open the circuit for a cooldown."""
        with self._guard:
            first = self._opened_at is None
            self._opened_at = self._monotonic()
            self._probing = False
        if first:
            log.warning("storage %r failed (%s); using the fallback", self.primary, error)

    def _answered(self, route: str) -> None:
        """The primary answered (a probe closes the circuit), or raised an error that is no
        outage (a bug: the server is there)."""
        if route != PROBE:
            return
        with self._guard:
            self._probing = False
            self._opened_at = None
        log.warning("storage %r answers again; fallback no longer used", self.primary)

    def _abandoned(self, route: str) -> None:
        """A probe was cancelled before it learnt anything: the next call probes instead."""
        if route == PROBE:
            with self._guard:
                self._probing = False

    @contextmanager
    def _on_primary(self, route: str) -> Iterator[None]:
        """Judge a call on the primary: an answer (or an error of its own) keeps the route,
        a connection error opens the breaker and is swallowed, so the caller falls back."""
        try:
            yield
        except self.errors as error:
            self._failed(error)
        except Exception:
            self._answered(route)
            raise
        except BaseException:
            self._abandoned(route)
            raise
        else:
            self._answered(route)

    def _call(self, name: str, *args: Any) -> Any:
        if (route := self._route()) != FALLBACK:
            with self._on_primary(route):
                return call_sync(self.primary, name, *args)
        return call_sync(self.fallback, name, *args)

    async def _acall(self, name: str, *args: Any) -> Any:
        if (route := self._route()) != FALLBACK:
            with self._on_primary(route):
                return await call_async(self.primary, name, *args)
        return await call_async(self.fallback, name, *args)

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

    def close(self) -> None:
        """Close what the primary and the fallback hold open (the clients of a URL-built one)."""
        for storage in (self.primary, self.fallback):
            if callable(getattr(storage, "close", None)):
                storage.close()

    async def aclose(self) -> None:
        for storage in (self.primary, self.fallback):
            if callable(getattr(storage, "aclose", None)):
                await storage.aclose()

    def __repr__(self) -> str:
        return f"ResilientStorage({self.primary!r}, fallback={self.fallback!r})"

"""Limiter: one policy applied to one state id, through a storage (and a lock when needed)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from throttle_core.aio import call_async, call_sync
from throttle_core.clock import Clock, SystemClock
from throttle_core.errors import MaxWaitDurationExceeded, ReserveNotSupported
from throttle_core.locks.base import DEFAULT_TIMEOUT, DEFAULT_TTL, aacquire_within, acquire_within
from throttle_core.locks.local import LocalLock
from throttle_core.policies import UNLIMITED, LimiterPolicy, StateBase
from throttle_core.result import RateLimit, Reservation
from throttle_core.storage.base import is_atomic
from throttle_core.storage.decoding import dropped, usable_state

SHARED_LOCAL_LOCK = LocalLock()
"""The lock used for storages without an atomic consume when no lock is given."""
SYSTEM_CLOCK = SystemClock()
"""The clock of limiters given none (stateless, so one serves them all)."""


def check_tokens(tokens: object, limit: int) -> int:
    """`tokens` must be an int from 0 to the limit: more could never be granted."""
    if type(tokens) is int and 0 <= tokens <= limit:
        return tokens
    if isinstance(tokens, bool) or not isinstance(tokens, int):
        raise TypeError(f"tokens must be an int, got {tokens!r}")
    if tokens < 0 or tokens > limit:
        raise ValueError(f"tokens must be between 0 and the limit {limit}, got {tokens}")
    return tokens


def check_max_wait(max_wait: float | None) -> float | None:
    if max_wait is not None and (isinstance(max_wait, bool) or not max_wait >= 0):
        raise ValueError(f"max_wait must be None or a number of seconds ≥ 0, got {max_wait!r}")
    return max_wait


def refused_beyond(result: RateLimit, max_wait: float | None) -> bool:
    """Whether a decision was refused because its wait exceeds `max_wait`."""
    return not result.accepted and max_wait is not None and result.retry_after > max_wait


class Limiter:
    """Decides for one state id. Atomic storages decide in one call; any other storage is
    driven as lock → fetch → decide → save → unlock (the generic path)."""

    __slots__ = ("atomic", "clock", "id", "lock", "lock_timeout", "policy", "storage", "time")

    def __init__(
        self,
        id: str,
        policy: LimiterPolicy,
        storage: Any,
        lock: Any = None,
        *,
        clock: Clock | None = None,
        lock_timeout: float = DEFAULT_TIMEOUT,
        atomic: bool | None = None,
    ) -> None:
        self.id = id
        self.policy = policy
        self.storage = storage
        self.atomic = is_atomic(storage) if atomic is None else atomic
        self.lock = lock if lock is not None else SHARED_LOCAL_LOCK
        self.lock_timeout = lock_timeout
        self.clock = clock
        self.time: Clock = clock or SYSTEM_CLOCK

    @property
    def limit(self) -> int:
        return self.policy.limit

    def __repr__(self) -> str:
        return f"Limiter({self.id!r}, {self.policy.name}, limit={self.policy.limit})"

    def _now(self) -> float | None:
        return None if self.clock is None else self.clock.now()

    def consume(self, tokens: int = 1) -> RateLimit:
        """Take `tokens` now if they are available; the result says whether they were."""
        return self._decide(check_tokens(tokens, self.policy.limit), 0.0)

    async def aconsume(self, tokens: int = 1) -> RateLimit:
        return await self._adecide(check_tokens(tokens, self.policy.limit), 0.0)

    def reserve(self, tokens: int = 1, max_wait: float | None = None) -> Reservation:
        """Book `tokens`, now or as soon as possible; `MaxWaitDurationExceeded` beyond max_wait."""
        check_tokens(tokens, self.policy.limit)
        result = self._decide(tokens, check_max_wait(max_wait))
        return self._reservation(tokens, result, max_wait)

    async def areserve(self, tokens: int = 1, max_wait: float | None = None) -> Reservation:
        check_tokens(tokens, self.policy.limit)
        result = await self._adecide(tokens, check_max_wait(max_wait))
        return self._reservation(tokens, result, max_wait)

    def reset(self) -> None:
        """Forget this limiter's state: it is full again."""
        call_sync(self.storage, "delete", self.id)

    async def areset(self) -> None:
        await call_async(self.storage, "delete", self.id)

    def refund(self, tokens: int, at: float) -> RateLimit | None:
        """Give back `tokens` booked for time `at` (reservations, compound roll-back); returns
        what a peek now reports afterwards (None from an atomic storage that does not say)."""
        if self.atomic:
            return self.storage.refund(self.policy, self.id, tokens, at, self._now())  # type: ignore[no-any-return]
        acquire_within(self.lock, self.id, DEFAULT_TTL, self.lock_timeout)
        try:
            now = self.time.now()
            state = self._fetch(now)
            new: Any = self.policy.refund(state, now, tokens, at)
            if new is not None:
                call_sync(self.storage, "save", new)
            return self.policy.decide(self.id, new or state, now, 0, None)[1]
        finally:
            call_sync(self.lock, "release", self.id)

    async def arefund(self, tokens: int, at: float) -> RateLimit | None:
        if self.atomic:
            return await self.storage.arefund(self.policy, self.id, tokens, at, self._now())  # type: ignore[no-any-return]
        await aacquire_within(self.lock, self.id, DEFAULT_TTL, self.lock_timeout)
        try:
            now = self.time.now()
            state = await self._afetch(now)
            new: Any = self.policy.refund(state, now, tokens, at)
            if new is not None:
                await call_async(self.storage, "save", new)
            return self.policy.decide(self.id, new or state, now, 0, None)[1]
        finally:
            await call_async(self.lock, "release", self.id)

    def _reservation(self, tokens: int, result: RateLimit, max_wait: float | None) -> Reservation:
        if refused_beyond(result, max_wait):
            assert max_wait is not None
            raise MaxWaitDurationExceeded(result.retry_after, max_wait, result)
        if not result.accepted and tokens and not self.policy.books_ahead:
            raise ReserveNotSupported(
                f"a {self.policy.name} cannot book future capacity (the wait would be "
                f"{result.retry_after:.3f}s); use a token bucket or a fixed window to queue work"
            )
        return Reservation(self, tokens, result, self.time)

    def _decide(self, tokens: int, max_wait: float | None) -> RateLimit:
        if self.atomic:
            now = None if self.clock is None else self.clock.now()
            return self.storage.consume(self.policy, self.id, tokens, max_wait, now)  # type: ignore[no-any-return]
        acquire_within(self.lock, self.id, DEFAULT_TTL, self.lock_timeout)
        try:
            now = self.time.now()
            new, result = self.policy.decide(self.id, self._fetch(now), now, tokens, max_wait)
            if new is not None:
                call_sync(self.storage, "save", new)
            return result
        finally:
            call_sync(self.lock, "release", self.id)

    async def _adecide(self, tokens: int, max_wait: float | None) -> RateLimit:
        if self.atomic:
            return await self.storage.aconsume(self.policy, self.id, tokens, max_wait, self._now())  # type: ignore[no-any-return]
        await aacquire_within(self.lock, self.id, DEFAULT_TTL, self.lock_timeout)
        try:
            now = self.time.now()
            state = await self._afetch(now)
            new, result = self.policy.decide(self.id, state, now, tokens, max_wait)
            if new is not None:
                await call_async(self.storage, "save", new)
            return result
        finally:
            await call_async(self.lock, "release", self.id)

    def _fetch(self, now: float) -> Any:
        try:
            value = call_sync(self.storage, "fetch", self.id)
        except (ValueError, RecursionError) as error:
            return self._undecodable(error)
        return self._usable(value, now)

    async def _afetch(self, now: float) -> Any:
        try:
            value = await call_async(self.storage, "fetch", self.id)
        except (ValueError, RecursionError) as error:
            return self._undecodable(error)
        return self._usable(value, now)

    def _where(self) -> str:
        return f"of {self.id!r} from {type(self.storage).__name__}"

    def _undecodable(self, error: Exception) -> None:
        """A storage's `fetch` failed to decode (InvalidStateError, bad or too deeply nested
        JSON): start afresh."""
        dropped(self._where(), f"{type(error).__name__}: {str(error)[:300]}")

    def _usable(self, value: Any, now: float) -> Any:
        """What a user storage's `fetch` returned, as a state to decide on: a state or its
        `to_dict()` mapping; anything else is an error of that storage."""
        if value is not None and not isinstance(value, StateBase | Mapping):
            raise TypeError(
                f"{type(self.storage).__name__}.fetch({self.id!r}) returned a "
                f"{type(value).__name__}; a storage's fetch must return a limiter state, its "
                'to_dict() mapping (carrying "type") or None'
            )
        return usable_state(value, self._where(), self.policy, now)


class NoLimiter:
    """The `no_limit` policy: always accepted, `remaining` = `limit` = sys.maxsize, no I/O."""

    def __init__(self, id: str = "", *, clock: Clock | None = None) -> None:
        self.id = id
        self.time: Clock = clock or SYSTEM_CLOCK

    limit = UNLIMITED

    def _result(self) -> RateLimit:
        return RateLimit(True, UNLIMITED, UNLIMITED, 0.0, 0.0, self.time.now())

    def consume(self, tokens: int = 1) -> RateLimit:
        check_tokens(tokens, UNLIMITED)
        return self._result()

    async def aconsume(self, tokens: int = 1) -> RateLimit:
        return self.consume(tokens)

    def reserve(self, tokens: int = 1, max_wait: float | None = None) -> Reservation:
        check_tokens(tokens, UNLIMITED)
        check_max_wait(max_wait)
        return Reservation(None, tokens, self._result(), self.time)

    async def areserve(self, tokens: int = 1, max_wait: float | None = None) -> Reservation:
        return self.reserve(tokens, max_wait)

    def reset(self) -> None:
        return None

    async def areset(self) -> None:
        return None

    def refund(self, tokens: int, at: float) -> None:
        return None

    async def arefund(self, tokens: int, at: float) -> None:
        return None

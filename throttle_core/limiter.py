"""Limiter: one policy applied to one state id, through a storage (and a lock when needed).

Every operation is written once. An atomic storage decides in one call (`consume` or
`aconsume`: that call is all the two shells do differently). Any other storage is driven
as lock → fetch → decide → save → unlock by a sans-IO program (`throttle_core.programs`),
run by `run` in sync code and by `arun` in async code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar, overload

from throttle_core.aio import call_async, call_sync
from throttle_core.clock import Clock, SystemClock
from throttle_core.errors import MaxWaitDurationExceeded, ReserveNotSupported
from throttle_core.locks.base import DEFAULT_TIMEOUT, DEFAULT_TTL, aacquire_within, acquire_within
from throttle_core.locks.local import LocalLock
from throttle_core.messages import short
from throttle_core.policies import UNLIMITED, LimiterPolicy, StateBase
from throttle_core.programs import Effect, Program, arun, calling, run
from throttle_core.result import RateLimit, Reservation
from throttle_core.storage.base import is_atomic
from throttle_core.storage.decoding import dropped, usable_state

T = TypeVar("T")
SHARED_LOCAL_LOCK = LocalLock()
"""The lock used for storages without an atomic consume when no lock is given."""
SYSTEM_CLOCK = SystemClock()
"""The clock of limiters given none (stateless, so one serves them all)."""


def check_tokens(tokens: object, limit: int) -> int:
    """`tokens` must be an int from 0 to the limit: more could never be granted."""
    if type(tokens) is int and 0 <= tokens <= limit:
        return tokens
    if isinstance(tokens, bool) or not isinstance(tokens, int):
        raise TypeError(f"tokens must be an int, got {short(tokens)}")
    if tokens < 0 or tokens > limit:
        raise ValueError(f"tokens must be between 0 and the limit {limit}, got {short(tokens)}")
    return tokens


def check_max_wait(max_wait: float | None) -> float | None:
    if max_wait is not None and (isinstance(max_wait, bool) or not max_wait >= 0):
        raise ValueError(f"max_wait must be None or a number of seconds ≥ 0, got {max_wait!r}")
    return max_wait


def refused_beyond(result: RateLimit, max_wait: float | None) -> bool:
    """Whether a decision was refused because its wait exceeds `max_wait`."""
    return not result.accepted and max_wait is not None and result.retry_after > max_wait


class Decider:
    """What every limiter of one config shares: its policy, the storage it decides through,
    the lock and clock of the generic path. A `Limiter` is a state id and a decider, so a
    factory builds one decider and a light limiter per key.

    `clock` is the clock given (None: an atomic storage uses its own, server, time);
    `decision_clock` is the one the generic path reads (the given one, else the system's).
    """

    __slots__ = (
        "atomic", "clock", "decision_clock", "limit", "lock", "lock_timeout", "policy", "storage",
    )  # fmt: skip

    def __init__(
        self,
        policy: LimiterPolicy,
        storage: Any,
        lock: Any = None,
        *,
        clock: Clock | None = None,
        lock_timeout: float = DEFAULT_TIMEOUT,
        atomic: bool | None = None,
    ) -> None:
        self.policy = policy
        self.limit: int = policy.limit
        self.storage = storage
        self.atomic = is_atomic(storage) if atomic is None else atomic
        self.lock = lock if lock is not None else SHARED_LOCAL_LOCK
        self.lock_timeout = lock_timeout
        self.clock = clock
        self.decision_clock: Clock = clock or SYSTEM_CLOCK

    def now(self) -> float | None:
        """The time an atomic storage is told to decide at (None: its own time)."""
        return None if self.clock is None else self.clock.now()

    def deciding(self, id: str, tokens: int, max_wait: float | None) -> Program[RateLimit]:
        """The generic path's decision for `tokens` of state `id`."""

        def decide(state: Any, now: float) -> tuple[Any, RateLimit]:
            return self.policy.decide(id, state, now, tokens, max_wait)

        return self._locked(id, decide)

    def refunding(self, id: str, tokens: int, at: float) -> Program[RateLimit]:
        """The generic path's refund of `tokens` booked for time `at`: what a peek reports
        afterwards."""

        def refund(state: Any, now: float) -> tuple[Any, RateLimit]:
            new = self.policy.refund(state, now, tokens, at)
            return new, self.policy.decide(id, new or state, now, 0, None)[1]

        return self._locked(id, refund)

    def _locked(
        self, id: str, step: Callable[[Any, float], tuple[Any, RateLimit]]
    ) -> Program[RateLimit]:
        """Lock `id`, fetch its state, `step(state, now)`, save the new state it returns (if
        any), unlock."""
        lock = self.lock
        yield Effect(acquire_within, aacquire_within, (lock, id, DEFAULT_TTL, self.lock_timeout))
        try:
            now = self.decision_clock.now()
            try:
                value = yield calling(self.storage, "fetch", id)
            except (ValueError, RecursionError) as error:
                self._undecodable(id, error)
                state = None
            else:
                state = self._usable(id, value, now)
            new, result = step(state, now)
            if new is not None:
                yield calling(self.storage, "save", new)
            return result
        finally:
            yield calling(lock, "release", id)

    def _where(self, id: str) -> str:
        return f"of {id!r} from {type(self.storage).__name__}"

    def _undecodable(self, id: str, error: Exception) -> None:
        """A storage's `fetch` failed to decode (InvalidStateError, bad or too deeply nested
        JSON): start afresh."""
        dropped(self._where(id), f"{type(error).__name__}: {str(error)[:300]}")

    def _usable(self, id: str, value: Any, now: float) -> Any:
        """What a user storage's `fetch` returned, as a state to decide on: a state or its
        `to_dict()` mapping; anything else is an error of that storage."""
        if value is not None and not isinstance(value, StateBase | Mapping):
            raise TypeError(
                f"{type(self.storage).__name__}.fetch({id!r}) returned a "
                f"{type(value).__name__}; a storage's fetch must return a limiter state, its "
                'to_dict() mapping (carrying "type") or None'
            )
        return usable_state(value, self._where(id), self.policy, now)


_new = object.__new__


class Shared(Generic[T]):
    """A read-only attribute of a `Limiter` that lives on the `Decider` it shares with the
    other limiters of its factory."""

    __slots__ = ("name",)

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, limiter: None, owner: type) -> Shared[T]: ...
    @overload
    def __get__(self, limiter: Limiter, owner: type) -> T: ...
    def __get__(self, limiter: Limiter | None, owner: type) -> Shared[T] | T:
        if limiter is None:
            return self
        value: T = getattr(limiter._decider, self.name)
        return value


class Limiter:
    """Decides for one state id. Atomic storages decide in one call; any other storage is
    driven as lock → fetch → decide → save → unlock (the generic path)."""

    __slots__ = ("_decider", "id")

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
        self._decider = Decider(
            policy, storage, lock, clock=clock, lock_timeout=lock_timeout, atomic=atomic
        )

    @classmethod
    def bound(cls, id: str, decider: Decider) -> Limiter:
        """The limiter of state `id` sharing `decider` (what a factory makes per key)."""
        limiter: Limiter = _new(cls)
        limiter.id = id
        limiter._decider = decider
        return limiter

    policy: Shared[LimiterPolicy] = Shared()
    storage: Shared[Any] = Shared()
    lock: Shared[Any] = Shared()
    lock_timeout: Shared[float] = Shared()
    atomic: Shared[bool] = Shared()
    """Whether the storage decides in one call (no lock, no fetch and save)."""
    clock: Shared[Clock | None] = Shared()
    """The clock given (None: an atomic storage decides by its own time)."""
    decision_clock: Shared[Clock] = Shared()
    """The clock the generic path and reservations read: the given one, else the system's."""

    limit: Shared[int] = Shared()

    def __repr__(self) -> str:
        policy = self._decider.policy
        return f"Limiter({self.id!r}, {policy.name}, limit={policy.limit})"

    def consume(self, tokens: int = 1) -> RateLimit:
        """Take `tokens` now if they are available; the result says whether they were."""
        decider = self._decider
        if type(tokens) is not int or not 0 <= tokens <= decider.limit:
            check_tokens(tokens, decider.limit)
        if decider.atomic:
            now = None if decider.clock is None else decider.clock.now()
            return decider.storage.consume(decider.policy, self.id, tokens, 0.0, now)  # type: ignore[no-any-return]
        return run(decider.deciding(self.id, tokens, 0.0))

    async def aconsume(self, tokens: int = 1) -> RateLimit:
        return await self._adecide(check_tokens(tokens, self._decider.limit), 0.0)

    def reserve(self, tokens: int = 1, max_wait: float | None = None) -> Reservation:
        """Book `tokens`, now or as soon as possible; `MaxWaitDurationExceeded` beyond max_wait."""
        check_tokens(tokens, self._decider.limit)
        result = self._decide(tokens, check_max_wait(max_wait))
        return self._reservation(tokens, result, max_wait)

    async def areserve(self, tokens: int = 1, max_wait: float | None = None) -> Reservation:
        check_tokens(tokens, self._decider.limit)
        result = await self._adecide(tokens, check_max_wait(max_wait))
        return self._reservation(tokens, result, max_wait)

    def reset(self) -> None:
        """Forget this limiter's state: it is full again."""
        call_sync(self._decider.storage, "delete", self.id)

    async def areset(self) -> None:
        await call_async(self._decider.storage, "delete", self.id)

    def refund(self, tokens: int, at: float) -> RateLimit | None:
        """Give back `tokens` booked for time `at` (reservations, compound roll-back); returns
        what a peek now reports afterwards (None from an atomic storage that does not say)."""
        decider = self._decider
        if decider.atomic:
            return decider.storage.refund(decider.policy, self.id, tokens, at, decider.now())  # type: ignore[no-any-return]
        return run(decider.refunding(self.id, tokens, at))

    async def arefund(self, tokens: int, at: float) -> RateLimit | None:
        decider = self._decider
        if decider.atomic:
            return await decider.storage.arefund(  # type: ignore[no-any-return]
                decider.policy, self.id, tokens, at, decider.now()
            )
        return await arun(decider.refunding(self.id, tokens, at))

    def _decide(self, tokens: int, max_wait: float | None) -> RateLimit:
        decider = self._decider
        if decider.atomic:
            return decider.storage.consume(decider.policy, self.id, tokens, max_wait, decider.now())  # type: ignore[no-any-return]
        return run(decider.deciding(self.id, tokens, max_wait))

    async def _adecide(self, tokens: int, max_wait: float | None) -> RateLimit:
        decider = self._decider
        if decider.atomic:
            return await decider.storage.aconsume(  # type: ignore[no-any-return]
                decider.policy, self.id, tokens, max_wait, decider.now()
            )
        return await arun(decider.deciding(self.id, tokens, max_wait))

    def _reservation(self, tokens: int, result: RateLimit, max_wait: float | None) -> Reservation:
        policy = self._decider.policy
        if refused_beyond(result, max_wait):
            assert max_wait is not None
            raise MaxWaitDurationExceeded(result.retry_after, max_wait, result)
        if not result.accepted and tokens and not policy.books_ahead:
            raise ReserveNotSupported(
                f"a {policy.name} cannot book future capacity (the wait would be "
                f"{result.retry_after:.3f}s); use a token bucket or a fixed window to queue work"
            )
        return Reservation(self, tokens, result, self._decider.decision_clock)


class NoLimiter:
    """The `no_limit` policy: always accepted, `remaining` = `limit` = sys.maxsize, no I/O."""

    def __init__(self, id: str = "", *, clock: Clock | None = None) -> None:
        self.id = id
        self.clock = clock
        self.decision_clock: Clock = clock or SYSTEM_CLOCK

    limit = UNLIMITED

    def _result(self) -> RateLimit:
        return RateLimit(True, UNLIMITED, UNLIMITED, 0.0, 0.0, self.decision_clock.now())

    def consume(self, tokens: int = 1) -> RateLimit:
        check_tokens(tokens, UNLIMITED)
        return self._result()

    async def aconsume(self, tokens: int = 1) -> RateLimit:
        return self.consume(tokens)

    def reserve(self, tokens: int = 1, max_wait: float | None = None) -> Reservation:
        check_tokens(tokens, UNLIMITED)
        check_max_wait(max_wait)
        return Reservation(None, tokens, self._result(), self.decision_clock)

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

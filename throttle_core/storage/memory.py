"""InMemoryStorage: the zero-setup default, exact across the threads and tasks of one process."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from throttle_core.clock import Clock, SystemClock, check_clock
from throttle_core.errors import ConfigError
from throttle_core.policies import LimiterPolicy, StateBase
from throttle_core.result import RateLimit
from throttle_core.storage.decoding import foreign, usable_state

DEFAULT_MAX_KEYS = 100_000
_SWEEP_PER_WRITE = 4


def _expired(entry: Any, now: float) -> bool:
    """Whether an entry (a state, or `(expires, state)`) has expired at `now`. A state's TTL
    is at least a second, so one decided on less than a second ago is live without asking
    its `expiration_time`."""
    if type(entry) is tuple:
        return entry[0] <= now  # type: ignore[no-any-return]
    timer = entry.timer
    return now >= timer + 1.0 and timer + entry.expiration_time <= now  # type: ignore[no-any-return]


class InMemoryStorage:
    """States in an LRU-ordered dict with TTL expiry, bounded by `max_keys`.

    Decisions run under one lock, so `consume` is atomic; beyond `max_keys` the least
    recently used state is evicted. Expiry is judged by `clock` (default `SystemClock`).
    An entry is the state itself when its `timer` is the storage's time (its expiry is then
    `timer + expiration_time`, nothing more to keep per key), else `(expires, state)`.
    """

    def __init__(self, max_keys: int = DEFAULT_MAX_KEYS, *, clock: Clock | None = None) -> None:
        if isinstance(max_keys, bool) or not isinstance(max_keys, int) or max_keys < 1:
            raise ConfigError(f"max_keys must be a positive integer, got {max_keys!r}")
        self.max_keys = max_keys
        self._clock: Clock = check_clock(clock) or SystemClock()
        self._now = time.time if type(self._clock) is SystemClock else self._clock.now
        self._data: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def clock(self) -> Clock:
        """The clock expiry is judged by (the system clock is read without a method call)."""
        return self._clock

    def __len__(self) -> int:
        return len(self._data)

    @property
    def never_waits(self) -> bool:
        """True: a decision here does no I/O, so async callers may call `consume` directly
        (false for a subclass that overrides `aconsume`, which may wait)."""
        return type(self).aconsume is InMemoryStorage.aconsume

    def _get(self, id: str, now: float, state_type: type[StateBase] | None = None) -> Any:
        """The live state under `id`, now the most recently used, or None. With `state_type`,
        a state of another type (another policy's, under the same id) is dropped, logged."""
        data = self._data
        entry = data.get(id)
        if entry is None:
            return None
        if _expired(entry, now):
            del data[id]
            return None
        state = entry[1] if type(entry) is tuple else entry
        if state_type is not None and type(state) is not state_type:
            del data[id]
            foreign(f"of {id!r} in InMemoryStorage", state.type, state_type.type)
            return None
        data.move_to_end(id)
        return state

    def _put(self, state: Any, now: float, known: bool) -> None:
        """Store `state` as the most recent entry; a new key first makes room for itself."""
        data = self._data
        if getattr(state, "timer", None) == now:
            data[state.id] = state
        else:
            data[state.id] = (now + state.expiration_time, state)
        if known:
            return
        for _ in range(_SWEEP_PER_WRITE):
            if len(data) <= self.max_keys and not _expired(next(iter(data.values())), now):
                break
            data.popitem(last=False)

    def save(self, state: Any) -> None:
        """Store `state` (the storage interface); a state no decision could have written at the
        storage's time is not stored, and the one it would replace is dropped (logged)."""
        with self._lock:
            now = self._now()
            known = self._data.pop(state.id, None) is not None
            if usable_state(state, f"of {state.id!r} given to InMemoryStorage.save", None, now):
                self._put(state, now, known)

    def fetch(self, id: str) -> Any:
        with self._lock:
            return self._get(id, self._now())

    def delete(self, id: str) -> None:
        with self._lock:
            self._data.pop(id, None)

    def clear(self) -> None:
        """Forget every state."""
        with self._lock:
            self._data.clear()

    def close(self) -> None:
        """Nothing to close: there is no connection. Every storage `storage_from_url` builds
        has `close()` / `aclose()`, so code that builds one from a setting can close it."""

    async def aclose(self) -> None:
        """Async twin of `close()`."""

    async def asave(self, state: Any) -> None:
        self.save(state)

    async def afetch(self, id: str) -> Any:
        return self.fetch(id)

    async def adelete(self, id: str) -> None:
        self.delete(id)

    def consume(
        self,
        policy: LimiterPolicy,
        id: str,
        tokens: int,
        max_wait: float | None,
        now: float | None,
    ) -> RateLimit:
        data = self._data
        with self._lock:
            stored_now = self._now()
            state = data.get(id)
            recent = False
            if state is not None:
                # A state of this policy decided on within the last second is live: no expiry
                # to work out, and a new state timed now takes its place as it is.
                recent = type(state) is policy.state_type and stored_now < state.timer + 1.0
                if recent:
                    data.move_to_end(id)
                else:
                    state = self._get(id, stored_now, policy.state_type)
            new, result = policy.decide(
                id, state, stored_now if now is None else now, tokens, max_wait
            )
            if new is not None:
                if recent and new.timer == stored_now:
                    data[id] = new
                else:
                    self._put(new, stored_now, state is not None)
        return result

    async def aconsume(
        self,
        policy: LimiterPolicy,
        id: str,
        tokens: int,
        max_wait: float | None,
        now: float | None,
    ) -> RateLimit:
        return self.consume(policy, id, tokens, max_wait, now)

    def refund(
        self, policy: LimiterPolicy, id: str, tokens: int, at: float, now: float | None
    ) -> RateLimit:
        with self._lock:
            stored_now = self._now()
            decided_at = stored_now if now is None else now
            state = self._get(id, stored_now, policy.state_type)
            after: Any = policy.refund(state, decided_at, tokens, at)
            if after is not None:
                self._put(after, stored_now, True)
        return policy.decide(id, after or state, decided_at, 0, None)[1]

    async def arefund(
        self, policy: LimiterPolicy, id: str, tokens: int, at: float, now: float | None
    ) -> RateLimit:
        return self.refund(policy, id, tokens, at, now)

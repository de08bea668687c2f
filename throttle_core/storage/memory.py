"""InMemoryStorage: the zero-setup default, exact across the threads and tasks of one process."""

from __future__ import annotations

import math
import threading
import time
from typing import Any

from throttle_core.clock import Clock, SystemClock, check_clock
from throttle_core.errors import ConfigError
from throttle_core.messages import short
from throttle_core.policies import LimiterPolicy, StateBase
from throttle_core.result import RateLimit
from throttle_core.storage.decoding import foreign, usable_state

DEFAULT_MAX_KEYS = 100_000
MAX_KEYS = 10**9
"""The most keys one in-memory storage may be told to hold: 200 GB of states."""
_BATCH_SHARE = 100
"""A trim evicts (beyond `max_keys`) a hundredth of `max_keys`, at least one state, and one
is due every hundredth of `max_keys` new keys."""
_SWEEP_PER_WRITE = 4
_TRIM_EVERY = 1.0


def _expired(entry: Any, now: float) -> bool:
    """Whether an entry (a state, or `(expires, state)`) has expired at `now`. A state's TTL
    is at least a second, so one decided on less than a second ago is live without asking
    its `expiration_time`."""
    if type(entry) is tuple:
        return entry[0] <= now  # type: ignore[no-any-return]
    timer = entry.timer
    return now >= timer + 1.0 and timer + entry.expiration_time <= now  # type: ignore[no-any-return]


class InMemoryStorage:
    """States in a plain dict kept in least-recently-used order, with TTL expiry, never more
    than `max_keys` of them.

    Decisions run under one lock, so `consume` is atomic. A state used (decided on, fetched,
    saved) moves to the end of the dict. Reaching the front of a plain dict means stepping
    over every slot freed there since CPython last rebuilt its table, so the front is trimmed
    in batches: a new key beyond `max_keys` evicts the `max_keys // 100` least recently used
    states (at least one) at once, and the first new key a second after the last trim, or
    every `max_keys // 100`-th, drops expired states there. Expiry is judged by `clock`
    (default `SystemClock`). An entry is the state itself when its `timer` is the storage's
    time (its expiry is then `timer + expiration_time`, nothing more to keep per key), else
    `(expires, state)`.
    """

    def __init__(self, max_keys: int = DEFAULT_MAX_KEYS, *, clock: Clock | None = None) -> None:
        if isinstance(max_keys, bool) or not isinstance(max_keys, int) or max_keys < 1:
            raise ConfigError(f"max_keys must be a positive integer, got {short(max_keys)}")
        if max_keys > MAX_KEYS:
            raise ConfigError(
                f"max_keys must be at most {MAX_KEYS:,} (about 200 bytes a key), "
                f"got {short(max_keys)}"
            )
        self.max_keys = max_keys
        self._clock: Clock = check_clock(clock) or SystemClock()
        self._now = time.time if type(self._clock) is SystemClock else self._clock.now
        self._batch = max(1, max_keys // _BATCH_SHARE)
        self._data: dict[str, Any] = {}
        self._last: str | None = None
        """The id last put at the end of `_data`: using it again needs no move."""
        self._written = 0
        self._trim_at = -math.inf
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
        self._move_to_end(id)
        return state

    def _move_to_end(self, id: str) -> None:
        """Make the stored `id` the most recently used (the one used last already is)."""
        if id != self._last:
            self._data[id] = self._data.pop(id)
            self._last = id

    def _put(self, state: Any, now: float, known: bool) -> None:
        """Store `state` as the most recent entry (a known key has just been moved to the end);
        a new key beyond `max_keys`, or the first in a second or in `batch` new keys, trims."""
        data = self._data
        id = state.id
        if getattr(state, "timer", None) == now:
            data[id] = state
        else:
            data[id] = (now + state.expiration_time, state)
        self._last = id
        if known:
            return
        self._written += 1
        if len(data) > self.max_keys or self._written >= self._batch or now >= self._trim_at:
            self._trim(now)

    def _trim(self, now: float) -> None:
        """Drop states from the least recently used end: `batch` of them when there are more
        than `max_keys`, then expired ones up to the first live one (at most four per new key
        since the last trim)."""
        data = self._data
        evict = self._batch if len(data) > self.max_keys else 0
        most = evict + _SWEEP_PER_WRITE * self._written
        doomed: list[str] = []
        for id, entry in data.items():
            if len(doomed) == most or (len(doomed) >= evict and not _expired(entry, now)):
                break
            doomed.append(id)
        for id in doomed:
            del data[id]
        self._written = 0
        self._trim_at = now + _TRIM_EVERY

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
                    self._move_to_end(id)
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

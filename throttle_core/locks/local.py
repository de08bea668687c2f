"""LocalLock: per-key mutual exclusion between the threads and tasks of one process."""

from __future__ import annotations

import asyncio
import threading
import time

from throttle_core.errors import ConfigError, LockError
from throttle_core.locks.base import (
    DEFAULT_TIMEOUT,
    DEFAULT_TTL,
    LockBase,
    backoff_delays,
    check_seconds,
)


class LocalLock(LockBase):
    """One `threading.Lock` per key while anyone holds or waits for it; `ttl` is not needed
    in-process and is ignored. `acquire` waits up to `timeout` seconds."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.timeout = check_seconds(timeout, "LocalLock timeout", ConfigError)
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, list[int]]] = {}

    def _enter(self, key: str) -> threading.Lock:
        with self._guard:
            entry = self._locks.get(key)
            if entry is None:
                entry = self._locks[key] = (threading.Lock(), [0])
            entry[1][0] += 1
            return entry[0]

    def _leave(self, key: str) -> None:
        with self._guard:
            users = self._locks[key][1]
            users[0] -= 1
            if users[0] == 0:
                del self._locks[key]

    def acquire(self, key: str, ttl: float = DEFAULT_TTL) -> bool:
        if self._enter(key).acquire(timeout=self.timeout):
            return True
        self._leave(key)
        return False

    def release(self, key: str) -> None:
        with self._guard:
            entry = self._locks.get(key)
            if entry is None or not entry[0].locked():
                raise LockError(f"the local lock for {key!r} is not held")
            entry[0].release()
        self._leave(key)

    async def aacquire(self, key: str, ttl: float = DEFAULT_TTL) -> bool:
        lock = self._enter(key)
        deadline = time.monotonic() + self.timeout
        try:
            for delay in backoff_delays(first=0.0005, cap=0.01):
                if lock.acquire(blocking=False):
                    return True
                if time.monotonic() >= deadline:
                    break
                await asyncio.sleep(delay)
        except BaseException:
            self._leave(key)
            raise
        self._leave(key)
        return False

    async def arelease(self, key: str) -> None:
        self.release(key)

    def __len__(self) -> int:
        """How many keys are held or awaited right now."""
        return len(self._locks)

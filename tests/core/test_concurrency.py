"""Many threads or tasks on one key in one process: exactly `limit` admitted, never one more."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from tests.conformance.bench import AsyncDictStorage, DictStorage
from tests.policies import every_policy, run_threads
from throttle_core import InMemoryStorage, LocalLock, RateLimiterFactory

LIMIT = 300
CONFIGS = every_policy(LIMIT)


@pytest.fixture(autouse=True)
def frequent_thread_switches() -> Any:
    """Switch threads every microsecond so that an unlocked read-modify-write would be caught."""
    import sys

    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


def storages() -> list[Any]:
    return [
        pytest.param(lambda: (InMemoryStorage(), None), id="memory"),
        pytest.param(lambda: (DictStorage(), LocalLock()), id="user-dict+LocalLock"),
    ]


@pytest.mark.parametrize("make", storages())
@pytest.mark.parametrize("policy", CONFIGS)
def test_eight_threads_admit_exactly_the_limit(make: Any, policy: str) -> None:
    storage, lock = make()
    factory = RateLimiterFactory(CONFIGS[policy], storage, lock)
    admitted = [0] * 8
    start = threading.Barrier(8)

    def hammer(slot: int) -> None:
        limiter = factory.create("one-key")
        start.wait()
        for _ in range(100):
            admitted[slot] += limiter.consume().accepted

    run_threads(8, hammer)
    assert sum(admitted) == LIMIT


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: (InMemoryStorage(), None), id="memory"),
        pytest.param(lambda: (DictStorage(), LocalLock()), id="user-dict+LocalLock"),
        pytest.param(lambda: (AsyncDictStorage(), LocalLock()), id="async-user-dict+LocalLock"),
    ],
)
@pytest.mark.parametrize("policy", CONFIGS)
async def test_two_hundred_tasks_admit_exactly_the_limit(make: Any, policy: str) -> None:
    storage, lock = make()
    factory = RateLimiterFactory(CONFIGS[policy], storage, lock)

    async def hammer() -> int:
        limiter = factory.create("one-key")
        admitted = 0
        for _ in range(2):
            admitted += (await limiter.aconsume()).accepted
            await asyncio.sleep(0)
        return admitted

    results = await asyncio.gather(*(hammer() for _ in range(200)))
    assert sum(results) == LIMIT


class AnswerAtOnceLock:
    """A lock as @zeitar/throttle's guide writes one: acquire answers at once, never waits."""

    def __init__(self) -> None:
        self.held: set[str] = set()
        self.guard = threading.Lock()
        self.refusals = 0

    def acquire(self, key: str, ttl: float = 10) -> bool:
        with self.guard:
            if key in self.held:
                self.refusals += 1
                return False
            self.held.add(key)
            return True

    def release(self, key: str) -> None:
        with self.guard:
            self.held.discard(key)


def test_a_lock_that_never_waits_is_retried_until_it_is_free() -> None:
    lock = AnswerAtOnceLock()
    factory = RateLimiterFactory(CONFIGS["fixed_window"], DictStorage(), lock)
    admitted = [0] * 8

    def hammer(slot: int) -> None:
        for _ in range(50):
            admitted[slot] += factory.create("k").consume().accepted

    run_threads(8, hammer)
    assert sum(admitted) == LIMIT
    assert not lock.held

"""InMemoryStorage: save/fetch/delete, TTL expiry, LRU bound, clear."""

from __future__ import annotations

import tracemalloc

from throttle_core import FrozenClock, InMemoryStorage, RateLimiterFactory
from throttle_core.policies import FixedWindowState, TokenBucketState


def test_save_fetch_delete() -> None:
    storage = InMemoryStorage(clock=FrozenClock(0))
    state = TokenBucketState("a", 10, 1.0, 5.0, 0.0)
    assert storage.fetch("a") is None
    storage.save(state)
    assert storage.fetch("a") == state
    storage.delete("a")
    storage.delete("a")
    assert storage.fetch("a") is None


def test_states_expire_after_their_ttl() -> None:
    clock = FrozenClock(0)
    storage = InMemoryStorage(clock=clock)
    storage.save(FixedWindowState("w", 60.0, 0.0, (3,), 10.0))
    clock.advance(49.999)
    assert storage.fetch("w") is not None
    clock.advance(0.001)
    assert storage.fetch("w") is None
    assert len(storage) == 0


def test_least_recently_used_states_are_evicted_beyond_max_keys() -> None:
    clock = FrozenClock(0)
    storage = InMemoryStorage(max_keys=3, clock=clock)
    factory = RateLimiterFactory("5/hour", storage, clock=clock)
    for key in "abc":
        factory.create(key).consume()
    factory.create("a").consume()
    factory.create("d").consume()
    assert len(storage) == 3
    assert storage.fetch("5-per-hour:b") is None
    assert storage.fetch("5-per-hour:a") is not None
    assert factory.create("a").consume(0).remaining == 3


def test_expired_states_are_swept_on_writes() -> None:
    clock = FrozenClock(0)
    storage = InMemoryStorage(clock=clock)
    factory = RateLimiterFactory("5/minute", storage, clock=clock)
    for key in range(4):
        factory.create(str(key)).consume()
    clock.advance(3600)
    factory.create("fresh").consume()
    assert len(storage) == 1


def test_clear_forgets_everything() -> None:
    storage = InMemoryStorage()
    factory = RateLimiterFactory("1/hour", storage)
    assert factory.create("k").consume()
    assert not factory.create("k").consume()
    storage.clear()
    assert factory.create("k").consume()


async def test_async_twins() -> None:
    storage = InMemoryStorage(clock=FrozenClock(0))
    state = TokenBucketState("a", 10, 1.0, 5.0, 0.0)
    await storage.asave(state)
    assert await storage.afetch("a") == state
    await storage.adelete("a")
    assert await storage.afetch("a") is None


def test_expiry_follows_the_storage_clock_whoever_decides() -> None:
    clock = FrozenClock(0)
    storage = InMemoryStorage(clock=clock)
    config = {"policy": "token_bucket", "id": "tb", "limit": 5, "rate": "5/minute"}
    RateLimiterFactory(config, storage).create("own").consume()
    RateLimiterFactory(config, storage, clock=FrozenClock(1000)).create("other").consume()
    ttl = storage.fetch("tb:own").expiration_time
    assert storage.fetch("tb:other").expiration_time == ttl
    clock.advance(ttl - 0.001)
    assert storage.fetch("tb:own") is not None
    assert storage.fetch("tb:other") is not None
    clock.advance(0.001)
    assert storage.fetch("tb:own") is None
    assert storage.fetch("tb:other") is None


def test_a_key_costs_under_280_bytes() -> None:
    storage = InMemoryStorage()
    factory = RateLimiterFactory(
        {"policy": "fixed_window", "id": "bench", "limit": 10**6, "interval": 60}, storage
    )
    keys = [f"user-{i}" for i in range(20_000)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for key in keys:
            factory.create(key).consume()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(storage) == 20_000
    assert held / 20_000 < 280

"""InMemoryStorage: save/fetch/delete, TTL expiry, LRU bound, clear."""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

import pytest

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


KEYS_MEASURED = 20_000


def bytes_per_key(config: dict[str, Any]) -> float:
    """The memory a storage holds per key after one decision on each of `KEYS_MEASURED` new
    keys limited by `config`, as tracemalloc counts it."""
    storage = InMemoryStorage()
    factory = RateLimiterFactory(config, storage)
    keys = [f"user-{i}" for i in range(KEYS_MEASURED)]
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for key in keys:
            factory.create(key).consume()
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(storage) == KEYS_MEASURED
    return held / KEYS_MEASURED


def test_a_key_costs_under_280_bytes() -> None:
    config = {"policy": "fixed_window", "id": "bench", "limit": 10**6, "interval": 60}
    assert bytes_per_key(config) < 280


@pytest.mark.parametrize(
    "config",
    [
        {"policy": "fixed_window", "interval": 60},
        {"policy": "sliding_window", "interval": 60},
        {"policy": "token_bucket", "rate": "100/minute"},
        {"policy": "gcra", "rate": "100/minute"},
    ],
    ids=lambda config: str(config["policy"]),
)
def test_a_key_costs_under_220_bytes_in_every_policy(config: dict[str, Any]) -> None:
    assert bytes_per_key({**config, "id": "bench", "limit": 100}) < 220


def test_buckets_left_full_but_one_token_share_one_float() -> None:
    clock = FrozenClock(0)
    storage = InMemoryStorage(clock=clock)
    config = {"policy": "token_bucket", "id": "tb", "limit": 5, "rate": "5/minute"}
    factory = RateLimiterFactory(config, storage)
    factory.create("b").consume(2)
    clock.advance(30)
    factory.create("a").consume()
    factory.create("b").consume()
    a, b = storage.fetch("tb:a"), storage.fetch("tb:b")
    assert a.tokens == 4.0
    assert a.tokens is b.tokens
    factory.create("b").consume()
    assert storage.fetch("tb:b").tokens == 3.0


def bucket(id: str, clock: FrozenClock) -> TokenBucketState:
    """A state timed at `clock`'s now that lives 5 seconds."""
    return TokenBucketState(id, 10, 1.0, 5.0, clock.now())


def test_beyond_max_keys_the_least_recently_used_hundredth_goes_at_once() -> None:
    clock = FrozenClock(0)
    storage = InMemoryStorage(max_keys=300, clock=clock)
    keys = [f"k{i}" for i in range(300)]
    for key in keys:
        storage.save(bucket(key, clock))
    storage.save(bucket("k0", clock))
    assert storage.fetch("k1") is not None
    storage.save(bucket("new", clock))
    assert len(storage) == 298
    assert [storage.fetch(key) for key in ("k2", "k3", "k4")] == [None, None, None]
    assert storage.fetch("k5") is not None
    factory = RateLimiterFactory("5/hour", storage, clock=clock)
    factory.create("a").consume()
    factory.create("b").consume()
    assert len(storage) == 300
    factory.create("c").consume()
    assert len(storage) == 298
    held = {key for key in [*keys, "new"] if storage.fetch(key) is not None}
    assert held == {"k0", "k1", "k5", "new", *keys[9:]}
    assert factory.create("a").consume(0).remaining == 4


def test_the_number_of_keys_never_exceeds_max_keys() -> None:
    clock = FrozenClock(0)
    storage = InMemoryStorage(max_keys=1000, clock=clock)
    factory = RateLimiterFactory("5/hour", storage, clock=clock)
    sizes = []
    for i in range(5000):
        factory.create(str(i)).consume()
        sizes.append(len(storage))
    assert sizes[:1000] == list(range(1, 1001))
    assert set(sizes[1000:]) == set(range(991, 1001))
    held = {i for i in range(5000) if storage.fetch(f"5-per-hour:{i}") is not None}
    assert held == set(range(4000, 5000))


def test_expired_states_are_swept_once_a_second_or_every_hundredth_of_max_keys() -> None:
    clock = FrozenClock(0)
    storage = InMemoryStorage(max_keys=1000, clock=clock)
    storage.save(bucket("a", clock))
    clock.advance(0.5)
    storage.save(bucket("x", clock))
    clock.advance(4.7)
    storage.save(bucket("b", clock))
    assert len(storage) == 2
    clock.advance(0.4)
    storage.save(bucket("c", clock))
    assert len(storage) == 3
    clock.advance(0.6)
    storage.save(bucket("d", clock))
    assert len(storage) == 3
    clock.advance(4.1)
    storage.save(bucket("0", clock))
    assert len(storage) == 3
    clock.advance(0.4)
    for i in range(1, 10):
        storage.save(bucket(str(i), clock))
    assert len(storage) == 12
    storage.save(bucket("10", clock))
    assert len(storage) == 12
    assert storage.fetch("d") is not None

"""ResilientStorage: failover on connection errors, a circuit breaker, recovery by itself."""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, NamedTuple

import pytest

from tests.conformance.bench import DictStorage
from throttle_core import (
    ConfigError,
    FrozenClock,
    InMemoryStorage,
    Limiter,
    NoLimiter,
    Rate,
    RateLimiterFactory,
)
from throttle_core.policies import TokenBucket
from throttle_core.storage import RedisStorage, ResilientStorage


class Outage:
    """A switch for a storage's server, and a count of the calls that reached it."""

    def __init__(self) -> None:
        self.down = False
        self.calls = 0

    def check(self) -> None:
        self.calls += 1
        if self.down:
            raise ConnectionError("connection refused")


class FlakyAtomic(InMemoryStorage):
    """An atomic storage whose server can be taken down."""

    def __init__(self, outage: Outage, clock: FrozenClock) -> None:
        super().__init__(clock=clock)
        self.outage = outage

    def consume(self, *args: Any) -> Any:
        self.outage.check()
        return super().consume(*args)

    def refund(self, *args: Any) -> Any:
        self.outage.check()
        return super().refund(*args)


class FlakyUserStorage(DictStorage):
    """A save/fetch/delete user storage whose server can be taken down."""

    def __init__(self, outage: Outage) -> None:
        super().__init__()
        self.outage = outage

    def save(self, state: Any) -> None:
        self.outage.check()
        super().save(state)

    def fetch(self, id: str) -> Any:
        self.outage.check()
        return super().fetch(id)


def failed_over(storage: ResilientStorage) -> bool:
    """`storage.failed_over`, read afresh (type checkers keep what an assert said of it)."""
    return storage.failed_over


class Monotonic:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("kind", ["atomic", "user"])
def test_fails_over_trips_the_circuit_and_recovers(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    outage, clock, monotonic = Outage(), FrozenClock(0), Monotonic()
    primary = FlakyAtomic(outage, clock) if kind == "atomic" else FlakyUserStorage(outage)
    storage = ResilientStorage(
        primary, InMemoryStorage(clock=clock), cooldown=5, monotonic=monotonic
    )
    assert storage.supports_atomic == (kind == "atomic")
    limiter = RateLimiterFactory("3/hour", storage, clock=clock).create("k")
    assert limiter.consume(2).remaining == 1
    outage.down = True
    with caplog.at_level(logging.WARNING, "throttle_core"):
        assert limiter.consume().remaining == 2
    assert "failed (connection refused); using the fallback" in caplog.text
    assert storage.failed_over
    calls = outage.calls
    for _ in range(5):
        limiter.consume(0)
    assert outage.calls == calls
    monotonic.now = 5.0
    limiter.consume(0)
    assert outage.calls == calls + 1
    assert storage.failed_over
    outage.down = False
    monotonic.now = 10.0
    assert limiter.consume().remaining == 0
    assert not failed_over(storage)
    assert not limiter.consume()


async def test_async_failover() -> None:
    outage, clock = Outage(), FrozenClock(0)
    storage = ResilientStorage(FlakyAtomic(outage, clock), InMemoryStorage(clock=clock))
    limiter = RateLimiterFactory("2/hour", storage, clock=clock).create("k")
    outage.down = True
    assert (await limiter.aconsume()).remaining == 1
    assert storage.failed_over
    await limiter.areset()
    assert (await limiter.aconsume()).remaining == 1


def test_other_errors_are_not_swallowed() -> None:
    class Broken(DictStorage):
        def fetch(self, id: str) -> Any:
            raise RuntimeError("a bug, not an outage")

    limiter = RateLimiterFactory("2/hour", ResilientStorage(Broken())).create("k")
    with pytest.raises(RuntimeError, match="a bug"):
        limiter.consume()


def test_an_atomic_primary_needs_an_atomic_fallback() -> None:
    with pytest.raises(ConfigError, match="must decide atomically"):
        ResilientStorage(InMemoryStorage(), DictStorage())
    with pytest.raises(ConfigError, match="cooldown"):
        ResilientStorage(InMemoryStorage(), cooldown=-1)


def test_primary_and_fallback_may_be_urls() -> None:
    storage = ResilientStorage("redis://127.0.0.1:6379/3?prefix=r:", "memory://?max_keys=7")
    assert isinstance(storage.primary, RedisStorage)
    assert storage.primary.prefix == "r:"
    assert isinstance(storage.fallback, InMemoryStorage)
    assert storage.fallback.max_keys == 7
    assert storage.supports_atomic


class GatedAtomic(InMemoryStorage):
    """An atomic storage whose server can be down, and whose answers can be held back."""

    def __init__(self) -> None:
        super().__init__()
        self.down = True
        self.inside = 0
        self.entered = threading.Event()
        self.gate = threading.Event()

    def consume(self, *args: Any) -> Any:
        self.inside += 1
        self.entered.set()
        if self.down:
            raise ConnectionError("connection refused")
        self.gate.wait(10)
        return super().consume(*args)

    async def aconsume(self, *args: Any) -> Any:
        self.inside += 1
        self.entered.set()
        if self.down:
            raise ConnectionError("connection refused")
        await asyncio.to_thread(self.gate.wait, 10)
        return super().consume(*args)


class HalfOpen(NamedTuple):
    primary: GatedAtomic
    storage: ResilientStorage
    monotonic: Monotonic
    limiter: Limiter | NoLimiter


def half_open() -> HalfOpen:
    """A storage whose primary failed once and whose cooldown has just run out, and a limiter
    on it; the primary is back, but holds its answers until `primary.gate` is set."""
    primary = GatedAtomic()
    monotonic = Monotonic()
    storage = ResilientStorage(primary, cooldown=5, monotonic=monotonic)
    storage.consume(TokenBucket(100, Rate(1, 1)), "k", 1, 0, None)
    assert storage.failed_over
    primary.down, primary.inside, monotonic.now = False, 0, 5.0
    primary.entered.clear()
    limiter = RateLimiterFactory("100/hour", storage).create("k")
    return HalfOpen(primary, storage, monotonic, limiter)


def probing_alone(circuit: HalfOpen, probe: Future[Any] | asyncio.Future[Any]) -> None:
    """The probe is the one call inside the primary, held there, with the circuit still open."""
    assert (circuit.primary.inside, circuit.storage.failed_over, probe.done()) == (1, True, False)


def test_half_open_lets_exactly_one_thread_probe_while_the_others_use_the_fallback() -> None:
    circuit = primary, storage, _, limiter = half_open()
    with ThreadPoolExecutor(8) as pool:
        probe = pool.submit(limiter.consume)
        assert primary.entered.wait(5)
        others = [pool.submit(limiter.consume) for _ in range(20)]
        assert all(other.result(5).accepted for other in others)
        probing_alone(circuit, probe)
        primary.gate.set()
        assert probe.result(5).accepted
    assert not storage.failed_over
    limiter.consume()
    assert primary.inside == 2


async def test_half_open_lets_exactly_one_task_probe_while_the_others_use_the_fallback() -> None:
    circuit = primary, storage, _, limiter = half_open()
    probe = asyncio.ensure_future(limiter.aconsume())
    assert await asyncio.to_thread(primary.entered.wait, 5)
    others = await asyncio.gather(*(limiter.aconsume() for _ in range(20)))
    assert all(others)
    probing_alone(circuit, probe)
    primary.gate.set()
    assert (await probe).accepted
    assert not storage.failed_over
    await limiter.aconsume()
    assert primary.inside == 2


async def test_a_cancelled_probe_hands_the_probe_to_the_next_call() -> None:
    primary, storage, _, limiter = half_open()
    probe = asyncio.ensure_future(limiter.aconsume())
    assert await asyncio.to_thread(primary.entered.wait, 5)
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    primary.gate.set()
    await limiter.aconsume()
    assert primary.inside == 2
    assert not storage.failed_over


def test_a_failed_probe_opens_the_circuit_for_another_cooldown() -> None:
    primary, storage, monotonic, limiter = half_open()
    primary.down = True
    limiter.consume()
    assert primary.inside == 1
    monotonic.now = 9.9
    limiter.consume()
    assert primary.inside == 1
    monotonic.now = 10.0
    limiter.consume()
    assert primary.inside == 2
    assert storage.failed_over

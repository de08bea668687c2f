"""ResilientStorage: failover on connection errors, a circuit breaker, recovery by itself."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.conformance.bench import DictStorage
from throttle_core import ConfigError, FrozenClock, InMemoryStorage, RateLimiterFactory
from throttle_core.storage import ResilientStorage


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
    """A seed-style storage whose server can be taken down."""

    def __init__(self, outage: Outage) -> None:
        super().__init__()
        self.outage = outage

    def save(self, state: Any) -> None:
        self.outage.check()
        super().save(state)

    def fetch(self, id: str) -> Any:
        self.outage.check()
        return super().fetch(id)


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
    assert not storage.failed_over
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

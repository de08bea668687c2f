"""throttle_core.counters: one counter read, reset and cleaned, as every front end reports it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import START
from throttle_core import ConfigError, FrozenClock, InMemoryStorage, RateLimiterFactory
from throttle_core.counters import (
    acleanup_expired,
    ainspect_counter,
    areset_counter,
    cleanup_expired,
    describe_config,
    inspect_counter,
    reset_counter,
)
from throttle_core.policies import FixedWindowState

FIXED = {"policy": "fixed_window", "id": "api", "limit": 10, "interval": 60}
SLIDING = {"policy": "sliding_window", "id": "api", "limit": 10, "interval": 60}
BUCKET = {"policy": "token_bucket", "id": "api", "limit": 10, "rate": "10/minute"}


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def storage(clock: FrozenClock) -> InMemoryStorage:
    return InMemoryStorage(clock=clock)


def rows(report: Any) -> dict[str, str]:
    """A report's lines as label -> value."""
    return dict(re.split(r"\s{2,}", line, maxsplit=1) for line in report.lines())


def hit(storage: Any, clock: FrozenClock, config: Any, key: str | None, times: int) -> None:
    limiter = RateLimiterFactory(config, storage, clock=clock).create(key)
    for _ in range(times):
        assert limiter.consume().accepted


def test_a_fixed_window_without_its_limit(storage: InMemoryStorage, clock: FrozenClock) -> None:
    hit(storage, clock, FIXED, "203.0.113.7", 4)
    clock.advance(5)
    report = inspect_counter(storage, "api", "203.0.113.7", clock=clock)
    assert (report.state_id, report.policy, report.used) == ("api:203.0.113.7", "fixed_window", 4)
    assert (report.rate_limit, report.remaining, report.reset_after) == (None, None, 55.0)
    assert report.expires_at == START + 60
    assert report.state is not None
    assert report.state["hits"] == [4]
    assert rows(report)["remaining"] == "needs the limit: a stored window does not carry it"


def test_a_fixed_window_under_its_limit(storage: InMemoryStorage, clock: FrozenClock) -> None:
    hit(storage, clock, FIXED, "k", 10)
    clock.advance(20)
    report = inspect_counter(storage, "api", "k", FIXED, clock=clock)
    assert report.rate_limit is not None
    assert (report.remaining, report.rate_limit.retry_after, report.reset_after) == (0, 40, 40)
    assert report.lines() == [
        "counter     api:k",
        "policy      fixed_window, 10 per minute",
        "stored      10 hits in the current 1 min window",
        "remaining   0 of 10 now",
        "next token  in 40 s",
        "full again  in 40 s",
        "expires     in 40 s",
    ]
    data = report.to_dict()
    assert (data["limit"], data["remaining"], data["retry_after"], data["expires_in"]) == (
        10, 0, 40.0, 40.0,
    )  # fmt: skip
    assert inspect_counter(storage, "api", "k", clock=clock).used == 10


def test_a_sliding_window_weighs_the_previous_window(
    storage: InMemoryStorage, clock: FrozenClock
) -> None:
    clock.advance(30)
    hit(storage, clock, SLIDING, "k", 6)
    clock.advance(45)  # 15 s into the next window: estimate floor(6 * 0.75) = 4
    report = inspect_counter(storage, "api", "k", "10/minute", clock=clock)
    # Back to 0 once 6 * (1 - elapsed / 60) < 1: at 50 s into this window, 35 s from now.
    assert (report.used, report.remaining, report.reset_after) == (4, 6, 35.0)
    bare = inspect_counter(storage, "api", "k", clock=clock)
    assert (bare.used, bare.reset_after, bare.remaining) == (4, 35.0, None)


def test_a_token_bucket_carries_its_limit(storage: InMemoryStorage, clock: FrozenClock) -> None:
    hit(storage, clock, BUCKET, "k", 4)
    clock.advance(12)  # 6 + 12 s * 1/6 token per second = 8 tokens
    report = inspect_counter(storage, "api", "k", clock=clock)
    assert report.rate_limit is not None
    assert (report.used, report.remaining) == (2, 8)
    assert report.reset_after == pytest.approx(12)
    assert report.config is not None
    assert report.config["limit"] == 10
    assert report.policy == "token_bucket"


def test_nothing_stored_means_full(storage: InMemoryStorage, clock: FrozenClock) -> None:
    report = inspect_counter(storage, "api", "nobody", clock=clock)
    assert (report.state, report.used, report.expires_at, report.policy) == (None, 0, None, None)
    assert rows(report)["remaining"] == "the whole limit (nothing is counted)"
    under = inspect_counter(storage, "api", "nobody", FIXED, clock=clock)
    assert (under.remaining, under.reset_after, under.policy) == (10, 0.0, "fixed_window")


def test_a_limit_of_another_policy_is_noted(storage: InMemoryStorage, clock: FrozenClock) -> None:
    hit(storage, clock, FIXED, "k", 3)
    report = inspect_counter(storage, "api", "k", SLIDING, clock=clock)
    assert report.remaining == 10  # what a sliding-window limiter would do: start afresh
    assert report.used == 3
    assert inspect_counter(storage, "api", "k", clock=clock).used == 3
    assert report.notes == (
        "the stored state is a fixed_window's but the limit given is a sliding_window: that "
        "limiter would ignore the state and start afresh (figures are for it)",
    )
    other = inspect_counter(storage, "api", "k", {**FIXED, "interval": 10}, clock=clock)
    assert other.notes == ("the stored window is 1 min long but the limit's is 10 s",)


def test_ids_and_keys_are_escaped_as_limiters_escape_them(
    storage: InMemoryStorage, clock: FrozenClock
) -> None:
    hit(storage, clock, {**FIXED, "id": "api:v2"}, "2001:db8::/64", 2)
    report = inspect_counter(storage, "api:v2", "2001:db8::/64", clock=clock)
    assert (report.state_id, report.used) == ("api%3Av2:2001%3Adb8%3A%3A/64", 2)
    hit(storage, clock, {**FIXED, "id": "global"}, None, 1)
    assert inspect_counter(storage, "global", None, clock=clock).state_id == "global"


def test_reset_forgets_the_counter(storage: InMemoryStorage, clock: FrozenClock) -> None:
    hit(storage, clock, FIXED, "k", 10)
    assert reset_counter(storage, "api", "k") is True
    assert reset_counter(storage, "api", "k") is False
    assert RateLimiterFactory(FIXED, storage, clock=clock).create("k").consume().remaining == 9


def test_bad_arguments_are_config_errors(storage: InMemoryStorage) -> None:
    with pytest.raises(ConfigError, match="counter id must be a non-empty string"):
        inspect_counter(storage, "", "k")
    with pytest.raises(ConfigError, match="is not the counter's id"):
        inspect_counter(storage, "api", "k", {**FIXED, "id": "web"})
    with pytest.raises(ConfigError, match="holds 2 limits"):
        inspect_counter(storage, "api", "k", "1/second;10/minute")
    with pytest.raises(ConfigError, match="storage must have save/fetch/delete"):
        reset_counter(object(), "api", "k")
    with pytest.raises(ConfigError, match="drops expired states by itself"):
        cleanup_expired(storage)


class DictStorage:
    """The custom-storage guide's storage: states kept as their dict form."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def save(self, state: Any) -> None:
        self.data[state.id] = state.to_dict()

    def fetch(self, id: str) -> Any:
        return self.data.get(id)

    def delete(self, id: str) -> None:
        self.data.pop(id, None)


def test_a_user_storage_returning_dicts(clock: FrozenClock) -> None:
    storage = DictStorage()
    state = FixedWindowState("api:k", 60.0, START, (3,), START)
    storage.data["api:k"] = state.to_dict()
    report = inspect_counter(storage, "api", "k", clock=clock)
    assert (report.used, report.state, report.reset_after) == (3, state.to_dict(), 60.0)
    storage.data["api:k"] = {"type": "bogus"}
    report = inspect_counter(storage, "api", "k", clock=clock)
    assert report.state is None
    assert report.notes == (
        "the stored value is undecodable (unknown limiter state type 'bogus'); a limiter "
        "treats it as absent",
    )
    assert reset_counter(storage, "api", "k") is False
    assert storage.data == {}


async def test_async_twins(storage: InMemoryStorage, clock: FrozenClock) -> None:
    hit(storage, clock, FIXED, "k", 3)
    report = await ainspect_counter(storage, "api", "k", FIXED, clock=clock)
    assert report == inspect_counter(storage, "api", "k", FIXED, clock=clock)
    assert await areset_counter(storage, "api", "k") is True
    assert (await ainspect_counter(storage, "api", "k", clock=clock)).state is None
    with pytest.raises(ConfigError, match="has no acleanup"):
        await acleanup_expired(storage)


def test_describe_config() -> None:
    assert describe_config({**FIXED, "align": "first_hit"}) == (
        "fixed_window, 10 per minute (first-hit windows)"
    )
    assert describe_config({**SLIDING, "interval": 900}) == "sliding_window, 10 per 15 minutes"
    assert describe_config({**BUCKET, "rate": {"interval": 1, "amount": 2}}) == (
        "token_bucket, burst 10, refilled 2 per second"
    )


@pytest.fixture
def postgres(postgres_url: str) -> Iterator[Any]:
    from throttle_core.storage import PostgresStorage

    with PostgresStorage(postgres_url, f"counters_{uuid.uuid4().hex[:10]}") as storage:
        storage.create_table()
        try:
            yield storage
        finally:
            storage.drop_table()


@pytest.mark.postgres
async def test_on_postgres_with_the_servers_time(postgres: Any, postgres_url: str) -> None:
    RateLimiterFactory(FIXED, postgres).create("k").consume(3)
    report = inspect_counter(postgres, "api", "k", FIXED)
    assert (report.used, report.remaining) == (3, 7)
    assert 0 < report.reset_after <= 60
    assert (await ainspect_counter(postgres, "api", "k", FIXED)).remaining == 7
    stale = type(postgres)(postgres_url, postgres.table, clock=FrozenClock(1000.0))
    RateLimiterFactory(FIXED, stale, clock=FrozenClock(1000.0)).create("old").consume()
    stale.close()
    assert cleanup_expired(postgres) == 1
    assert await acleanup_expired(postgres) == 0
    assert await areset_counter(postgres, "api", "k") is True
    assert inspect_counter(postgres, "api", "k").state is None

"""Every option of every public constructor of the core, given a wrong type, a wrong value or
an extreme value, is refused at construction with a `ConfigError` naming it."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis
import redis.asyncio

from throttle_core import (
    CompoundLimiter,
    CompoundRateLimiterFactory,
    ConfigError,
    FrozenClock,
    InMemoryStorage,
    LocalLock,
    Rate,
    RateLimiterFactory,
    parse_limits,
    storage_from_url,
)
from throttle_core.locks import RedisLock, Redlock
from throttle_core.policies import FixedWindow, PolicySpec, SlidingWindow, TokenBucket
from throttle_core.storage import PostgresStorage, RedisStorage, ResilientStorage

FIXED = {"policy": "fixed_window", "id": "api", "limit": 10, "interval": 60}
HUGE = 10**400


def client() -> redis.Redis:
    """A client object (connects to nothing until it is used)."""
    return redis.Redis(host="127.0.0.1", port=1)


def factory(**changes: Any) -> RateLimiterFactory:
    arguments: dict[str, Any] = {"config": FIXED, "storage": InMemoryStorage(), **changes}
    return RateLimiterFactory(**arguments)


def resilient(**changes: Any) -> ResilientStorage:
    arguments: dict[str, Any] = {"primary": InMemoryStorage(), **changes}
    return ResilientStorage(**arguments)


# (constructor.option, kind of bad value, call, what the message must say)
CASES: list[tuple[str, str, Callable[[], object], str]] = [
    ("RateLimiterFactory.config", "type", lambda: factory(config=42), "config must be a dict"),
    ("RateLimiterFactory.config", "value", lambda: factory(config={**FIXED, "policy": "leaky"}),
     "policy must be one of"),
    ("RateLimiterFactory.config", "extreme", lambda: factory(config={**FIXED, "limit": HUGE}),
     "limit must be at most 2"),
    ("RateLimiterFactory.storage", "type", lambda: factory(storage=42),
     "storage must have save/fetch/delete"),
    ("RateLimiterFactory.storage", "value", lambda: factory(storage=InMemoryStorage),
     "storage must be a storage object, not the class InMemoryStorage"),
    ("RateLimiterFactory.storage", "value", lambda: factory(storage="InMemoryStorage"),
     "'InMemoryStorage' is not a storage URL"),
    ("RateLimiterFactory.storage", "extreme", lambda: factory(storage="redis://h:99999/0"),
     "bad port '99999'"),
    ("RateLimiterFactory.lock", "type", lambda: factory(lock=42),
     "lock must have acquire"),
    ("RateLimiterFactory.lock", "value", lambda: factory(lock=LocalLock),
     "lock must be a lock object, not the class LocalLock"),
    ("RateLimiterFactory.clock", "type", lambda: factory(clock=42), "clock must be a clock"),
    ("RateLimiterFactory.clock", "value", lambda: factory(clock=FrozenClock),
     "clock must be a clock object, not the class FrozenClock"),
    ("RateLimiterFactory.clock", "value", lambda: factory(clock=time.time),
     "clock must be a clock with now"),
    ("CompoundRateLimiterFactory.limits", "type", lambda: CompoundRateLimiterFactory(42),  # type: ignore[arg-type]
     "limits must be a limit string or a list"),
    ("CompoundRateLimiterFactory.limits", "value", lambda: CompoundRateLimiterFactory([42]),  # type: ignore[list-item]
     "limits must hold RateLimiterFactory objects"),
    ("CompoundRateLimiterFactory.limits", "value",
     lambda: CompoundRateLimiterFactory(["5/minute", "5/minute"], InMemoryStorage()),
     "several limits have the id '5-per-minute'"),
    ("CompoundRateLimiterFactory.limits", "extreme",
     lambda: CompoundRateLimiterFactory(f"{HUGE}/minute", InMemoryStorage()),
     "must be at most 2"),
    ("CompoundRateLimiterFactory.storage", "value",
     lambda: CompoundRateLimiterFactory("5/minute"), "storage is needed"),
    ("CompoundRateLimiterFactory.storage", "type",
     lambda: CompoundRateLimiterFactory("5/minute", 42),  # type: ignore[arg-type]
     "storage must have save/fetch/delete"),
    ("parse_limits.text", "type", lambda: parse_limits(5), "limits must be a string"),  # type: ignore[arg-type]
    ("parse_limits.text", "value", lambda: parse_limits("5 a minute"), "is not a limit string"),
    ("parse_limits.text", "extreme", lambda: parse_limits("5/100000 years"),
     "must be from 1 millisecond to 100 years"),
    ("parse_limits.id", "type", lambda: parse_limits("5/minute", id=5),  # type: ignore[arg-type]
     "id must be a string, got 5"),
    ("parse_limits.policy", "value", lambda: parse_limits("5/minute", policy="no_limit"),
     "policy 'no_limit' cannot be used with limit strings"),
    ("Rate.interval", "type", lambda: Rate([1]), "rate.interval must be a number"),  # type: ignore[arg-type]
    ("Rate.interval", "value", lambda: Rate(-1), "rate.interval must be a positive duration"),
    ("Rate.interval", "extreme", lambda: Rate(HUGE), "rate.interval must be from 1 milli"),
    ("Rate.amount", "type", lambda: Rate(1, "5"), "rate.amount must be a positive integer"),  # type: ignore[arg-type]
    ("Rate.amount", "value", lambda: Rate(1, 0), "rate.amount must be at least 1"),
    ("Rate.amount", "extreme", lambda: Rate(1, HUGE), "rate.amount must be at most 2"),
    ("TokenBucket.limit", "type", lambda: TokenBucket("5", Rate(1)), "limit must be a positive"),  # type: ignore[arg-type]
    ("TokenBucket.rate", "type", lambda: TokenBucket(5, 1), "rate must be a Rate"),  # type: ignore[arg-type]
    ("FixedWindow.limit", "extreme", lambda: FixedWindow(HUGE, 60), "limit must be at most 2"),
    ("FixedWindow.interval", "extreme", lambda: FixedWindow(5, 1e-300), "interval must be from"),
    ("FixedWindow.align", "value", lambda: FixedWindow(5, 60, "midnight"),  # type: ignore[arg-type]
     "align must be one of clock, first_hit"),
    ("SlidingWindow.limit", "value", lambda: SlidingWindow(0, 60), "limit must be at least 1"),
    ("SlidingWindow.interval", "type", lambda: SlidingWindow(5, "soon"),  # type: ignore[arg-type]
     "interval 'soon' is not"),
    ("FrozenClock.start", "type", lambda: FrozenClock("now"),  # type: ignore[arg-type]
     "start must be a number of seconds since"),
    ("FrozenClock.start", "value", lambda: FrozenClock(float("nan")), "start must be within"),
    ("FrozenClock.start", "extreme", lambda: FrozenClock(1e300), "start must be within"),
    ("InMemoryStorage.max_keys", "type", lambda: InMemoryStorage("5"), "max_keys must be"),  # type: ignore[arg-type]
    ("InMemoryStorage.max_keys", "value", lambda: InMemoryStorage(0), "max_keys must be"),
    ("InMemoryStorage.max_keys", "extreme", lambda: InMemoryStorage(HUGE),
     "max_keys must be at most 1,000,000,000 .* got about 10\\*\\*400"),
    ("InMemoryStorage.clock", "type", lambda: InMemoryStorage(clock=5), "clock must be a clock"),  # type: ignore[arg-type]
    ("storage_from_url.url", "type", lambda: storage_from_url(5), "URL must be a string"),  # type: ignore[arg-type]
    ("storage_from_url.options", "type", lambda: storage_from_url("memory://", max_keys="x"),
     "max_keys must be a positive integer"),
    ("RedisStorage.client", "type", lambda: RedisStorage(42), "needs a redis client"),
    ("RedisStorage.client", "value", lambda: RedisStorage(redis.Redis), "needs a redis client"),
    ("RedisStorage.prefix", "type", lambda: RedisStorage(client(), 5),  # type: ignore[arg-type]
     "prefix must be a string"),
    ("RedisStorage.prefix", "value", lambda: RedisStorage(client(), "a{b}"), "without '{'"),
    ("RedisStorage.prefix", "extreme", lambda: RedisStorage(client(), "p" * 10_000),
     "at most 200 characters"),
    ("RedisStorage.async_client", "type", lambda: RedisStorage(client(), async_client=5),
     "async_client must be a redis.asyncio client"),
    ("PostgresStorage.pool_or_conninfo", "type", lambda: PostgresStorage(5),
     "PostgresStorage needs a psycopg_pool"),
    ("PostgresStorage.pool_or_conninfo", "value", lambda: PostgresStorage("host=h bogus=1"),
     "conninfo 'host=h bogus=1' is not valid"),
    ("PostgresStorage.pool_or_conninfo", "value",
     lambda: PostgresStorage("host=h password=hunter2 bogus=1"), "password=\\*\\*\\*"),
    ("PostgresStorage.table", "value", lambda: PostgresStorage("host=h", "drop table;"),
     "table must be a name"),
    ("PostgresStorage.table", "extreme", lambda: PostgresStorage("host=h", "t" * 100),
     "at most 48 each"),
    ("PostgresStorage.clock", "type", lambda: PostgresStorage("host=h", clock=5),  # type: ignore[arg-type]
     "clock must be a clock"),
    ("PostgresStorage.durable", "type", lambda: PostgresStorage("host=h", durable="yes"),  # type: ignore[arg-type]
     "durable must be True or False"),
    ("ResilientStorage.primary", "type", lambda: resilient(primary=42), "primary must have save"),
    ("ResilientStorage.primary", "value", lambda: resilient(primary=InMemoryStorage),
     "primary must be a storage object, not the class InMemoryStorage"),
    ("ResilientStorage.primary", "value", lambda: resilient(primary="redis://h/abc"),
     "bad database number 'abc'"),
    ("ResilientStorage.fallback", "type", lambda: resilient(fallback=42), "fallback must have"),
    ("ResilientStorage.fallback", "value", lambda: resilient(fallback="memory"),
     "'memory' is not a storage URL"),
    ("ResilientStorage.cooldown", "type", lambda: resilient(cooldown="5"),
     "cooldown must be a number of seconds, got '5'"),
    ("ResilientStorage.cooldown", "value", lambda: resilient(cooldown=-1),
     "cooldown must be from 0 to 86400 seconds, got -1"),
    ("ResilientStorage.cooldown", "extreme", lambda: resilient(cooldown=float("inf")),
     "cooldown must be from 0 to 86400 seconds, got inf"),
    ("ResilientStorage.errors", "type", lambda: resilient(errors=ConnectionError),
     "errors must be a non-empty tuple of exception classes"),
    ("ResilientStorage.errors", "value", lambda: resilient(errors=()),
     "errors must be a non-empty tuple"),
    ("ResilientStorage.monotonic", "type", lambda: resilient(monotonic=5.0),
     "monotonic must be a function"),
    ("LocalLock.timeout", "type", lambda: LocalLock("5"), "LocalLock timeout must be a number"),  # type: ignore[arg-type]
    ("LocalLock.timeout", "value", lambda: LocalLock(-1), "LocalLock timeout must be a number"),
    ("LocalLock.timeout", "extreme", lambda: LocalLock(1e300), "LocalLock timeout must be at most"),
    ("RedisLock.client", "type", lambda: RedisLock(42), "needs a redis-py client"),
    ("RedisLock.client", "value", lambda: RedisLock(redis.Redis), "needs a redis-py client"),
    ("RedisLock.prefix", "type", lambda: RedisLock(client(), 5), "prefix must be a string"),  # type: ignore[arg-type]
    ("RedisLock.prefix", "extreme", lambda: RedisLock(client(), "p" * 10_000), "at most 200"),
    ("RedisLock.timeout", "type", lambda: RedisLock(client(), timeout=True),
     "RedisLock timeout must be a number"),
    ("RedisLock.timeout", "extreme", lambda: RedisLock(client(), timeout=1e300),
     "RedisLock timeout must be at most a day"),
    ("RedisLock.raise_on_lost", "type", lambda: RedisLock(client(), raise_on_lost=5),  # type: ignore[arg-type]
     "raise_on_lost must be True or False"),
    ("Redlock.clients", "type", lambda: Redlock("redis://h"), "non-empty list of Redis clients"),
    ("Redlock.clients", "value", lambda: Redlock([]), "non-empty list of Redis clients"),
    ("Redlock.clients", "value", lambda: Redlock([redis.asyncio.Redis, redis.Redis]),
     "needs a redis-py client"),
    ("Redlock.prefix", "type", lambda: Redlock([client()], prefix=None),  # type: ignore[arg-type]
     "prefix must be a string"),
    ("Redlock.timeout", "value", lambda: Redlock([client()], timeout=float("nan")),
     "Redlock timeout must be a number"),
    ("Redlock.drift_factor", "type", lambda: Redlock([client()], drift_factor="0.01"),  # type: ignore[arg-type]
     "drift_factor must be a number"),
    ("Redlock.drift_factor", "extreme", lambda: Redlock([client()], drift_factor=1e300),
     r"drift_factor must be in \[0, 0.5\)"),
    ("Redlock.raise_on_lost", "type", lambda: Redlock([client()], raise_on_lost="no"),  # type: ignore[arg-type]
     "raise_on_lost must be True or False"),
]  # fmt: skip

# storage_from_url(url): the kind of bad value, and what the message must say
BAD_URLS: dict[str, tuple[str, str]] = {
    "ftp://x": ("value", "unsupported storage"),
    "memory://?maxkeys=5":
        ("value", "unknown option maxkeys in 'memory://\\?maxkeys=5'; memory:// accepts max_keys"),
    "redis://h/abc": ("value", "bad database number 'abc'"),
    "redis://h/-1": ("value", "bad database number '-1'"),
    "redis://h/13/extra": ("value", "the path is the database number"),
    "redis://[::1": ("value", "cannot be parsed: Invalid IPv6 URL"),
    "postgresql://u@h/db?bogus=1": ("value", 'invalid URI query parameter: "bogus"'),
    "redis://h:99999/0": ("extreme", "bad port '99999': it must be 1 to 65535"),
    "postgresql://u@h:99999/db": ("extreme", "bad port '99999'"),
    "redis://h/0?socket_timeout=1e9":
        ("extreme", "socket_timeout='1e9' .* must be a number of seconds above 0, at most 3600"),
    "redis://h/0?retries=1000": ("extreme", "retries='1000' .* must be an integer from 0 to 10"),
}  # fmt: skip
CASES += [
    ("storage_from_url.url", kind, functools.partial(storage_from_url, url), message)
    for url, (kind, message) in BAD_URLS.items()
]


def member() -> Any:
    return RateLimiterFactory("5/minute", InMemoryStorage()).create("k")


CASES += [
    ("CompoundLimiter.limiters", "type", lambda: CompoundLimiter(42),  # type: ignore[arg-type]
     "a compound limiter takes a list of limiters, got 42"),
    ("CompoundLimiter.limiters", "value", lambda: CompoundLimiter([member(), 42]),  # type: ignore[list-item]
     "members must be Limiters .* got 42"),
    ("CompoundLimiter.limiters", "extreme", lambda: CompoundLimiter([]),
     "needs at least one limiter"),
]  # fmt: skip


def policy_spec(name: str) -> PolicySpec:
    return PolicySpec(name, {}, build=lambda config: None, describe=lambda config: name)


CASES += [
    ("PolicySpec.name", "type", lambda: policy_spec(5), "policy name must be 1 to 14"),  # type: ignore[arg-type]
    ("PolicySpec.name", "value", lambda: policy_spec("Fixed-Window"),
     "lower-case letters, digits and underscores, .* got 'Fixed-Window'"),
    ("PolicySpec.name", "extreme", lambda: policy_spec("sliding_windows"),
     "policy name must be 1 to 14 .* got 'sliding_windows'"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("call", "message"),
    [pytest.param(call, message, id=f"{option}-{kind}") for option, kind, call, message in CASES],
)
def test_a_bad_option_is_refused_at_construction_naming_it(
    call: Callable[[], object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        call()


@pytest.mark.parametrize(
    "call",
    [
        lambda: factory(config={**FIXED, "interval": HUGE}),
        lambda: factory(config={**FIXED, "limit": -HUGE}),
        lambda: factory(config={"policy": "token_bucket", "id": "b", "limit": 5,
                                "rate": {"interval": 1, "amount": HUGE}}),
    ],
)  # fmt: skip
def test_a_huge_number_is_named_by_its_size_not_printed_whole(call: Callable[[], object]) -> None:
    with pytest.raises(ConfigError, match=r"got about -?10\*\*400$") as refused:
        call()
    assert len(str(refused.value)) < 120


def test_the_sweep_covers_every_constructor() -> None:
    covered = {option.partition(".")[0] for option, _, _, _ in CASES}
    assert covered == {
        "RateLimiterFactory", "CompoundRateLimiterFactory", "parse_limits", "Rate",
        "TokenBucket", "FixedWindow", "SlidingWindow", "FrozenClock", "InMemoryStorage",
        "storage_from_url", "RedisStorage", "PostgresStorage", "ResilientStorage", "LocalLock",
        "RedisLock", "Redlock", "PolicySpec", "CompoundLimiter",
    }  # fmt: skip

"""Config, interval and limit-string validation: good input normalised, bad input named."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from throttle_core import (
    CompoundRateLimiterFactory,
    ConfigError,
    InMemoryStorage,
    Rate,
    RateLimiterFactory,
    parse_limits,
)
from throttle_core.compound import CompoundLimiter
from throttle_core.duration import parse_interval
from throttle_core.factory import normalize_config


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1 second", 1), ("2 seconds", 2), ("1s", 1), ("1 minute", 60), ("1m", 60),
        ("1 hour", 3600), ("1h", 3600), ("1 day", 86400), ("1d", 86400),
        ("1 week", 604800), ("1w", 604800), ("1 month", 2592000), ("1 year", 31536000),
        ("15 minutes", 900), ("0.5s", 0.5), ("minute", 60), (" 3 HOURS ", 10800),
        (30, 30), (2.5, 2.5), (timedelta(minutes=2), 120),
    ],
)  # fmt: skip
def test_interval_grammar(text: object, seconds: float) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100/minute", [(100, 60.0)]),
        ("100 per minute", [(100, 60.0)]),
        ("5/15 minutes", [(5, 900.0)]),
        ("10/5s", [(10, 5.0)]),
        ("10/second;1000/hour", [(10, 1.0), (1000, 3600.0)]),
        ("10 PER Second ; 1000/hour;", [(10, 1.0), (1000, 3600.0)]),
        ("10/second, 100/minute", [(10, 1.0), (100, 60.0)]),
        ("10/second,100/minute;1000/hour", [(10, 1.0), (100, 60.0), (1000, 3600.0)]),
    ],
)
def test_limit_strings(text: str, expected: list[tuple[int, float]]) -> None:
    configs = parse_limits(text)
    assert [(c["limit"], c["interval"]) for c in configs] == expected
    assert all(c["policy"] == "sliding_window" for c in configs)


def test_limit_string_ids_and_policies() -> None:
    assert [c["id"] for c in parse_limits("10/second;1000/hour", id="api")] == [
        "api-10-per-second",
        "api-1000-per-hour",
    ]
    assert parse_limits("100/minute", id="api")[0]["id"] == "api"
    assert parse_limits("5/15 minutes")[0]["id"] == "5-per-15-minutes"
    bucket = parse_limits("100/minute", id="api", policy="token_bucket")[0]
    assert bucket == {"policy": "token_bucket", "id": "api", "limit": 100,
                      "rate": {"interval": 60.0, "amount": 100}}  # fmt: skip


def test_rate_constructors() -> None:
    assert Rate.per_second(5) == Rate(1, 5)
    assert Rate.per_minute(100) == Rate.from_string("100/minute") == Rate(60, 100)
    assert Rate.per_hour(1).interval == 3600
    assert Rate.per_day(2).tokens_per_second == pytest.approx(2 / 86400)


def test_config_is_normalised() -> None:
    assert normalize_config(
        {"policy": "token_bucket", "id": "api", "limit": 100,
         "rate": {"interval": "1 minute", "amount": 100}}
    ) == {"policy": "token_bucket", "id": "api", "limit": 100,
          "rate": {"interval": 60.0, "amount": 100}}  # fmt: skip
    assert (
        normalize_config({"policy": "fixed_window", "id": "a", "limit": 2, "interval": "1h"})[
            "align"
        ]
        == "clock"
    )
    assert normalize_config("100/minute")["id"] == "100-per-minute"


FIXED = {"policy": "fixed_window", "id": "api", "limit": 10, "interval": "1 minute"}
BUCKET = {"policy": "token_bucket", "id": "api", "limit": 10,
          "rate": {"interval": "1 minute", "amount": 10}}  # fmt: skip

BAD_CONFIGS: list[tuple[Any, str]] = [
    ({**FIXED, "policy": "leaky_bucket"}, "policy must be one of .*'leaky_bucket'"),
    ({k: v for k, v in FIXED.items() if k != "policy"}, "policy must be one of .*None"),
    ({k: v for k, v in FIXED.items() if k != "id"}, "id must be a non-empty string, got None"),
    ({**FIXED, "id": ""}, "id must be a non-empty string, got ''"),
    ({**FIXED, "id": 7}, "id must be a non-empty string, got 7"),
    ({k: v for k, v in FIXED.items() if k != "limit"}, "needs 'limit'"),
    ({k: v for k, v in FIXED.items() if k != "interval"}, "needs 'interval'"),
    ({**FIXED, "limit": 0}, "limit must be at least 1, got 0"),
    ({**FIXED, "limit": -5}, "limit must be at least 1, got -5"),
    ({**FIXED, "limit": True}, "limit must be a positive integer, got True"),
    ({**FIXED, "limit": 2.5}, "limit must be a positive integer, got 2.5"),
    ({**FIXED, "limit": "10"}, "limit must be a positive integer, got '10'"),
    ({**FIXED, "interval": 0}, "interval must be a positive duration, got 0"),
    ({**FIXED, "interval": -1}, "interval must be a positive duration, got -1"),
    ({**FIXED, "interval": "1 fortnight"}, "interval '1 fortnight' is not a duration"),
    ({**FIXED, "interval": "soon"}, "interval 'soon' is not a duration"),
    ({**FIXED, "interval": False}, "interval must be a duration, not the boolean False"),
    ({**FIXED, "interval": [60]}, r"interval must be a number, timedelta or text, not \[60\]"),
    ({**FIXED, "interval": float("inf")}, "interval must be from 1 millisecond to 100 years"),
    ({**FIXED, "interval": 1e-300}, "interval must be from 1 millisecond to 100 years, got 1e-300"),
    ({**FIXED, "interval": 1e300}, "interval must be from 1 millisecond to 100 years, got 1e"),
    (
        {**FIXED, "interval": 10**400},
        "interval must be from 1 millisecond to 100 years, got about 10\\*\\*400",
    ),
    ({**FIXED, "interval": float("nan")}, "interval must be a positive duration, got nan"),
    (
        {**FIXED, "limit": 10**30},
        r"limit must be at most 2\*\*53 \(9007199254740992\), got about 10\*\*30",
    ),
    ({**FIXED, "limit": 10**400}, r"limit must be at most 2\*\*53 .*got about 10\*\*400"),
    ({**FIXED, "align": "midnight"}, "align must be one of clock, first_hit; got 'midnight'"),
    ({**FIXED, "limt": 5}, r"unknown fields \['limt'\]; 'limt': did you mean 'limit'\?"),
    ({**FIXED, "zzz": 5}, r"unknown fields \['zzz'\]; known: align, id, interval, limit, policy"),
    ({**BUCKET, "rate": {"amount": 10}}, "rate.interval is missing"),
    ({**BUCKET, "rate": {"interval": "1m"}}, "rate.amount is missing"),
    ({**BUCKET, "rate": {"interval": 1e308, "amount": 1}}, "rate.interval must be from 1 milli"),
    ({**BUCKET, "rate": "ten per minute"}, "rate 'ten per minute' is not a limit string"),
    ({**BUCKET, "rate": "0/minute"}, "rate '0/minute' must be at least 1, got 0"),
    ({**BUCKET, "limit": 10**6, "rate": "1/hour"}, "takes more than 100 years to fill"),
    ({**BUCKET, "rate": {"interval": "1m", "amount": 0}}, "rate.amount must be at least 1"),
    (
        {**BUCKET, "rate": {"interval": "1m", "every": 1}},
        r"rate has unknown fields \['every'\]; known: amount, interval",
    ),
    ({**BUCKET, "rate": 5}, "rate must be a dict, Rate or limit string, got 5"),
    ({**BUCKET, "interval": "1m"}, r"token_bucket config has unknown fields \['interval'\]"),
    ({"policy": "no_limit", "id": "x", "limit": 5}, r"unknown fields \['limit'\]"),
    ("ten per minute", "limit 'ten per minute' is not a limit string"),
    ("100/fortnight", "period of limit '100/fortnight' .* is not a duration"),
    ("0/minute", "limit '0/minute' must be at least 1, got 0"),
    ("-1/minute", "limit '-1/minute' must be at least 1, got -1"),
    ("10/second, 100/minute", "holds 2 limits; use CompoundRateLimiterFactory"),
    ("100/minute;5/second", "holds 2 limits; use CompoundRateLimiterFactory"),
    ("", "holds no limit"),
    (["100/minute"], "a limiter config must be a dict or limit string"),
]


@pytest.mark.parametrize(("config", "message"), BAD_CONFIGS)
def test_bad_config_is_refused_with_a_message_naming_it(config: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        RateLimiterFactory(config, InMemoryStorage())


def test_config_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="limit"):
        RateLimiterFactory({**FIXED, "limit": 0}, InMemoryStorage())


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: parse_limits("1/s", policy="no_limit"), "cannot be used with limit strings"),
        (lambda: parse_limits(5), "limits must be a string"),  # type: ignore[arg-type]
        (lambda: CompoundRateLimiterFactory([]), "at least one limit"),
        (lambda: CompoundLimiter([]), "at least one limiter"),
        (lambda: InMemoryStorage(max_keys=0), "max_keys must be a positive integer, got 0"),
        (lambda: RateLimiterFactory(FIXED, object()), "storage must have save/fetch/delete"),  # type: ignore[arg-type]
        (lambda: RateLimiterFactory(FIXED, "ftp://x"), "unsupported storage URL 'ftp://x'"),
        (lambda: RateLimiterFactory(FIXED, "memory://?max_keys=lots"), "max_keys in"),
    ],
)
def test_other_bad_input_is_named(call: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        call()


def test_storage_url_memory() -> None:
    factory = RateLimiterFactory(FIXED, "memory://?max_keys=5")
    assert isinstance(factory.storage, InMemoryStorage)
    assert factory.storage.max_keys == 5


def test_compound_factory_takes_a_limit_string_configs_and_factories() -> None:
    storage = InMemoryStorage()
    compound = CompoundRateLimiterFactory("2/second, 3/minute", storage, id="api")
    assert [f.id for f in compound.factories] == ["api-2-per-second", "api-3-per-minute"]
    assert all(f.storage is storage for f in compound.factories)
    limiter = compound.create("k")
    assert [limiter.consume().accepted for _ in range(3)] == [True, True, False]
    mixed = CompoundRateLimiterFactory(
        [RateLimiterFactory("5/hour", storage), {**FIXED, "id": "fixed"}, "1/second;9/day"],
        storage,
    )
    assert [f.id for f in mixed.factories] == [
        "5-per-hour", "fixed", "1-per-second", "9-per-day"]  # fmt: skip
    assert mixed.create("k").consume().remaining == 0
    assert not mixed.create("k").consume()


def test_a_storage_declaring_max_limit_refuses_larger_limits_at_construction() -> None:
    class SmallColumns(InMemoryStorage):
        max_limit = 2**31 - 1

    storage = SmallColumns()
    assert RateLimiterFactory({**FIXED, "limit": 2**31 - 1}, storage).limit == 2**31 - 1
    with pytest.raises(ConfigError, match=r"limit 2147483648 is more than .* \(at most 2147"):
        RateLimiterFactory({**FIXED, "limit": 2**31}, storage)
    from throttle_core.storage import ResilientStorage

    with pytest.raises(ConfigError, match="is more than ResilientStorage"):
        RateLimiterFactory({**FIXED, "limit": 2**31}, ResilientStorage(InMemoryStorage(), storage))


def test_a_limit_postgres_cannot_hold_is_refused_when_the_factory_is_made() -> None:
    with pytest.raises(ConfigError, match="limit must be at most 2"):
        RateLimiterFactory({**FIXED, "limit": 10**30}, "postgresql://postgres@127.0.0.1/db")

"""Limiter and result details: results as values, errors, user storages in either world."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.conformance.bench import AsyncDictStorage
from throttle_core import (
    FrozenClock,
    InMemoryStorage,
    RateLimiterFactory,
    RateLimitExceeded,
)
from throttle_core.cli import demo, main


def test_result_reads_like_the_readme() -> None:
    clock = FrozenClock(1_700_000_000)
    factory = RateLimiterFactory(
        {"policy": "token_bucket", "id": "api", "limit": 100,
         "rate": {"interval": "1 minute", "amount": 100}},
        InMemoryStorage(clock=clock), clock=clock,
    )  # fmt: skip
    result = factory.create("user-123").consume(5)
    assert result
    assert result.accepted
    assert (result.limit, result.remaining, result.retry_after) == (100, 95, 0.0)
    assert result.reset_after == pytest.approx(3.0)
    assert result.reset_time == datetime(2023, 11, 14, 22, 13, 23, tzinfo=timezone.utc)
    assert result.ensure_accepted() is result


def test_ensure_accepted_raises_with_the_result() -> None:
    limiter = RateLimiterFactory("1/hour", InMemoryStorage()).create("k")
    limiter.consume()
    refused = limiter.consume()
    with pytest.raises(RateLimitExceeded) as info:
        refused.ensure_accepted()
    assert info.value.rate_limit is refused
    assert refused.retry_time > datetime.now(timezone.utc)


@pytest.mark.parametrize("tokens", [1.5, "1", True, None])
def test_tokens_must_be_an_int(tokens: object) -> None:
    limiter = RateLimiterFactory("5/hour", InMemoryStorage()).create("k")
    with pytest.raises(TypeError, match="tokens must be an int"):
        limiter.consume(tokens)  # type: ignore[arg-type]


@pytest.mark.parametrize("max_wait", [-1, True, float("nan")])
def test_max_wait_must_be_a_non_negative_number(max_wait: object) -> None:
    limiter = RateLimiterFactory("5/hour", InMemoryStorage()).create("k")
    with pytest.raises(ValueError, match="max_wait"):
        limiter.reserve(1, max_wait)  # type: ignore[arg-type]


def test_an_async_user_storage_on_the_sync_path_says_what_to_call() -> None:
    limiter = RateLimiterFactory("5/hour", AsyncDictStorage()).create("k")
    with pytest.raises(TypeError, match=r"AsyncDictStorage.fetch\(\) is async; use .*aconsume"):
        limiter.consume()


async def test_an_async_user_storage_works_on_the_async_path() -> None:
    storage = AsyncDictStorage()
    limiter = RateLimiterFactory("2/hour", storage).create("k")
    assert (await limiter.aconsume()).remaining == 1
    assert '"type": "sliding_window"' in storage.data["2-per-hour:k"]
    await limiter.areset()
    assert storage.data == {}


def test_demo_prints_a_table_for_every_policy() -> None:
    lines: list[str] = []
    demo(lines.append)
    text = "\n".join(lines)
    for title in ("token bucket", "fixed window", "sliding window"):
        assert title in text
    assert text.count("REFUSED") >= 8
    assert text.count("accepted") >= 20
    assert main(["demo"]) == 0

"""Compound limiter and no-limit scenarios, identical on every backend."""

from __future__ import annotations

import sys

import pytest

from tests.conformance.bench import Bench
from throttle_core import CompoundLimiter, CompoundRateLimiterFactory, ReserveNotSupported

BURST = {"policy": "fixed_window", "id": "burst", "limit": 3, "interval": "1s"}
HOURLY = {"policy": "fixed_window", "id": "hourly", "limit": 5, "interval": "1 hour"}
BUCKET = {"policy": "token_bucket", "id": "bucket", "limit": 4, "rate": "4/minute"}


def compound(bench: Bench, *configs: dict[str, object]) -> CompoundRateLimiterFactory:
    return CompoundRateLimiterFactory([bench.factory(config) for config in configs])


async def test_accepts_only_when_all_accept_and_gives_back_on_refusal(bench: Bench) -> None:
    limiter = compound(bench, BURST, HOURLY).create("user")
    hourly = bench.factory(HOURLY).create("user")
    first = await bench.consume(limiter, 3)
    assert (first.accepted, first.remaining, first.limit) == (True, 0, 3)
    assert [m.remaining for m in first.members] == [0, 2]
    refused = await bench.consume(limiter, 1)
    assert not refused.accepted
    assert refused.retry_after == pytest.approx(1.0)
    assert [m.accepted for m in refused.members] == [False, True]
    assert refused.members[1].remaining == 2
    assert (await bench.consume(hourly, 0)).remaining == 2
    bench.clock.advance(1)
    assert (await bench.consume(limiter, 2)).accepted
    last = await bench.consume(limiter, 1)
    assert not last.accepted
    assert last.retry_after == pytest.approx(3599.0)
    assert last.limit == 5
    assert (await bench.consume(bench.factory(BURST).create("user"), 0)).remaining == 1


async def test_longest_retry_among_the_refusing_wins(bench: Bench) -> None:
    limiter = compound(bench, BURST, BUCKET).create("user")
    assert (await bench.consume(limiter, 3)).accepted
    refused = await bench.consume(limiter, 2)
    assert [m.accepted for m in refused.members] == [False, False]
    assert refused.retry_after == pytest.approx(15.0)


async def test_a_bucket_refund_restores_its_tokens(bench: Bench) -> None:
    limiter = compound(bench, BURST, BUCKET).create("user")
    await bench.consume(limiter, 3)
    refused = await bench.consume(limiter, 1)
    assert [m.accepted for m in refused.members] == [False, True]
    assert refused.members[1].remaining == 1
    assert (await bench.consume(bench.factory(BUCKET).create("user"), 0)).remaining == 1


async def test_a_given_back_member_reports_its_reset_after_the_refund(bench: Bench) -> None:
    bench.clock.advance(0.25)
    assert (await bench.consume(bench.factory(BURST).create("user"), 3)).accepted
    refused = await bench.consume(compound(bench, HOURLY, BURST).create("user"), 1)
    hourly, burst = refused.members
    assert (hourly.accepted, burst.accepted) == (True, False)
    assert (hourly.remaining, hourly.reset_after) == (5, 0.0)
    bucket = compound(bench, BUCKET, BURST).create("other")
    assert (await bench.consume(bucket, 3)).accepted
    given_back = (await bench.consume(bucket, 1)).members[0]
    assert (given_back.accepted, given_back.remaining, given_back.reset_after) == (True, 1, 45.0)


async def test_reserve_is_not_supported_and_reset_resets_all(bench: Bench) -> None:
    limiter = compound(bench, BURST, HOURLY).create("user")
    with pytest.raises(ReserveNotSupported):
        await bench.reserve(limiter, 1)
    await bench.consume(limiter, 3)
    await bench.reset(limiter)
    result = await bench.consume(limiter, 3)
    assert [m.remaining for m in result.members] == [0, 2]


async def test_tokens_above_any_member_limit_raise_before_anything_is_taken(
    bench: Bench,
) -> None:
    limiter = compound(bench, HOURLY, BURST).create("user")
    with pytest.raises(ValueError, match="limit 3"):
        await bench.consume(limiter, 4)
    assert (await bench.consume(limiter, 0)).members[0].remaining == 5


async def test_no_limit_always_accepts_and_stores_nothing(bench: Bench) -> None:
    limiter = bench.limiter({"policy": "no_limit", "id": "free"})
    for _ in range(3):
        result = await bench.consume(limiter, 1000)
        assert (result.accepted, result.remaining, result.limit) == (True, sys.maxsize, sys.maxsize)
    reservation = await bench.reserve(limiter, 5, max_wait=0)
    assert reservation.delay == 0.0
    await bench.cancel(reservation)
    await bench.reset(limiter)
    assert await bench.consume(CompoundLimiter([limiter]), 1)


async def test_each_member_may_take_its_own_count(bench: Bench) -> None:
    limiter = compound(bench, BURST, HOURLY).create("user")
    first = await bench.consume(limiter, [1, 4])  # type: ignore[arg-type]
    assert [m.remaining for m in first.members] == [2, 1]
    refused = await bench.consume(limiter, [1, 2])  # type: ignore[arg-type]
    assert [m.accepted for m in refused.members] == [True, False]
    assert [m.remaining for m in refused.members] == [2, 1]
    assert (await bench.consume(bench.factory(BURST).create("user"), 0)).remaining == 2
    with pytest.raises(ValueError, match="2 limiters"):
        await bench.consume(limiter, [1])  # type: ignore[arg-type]

"""Sliding window scenarios, identical on every backend (windows of 60 s aligned to START)."""

from __future__ import annotations

import pytest

from tests.conformance.bench import AnyLimiter, Bench
from throttle_core import MaxWaitDurationExceeded, ReserveNotSupported

SLIDING = {"policy": "sliding_window", "id": "api", "limit": 10, "interval": "1 minute"}


async def fill_first_window(bench: Bench) -> AnyLimiter:
    limiter = bench.limiter(SLIDING)
    bench.clock.advance(30)
    assert (await bench.consume(limiter, 10)).accepted
    return limiter


@pytest.mark.parametrize(
    ("elapsed", "remaining"), [(0, 0), (6, 1), (15, 3), (30, 5), (45, 8), (59.9, 10)]
)
async def test_previous_window_is_weighted_by_its_overlap(
    bench: Bench, elapsed: float, remaining: int
) -> None:
    limiter = await fill_first_window(bench)
    bench.clock.advance(30 + elapsed)
    peek = await bench.consume(limiter, 0)
    assert peek.remaining == remaining


async def test_refusal_retry_after_rolls_into_the_next_window(bench: Bench) -> None:
    limiter = await fill_first_window(bench)
    refused = await bench.consume(limiter)
    assert (refused.accepted, refused.remaining) == (False, 0)
    assert refused.retry_after == pytest.approx(30.0)
    assert (await bench.admitted_after(limiter, 30, before=1e-6, after=1e-6)).accepted


async def test_retry_after_is_exact_inside_a_window(bench: Bench) -> None:
    limiter = await fill_first_window(bench)
    bench.clock.advance(45)
    assert (await bench.consume(limiter, 3)).accepted
    refused = await bench.consume(limiter)
    assert refused.retry_after == pytest.approx(3.0)
    assert refused.reset_after == pytest.approx(85.0)
    admitted = await bench.admitted_after(limiter, refused.retry_after, before=1e-6, after=1e-6)
    assert admitted.accepted


async def test_a_request_at_the_infimum_is_refused_with_no_wait(bench: Bench) -> None:
    limiter = bench.limiter({**SLIDING, "limit": 2, "interval": 4})
    bench.clock.advance(3)
    assert (await bench.consume(limiter, 2)).accepted
    bench.clock.advance(1)
    refused = await bench.consume(limiter)
    assert (refused.accepted, refused.remaining, refused.retry_after) == (False, 0, 0.0)
    with pytest.raises(ReserveNotSupported):
        await bench.reserve(limiter, 1, max_wait=0)
    with pytest.raises(ReserveNotSupported):
        await bench.reserve(limiter, 1)
    bench.clock.advance(1e-6)
    assert (await bench.consume(limiter)).accepted


async def test_an_idle_window_forgets_the_past(bench: Bench) -> None:
    limiter = await fill_first_window(bench)
    bench.clock.advance(150)
    peek = await bench.consume(limiter, 0)
    assert (peek.remaining, peek.reset_after) == (10, 0.0)


async def test_never_more_than_the_limit_in_one_aligned_window(bench: Bench) -> None:
    limiter = bench.limiter(SLIDING)
    accepted = 0
    for _ in range(30):
        accepted += (await bench.consume(limiter)).accepted
        bench.clock.advance(1.9)
    assert accepted == 10


async def test_reserve_cannot_book_future_capacity(bench: Bench) -> None:
    limiter = await fill_first_window(bench)
    with pytest.raises(ReserveNotSupported):
        await bench.reserve(limiter, 1, max_wait=60)
    with pytest.raises(ReserveNotSupported):
        await bench.reserve(limiter, 1)
    with pytest.raises(MaxWaitDurationExceeded) as info:
        await bench.reserve(limiter, 1, max_wait=10)
    assert info.value.wait == pytest.approx(30.0)


async def test_immediate_reservation_and_cancel(bench: Bench) -> None:
    limiter = bench.limiter(SLIDING)
    reservation = await bench.reserve(limiter, 4, max_wait=0)
    assert reservation.delay == 0.0
    assert reservation.rate_limit.remaining == 6
    await bench.cancel(reservation)
    assert (await bench.consume(limiter, 0)).remaining == 10


async def test_cancel_after_the_window_rolled_returns_to_previous(bench: Bench) -> None:
    limiter = bench.limiter(SLIDING)
    bench.clock.advance(30)
    reservation = await bench.reserve(limiter, 10)
    bench.clock.advance(60)
    assert (await bench.consume(limiter, 0)).remaining == 5
    await bench.cancel(reservation)
    assert (await bench.consume(limiter, 0)).remaining == 10


async def test_reset(bench: Bench) -> None:
    limiter = await fill_first_window(bench)
    await bench.reset(limiter)
    assert (await bench.consume(limiter, 10)).accepted

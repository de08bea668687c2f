"""Fixed window scenarios, identical on every backend."""

from __future__ import annotations

import pytest

from tests.conformance.bench import AnyLimiter, Bench
from throttle_core import MaxWaitDurationExceeded, RateLimit

CLOCK = {"policy": "fixed_window", "id": "api", "limit": 5, "interval": "10s"}
FIRST_HIT = {**CLOCK, "align": "first_hit"}


async def refused_until_a_new_window(bench: Bench, limiter: AnyLimiter, wait: float) -> RateLimit:
    """The next hit on a full window is refused for `wait` seconds, and then admitted in a
    new window of its own (4 left of 5, 10 s to go); returns the refusal."""
    refused = await bench.consume(limiter)
    assert refused.retry_after == pytest.approx(wait)
    opened = await bench.admitted_after(limiter, wait)
    assert (opened.accepted, opened.remaining) == (True, 4)
    assert opened.reset_after == pytest.approx(10.0)
    return refused


async def test_clock_aligned_window_refuses_until_its_end(bench: Bench) -> None:
    limiter = bench.limiter(CLOCK)
    bench.clock.advance(3)
    for left in (4, 3, 2, 1, 0):
        result = await bench.consume(limiter)
        assert (result.accepted, result.remaining) == (True, left)
    assert result.reset_after == pytest.approx(7.0)
    refused = await refused_until_a_new_window(bench, limiter, 7.0)
    assert (refused.accepted, refused.remaining) == (False, 0)
    assert refused.reset_after == pytest.approx(7.0)


async def test_clock_windows_roll_over_at_the_boundary(bench: Bench) -> None:
    limiter = bench.limiter(CLOCK)
    bench.clock.advance(9.5)
    assert (await bench.consume(limiter, 5)).accepted
    bench.clock.advance(0.5)
    assert (await bench.consume(limiter, 5)).accepted
    assert not (await bench.consume(limiter, 1)).accepted


async def test_first_hit_opens_the_window(bench: Bench) -> None:
    limiter = bench.limiter(FIRST_HIT)
    bench.clock.advance(3)
    assert (await bench.consume(limiter, 5)).remaining == 0
    await refused_until_a_new_window(bench, limiter, 10.0)


async def test_first_hit_window_emptied_by_cancel_stays_open(bench: Bench) -> None:
    limiter = bench.limiter(FIRST_HIT)
    bench.clock.advance(3)
    await bench.cancel(await bench.reserve(limiter, 1))
    bench.clock.advance(5)
    assert (await bench.consume(limiter, 5)).accepted
    assert (await bench.consume(limiter)).retry_after == pytest.approx(5.0)


async def test_a_booked_first_hit_window_emptied_by_cancel_stays_open(bench: Bench) -> None:
    limiter = bench.limiter({**FIRST_HIT, "limit": 1, "interval": 4})
    assert (await bench.consume(limiter)).accepted
    reservation = await bench.reserve(limiter, 1)
    assert reservation.delay == 4.0
    await bench.cancel(reservation)
    bench.clock.advance(4.125)
    result = await bench.consume(limiter)
    assert (result.accepted, result.reset_after) == (True, 3.875)
    bench.clock.advance(3.875)
    assert (await bench.consume(limiter)).reset_after == 4.0


async def test_reserve_books_the_first_window_with_room(bench: Bench) -> None:
    limiter = bench.limiter(CLOCK)
    bench.clock.advance(3)
    await bench.consume(limiter, 5)
    first = await bench.reserve(limiter, 2, max_wait=10)
    second = await bench.reserve(limiter, 3, max_wait=10)
    assert first.delay == pytest.approx(7.0)
    assert second.delay == pytest.approx(7.0)
    with pytest.raises(MaxWaitDurationExceeded) as info:
        await bench.reserve(limiter, 1, max_wait=10)
    assert info.value.wait == pytest.approx(17.0)
    later = await bench.reserve(limiter, 1, max_wait=20)
    assert later.delay == pytest.approx(17.0)
    refused = await bench.consume(limiter, 4)
    assert refused.retry_after == pytest.approx(17.0)
    assert refused.reset_after == pytest.approx(27.0)
    bench.clock.advance(7)
    assert not (await bench.consume(limiter)).accepted
    bench.clock.advance(10)
    assert (await bench.consume(limiter, 4)).remaining == 0


async def test_cancel_returns_a_booking_to_its_window(bench: Bench) -> None:
    limiter = bench.limiter(CLOCK)
    await bench.consume(limiter, 5)
    booked = await bench.reserve(limiter, 5)
    assert booked.delay == pytest.approx(10.0)
    await bench.cancel(booked)
    await bench.cancel(booked)
    assert (await bench.consume(limiter, 0)).reset_after == pytest.approx(10.0)
    bench.clock.advance(10)
    assert (await bench.consume(limiter, 5)).accepted


async def test_reservation_wait_reaches_its_window(bench: Bench) -> None:
    limiter = bench.limiter(CLOCK)
    await bench.consume(limiter, 5)
    reservation = await bench.reserve(limiter, 1)
    if bench.is_async:
        await reservation.await_()
    else:
        reservation.wait()
    assert bench.clock.now() == pytest.approx(reservation.time_to_act)
    assert (await bench.consume(limiter, 0)).remaining == 4


async def test_peek_on_a_full_window(bench: Bench) -> None:
    limiter = bench.limiter(CLOCK)
    bench.clock.advance(4)
    await bench.consume(limiter, 5)
    peek = await bench.consume(limiter, 0)
    assert (peek.accepted, peek.remaining) == (True, 0)
    assert peek.retry_after == pytest.approx(6.0)


async def test_empty_limiter_reports_zero_reset(bench: Bench) -> None:
    peek = await bench.consume(bench.limiter(CLOCK), 0)
    assert (peek.remaining, peek.reset_after, peek.retry_after) == (5, 0.0, 0.0)


async def test_reset_clears_the_window(bench: Bench) -> None:
    limiter = bench.limiter(FIRST_HIT)
    await bench.consume(limiter, 5)
    await bench.reset(limiter)
    assert (await bench.consume(limiter, 5)).accepted

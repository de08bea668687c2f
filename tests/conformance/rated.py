"""Scenarios of the policies configured by a burst and a rate: a GCRA decides as a token
bucket of the same burst and rate does, so both run these, with a config of burst 10 and one
token every 6 seconds. GCRA's times are exact (`same`); a bucket's float refill is compared
with `pytest.approx`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conformance.bench import Bench
from throttle_core import MaxWaitDurationExceeded

Near = Callable[[float], object]
"""How a scenario compares a time it expects: `same` or `pytest.approx`."""


def same(value: float) -> float:
    return value


async def burst_refusal_and_refill(bench: Bench, config: dict[str, Any], near: Near) -> None:
    """A full burst, a refusal saying when, one token back every period, the whole burst back
    once the limiter has refilled."""
    limiter = bench.limiter(config)
    first = await bench.consume(limiter, 4)
    assert (first.accepted, first.remaining, first.retry_after) == (True, 6, 0.0)
    assert first.reset_after == near(24.0)
    assert (await bench.consume(limiter, 6)).remaining == 0
    refused = await bench.consume(limiter, 2)
    assert (refused.accepted, refused.remaining) == (False, 0)
    assert refused.retry_after == near(12.0)
    assert refused.reset_after == near(60.0)
    bench.clock.advance(6.0)
    one = await bench.consume(limiter, 1)
    assert (one.accepted, one.remaining) == (True, 0)
    assert not (await bench.consume(limiter, 1)).accepted
    bench.clock.advance(30.0)
    five = await bench.consume(limiter, 5)
    assert (five.accepted, five.remaining) == (True, 0)
    bench.clock.advance(3600)
    assert (await bench.consume(limiter, 10)).accepted


async def books_ahead_within_max_wait(bench: Bench, config: dict[str, Any], near: Near) -> None:
    limiter = bench.limiter(config)
    await bench.consume(limiter, 10)
    reservation = await bench.reserve(limiter, 2, max_wait=15)
    assert reservation.delay == near(12.0)
    assert reservation.time_to_act == near(bench.clock.now() + 12.0)
    with pytest.raises(MaxWaitDurationExceeded) as info:
        await bench.reserve(limiter, 1, max_wait=15)
    assert info.value.wait == near(18.0)
    assert info.value.max_wait == 15
    assert not info.value.rate_limit.accepted
    bench.clock.advance(12.0)
    assert not (await bench.consume(limiter, 1)).accepted
    bench.clock.advance(6.0)
    assert (await bench.consume(limiter, 1)).accepted


async def cancel_gives_tokens_back_once(bench: Bench, config: dict[str, Any], near: Near) -> None:
    """A cancel returns its tokens once, never above the burst; a booking ahead too."""
    limiter = bench.limiter(config)
    reservation = await bench.reserve(limiter, 4)
    assert reservation.delay == 0.0
    await bench.cancel(reservation)
    await bench.cancel(reservation)
    peek = await bench.consume(limiter, 0)
    assert peek.remaining == 10
    assert peek.reset_after == near(0.0)
    await bench.consume(limiter, 10)
    booked = await bench.reserve(limiter, 5)
    assert booked.delay == near(30.0)
    await bench.cancel(booked)
    assert (await bench.consume(limiter, 0)).remaining == 0
    bench.clock.advance(6.0)
    assert (await bench.consume(limiter, 1)).accepted

"""Token bucket scenarios, identical on every backend."""

from __future__ import annotations

import pytest

from tests.conformance.bench import Bench
from tests.conformance.rated import (
    books_ahead_within_max_wait,
    burst_refusal_and_refill,
    cancel_gives_tokens_back_once,
)

BUCKET = {"policy": "token_bucket", "id": "api", "limit": 10,
          "rate": {"interval": "1 minute", "amount": 10}}  # fmt: skip
"""Burst 10, refill one token every 6 seconds."""


async def test_full_bucket_burst_refusal_refill(bench: Bench) -> None:
    await burst_refusal_and_refill(bench, BUCKET, pytest.approx)


async def test_retry_after_is_exact(bench: Bench) -> None:
    limiter = bench.limiter(BUCKET)
    await bench.consume(limiter, 10)
    refused = await bench.consume(limiter, 3)
    assert refused.retry_after == pytest.approx(18.0)
    assert (await bench.admitted_after(limiter, refused.retry_after, 3, after=1e-3)).accepted


async def test_refill_is_lossless_and_capped_at_burst(bench: Bench) -> None:
    limiter = bench.limiter(BUCKET)
    await bench.consume(limiter, 10)
    for _ in range(3):
        bench.clock.advance(1.5)
        assert not (await bench.consume(limiter, 1)).accepted
    bench.clock.advance(1.5)
    assert (await bench.consume(limiter, 1)).accepted
    bench.clock.advance(3600)
    peek = await bench.consume(limiter, 0)
    assert (peek.remaining, peek.reset_after) == (10, 0.0)


async def test_peek_changes_nothing_and_says_when_one_token_comes(bench: Bench) -> None:
    limiter = bench.limiter(BUCKET)
    await bench.consume(limiter, 10)
    peek = await bench.consume(limiter, 0)
    assert peek.remaining == 0
    assert peek.retry_after == pytest.approx(6.0)
    again = await bench.consume(limiter, 0)
    assert again.retry_after == pytest.approx(6.0)


async def test_reserve_goes_into_debt_within_max_wait(bench: Bench) -> None:
    await books_ahead_within_max_wait(bench, BUCKET, pytest.approx)


async def test_cancel_gives_tokens_back_once_never_above_burst(bench: Bench) -> None:
    await cancel_gives_tokens_back_once(bench, BUCKET, pytest.approx)


async def test_reset_refills(bench: Bench) -> None:
    limiter = bench.limiter(BUCKET)
    await bench.consume(limiter, 10)
    await bench.reset(limiter)
    assert (await bench.consume(limiter, 10)).accepted


async def test_keys_are_independent(bench: Bench) -> None:
    factory = bench.factory(BUCKET)
    await bench.consume(factory.create("a"), 10)
    assert (await bench.consume(factory.create("b"), 10)).accepted
    assert not (await bench.consume(factory.create("a"), 1)).accepted


async def test_tokens_out_of_range_raise(bench: Bench) -> None:
    limiter = bench.limiter(BUCKET)
    with pytest.raises(ValueError, match="between 0 and the limit 10"):
        await bench.consume(limiter, 11)
    with pytest.raises(ValueError, match="got -1"):
        await bench.consume(limiter, -1)

"""GCRA scenarios, identical on every backend."""

from __future__ import annotations

import pytest

from tests.conformance.bench import Bench
from tests.conformance.rated import (
    books_ahead_within_max_wait,
    burst_refusal_and_refill,
    cancel_gives_tokens_back_once,
    same,
)
from throttle_core import parse_limits

GCRA = {"policy": "gcra", "id": "api", "limit": 10, "rate": {"interval": "1 minute", "amount": 10}}
"""Burst 10, then one request every 6 seconds."""


async def test_burst_refusal_and_one_token_per_period(bench: Bench) -> None:
    await burst_refusal_and_refill(bench, GCRA, same)


async def test_a_request_is_admitted_at_exactly_its_retry_after(bench: Bench) -> None:
    limiter = bench.limiter(GCRA)
    await bench.consume(limiter, 10)
    refused = await bench.consume(limiter, 3)
    assert refused.retry_after == 18.0
    admitted = await bench.admitted_after(limiter, refused.retry_after, 3)
    assert (admitted.accepted, admitted.remaining, admitted.reset_after) == (True, 0, 60.0)


async def test_a_whole_burst_is_admitted_at_any_rate(bench: Bench) -> None:
    limiter = bench.limiter({**GCRA, "limit": 50, "rate": {"interval": 0.7, "amount": 3}})
    results = [await bench.consume(limiter, 1) for _ in range(51)]
    assert [r.accepted for r in results] == [True] * 50 + [False]
    assert [r.remaining for r in results[:50]] == list(range(49, -1, -1))


async def test_peek_changes_nothing_and_says_when_one_token_comes(bench: Bench) -> None:
    limiter = bench.limiter(GCRA)
    await bench.consume(limiter, 10)
    peek = await bench.consume(limiter, 0)
    assert (peek.accepted, peek.remaining, peek.retry_after) == (True, 0, 6.0)
    assert (await bench.consume(limiter, 0)) == peek


async def test_reserve_books_ahead_within_max_wait(bench: Bench) -> None:
    await books_ahead_within_max_wait(bench, GCRA, same)


async def test_cancel_gives_tokens_back_once(bench: Bench) -> None:
    await cancel_gives_tokens_back_once(bench, GCRA, same)


async def test_reset_and_independent_keys(bench: Bench) -> None:
    factory = bench.factory(GCRA)
    await bench.consume(factory.create("a"), 10)
    assert (await bench.consume(factory.create("b"), 10)).accepted
    assert not (await bench.consume(factory.create("a"), 1)).accepted
    await bench.reset(factory.create("a"))
    assert (await bench.consume(factory.create("a"), 10)).accepted


async def test_a_limit_string_reads_as_gcra(bench: Bench) -> None:
    (config,) = parse_limits("5/second", id="s", policy="gcra")
    limiter = bench.limiter(config)
    for _ in range(5):
        assert (await bench.consume(limiter, 1)).accepted
    refused = await bench.consume(limiter, 1)
    assert not refused.accepted
    assert refused.retry_after == pytest.approx(0.2)
    bench.clock.advance(refused.retry_after)
    assert (await bench.consume(limiter, 1)).accepted

"""Decisions made concurrently on one asyncio client share round trips: exact, one EVALSHA
each, in the order they were made, each caller getting its own reply or error, and a caller
that is cancelled taking nobody else down."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio

from tests.conftest import START
from tests.redis_support import RedisServer, redis_servers
from throttle_core import FrozenClock, RateLimiterFactory
from throttle_core.storage.redis import SCRIPTS, RedisStorage
from throttle_core.storage.redis_wire import Pipeline, command_head, packed

pytestmark = pytest.mark.redis

TASKS = 64


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    with redis_servers(1, tmp_path) as servers:
        yield servers[0]


def stats(server: RedisServer) -> dict[str, Any]:
    client = server.client()
    try:
        info: dict[str, Any] = client.info("stats") | client.info("commandstats")
        return info
    finally:
        client.close()


def incr(key: str) -> bytes:
    """`INCRBY key 1` packed by hand, as the storage packs its calls."""
    return packed(command_head("INCRBY", arguments=3), key, "1")


async def test_concurrent_decisions_are_exact_one_evalsha_each_on_one_connection(
    server: RedisServer,
) -> None:
    client = server.asyncio_client()
    config = {"policy": "fixed_window", "id": "api", "limit": 100, "interval": 60}
    limiter = RateLimiterFactory(config, RedisStorage(client)).create("hot")
    await limiter.areset()
    await client.script_load(SCRIPTS["fixed_window"].text)
    before = stats(server)

    async def attempts() -> list[bool]:
        return [(await limiter.aconsume()).accepted for _ in range(5)]

    results = await asyncio.gather(*(attempts() for _ in range(TASKS)))
    await client.aclose()
    after = stats(server)
    assert sum(sum(r) for r in results) == 100
    evalsha = [s.get("cmdstat_evalsha", {}).get("calls", 0) for s in (before, after)]
    assert evalsha[1] - evalsha[0] == TASKS * 5
    assert after["total_connections_received"] - before["total_connections_received"] == 1


async def test_concurrent_decisions_run_in_the_order_they_were_made(server: RedisServer) -> None:
    client = server.asyncio_client()
    config = {"policy": "fixed_window", "id": "api", "limit": 1000, "interval": 60}
    factory = RateLimiterFactory(config, RedisStorage(client), clock=FrozenClock(START))
    limiter = factory.create("k")
    remaining = await asyncio.gather(*((limiter.aconsume()) for _ in range(200)))
    await client.aclose()
    assert [r.remaining for r in remaining] == list(range(999, 799, -1))


async def test_each_caller_gets_its_own_reply_or_error(server: RedisServer) -> None:
    client = server.asyncio_client()
    await client.set("text", "not a number")
    pipeline = Pipeline(client)
    keys = ["n", "text", "n", "text", "n"]
    replies = await asyncio.gather(
        *(pipeline.send(incr(key)) for key in keys), return_exceptions=True
    )
    assert replies[0::2] == [1, 2, 3]
    assert all(isinstance(r, redis.ResponseError) for r in replies[1::2])
    assert await pipeline.send(incr("n")) == 4
    await client.aclose()


async def test_a_cancelled_caller_takes_nobody_else_down(server: RedisServer) -> None:
    client = server.asyncio_client()
    pipeline = Pipeline(client)

    async def call() -> Any:
        return await pipeline.send(incr("n"))

    queued = [asyncio.ensure_future(call()) for _ in range(50)]
    await asyncio.sleep(0)
    queued[10].cancel()
    done = await asyncio.gather(*queued, return_exceptions=True)
    assert isinstance(done[10], asyncio.CancelledError)
    assert [r for i, r in enumerate(done) if i != 10] == list(range(1, 50))
    assert await client.get("n") == b"49"

    in_flight = [asyncio.ensure_future(call()) for _ in range(50)]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    for index in (5, 20, 30):
        in_flight[index].cancel()
    finished = await asyncio.gather(*in_flight, return_exceptions=True)
    answered = [r for i, r in enumerate(finished) if i not in (5, 20, 30)]
    assert all(isinstance(finished[i], asyncio.CancelledError) for i in (5, 20, 30))
    assert answered == [n for n in range(50, 100) if n not in (55, 70, 80)]
    assert await pipeline.send(incr("n")) == 100
    await client.aclose()


async def test_a_lost_connection_fails_every_waiting_caller_then_recovers(
    server: RedisServer,
) -> None:
    client = server.asyncio_client(retry=None, socket_timeout=1)
    pipeline = Pipeline(client)
    assert await pipeline.send(incr("n")) == 1
    server.restart()
    replies = await asyncio.gather(
        *(pipeline.send(incr("n")) for _ in range(10)), return_exceptions=True
    )
    assert all(isinstance(r, redis.ConnectionError) for r in replies), replies
    assert await pipeline.send(incr("n")) == 1
    await client.aclose()


def test_a_sync_client_keeps_its_connections_between_decisions(server: RedisServer) -> None:
    client = server.client()
    config = {"policy": "token_bucket", "id": "api", "limit": 10,
              "rate": {"interval": "1 minute", "amount": 10}}  # fmt: skip
    limiter = RateLimiterFactory(config, RedisStorage(client)).create("k")
    limiter.reset()
    client.script_load(SCRIPTS["token_bucket"].text)
    before = stats(server)
    accepted = [limiter.consume().accepted for _ in range(20)]
    after = stats(server)
    assert accepted == [True] * 10 + [False] * 10
    assert after["total_connections_received"] - before["total_connections_received"] == 1
    assert after["cmdstat_evalsha"]["calls"] == 20
    client.close()

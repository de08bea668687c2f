"""Decisions made concurrently on one event loop share one statement: exact, in the order they
were made, each error reaching only its own decision, and a cancelled decision never run."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from tests.conftest import START
from throttle_core import FrozenClock, RateLimit, RateLimiterFactory
from throttle_core.policies import FixedWindow
from throttle_core.storage.postgres import PostgresStorage

pytestmark = pytest.mark.postgres

TASKS = 32


class CountingCursor(psycopg.AsyncCursor[Any]):
    """Counts the statements a connection sends."""

    sent = 0

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        CountingCursor.sent += 1
        return await super().execute(*args, **kwargs)


@pytest.fixture
async def storage(postgres_url: str) -> AsyncIterator[PostgresStorage]:
    connection = await psycopg.AsyncConnection.connect(
        postgres_url, autocommit=True, cursor_factory=CountingCursor
    )
    storage = PostgresStorage(connection, "throttle_batching", clock=FrozenClock(START))
    await storage.acreate_table()
    yield storage
    await storage.adrop_table()
    await connection.close()


async def test_concurrent_decisions_are_exact_in_shared_statements(
    storage: PostgresStorage,
) -> None:
    config = {"policy": "sliding_window", "id": "api", "limit": 50, "interval": 60}
    limiter = RateLimiterFactory(config, storage, clock=FrozenClock(START)).create("hot")

    async def attempts() -> list[bool]:
        return [(await limiter.aconsume()).accepted for _ in range(5)]

    CountingCursor.sent = 0
    results = await asyncio.gather(*(attempts() for _ in range(TASKS)))
    assert sum(sum(r) for r in results) == 50
    assert CountingCursor.sent <= TASKS * 5 // 4


async def test_concurrent_decisions_run_in_the_order_they_were_made(
    storage: PostgresStorage,
) -> None:
    config = {"policy": "fixed_window", "id": "api", "limit": 1000, "interval": 60}
    limiter = RateLimiterFactory(config, storage, clock=FrozenClock(START)).create("k")
    decided = await asyncio.gather(*(limiter.aconsume() for _ in range(100)))
    assert [r.remaining for r in decided] == list(range(999, 899, -1))


async def test_an_error_reaches_only_its_own_decision(storage: PostgresStorage) -> None:
    policy = FixedWindow(limit=10, interval=60.0)
    ids = ["a", "b\x00", "c", "a"]
    decided = await asyncio.gather(
        *(storage.aconsume(policy, id, 1, 0, START) for id in ids), return_exceptions=True
    )
    assert isinstance(decided[1], psycopg.DataError)
    assert [d.remaining for d in decided if isinstance(d, RateLimit)] == [9, 9, 8]


async def test_a_cancelled_decision_is_never_run(storage: PostgresStorage) -> None:
    config = {"policy": "fixed_window", "id": "api", "limit": 10, "interval": 60}
    limiter = RateLimiterFactory(config, storage, clock=FrozenClock(START)).create("k")
    queued = [asyncio.ensure_future(limiter.aconsume()) for _ in range(6)]
    await asyncio.sleep(0)
    queued[2].cancel()
    decided = await asyncio.gather(*queued, return_exceptions=True)
    assert isinstance(decided[2], asyncio.CancelledError)
    assert [d.remaining for d in decided if isinstance(d, RateLimit)] == [9, 8, 7, 6, 5]
    assert (await limiter.aconsume(0)).remaining == 5

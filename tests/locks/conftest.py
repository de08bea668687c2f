"""Redis clients on the test server, a key prefix private to each test, and spare servers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio

from tests.redis_support import RedisServer, delete_keys, redis_servers


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


@pytest.fixture
async def aclient(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    connection = redis.asyncio.Redis.from_url(redis_url)
    yield connection
    await connection.aclose()


@pytest.fixture
def prefix(client: redis.Redis) -> Iterator[str]:
    """`test:locks:<random>:`; every key under it is deleted after the test."""
    private = f"test:locks:{uuid.uuid4().hex}:"
    yield private
    delete_keys(client, private)


@pytest.fixture
def three_servers(tmp_path: Path) -> Iterator[list[RedisServer]]:
    """Three independent redis-server processes, as Redlock wants them; stopped afterwards."""
    with redis_servers(3, tmp_path) as servers:
        yield servers

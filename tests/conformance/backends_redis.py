"""Conformance backends for `RedisStorage` (the atomic Lua path), sync and asyncio clients.

Each bench writes under its own random prefix and deletes its keys afterwards, so benches
never see each other's state and db 15 needs no FLUSHDB.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import redis
from redis.asyncio import Redis as AsyncRedis

from tests.conformance.bench import Backend, Bench, Opener
from tests.conftest import REDIS_URL, need_service
from tests.redis_support import delete_keys
from throttle_core import FrozenClock
from throttle_core.storage.redis import RedisStorage


def redis_storage(is_async: bool) -> Opener:
    @asynccontextmanager
    async def open(clock: FrozenClock) -> AsyncIterator[Bench]:
        url = need_service("Redis", REDIS_URL, 6379)
        prefix = f"test:redis-storage:{uuid.uuid4().hex}:"
        admin = redis.Redis.from_url(url)
        client = AsyncRedis.from_url(url) if is_async else admin
        try:
            yield Bench(clock, RedisStorage(client, prefix), is_async)
        finally:
            if isinstance(client, AsyncRedis):
                await client.aclose()
            delete_keys(admin, prefix)
            admin.close()

    return open


REDIS_BACKENDS = [
    Backend("redis", redis_storage(False), (pytest.mark.redis,)),
    Backend("redis-async", redis_storage(True), (pytest.mark.redis,)),
]

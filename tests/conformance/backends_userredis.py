"""Conformance backends for the generic path on Redis: the seed-style user storage driven
through `RedisLock`, with the sync client and the asyncio client."""

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
from tests.user_redis_storage import AsyncUserRedisStorage, UserRedisStorage
from throttle_core import FrozenClock
from throttle_core.locks import RedisLock


def user_redis(is_async: bool) -> Opener:
    @asynccontextmanager
    async def open(clock: FrozenClock) -> AsyncIterator[Bench]:
        url = need_service("Redis", REDIS_URL, 6379)
        prefix = f"test:conformance:{uuid.uuid4().hex}:"
        admin = redis.Redis.from_url(url)
        client: redis.Redis | AsyncRedis = AsyncRedis.from_url(url) if is_async else admin
        storage: UserRedisStorage | AsyncUserRedisStorage
        if isinstance(client, AsyncRedis):
            storage = AsyncUserRedisStorage(client, prefix + "state:")
        else:
            storage = UserRedisStorage(client, prefix + "state:")
        try:
            yield Bench(clock, storage, is_async, RedisLock(client, prefix + "lock:"))
        finally:
            if isinstance(client, AsyncRedis):
                await client.aclose()
            delete_keys(admin, prefix)
            admin.close()

    return open


USER_REDIS_BACKENDS = [
    Backend("user-redis+RedisLock", user_redis(False), (pytest.mark.redis,)),
    Backend("user-redis-async+RedisLock", user_redis(True), (pytest.mark.redis,)),
]

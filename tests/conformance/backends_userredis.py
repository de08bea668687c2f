"""Conformance backends for the generic path on Redis: the save/fetch/delete user storage driven
through `RedisLock`, with the sync client and the asyncio client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from redis.asyncio import Redis as AsyncRedis

from tests.conformance.bench import Backend, Bench, Opener
from tests.redis_support import private_redis
from tests.user_redis_storage import AsyncUserRedisStorage, UserRedisStorage
from throttle_core import FrozenClock
from throttle_core.locks import RedisLock


def user_redis(is_async: bool) -> Opener:
    @asynccontextmanager
    async def open(clock: FrozenClock) -> AsyncIterator[Bench]:
        async with private_redis(is_async, "conformance") as (client, prefix):
            storage: UserRedisStorage | AsyncUserRedisStorage
            if isinstance(client, AsyncRedis):
                storage = AsyncUserRedisStorage(client, prefix + "state:")
            else:
                storage = UserRedisStorage(client, prefix + "state:")
            yield Bench(clock, storage, is_async, RedisLock(client, prefix + "lock:"))

    return open


USER_REDIS_BACKENDS = [
    Backend("user-redis+RedisLock", user_redis(False), (pytest.mark.redis,)),
    Backend("user-redis-async+RedisLock", user_redis(True), (pytest.mark.redis,)),
]

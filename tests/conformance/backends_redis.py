"""Conformance backends for `RedisStorage` (the atomic Lua path), sync and asyncio clients.

Each bench writes under its own random prefix and deletes its keys afterwards, so benches
never see each other's state and db 15 needs no FLUSHDB.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from tests.conformance.bench import Backend, Bench, Opener
from tests.redis_support import private_redis
from throttle_core import FrozenClock
from throttle_core.storage.redis import RedisStorage


def redis_storage(is_async: bool) -> Opener:
    @asynccontextmanager
    async def open(clock: FrozenClock) -> AsyncIterator[Bench]:
        async with private_redis(is_async, "redis-storage") as (client, prefix):
            yield Bench(clock, RedisStorage(client, prefix), is_async)

    return open


REDIS_BACKENDS = [
    Backend("redis", redis_storage(False), (pytest.mark.redis,)),
    Backend("redis-async", redis_storage(True), (pytest.mark.redis,)),
]

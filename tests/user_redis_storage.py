"""A user storage on Redis written the way @zeitar/throttle's custom-storage guide writes its
`RedisStorage`: JSON values stored with the state's TTL (SETEX, spelled `set(ex=ttl)` since
redis-py deprecates `setex`), `state_from_dict` to read back. It has no atomic consume, so the
limiter drives it on the generic path, with a lock."""

from __future__ import annotations

import json
from typing import Any

import redis
import redis.asyncio

from throttle_core import state_from_dict


class UserRedisStorage:
    """The guide's storage for `redis.Redis`, with the guide's key-namespacing prefix."""

    def __init__(self, client: redis.Redis, prefix: str = "rate_limiter:") -> None:
        self.redis = client
        self.prefix = prefix

    def save(self, state: Any) -> None:
        key = self.prefix + state.id
        ttl = state.expiration_time
        data = json.dumps(state.to_dict())
        if ttl > 0:
            self.redis.set(key, data, ex=ttl)
        else:
            self.redis.set(key, data)

    def fetch(self, id: str) -> Any:
        data = self.redis.get(self.prefix + id)
        if not data:
            return None
        return state_from_dict(json.loads(data))

    def delete(self, id: str) -> None:
        self.redis.delete(self.prefix + id)


class AsyncUserRedisStorage:
    """The same guide storage for `redis.asyncio.Redis`: the TypeScript's async methods."""

    def __init__(self, client: redis.asyncio.Redis, prefix: str = "rate_limiter:") -> None:
        self.redis = client
        self.prefix = prefix

    async def save(self, state: Any) -> None:
        key = self.prefix + state.id
        ttl = state.expiration_time
        data = json.dumps(state.to_dict())
        if ttl > 0:
            await self.redis.set(key, data, ex=ttl)
        else:
            await self.redis.set(key, data)

    async def fetch(self, id: str) -> Any:
        data = await self.redis.get(self.prefix + id)
        if not data:
            return None
        return state_from_dict(json.loads(data))

    async def delete(self, id: str) -> None:
        await self.redis.delete(self.prefix + id)

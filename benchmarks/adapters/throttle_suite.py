"""Adapter for throttle-suite itself: `RateLimiterFactory(...).create(key).consume()`, the
way a framework integration calls it on every request."""

from __future__ import annotations

import importlib.util
from typing import Any

from benchmarks.adapters.base import (
    MEMORY_POLICIES,
    POLICIES,
    Adapter,
    Algorithm,
    Backend,
    BackendKind,
    Limiter,
)


def config(policy: str, limit: int, period: int) -> dict[str, Any]:
    """Our config for `limit` per `period` seconds; a token bucket (and GCRA) holds `limit`
    and refills `limit` per period, as every peer's bucket does."""
    if policy in ("token_bucket", "gcra"):
        rate = {"interval": period, "amount": limit}
        return {"policy": policy, "id": "bench", "limit": limit, "rate": rate}
    return {"policy": policy, "id": "bench", "limit": limit, "interval": period}


def has_postgres_storage() -> bool:
    return importlib.util.find_spec("throttle_core.storage.postgres") is not None


class ThrottleSuite(Adapter):
    library = "throttle-suite"
    module = "throttle_core"

    def algorithms(self, backend: BackendKind) -> tuple[Algorithm, ...]:
        if backend == "postgres" and not has_postgres_storage():
            return ()
        offered = MEMORY_POLICIES if backend == "memory" else POLICIES
        return tuple(Algorithm(policy, policy) for policy in offered)

    def make(self, algorithm: str, limit: int, period: int, backend: Backend) -> Limiter:
        from throttle_core import InMemoryStorage, RateLimiterFactory

        storage: Any
        if backend.kind == "redis":
            import redis

            from throttle_core.storage.redis import RedisStorage

            client = redis.Redis.from_url(backend.url)
            storage = RedisStorage(client, prefix=f"{backend.namespace}:ours:")
            close = client.close
        elif backend.kind == "postgres":
            import psycopg

            from throttle_core.storage.postgres import PostgresStorage

            connection = psycopg.connect(backend.url, autocommit=True)
            storage = PostgresStorage(connection, table=f"{backend.namespace}_ours")
            storage.create_table()
            close = connection.close
        else:
            storage = InMemoryStorage(max_keys=backend.capacity)
            close = storage.clear
        create = RateLimiterFactory(config(algorithm, limit, period), storage).create

        def hit(key: str) -> bool:
            return create(key).consume().accepted

        return Limiter(hit, close)

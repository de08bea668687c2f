"""`cache://ALIAS`: the Redis server behind a Django cache, used by the atomic `RedisStorage`.

Only a Redis cache can decide atomically (one Lua script per decision); the database,
file, local-memory and Memcached caches cannot, so naming one is a `ConfigError`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import caches

from throttle_core.errors import ConfigError
from throttle_core.storage.redis import DEFAULT_PREFIX, RedisStorage

DJANGO_REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"


def redis_storage_for_cache(alias: str) -> RedisStorage:
    """A `RedisStorage` on the primary of cache `alias` (Django's `RedisCache` or a
    django-redis cache), its keys under the cache's `KEY_PREFIX` when it has one."""
    if alias not in settings.CACHES:
        raise ConfigError(
            f"storage 'cache://{alias}': no such cache alias in CACHES "
            f"(known: {', '.join(sorted(settings.CACHES))})"
        )
    cache = caches[alias]
    client = redis_client(alias, cache)
    prefix = f"{cache.key_prefix}:{DEFAULT_PREFIX}" if cache.key_prefix else DEFAULT_PREFIX
    return RedisStorage(client, prefix, async_client=asyncio_twin(alias, client))


def redis_client(alias: str, cache: Any) -> Any:
    """The synchronous `redis.Redis` a cache writes with, or `ConfigError` for other caches."""
    backend = f"{type(cache).__module__}.{type(cache).__qualname__}"
    if backend == DJANGO_REDIS_CACHE:
        return cache._cache.get_client(write=True)
    if backend.startswith("django_redis.") and hasattr(cache, "client"):
        return cache.client.get_client(write=True)
    raise ConfigError(
        f"storage 'cache://{alias}': the cache is a {backend}, which cannot decide atomically; "
        f"use a cache with BACKEND {DJANGO_REDIS_CACHE!r} (or django-redis), or another storage"
    )


def asyncio_twin(alias: str, client: Any) -> Any:
    """A `redis.asyncio.Redis` to the same server with the same plain options (address,
    database, credentials, timeouts, TLS settings), for the storage's `a`-methods."""
    import redis
    import redis.asyncio

    pool = client.connection_pool
    twins = {
        redis.Connection: redis.asyncio.Connection,
        redis.SSLConnection: redis.asyncio.SSLConnection,
        redis.UnixDomainSocketConnection: redis.asyncio.UnixDomainSocketConnection,
    }
    twin = twins.get(pool.connection_class)
    if twin is None:
        raise ConfigError(
            f"storage 'cache://{alias}': the cache's {pool.connection_class.__name__} "
            "connections have no asyncio counterpart; name the server with a redis://, "
            "redis+sentinel:// or redis+cluster:// URL instead"
        )
    plain = (str, bytes, int, float, bool, type(None))
    options: dict[str, Any] = {
        k: v for k, v in pool.connection_kwargs.items() if isinstance(v, plain)
    }
    return redis.asyncio.Redis(
        connection_pool=redis.asyncio.ConnectionPool(connection_class=twin, **options)
    )

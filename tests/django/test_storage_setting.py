"""storage_from_setting: every kind of value THROTTLE["STORAGE"] may hold."""

from __future__ import annotations

import uuid

import pytest
import redis
from django.core.cache import caches

from tests.django import storages
from throttle_core import ConfigError, InMemoryStorage, RateLimiterFactory
from throttle_core.storage.postgres import PostgresStorage
from throttle_core.storage.redis import RedisStorage
from throttle_django.storage import ModelStorage, storage_from_setting

LIMIT = "2/minute"


@pytest.mark.parametrize(
    ("value", "alias"),
    [("django://", "default"), ("django:///", "default"), ("django://postgres", "postgres")],
)
def test_django_urls_name_a_database(value: str, alias: str) -> None:
    storage = storage_from_setting(value)
    assert isinstance(storage, ModelStorage)
    assert storage.using == alias


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("django://nope", "no such database alias 'nope'|'nope'"),
        ("django://default/x", "give only an alias"),
        ("django://default?x=1", "give only an alias"),
        ("cache://nope", "no such cache alias"),
        ("cache://default", "LocMemCache, which cannot decide atomically"),
        ("memcache://x", "unsupported storage URL"),
        ("tests.django.storages.missing", "cannot be imported"),
        ("tests.django.storages.NOT_A_STORAGE", "is not a storage"),
        ("no_such_module.thing", "cannot be imported"),
    ],
)
def test_bad_values_are_config_errors_naming_them(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        storage_from_setting(value)


def test_urls_of_the_core() -> None:
    assert isinstance(storage_from_setting("memory://"), InMemoryStorage)
    redis_storage = storage_from_setting("redis://127.0.0.1:6379/0")
    assert isinstance(redis_storage, RedisStorage)
    redis_storage.close()
    assert isinstance(storage_from_setting("postgresql://u@127.0.0.1/db"), PostgresStorage)


def test_dotted_paths_to_a_storage_or_a_callable() -> None:
    assert storage_from_setting("tests.django.storages.SHARED") is storages.SHARED
    assert storage_from_setting("tests.django.storages.make_storage") is storages.SHARED
    assert isinstance(storage_from_setting("throttle_core.InMemoryStorage"), InMemoryStorage), (
        "a class named by its path is called, like any callable"
    )


def test_objects_pass_through_and_classes_or_junk_do_not() -> None:
    storage = InMemoryStorage()
    assert storage_from_setting(storage) is storage
    with pytest.raises(ConfigError, match="is a class"):
        storage_from_setting(InMemoryStorage)
    for junk in (None, 3, object()):
        with pytest.raises(ConfigError, match="is not a storage"):
            storage_from_setting(junk)


@pytest.mark.redis
@pytest.mark.parametrize(
    ("alias", "prefix"), [("redis", "throttle:"), ("django_redis", "site:throttle:")]
)
async def test_cache_urls_use_the_redis_behind_the_cache(
    redis_url: str, alias: str, prefix: str
) -> None:
    storage = storage_from_setting(f"cache://{alias}")
    assert isinstance(storage, RedisStorage)
    assert storage.prefix == prefix
    id = f"cache-{uuid.uuid4().hex[:8]}"
    limiter = RateLimiterFactory({"policy": "fixed_window", "id": id, "limit": 2,
                                  "interval": 60}, storage).create("k")  # fmt: skip
    assert [limiter.consume().accepted for _ in range(3)] == [True, True, False]
    assert not (await limiter.aconsume()).accepted
    await limiter.areset()
    assert (await limiter.aconsume()).accepted
    direct = redis.Redis.from_url(redis_url)
    try:
        assert direct.exists(storage.key(f"{id}:k")) == 1
        assert storage.key(f"{id}:k").startswith(prefix)
    finally:
        direct.delete(storage.key(f"{id}:k"))
        direct.close()
        await storage._clients[True].aclose()
    caches[alias].close()

"""Clients built from storage URLs: short timeouts and no retries unless the URL says so."""

from __future__ import annotations

from typing import Any

import pytest
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff

from throttle_core import ConfigError, storage_from_url
from throttle_core.redis_clients import CONNECT_TIMEOUT, SOCKET_TIMEOUT
from throttle_core.storage import PostgresStorage, RedisStorage
from throttle_core.storage.postgres import split_url


def clients(url: str) -> list[Any]:
    storage = storage_from_url(url)
    assert isinstance(storage, RedisStorage)
    return [storage._client(is_async, "test") for is_async in (False, True)]


def test_url_clients_time_out_within_a_second_and_never_retry_by_default() -> None:
    assert CONNECT_TIMEOUT <= 1
    assert SOCKET_TIMEOUT <= 1
    for client in clients("redis://127.0.0.1:6399/4"):
        options = client.connection_pool.connection_kwargs
        assert (options["socket_connect_timeout"], options["socket_timeout"]) == (
            CONNECT_TIMEOUT, SOCKET_TIMEOUT)  # fmt: skip
        assert (options["host"], options["port"], options["db"]) == ("127.0.0.1", 6399, 4)
        connection = client.connection_pool.make_connection()
        assert connection.retry.get_retries() == 0
        assert isinstance(connection.retry._backoff, NoBackoff)


def test_timeouts_and_retries_are_set_in_the_url() -> None:
    url = "redis://127.0.0.1/0?socket_timeout=2.5&socket_connect_timeout=0.1&retries=3"
    for client in clients(url):
        options = client.connection_pool.connection_kwargs
        assert (options["socket_timeout"], options["socket_connect_timeout"]) == (2.5, 0.1)
        connection = client.connection_pool.make_connection()
        assert connection.retry.get_retries() == 3
        assert isinstance(connection.retry._backoff, ExponentialWithJitterBackoff)


def test_cluster_and_sentinel_clients_get_the_same_defaults() -> None:
    cluster = storage_from_url("redis+cluster://127.0.0.1:7000")
    assert isinstance(cluster, RedisStorage)
    made = cluster._client(True, "test")
    assert made.retry.get_retries() == 0
    assert made.connection_kwargs["socket_timeout"] == SOCKET_TIMEOUT
    sentinel = storage_from_url("redis+sentinel://127.0.0.1:26379/mymaster?retries=1")
    assert isinstance(sentinel, RedisStorage)
    master = sentinel._client(False, "test")
    assert master.connection_pool.connection_kwargs["socket_timeout"] == SOCKET_TIMEOUT
    assert master.connection_pool.connection_kwargs["retry"].get_retries() == 1
    for one in master.connection_pool.sentinel_manager.sentinels:
        assert one.connection_pool.connection_kwargs["retry"].get_retries() == 1
        assert one.connection_pool.connection_kwargs["socket_timeout"] == SOCKET_TIMEOUT


def test_error_messages_never_repeat_a_password() -> None:
    with pytest.raises(ConfigError) as caught:
        storage_from_url("redis://user:hunter2@h:99999/0")
    assert "hunter2" not in str(caught.value)
    assert "redis://user:***@h:99999/0" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        storage_from_url("postgresql://u:hunter2@h/db?bogus=1")
    assert "hunter2" not in str(caught.value)


def test_postgres_urls_get_a_connect_timeout_unless_they_name_one() -> None:
    assert split_url("postgresql://u@h/db")[0] == "postgresql://u@h/db?connect_timeout=2"
    assert split_url("postgresql://u@h/db?connect_timeout=7&table=t") == (
        "postgresql://u@h/db?connect_timeout=7", "t")  # fmt: skip
    assert split_url("postgresql://u@h1:5432,h2:5433/db")[0].endswith("connect_timeout=2")
    storage = storage_from_url("postgres://u@h/db?application_name=web&table=api_limits")
    assert isinstance(storage, PostgresStorage)
    assert storage.table == "api_limits"

"""Storages for the end-to-end tests, each given to the servers as a `THROTTLE_STORAGE_URL`:
the shared Redis test database under a private prefix, a PostgreSQL table of its own, a
3-master Redis Cluster started for the session, and a throw-away redis-server to break."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import redis

from tests.e2e.harness import FRAMEWORKS, Framework
from tests.redis_support import RedisServer, cluster_url, delete_keys, redis_cluster, redis_servers
from throttle_core.storage.postgres import storage_from_url as postgres_storage

STORAGES = ("redis", "postgres", "cluster")


def private_name() -> str:
    return f"e2e_{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=FRAMEWORKS, ids=[f.name for f in FRAMEWORKS])
def framework(request: pytest.FixtureRequest) -> Framework:
    """Each framework under test in turn."""
    found: Framework = request.param
    return found


@pytest.fixture
def shared_redis(redis_url: str) -> Iterator[str]:
    """A storage URL on the shared Redis test database, under a prefix of this test's own
    (its keys are deleted afterwards)."""
    prefix = private_name() + ":"
    yield f"{redis_url}?prefix={quote(prefix)}"
    client = redis.Redis.from_url(redis_url)
    delete_keys(client, prefix)
    client.close()


@pytest.fixture
def postgres_table(postgres_url: str) -> Iterator[str]:
    """A storage URL on the PostgreSQL test database, with a table (and decision function)
    created for this test and dropped after it."""
    url = f"{postgres_url}?table={private_name()}"
    storage = postgres_storage(url)
    storage.create_table()
    yield url
    storage.drop_table()
    storage.close()


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[RedisServer]]:
    """Three Redis masters joined into one cluster, for the whole session."""
    with redis_cluster(tmp_path_factory.mktemp("e2e-cluster")) as servers:
        yield servers


@pytest.fixture
def cluster_storage(cluster: list[RedisServer]) -> str:
    """A `redis+cluster://` storage URL naming all three masters, under a private prefix."""
    return f"{cluster_url(cluster)}?prefix={quote(private_name() + ':')}"


@pytest.fixture
def storage_url(request: pytest.FixtureRequest) -> str:
    """The storage named by the test's `storage` parameter, one of `STORAGES`."""
    fixture = {"redis": "shared_redis", "postgres": "postgres_table", "cluster": "cluster_storage"}
    url: str = request.getfixturevalue(fixture[request.param])
    return url


@pytest.fixture
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server of this test's own, to kill or stop under traffic."""
    with redis_servers(1, tmp_path_factory.mktemp("e2e-redis")) as (server,):
        yield server

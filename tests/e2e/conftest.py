"""Storages for the end-to-end tests, each given to the servers as environment variables
(`THROTTLE_STORAGE_URL`, and for Django's model storage the site's database): the shared
Redis test database under a private prefix, a PostgreSQL table of its own, a 3-master Redis
Cluster started for the session, a PostgreSQL database migrated for the Django site, and a
throw-away redis-server to break."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from urllib.parse import quote

import pytest
import redis

from example_projects.django_site.databases import scratch_database
from example_projects.server import ROOT, Server
from tests.e2e.harness import DJANGO, FRAMEWORKS, WORKERS, Framework, Serve, environment, running
from tests.redis_support import RedisServer, cluster_url, delete_keys, redis_cluster, redis_servers
from throttle_core.storage.postgres import storage_from_url as postgres_storage

STORAGES = ("redis", "postgres", "cluster")
"""The storages every framework shares; a framework's own (`Framework.storages`) add to them."""


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
def serve_on_redis(framework: Framework, shared_redis: str) -> Serve:
    """Serves the framework under test on the shared Redis (`shared_redis`) with the
    settings a test adds."""

    def serve(env: Mapping[str, str], workers: int = WORKERS) -> AbstractContextManager[Server]:
        return running(framework, {"THROTTLE_STORAGE_URL": shared_redis, **env}, workers)

    return serve


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


@pytest.fixture
def site_database(postgres_url: str) -> Iterator[str]:
    """The URL of a PostgreSQL database created for this test, with the Django site's
    `throttle_django` tables and decision function migrated into it; dropped after the test
    (its servers stopped by then: any connection left is closed by force)."""
    with scratch_database(postgres_url, private_name()) as url:
        migrate = [sys.executable, "-m", "django", "migrate", "throttle_django", "--verbosity", "0"]
        variables = {**os.environ, **environment(DJANGO, {"DJANGO_SITE_DATABASE": url})}
        subprocess.run(
            migrate,
            cwd=ROOT,
            env={name: value for name, value in variables.items() if value is not None},
            check=True,
            capture_output=True,
            timeout=60,
        )
        yield url


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
def storage(request: pytest.FixtureRequest) -> dict[str, str]:
    """The variables of the storage the test's `storage` parameter names: one of `STORAGES`,
    or `"django"`, Django's model storage on a database of the test's own."""
    if request.param == "django":
        database: str = request.getfixturevalue("site_database")
        return {"THROTTLE_STORAGE_URL": "django://", "DJANGO_SITE_DATABASE": database}
    fixture = {"redis": "shared_redis", "postgres": "postgres_table", "cluster": "cluster_storage"}
    url: str = request.getfixturevalue(fixture[request.param])
    return {"THROTTLE_STORAGE_URL": url}


@pytest.fixture
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server of this test's own, to kill or stop under traffic."""
    with redis_servers(1, tmp_path_factory.mktemp("e2e-redis")) as (server,):
        yield server

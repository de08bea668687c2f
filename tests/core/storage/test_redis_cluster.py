"""RedisStorage through RedisCluster: a 3-master cluster of redis-server processes on loopback
ports, started for this module and stopped after it, runs every conformance scenario (sync and
asyncio clients) and the contention test."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from redis.asyncio.cluster import ClusterNode as AsyncClusterNode
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.cluster import ClusterNode, RedisCluster
from redis.crc import key_slot

import tests.conformance
from tests.conformance.bench import Bench
from tests.conftest import START
from tests.core.storage.contention import CONFIGS, LIMIT, admitted_under_contention
from tests.redis_support import HOST, RedisServer, cluster_url, redis_cluster
from throttle_core import FrozenClock, RateLimiterFactory, storage_from_url
from throttle_core.storage.redis import RedisStorage

pytestmark = [pytest.mark.redis, pytest.mark.slow]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[RedisServer]]:
    with redis_cluster(tmp_path_factory.mktemp("cluster")) as servers:
        yield servers


@pytest.fixture(scope="module")
def cluster_client(cluster: list[RedisServer]) -> Iterator[RedisCluster]:
    nodes = [ClusterNode(HOST, s.port) for s in cluster]  # type: ignore[no-untyped-call]
    client = RedisCluster(startup_nodes=nodes)
    yield client
    client.close()


@pytest.fixture(params=["cluster", "cluster-async"])
async def bench(
    request: pytest.FixtureRequest, cluster: list[RedisServer], cluster_client: RedisCluster
) -> AsyncIterator[Bench]:
    prefix = f"test:cluster:{uuid.uuid4().hex}:"
    if request.param == "cluster":
        yield Bench(FrozenClock(START), RedisStorage(cluster_client, prefix), False)
        return
    client = AsyncRedisCluster(startup_nodes=[AsyncClusterNode(HOST, s.port) for s in cluster])
    yield Bench(FrozenClock(START), RedisStorage(client, prefix), True)
    await client.aclose()


def _scenarios() -> dict[str, Any]:
    """Every conformance scenario, renamed after its module so that none shadows another."""
    found = {}
    for info in pkgutil.iter_modules(tests.conformance.__path__):
        if info.name.startswith("test_"):
            module = importlib.import_module(f"tests.conformance.{info.name}")
            for name, value in vars(module).items():
                if name.startswith("test_") and callable(value):
                    found[f"test_{info.name[5:]}__{name[5:]}"] = value
    return found


globals().update(_scenarios())


def test_the_scenarios_were_collected() -> None:
    assert sum(name.startswith("test_token_bucket__") for name in globals()) >= 5


def test_keys_spread_over_the_masters_and_each_request_key_keeps_one_slot(
    cluster_client: RedisCluster,
) -> None:
    storage = RedisStorage(cluster_client, f"test:cluster:{uuid.uuid4().hex}:")
    slots = {key_slot(storage.key(f"{cid}:user-{n}").encode()) for n in range(50)
             for cid in ("a", "b")}  # fmt: skip
    per_user = {n: {key_slot(storage.key(f"{cid}:user-{n}").encode()) for cid in "abc"}
                for n in range(50)}  # fmt: skip
    assert len(slots) > 10
    assert all(len(s) == 1 for s in per_user.values())


def test_contention_through_the_cluster_is_exact(cluster: list[RedisServer]) -> None:
    url = cluster_url(cluster)
    prefix = f"test:cluster-contention:{uuid.uuid4().hex}:"
    assert admitted_under_contention(url, prefix) == dict.fromkeys(CONFIGS, LIMIT)


async def test_a_cluster_url_gives_sync_and_asyncio_clients(cluster: list[RedisServer]) -> None:
    url = f"redis+cluster://{HOST}:{cluster[0].port}?max_connections=5"
    storage = storage_from_url(url, prefix=f"test:cluster-url:{uuid.uuid4().hex}:")
    factory = RateLimiterFactory(CONFIGS["sliding_window"], storage, clock=FrozenClock(START))
    limiters = [factory.create(f"user-{n}") for n in range(20)]
    for limiter in limiters:
        assert limiter.consume(400).remaining == LIMIT - 400
        assert (await limiter.aconsume(600)).remaining == 0
        assert not (await limiter.aconsume(1)).accepted
    storage.close()
    await storage.aclose()


async def test_a_fresh_asyncio_cluster_client_under_concurrent_first_use_is_exact(
    cluster: list[RedisServer],
) -> None:
    """redis-py's asyncio RedisCluster, used by many tasks before it has initialized, can
    run a command twice or fail it; every decision must still count exactly once."""
    config = {"policy": "fixed_window", "id": "fresh", "limit": 20, "interval": "1 day"}

    async def decide(limiter: Any, delay: float) -> bool:
        await asyncio.sleep(delay)
        return bool((await limiter.aconsume()).accepted)

    for run in range(12):
        storage = storage_from_url(
            cluster_url(cluster), prefix=f"test:fresh-{run}:{uuid.uuid4().hex}:"
        )
        limiter = RateLimiterFactory(config, storage).create("k")
        accepted = await asyncio.gather(*(decide(limiter, n % 7 * 0.003) for n in range(30)))
        assert sum(accepted) == 20, f"run {run}"
        await storage.aclose()

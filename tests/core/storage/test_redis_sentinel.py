"""RedisStorage through Sentinel: a master, a replica and a sentinel on loopback ports, started
for this module; a forced failover during traffic loses at most the decisions in flight, and
the only errors callers see are redis ConnectionErrors while the primary changes."""

from __future__ import annotations

import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.conftest import START
from tests.redis_support import HOST, RedisServer, free_port, redis_servers
from throttle_core import FrozenClock, RateLimiterFactory, storage_from_url

pytestmark = [pytest.mark.redis, pytest.mark.slow]

SERVICE = "mymaster"


class Sentinel:
    """One `redis-server --sentinel` watching `master` (quorum 1, down after 1 s)."""

    def __init__(self, workdir: Path, master: RedisServer) -> None:
        self.port = free_port()
        config = workdir / "sentinel.conf"
        config.write_text(
            f"port {self.port}\nbind {HOST}\ndir {workdir}\n"
            f"sentinel monitor {SERVICE} {HOST} {master.port} 1\n"
            f"sentinel down-after-milliseconds {SERVICE} 1000\n"
            f"sentinel failover-timeout {SERVICE} 10000\n"
        )
        self.process = subprocess.Popen(
            ["redis-server", str(config), "--sentinel"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.client = redis.Redis(host=HOST, port=self.port, decode_responses=True)
        self.wait_for(lambda: self.client.ping(), "the sentinel to answer")

    def wait_for(self, ready: Any, what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if ready():
                    return
            except redis.RedisError:
                pass
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.05)

    def master_port(self) -> int:
        address: Any = self.client.sentinel_get_master_addr_by_name(SERVICE)
        return int(address[1])

    def wait_replicated(self) -> None:
        """Wait until the replica holds every write the master has acknowledged so far
        (replication is asynchronous: what it has not received, a failover may lose)."""
        admin = redis.Redis(host=HOST, port=self.master_port(), decode_responses=True)
        try:
            offset = admin.info("replication")["master_repl_offset"]
            self.wait_for(
                lambda: admin.info("replication")["slave0"]["offset"] >= offset,
                "the replica to catch up",
            )
        finally:
            admin.close()

    def failover(self) -> bool:
        """Ask for a failover now (Sentinel says NOGOODSLAVE until it trusts the replica)."""
        return bool(self.client.sentinel_failover(SERVICE))

    def stop(self) -> None:
        self.client.close()
        self.process.kill()
        self.process.wait()


@pytest.fixture(scope="module")
def sentinel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sentinel]:
    workdir = tmp_path_factory.mktemp("sentinel")
    with redis_servers(1, workdir) as (master,):
        replica = RedisServer(workdir, "--replicaof", HOST, str(master.port))
        watcher = Sentinel(workdir, master)
        admin = master.client(decode_responses=True)
        try:
            watcher.wait_for(
                lambda: admin.info("replication").get("slave0", {}).get("state") == "online",
                "the replica to sync",
            )
            admin.config_set("min-replicas-to-write", 1)
            watcher.wait_for(
                lambda: any(r["is_slave"] for r in watcher.client.sentinel_slaves(SERVICE)),
                "the sentinel to find the replica",
            )
            yield watcher
        finally:
            admin.close()
            watcher.stop()
            replica.stop()


def test_failover_during_traffic_loses_at_most_the_decisions_in_flight(
    sentinel: Sentinel,
) -> None:
    """Decisions accepted and replicated before the failover was asked for, and those after
    Sentinel announced the new primary, all survive; only those in flight during the switch
    (accepted by the old primary but not yet replicated) may be lost. Callers see
    ConnectionErrors, nothing else."""
    url = f"redis+sentinel://{HOST}:{sentinel.port}/{SERVICE}?socket_timeout=2"
    storage = storage_from_url(url, prefix=f"test:sentinel:{uuid.uuid4().hex}:")
    config = {"policy": "fixed_window", "id": "failover", "limit": 10**9, "interval": "1 hour"}
    limiter = RateLimiterFactory(config, storage, clock=FrozenClock(START)).create("k")
    counts, stop, unexpected = Counter[str](), threading.Event(), list[BaseException]()

    def traffic() -> None:
        while not stop.is_set():
            try:
                counts["accepted"] += limiter.consume().accepted
            except redis.ConnectionError:
                counts["connection errors"] += 1
            except BaseException as error:
                unexpected.append(error)
                return

    old = sentinel.master_port()
    worker = threading.Thread(target=traffic)
    worker.start()
    try:
        sentinel.wait_for(lambda: counts["accepted"] > 200, "traffic on the old master")
        before = counts["accepted"]
        sentinel.wait_replicated()
        sentinel.wait_for(sentinel.failover, "Sentinel to start the failover")
        sentinel.wait_for(lambda: sentinel.master_port() != old, "the switch")
        switched = counts["accepted"]
        sentinel.wait_for(lambda: counts["accepted"] > switched + 200, "traffic on the new one")
    finally:
        stop.set()
        worker.join(30)
    assert not unexpected
    assert not worker.is_alive()
    survived = storage.fetch(limiter.id).hits[0] - (counts["accepted"] - switched)
    assert before <= survived <= switched + counts["connection errors"]
    storage.close()


async def test_asyncio_client_through_sentinel(sentinel: Sentinel) -> None:
    url = f"redis+sentinel://{HOST}:{sentinel.port}/{SERVICE}"
    storage = storage_from_url(url, prefix=f"test:sentinel-async:{uuid.uuid4().hex}:")
    config = {"policy": "token_bucket", "id": "a", "limit": 5, "rate": "5/minute"}
    limiter = RateLimiterFactory(config, storage, clock=FrozenClock(START)).create("k")
    assert (await limiter.aconsume(5)).remaining == 0
    assert not (await limiter.aconsume()).accepted
    assert limiter.consume(0).retry_after == pytest.approx(12.0)
    await storage.aclose()
    storage.close()

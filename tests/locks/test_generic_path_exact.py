"""The generic path across processes: the save/fetch/delete Redis storage with `RedisLock`, hammered
by 4 processes × 2 threads on one key, admits exactly the limit for every policy."""

from __future__ import annotations

import multiprocessing
import uuid
from typing import Any

import pytest
import redis

from tests.conftest import START
from tests.policies import every_policy, run_threads
from tests.redis_support import delete_keys
from tests.user_redis_storage import UserRedisStorage
from throttle_core import FrozenClock, RateLimiterFactory
from throttle_core.locks import RedisLock

pytestmark = [pytest.mark.redis, pytest.mark.slow]

PROCESSES, THREADS, HITS, LIMIT = 4, 2, 1000, 1000
CONFIGS = every_policy(LIMIT)


def hammer(url: str, prefix: str, config: dict[str, Any], start: Any, admitted: Any) -> None:
    """One process: THREADS threads sharing a client, storage and lock, HITS decisions each.
    Time is frozen so that nothing refills while the test runs: the limit is the whole quota."""
    client = redis.Redis.from_url(url)
    factory = RateLimiterFactory(
        config,
        UserRedisStorage(client, prefix + "state:"),
        RedisLock(client, prefix + "lock:"),
        clock=FrozenClock(START),
    )
    counts = [0] * THREADS

    def run(slot: int) -> None:
        limiter = factory.create("one-key")
        start.wait()
        for _ in range(HITS):
            counts[slot] += limiter.consume().accepted

    run_threads(THREADS, run)
    admitted.put(sum(counts))
    client.close()


@pytest.mark.parametrize("policy", CONFIGS)
def test_four_processes_of_two_threads_admit_exactly_the_limit(redis_url: str, policy: str) -> None:
    prefix = f"test:generic:{uuid.uuid4().hex}:"
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(PROCESSES * THREADS)
    admitted = context.Queue()
    processes = [
        context.Process(target=hammer, args=(redis_url, prefix, CONFIGS[policy], start, admitted))
        for _ in range(PROCESSES)
    ]
    try:
        for process in processes:
            process.start()
        counts = [admitted.get(timeout=600) for _ in processes]
        for process in processes:
            process.join()
        assert [process.exitcode for process in processes] == [0] * PROCESSES
        assert sum(counts) == LIMIT
        assert all(0 < count < LIMIT for count in counts)
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
        client = redis.Redis.from_url(redis_url)
        assert list(client.scan_iter(match=prefix + "lock:*")) == []
        delete_keys(client, prefix)
        client.close()

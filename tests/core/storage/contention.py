"""Exactness under contention: processes × threads hammering one key through storage_from_url.

Workers are spawned (not forked) and meet at a barrier before each policy, so every request
of every process races the others; time is frozen so no refill or window change can help.
"""

from __future__ import annotations

import multiprocessing
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.conftest import START
from tests.policies import every_policy
from throttle_core import FrozenClock, RateLimiterFactory, storage_from_url

PROCESSES = 4
THREADS = 2
HITS = 1_000
LIMIT = 1_000

CONFIGS = every_policy(LIMIT)


def hammer(url: str, options: dict[str, Any], barrier: Any) -> dict[str, int]:
    """In one process: for each policy, wait for the others, then THREADS × HITS consumes."""
    storage = storage_from_url(url, **options)
    admitted = {}
    with ThreadPoolExecutor(THREADS) as pool:
        for name, config in CONFIGS.items():
            limiter = RateLimiterFactory(config, storage, clock=FrozenClock(START)).create("hot")

            def run(_: int, limiter: Any = limiter) -> int:
                return sum(limiter.consume().accepted for _ in range(HITS))

            barrier.wait()
            admitted[name] = sum(pool.map(run, range(THREADS)))
    storage.close()
    return admitted


def _worker(url: str, options: dict[str, Any], barrier: Any, results: Any) -> None:
    try:
        results.put(hammer(url, options, barrier))
    except BaseException:
        results.put(traceback.format_exc())
        barrier.abort()


def admitted_under_contention(
    url: str, prefix: str | None = None, **options: Any
) -> dict[str, int]:
    """How many of the PROCESSES × THREADS × HITS requests each policy admitted in total;
    `prefix` (Redis) and `options` go to `storage_from_url`."""
    if prefix is not None:
        options["prefix"] = prefix
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(PROCESSES), context.Queue()
    workers = [
        context.Process(target=_worker, args=(url, options, barrier, results))
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    try:
        outcomes = [results.get(timeout=120) for _ in workers]
    finally:
        for worker in workers:
            worker.join(10)
            if worker.is_alive():
                worker.kill()
    errors = [outcome for outcome in outcomes if isinstance(outcome, str)]
    assert not errors, errors[0]
    return {name: sum(outcome[name] for outcome in outcomes) for name in CONFIGS}

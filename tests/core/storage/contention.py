"""Exactness under contention: processes × threads hammering one key through storage_from_url.

Workers are spawned (not forked) and meet at a barrier before each policy, so every request
of every process races the others; time is frozen so no refill or window change can help.
"""

from __future__ import annotations

import functools
import multiprocessing
import traceback
from collections.abc import Callable
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


def hammer(make_storage: Callable[[], Any], limit: int, hits: int, barrier: Any) -> dict[str, int]:
    """In one process: for each policy, wait for the others, then THREADS × `hits` consumes."""
    storage = make_storage()
    admitted = {}
    with ThreadPoolExecutor(THREADS) as pool:
        for name, config in every_policy(limit).items():
            limiter = RateLimiterFactory(config, storage, clock=FrozenClock(START)).create("hot")

            def run(_: int, limiter: Any = limiter) -> int:
                return sum(limiter.consume().accepted for _ in range(hits))

            barrier.wait()
            admitted[name] = sum(pool.map(run, range(THREADS)))
    close = getattr(storage, "close", None)
    if close is not None:
        close()
    return admitted


def _worker(
    make_storage: Callable[[], Any], limit: int, hits: int, barrier: Any, results: Any
) -> None:
    try:
        results.put(hammer(make_storage, limit, hits, barrier))
    except BaseException:
        results.put(traceback.format_exc())
        barrier.abort()


def admitted_by(
    make_storage: Callable[[], Any], limit: int = LIMIT, hits: int = HITS
) -> dict[str, int]:
    """How many of the PROCESSES × THREADS × `hits` requests each policy (at `limit` per hour)
    admitted in total, each process using the storage `make_storage()` (a picklable callable)
    gives it."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(PROCESSES), context.Queue()
    workers = [
        context.Process(target=_worker, args=(make_storage, limit, hits, barrier, results))
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
    return {name: sum(outcome[name] for outcome in outcomes) for name in every_policy(limit)}


def admitted_under_contention(
    url: str, prefix: str | None = None, **options: Any
) -> dict[str, int]:
    """`admitted_by` a storage from `storage_from_url(url)`; `prefix` (Redis) and `options`
    go to `storage_from_url`."""
    if prefix is not None:
        options["prefix"] = prefix
    return admitted_by(functools.partial(storage_from_url, url, **options))

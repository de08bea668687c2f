"""Workload 3, Redis: decisions/s on one connection for each policy, next to the floors a
limiter cannot beat on the same connection (a raw `INCR`, and a raw `EVALSHA` of a one-line
INCR script), and the commands each decision sends (counted with MONITOR)."""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import redis

from benchmarks.adapters import ADAPTERS, Backend
from benchmarks.adapters.base import POLICIES
from benchmarks.adapters.limits import STRATEGIES
from benchmarks.adapters.throttle_suite import config
from benchmarks.record import Contender, Row, contenders, fresh_key
from benchmarks.services import monitor
from benchmarks.settings import Services, Settings
from benchmarks.timing import Sample, interleaved, throughput

OUR = "throttle-suite"
LIMIT = 10**9
PERIOD = 3600
FLOOR_SCRIPT = "return redis.call('INCR', KEYS[1])"


def floors(client: redis.Redis, namespace: str) -> dict[str, Callable[[str], object]]:
    """Nothing but the round trip: `INCR key`, and `EVALSHA` of a script doing only that."""
    sha = client.script_load(FLOOR_SCRIPT)
    key = f"{namespace}:floor"

    def incr(_: str) -> object:
        return client.incr(key)

    def evalsha(_: str) -> object:
        return client.evalsha(sha, 1, key)

    return {"INCR": incr, "EVALSHA": evalsha}


def run(settings: Settings, services: Services) -> list[Row]:
    assert services.redis_url is not None
    backend = Backend("redis", services.redis_url, services.namespace)
    found = contenders(ADAPTERS, backend, matched_only=True)
    keys = ["one-key"] * settings.redis_hits
    client = redis.Redis.from_url(services.redis_url)
    raw = floors(client, services.namespace)

    def floor(name: str) -> Sample:
        def run() -> float:
            throughput(raw[name], keys[:20])
            return throughput(raw[name], keys)

        return run

    plan = {
        c.label: c.sample(LIMIT, PERIOD, fresh_key(f"c{i}", len(keys)), warm=20)
        for i, c in enumerate(found)
    }
    plan |= {f"floor/{n}": floor(n) for n in raw}
    measured = interleaved(plan, settings.server_repeats)
    client.close()
    rows = []
    for name in raw:
        row = Row("redis", "floor", name, None, "redis")
        row.measured("decisions_per_s", measured[f"floor/{name}"])
        rows.append(row)
    for i, contender in enumerate(found):
        row = contender.row("redis")
        row.measured("decisions_per_s", measured[contender.label])
        if services.redis_private:
            count_commands(row, contender, f"c{i}counted", settings.counted_decisions)
        rows.append(row)
    return rows + concurrent(settings, services)


def count_commands(row: Row, contender: Contender, key: str, decisions: int) -> None:
    """Record the commands a decision sends (`client_commands`) and runs inside scripts
    (`script_commands`), averaged over `decisions` after a warm-up on the same key; the
    note names the client commands."""
    limiter = contender.adapter.make(contender.algorithm.name, LIMIT, PERIOD, contender.backend)
    try:
        for _ in range(5):
            limiter.hit(key)
        with monitor(contender.backend.url) as log:
            for _ in range(decisions):
                limiter.hit(key)
    finally:
        limiter.close()
    row.metrics["client_commands"] = sum(log.client.values()) / decisions
    row.metrics["script_commands"] = sum(log.script.values()) / decisions
    row.note = " + ".join(
        name if count == decisions else f"{count / decisions:g}×{name}"
        for name, count in log.client.most_common()
    )


TASKS = 64
THREADS = 8
AsyncHit = Callable[[str], Awaitable[object]]


async def _ours_async(url: str, policy: str, namespace: str) -> tuple[AsyncHit, Closer]:
    import redis.asyncio

    from throttle_core import RateLimiterFactory
    from throttle_core.storage.redis import RedisStorage

    client = redis.asyncio.Redis.from_url(url)
    storage = RedisStorage(client, prefix=f"{namespace}:ours-async:")
    create = RateLimiterFactory(config(policy, LIMIT, PERIOD), storage).create

    async def hit(key: str) -> object:
        return (await create(key).aconsume()).accepted

    return hit, client.aclose


async def _limits_async(url: str, algorithm: str, namespace: str) -> tuple[AsyncHit, Closer]:
    import limits
    import limits.aio.storage
    import limits.aio.strategies

    storage = limits.aio.storage.RedisStorage(
        url.replace("redis://", "async+redis://", 1),
        implementation="redispy",
        key_prefix=f"{namespace}:limits-async",
    )
    strategy = getattr(limits.aio.strategies, STRATEGIES[algorithm])(storage)
    item = limits.RateLimitItemPerSecond(LIMIT, PERIOD)

    async def hit(key: str) -> object:
        return await strategy.hit(item, key)

    return hit, storage.bridge.storage.aclose


async def _throttled_async(url: str, algorithm: str, namespace: str) -> tuple[AsyncHit, Closer]:
    import throttled.asyncio

    store = throttled.asyncio.RedisStore(server=url)
    quota = throttled.asyncio.per_duration(timedelta(seconds=PERIOD), LIMIT, burst=LIMIT)
    limit = throttled.asyncio.Throttled(
        using=algorithm, quota=quota, store=store, key_prefix=f"{namespace}:throttled-async"
    ).limit

    async def hit(key: str) -> object:
        return not (await limit(key)).limited

    return hit, store._backend.get_client().aclose


Closer = Callable[[], Awaitable[object]]
AsyncMaker = Callable[[str, str, str], Awaitable[tuple[AsyncHit, Closer]]]
ASYNC_PEERS: dict[str, tuple[str, AsyncMaker, dict[str, str]]] = {
    "limits": ("limits", _limits_async, {
        "fixed_window": "fixed_window", "sliding_window": "sliding_window_counter"}),
    "throttled-py": ("throttled", _throttled_async, {p: p for p in POLICIES}),
}  # fmt: skip
"""The peers' asyncio APIs on Redis: module, maker, and their algorithm for each policy."""


def async_sample(
    make: AsyncMaker, url: str, algorithm: str, namespace: str, decisions: int, tasks: int
) -> Sample:
    """Decisions/s of `tasks` asyncio tasks on one client and one event loop, each deciding
    `decisions // tasks` times in a row on one fresh key."""
    keys = itertools.count()

    def run() -> float:
        async def measure() -> float:
            hit, close = await make(url, algorithm, namespace)
            key = f"{algorithm}-{next(keys)}"
            try:

                async def worker(times: int) -> None:
                    for _ in range(times):
                        await hit(key)

                await asyncio.gather(*(worker(2) for _ in range(tasks)))
                start = time.perf_counter()
                await asyncio.gather(*(worker(decisions // tasks) for _ in range(tasks)))
                return (decisions // tasks) * tasks / (time.perf_counter() - start)
            finally:
                await close()

        return asyncio.run(measure())

    return run


def threads_sample(url: str, policy: str, namespace: str, decisions: int) -> Sample:
    """Decisions/s of `THREADS` threads sharing one synchronous client (gunicorn threads)."""
    keys = itertools.count()

    def run() -> float:
        from throttle_core import RateLimiterFactory
        from throttle_core.storage.redis import RedisStorage

        client = redis.Redis.from_url(url)
        storage = RedisStorage(client, prefix=f"{namespace}:ours-threads:")
        create = RateLimiterFactory(config(policy, LIMIT, PERIOD), storage).create
        key = f"{policy}-{next(keys)}"
        each = decisions // THREADS
        try:
            for _ in range(20):
                create(key).consume()

            def worker() -> None:
                for _ in range(each):
                    create(key).consume()

            with ThreadPoolExecutor(THREADS) as pool:
                start = time.perf_counter()
                list(pool.map(lambda _: worker(), range(THREADS)))
                return each * THREADS / (time.perf_counter() - start)
        finally:
            client.close()

    return run


def concurrent(settings: Settings, services: Services) -> list[Row]:
    """Workload 3b, Redis under concurrency: decisions/s of 64 asyncio tasks on one client
    (ours, and the peers' asyncio APIs), ours awaited one at a time on the same kind of
    client, and ours from 8 threads sharing one synchronous client."""
    assert services.redis_url is not None
    url, namespace, decisions = services.redis_url, services.namespace, settings.redis_hits * 2
    plan: dict[str, Sample] = {}
    for policy in POLICIES:
        plan[f"tasks/{OUR}/{policy}"] = async_sample(
            _ours_async, url, policy, namespace, decisions, TASKS
        )
        plan[f"await/{OUR}/{policy}"] = async_sample(
            _ours_async, url, policy, namespace, decisions // 2, 1
        )
        plan[f"threads/{OUR}/{policy}"] = threads_sample(url, policy, namespace, decisions)
        for library, (module, make, algorithms) in ASYNC_PEERS.items():
            if policy in algorithms and importlib.util.find_spec(module) is not None:
                plan[f"tasks/{library}/{algorithms[policy]}"] = async_sample(
                    make, url, algorithms[policy], namespace, decisions, TASKS
                )
    measured = interleaved(plan, settings.server_repeats)
    rows = []
    for label, result in measured.items():
        mode, library, algorithm = label.split("/")
        policy = (
            algorithm
            if library == OUR
            else next(p for p, a in ASYNC_PEERS[library][2].items() if a == algorithm)
        )
        row = Row(f"redis_{mode}", library, algorithm, policy, "redis")
        row.measured("decisions_per_s", result)
        rows.append(row)
    return rows

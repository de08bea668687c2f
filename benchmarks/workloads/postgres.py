"""Workload 4, PostgreSQL: decisions/s on one connection next to a raw single-row UPSERT
floor, and the statements and round trips each decision sends (counted on the wire)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable

import psycopg
from psycopg import sql

from benchmarks.adapters import ADAPTERS, Backend
from benchmarks.adapters.base import POLICIES
from benchmarks.adapters.throttle_suite import config
from benchmarks.record import Row, contenders, fresh_key
from benchmarks.services import WireCounter
from benchmarks.settings import Services, Settings
from benchmarks.timing import Sample, interleaved, throughput
from throttle_core import RateLimiterFactory
from throttle_core.storage.postgres import PostgresStorage

LIMIT = 10**9
PERIOD = 3600


def floor_table(namespace: str) -> str:
    return f"{namespace}_floor"


def run(settings: Settings, services: Services) -> list[Row]:
    assert services.postgres_url is not None
    backend = Backend("postgres", services.postgres_url, services.namespace)
    found = contenders(ADAPTERS, backend)
    keys = ["one-key"] * settings.postgres_hits
    table = sql.Identifier(floor_table(services.namespace))
    conn = psycopg.connect(services.postgres_url, autocommit=True)
    conn.execute(sql.SQL("CREATE TABLE {} (id text PRIMARY KEY, n bigint)").format(table))
    upsert = sql.SQL(
        "INSERT INTO {t} (id, n) VALUES (%s, 1) ON CONFLICT (id) DO UPDATE SET n = {t}.n + 1"
    ).format(t=table)

    def floor_hit(key: str) -> object:
        return conn.execute(upsert, (key,))

    def floor() -> float:
        floor_hit("warm")
        return throughput(floor_hit, keys)

    plan: dict[str, Sample] = {
        c.label: c.sample(LIMIT, PERIOD, fresh_key(f"c{i}", len(keys)), warm=1)
        for i, c in enumerate(found)
    }
    plan["floor/UPSERT"] = floor
    measured = interleaved(plan, settings.server_repeats)
    counter = WireCounter(services.postgres_url)
    try:
        rows = [Row("postgres", "floor", "UPSERT", None, "postgres")]
        rows[0].measured("decisions_per_s", measured["floor/UPSERT"])
        with psycopg.connect(counter.url, autocommit=True) as counted:
            rows[0].metrics |= count(counter, lambda k: counted.execute(upsert, (k,)), "k", 20)
        for i, contender in enumerate(found):
            row = contender.row("postgres")
            row.measured("decisions_per_s", measured[contender.label])
            wired = Backend("postgres", counter.url, services.namespace)
            limiter = contender.adapter.make(contender.algorithm.name, LIMIT, PERIOD, wired)
            try:
                key = f"c{i}counted"
                row.metrics |= count(
                    counter, limiter.hit, key, settings.counted_decisions // 2 or 1
                )
            finally:
                limiter.close()
            rows.append(row)
    finally:
        counter.close()
        conn.execute(sql.SQL("DROP TABLE {}").format(table))
        conn.close()
    return rows + concurrent(settings, services)


def count(
    counter: WireCounter, hit: Callable[[str], object], key: str, decisions: int
) -> dict[str, float]:
    """Statements and round trips per decision of `hit`, after a warm-up of 10 decisions
    (psycopg prepares a statement on its 5th run, which changes what goes on the wire)."""
    for _ in range(10):
        hit(key)
    counter.reset()
    for _ in range(decisions):
        hit(key)
    return {
        "statements": counter.statements / decisions,
        "round_trips": counter.round_trips / decisions,
    }


TASKS = 32


def async_sample(url: str, table: str, policy: str, decisions: int, tasks: int) -> Sample:
    """Decisions/s of `tasks` asyncio tasks sharing one `AsyncConnection`, each deciding
    `decisions // tasks` times in a row on one fresh key (after every task decided once)."""
    keys = itertools.count()

    def run() -> float:
        async def measure() -> float:
            connection = await psycopg.AsyncConnection.connect(url, autocommit=True)
            storage = PostgresStorage(connection, table=table)
            create = RateLimiterFactory(config(policy, LIMIT, PERIOD), storage).create
            key = f"{policy}-{next(keys)}"

            async def worker(times: int) -> None:
                for _ in range(times):
                    await create(key).aconsume()

            try:
                await asyncio.gather(*(worker(1) for _ in range(tasks)))
                start = time.perf_counter()
                await asyncio.gather(*(worker(decisions // tasks) for _ in range(tasks)))
                return (decisions // tasks) * tasks / (time.perf_counter() - start)
            finally:
                await connection.close()

        return asyncio.run(measure())

    return run


def concurrent(settings: Settings, services: Services) -> list[Row]:
    """Workload 4b, PostgreSQL under concurrency: decisions/s of 32 asyncio tasks on one
    `AsyncConnection`, and ours awaited one at a time on the same kind of connection."""
    assert services.postgres_url is not None
    url, table = services.postgres_url, f"{services.namespace}_async"
    with psycopg.connect(url, autocommit=True) as connection:
        PostgresStorage(connection, table=table).create_table()
    decisions = settings.postgres_hits * 4
    plan: dict[str, Sample] = {}
    for policy in POLICIES:
        plan[f"tasks/{policy}"] = async_sample(url, table, policy, decisions, TASKS)
        plan[f"await/{policy}"] = async_sample(url, table, policy, decisions // 4, 1)
    measured = interleaved(plan, settings.server_repeats)
    rows = []
    for label, result in measured.items():
        mode, policy = label.split("/")
        row = Row(f"postgres_{mode}", "throttle-suite", policy, policy, "postgres")
        row.measured("decisions_per_s", result)
        rows.append(row)
    return rows

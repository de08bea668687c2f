"""Workload 5, exactness under contention: several processes hammer one key through a shared
server, all starting together; the accepted total must equal the limit, never one more."""

from __future__ import annotations

import multiprocessing
from typing import Any

from benchmarks.adapters import ADAPTERS, Backend
from benchmarks.record import Contender, Row, contenders
from benchmarks.settings import Services, Settings

PERIOD = 86_400
"""A day: no token refills and no window turns over during the few seconds of a contender."""
FLOOD_LIMIT = 10**9

_start: Any = None
"""The barrier every worker process of the pool waits at before hammering."""


def _share_barrier(barrier: Any) -> None:
    global _start
    _start = barrier


def hammer(
    library: str, algorithm: str, limit: int, backend: Backend, key: str, attempts: int
) -> int | str:
    """One worker: make the limiter and warm its connection on another key, wait for the
    others at the start line, then try `attempts` times on `key`; return the accepted count,
    or the error that stopped it. A worker waiting at the barrier takes no other task, so
    the pool's N workers each run one of N tasks."""
    try:
        adapter = next(a for a in ADAPTERS if a.library == library)
        limiter = adapter.make(algorithm, limit, PERIOD, backend)
        try:
            limiter.hit(key + "-warm")
            _start.wait(60)
            return sum(limiter.hit(key) for _ in range(attempts))
        finally:
            limiter.close()
    except Exception as error:
        return f"{type(error).__name__}: {error}"


def run(settings: Settings, services: Services) -> list[Row]:
    """`exactness` rows for every library on Redis and PostgreSQL; on PostgreSQL also `flood`
    rows, where the limit is never reached and every attempt must be accepted."""
    backends = [
        Backend(kind, url, services.namespace)  # type: ignore[arg-type]
        for kind, url in (("redis", services.redis_url), ("postgres", services.postgres_url))
        if url is not None
    ]
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["benchmarks.workloads.exactness"])
    barrier = context.Barrier(settings.processes)
    keys = (f"exact{n}" for n in range(1_000_000))
    rows = []
    with context.Pool(settings.processes, _share_barrier, (barrier,)) as pool:
        for backend in backends:
            checks = [("exactness", settings.exact_limit)]
            if backend.kind == "postgres":
                checks.append(("flood", FLOOD_LIMIT))
            for contender in contenders(ADAPTERS, backend, matched_only=True):
                for check, limit in checks:
                    row = contender.row(check)
                    row.metrics["limit"] = limit
                    row.metrics["attempts"] = settings.exact_attempts * settings.processes
                    reports = contend(pool, contender, settings, limit, next(keys))
                    row.metrics["accepted"] = sum(r for r in reports if isinstance(r, int))
                    row.note = "; ".join(sorted({r for r in reports if isinstance(r, str)}))
                    rows.append(row)
    return rows


def contend(
    pool: Any, contender: Contender, settings: Settings, limit: int, key: str
) -> list[int | str]:
    """What each of the pool's processes reports after hammering `key` together."""
    args = (
        contender.adapter.library, contender.algorithm.name, limit, contender.backend, key,
        settings.exact_attempts,
    )  # fmt: skip
    reports: list[int | str] = pool.starmap(hammer, [args] * settings.processes, chunksize=1)
    return reports

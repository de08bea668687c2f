"""Workload 5, exactness under contention: several processes hammer one key through a shared
server, all starting together; the accepted total must equal the limit, never one more."""

from __future__ import annotations

import multiprocessing
import queue
from typing import Any

from benchmarks.adapters import ADAPTERS, Backend
from benchmarks.record import Contender, Row, contenders
from benchmarks.settings import Services, Settings

PERIOD = 86_400
"""A day: no token refills and no window turns over during the few seconds of a contender."""
FLOOD_LIMIT = 10**9


def hammer(
    library: str,
    algorithm: str,
    limit: int,
    backend: Backend,
    key: str,
    attempts: int,
    start: Any,
    results: Any,
) -> None:
    """One process: make the limiter and warm its connection on another key, wait for the
    others at the start line, then try `attempts` times on `key`; report the accepted count,
    or the error that stopped it."""
    try:
        adapter = next(a for a in ADAPTERS if a.library == library)
        limiter = adapter.make(algorithm, limit, PERIOD, backend)
        try:
            limiter.hit(key + "-warm")
            start.wait(60)
            results.put(sum(limiter.hit(key) for _ in range(attempts)))
        finally:
            limiter.close()
    except Exception as error:
        results.put(f"{type(error).__name__}: {error}")


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
    keys = (f"exact{n}" for n in range(1_000_000))
    rows = []
    for backend in backends:
        checks = [("exactness", settings.exact_limit)]
        if backend.kind == "postgres":
            checks.append(("flood", FLOOD_LIMIT))
        for contender in contenders(ADAPTERS, backend, matched_only=True):
            for check, limit in checks:
                row = contender.row(check)
                row.metrics["limit"] = limit
                row.metrics["attempts"] = settings.exact_attempts * settings.processes
                accepted, errors = contend(contender, settings, limit, next(keys), context)
                row.metrics["accepted"] = accepted
                row.note = "; ".join(sorted(set(errors)))
                rows.append(row)
    return rows


def contend(
    contender: Contender, settings: Settings, limit: int, key: str, context: Any
) -> tuple[int, list[str]]:
    """The accepted total of `settings.processes` processes on `key`, and their errors."""
    start = context.Barrier(settings.processes)
    results = context.Queue()
    args = (
        contender.adapter.library, contender.algorithm.name, limit,
        contender.backend, key, settings.exact_attempts, start, results,
    )  # fmt: skip
    workers = [context.Process(target=hammer, args=args) for _ in range(settings.processes)]
    for worker in workers:
        worker.start()
    reports: list[int | str] = []
    while len(reports) < len(workers):
        try:
            reports.append(results.get(timeout=1))
        except queue.Empty:
            if not any(worker.is_alive() for worker in workers):
                codes = sorted({worker.exitcode for worker in workers}, key=str)
                reports.append(f"a process died (exit codes {codes})")
                break
    for worker in workers:
        worker.join(30)
    accepted = sum(r for r in reports if isinstance(r, int))
    return accepted, [r for r in reports if isinstance(r, str)]

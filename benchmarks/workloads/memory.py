"""Workloads 1 and 2, in memory: one key hammered sequentially, and 100,000 distinct keys
(decisions per second of wall-clock time, with the CPU time of the same samples next to it,
and bytes of memory per key measured with tracemalloc)."""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Callable, Sequence

from benchmarks.adapters import ADAPTERS, MEMORY_POLICIES, Backend
from benchmarks.record import Contender, Row, contenders
from benchmarks.settings import Services, Settings
from benchmarks.timing import Measured, Sample, interleaved

LIMIT = 10**9
PERIOD = 3600
"""One key: a limit no run reaches, so every decision is an accepted one, which writes state."""
KEY_LIMIT = 100
KEY_PERIOD = 86_400
"""Many keys: each key is hit twice, well under its limit, and its state must stay alive
until the end (a nearly full token bucket of a huge limit expires within a second, which
would leave almost nothing to measure)."""
WALL = "decisions_per_s"
CPU = "decisions_per_cpu_s"


def one_key(settings: Settings, services: Services) -> list[Row]:
    """Workload 1: every algorithm of every library, one key, sequential decisions/s."""
    backend = Backend("memory", namespace=services.namespace)
    keys = ["one-key"] * settings.one_key_hits
    found = contenders(ADAPTERS, backend, policies=MEMORY_POLICIES)
    return timed("memory_one_key", found, settings.repeats, LIMIT, PERIOD, keys, 100)


def many_keys(settings: Settings, services: Services) -> list[Row]:
    """Workload 2: `many_keys` distinct keys, each hit twice (first sight, then again), and
    the memory the limiter holds per key after one hit on each."""
    keys = [f"user-{i}" for i in range(settings.many_keys)]
    backend = Backend("memory", namespace=services.namespace, capacity=len(keys))
    found = contenders(ADAPTERS, backend, matched_only=True, policies=MEMORY_POLICIES)
    repeats = settings.many_keys_repeats
    rows = timed("memory_many_keys", found, repeats, KEY_LIMIT, KEY_PERIOD, keys + keys, 0)
    for contender, row in zip(found, rows, strict=True):
        row.metrics["bytes_per_key"] = bytes_per_key(contender, keys)
    return rows


def timed(
    workload: str,
    found: list[Contender],
    repeats: int,
    limit: int,
    period: int,
    keys: Sequence[str],
    warm: int,
) -> list[Row]:
    """Interleaved rounds of every contender over `keys` (the first `warm` untimed): the
    wall-clock rate is the figure, the CPU rate of the same samples is kept next to it."""
    cpu: dict[str, list[float]] = {c.label: [] for c in found}
    plan = {c.label: both_clocks(c, limit, period, keys, warm, cpu[c.label]) for c in found}
    measured = interleaved(plan, repeats)
    rows = []
    for contender in found:
        row = contender.row(workload)
        row.measured(WALL, measured[contender.label])
        row.measured(CPU, Measured(tuple(cpu[contender.label])))
        rows.append(row)
    return rows


def both_clocks(
    contender: Contender,
    limit: int,
    period: int,
    keys: Sequence[str],
    warm: int,
    cpu: list[float],
) -> Sample:
    """One sample on a fresh limiter: decisions per wall-clock second, returned, and per
    CPU second of the whole process (every thread), appended to `cpu`."""

    def run() -> float:
        limiter = contender.adapter.make(contender.algorithm.name, limit, period, contender.backend)
        hit: Callable[[str], object] = limiter.hit
        try:
            for key in keys[:warm]:
                hit(key)
            wall, processor = time.perf_counter(), time.process_time()
            for key in keys:
                hit(key)
            wall, processor = time.perf_counter() - wall, time.process_time() - processor
        finally:
            limiter.close()
        cpu.append(len(keys) / processor)
        return len(keys) / wall

    return run


def bytes_per_key(contender: Contender, keys: list[str]) -> float:
    """Memory allocated by a fresh limiter after one hit on each of `keys` and still held,
    divided by the number of keys (the key strings themselves are allocated beforehand)."""
    backend = contender.backend
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        limiter = contender.adapter.make(contender.algorithm.name, KEY_LIMIT, KEY_PERIOD, backend)
        hit = limiter.hit
        for key in keys:
            hit(key)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
        limiter.close()
    finally:
        tracemalloc.stop()
    return held / len(keys)

"""Workloads 1 and 2, in memory: one key hammered sequentially, and 100,000 distinct keys
(decisions per second, and bytes of memory per key measured with tracemalloc)."""

from __future__ import annotations

import gc
import tracemalloc

from benchmarks.adapters import ADAPTERS, Backend
from benchmarks.record import Contender, Row, contenders
from benchmarks.settings import Services, Settings
from benchmarks.timing import CPU, interleaved

LIMIT = 10**9
PERIOD = 3600
"""One key: a limit no run reaches, so every decision is an accepted one, which writes state."""
KEY_LIMIT = 100
KEY_PERIOD = 86_400
"""Many keys: each key is hit twice, well under its limit, and its state must stay alive
until the end (a nearly full token bucket of a huge limit expires within a second, which
would leave almost nothing to measure)."""


def one_key(settings: Settings, services: Services) -> list[Row]:
    """Workload 1: every algorithm of every library, one key, sequential decisions/s."""
    backend = Backend("memory", namespace=services.namespace)
    keys = ["one-key"] * settings.one_key_hits
    found = contenders(ADAPTERS, backend)

    plan = {c.label: c.sample(LIMIT, PERIOD, lambda: keys, 100, CPU) for c in found}
    measured = interleaved(plan, settings.repeats)
    rows = []
    for contender in found:
        row = contender.row("memory_one_key")
        row.measured("decisions_per_s", measured[contender.label])
        rows.append(row)
    return rows


def many_keys(settings: Settings, services: Services) -> list[Row]:
    """Workload 2: `many_keys` distinct keys, each hit twice (first sight, then again), and
    the memory the limiter holds per key after one hit on each."""
    keys = [f"user-{i}" for i in range(settings.many_keys)]
    backend = Backend("memory", namespace=services.namespace, capacity=len(keys))
    found = contenders(ADAPTERS, backend, matched_only=True)

    plan = {c.label: c.sample(KEY_LIMIT, KEY_PERIOD, lambda: keys + keys, 0, CPU) for c in found}
    measured = interleaved(plan, settings.many_keys_repeats)
    rows = []
    for contender in found:
        row = contender.row("memory_many_keys")
        row.measured("decisions_per_s", measured[contender.label])
        row.metrics["bytes_per_key"] = bytes_per_key(contender, keys)
        rows.append(row)
    return rows


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

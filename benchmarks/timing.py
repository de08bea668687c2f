"""Interleaved repeats: every contender runs once per round, in a rotating order, so a slow
patch of a shared machine hits all of them alike; the median of the rounds is reported."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

Sample = Callable[[], float]
"""Runs one timed sample and returns its throughput (operations per second)."""


@dataclass(frozen=True)
class Measured:
    """The samples of one contender and their median."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def interleaved(contenders: Mapping[str, Sample], repeats: int) -> dict[str, Measured]:
    """Run each contender `repeats` times, round by round; round r starts at contender r."""
    names = list(contenders)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(repeats):
        print(f"    round {round_ + 1}/{repeats} of {len(names)} contenders", flush=True)
        shift = round_ % len(names) if names else 0
        for name in names[shift:] + names[:shift]:
            gc.collect()
            samples[name].append(contenders[name]())
    return {name: Measured(tuple(values)) for name, values in samples.items()}


Clock = Callable[[], float]

WALL: Clock = time.perf_counter
"""For workloads that wait on a server: the wait is part of the cost."""
CPU: Clock = time.process_time
"""For workloads that only compute (in memory, in-process ASGI): the CPU time of the whole
process, every thread of every library included, which other processes competing for a
shared machine's cores disturb far less than the wall clock."""


def throughput(hit: Callable[[str], object], keys: Sequence[str], clock: Clock = WALL) -> float:
    """Decisions per second of calling `hit` once for each of `keys`, in order."""
    start = clock()
    for key in keys:
        hit(key)
    return len(keys) / (clock() - start)

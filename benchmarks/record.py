"""What a workload reports: one `Row` per contender, with its medians and raw samples."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from benchmarks.adapters import POLICIES, Adapter, Algorithm, Backend, BackendKind
from benchmarks.timing import WALL, Clock, Measured, Sample, throughput


@dataclass
class Row:
    """One contender of one workload. `policy` is the throttle-suite policy the algorithm
    matches (None: a peer-only algorithm, or a floor); `metrics` hold medians and counts,
    `samples` the per-round values they came from."""

    workload: str
    library: str
    algorithm: str
    policy: str | None
    backend: str
    metrics: dict[str, float] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=dict)
    note: str = ""

    def measured(self, metric: str, measured: Measured) -> None:
        self.metrics[metric] = measured.median
        self.samples[metric] = list(measured.samples)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Row:
        return cls(**data)


@dataclass(frozen=True)
class Contender:
    """One library's algorithm on one backend: what a workload measures."""

    adapter: Adapter
    algorithm: Algorithm
    backend: Backend

    @property
    def label(self) -> str:
        return f"{self.adapter.library}/{self.algorithm.name}"

    def sample(
        self,
        limit: int,
        period: int,
        keys: Callable[[], Sequence[str]],
        warm: int,
        clock: Clock = WALL,
    ) -> Sample:
        """One timed sample: a fresh limiter, the first `warm` of `keys()` untimed, then all
        of them timed on `clock` (decisions/s); the limiter is closed afterwards."""

        def run() -> float:
            limiter = self.adapter.make(self.algorithm.name, limit, period, self.backend)
            try:
                batch = keys()
                throughput(limiter.hit, batch[:warm])
                return throughput(limiter.hit, batch, clock)
            finally:
                limiter.close()

        return run

    def row(self, workload: str) -> Row:
        return Row(
            workload, self.adapter.library, self.algorithm.name, self.algorithm.policy,
            self.backend.kind,
        )  # fmt: skip


def contenders(
    adapters: tuple[Adapter, ...],
    backend: Backend,
    *,
    matched_only: bool = False,
    policies: Sequence[str] = POLICIES,
) -> list[Contender]:
    """Every installed library's algorithms on `backend` that decide like one of `policies`
    or like none of ours; with `matched_only`, only those that decide like one of `policies`."""
    kind: BackendKind = backend.kind
    return [
        Contender(adapter, algorithm, backend)
        for adapter in adapters
        if adapter.available()
        for algorithm in adapter.algorithms(kind)
        if algorithm.policy in policies or (not matched_only and algorithm.policy is None)
    ]


def fresh_key(prefix: str, count: int) -> Callable[[], list[str]]:
    """A new key for every sample, `count` times over, so no sample sees another's state
    (give each contender its own short `prefix`: peers build key and table names from it)."""
    numbers = itertools.count()
    return lambda: [f"{prefix}k{next(numbers)}"] * count

"""The one interface every rate-limiting library is measured through: make a limiter for an
algorithm, a limit, a period and a backend, then `hit(key) -> bool`."""

from __future__ import annotations

import importlib.metadata
import importlib.util
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

BackendKind = Literal["memory", "redis", "postgres"]
POLICIES = ("token_bucket", "fixed_window", "sliding_window")
"""throttle-suite's policies compared on every backend; every peer algorithm that computes
the same thing maps to one."""
MEMORY_POLICIES = (*POLICIES, "gcra")
"""The policies compared in memory: GCRA too, which throttled-py and PyrateLimiter offer there."""


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Backend:
    """Where limiters keep their state. `url` locates a server; `namespace` prefixes every key
    and table so one run never sees another's; in-memory stores are sized for `capacity` keys."""

    kind: BackendKind
    url: str = ""
    namespace: str = "bench"
    capacity: int = 100_000


@dataclass(frozen=True)
class Algorithm:
    """One of a library's algorithms: the library's own name for it, and the throttle-suite
    policy that decides the same way (None when we offer no such policy)."""

    name: str
    policy: str | None


@dataclass(frozen=True)
class Limiter:
    """What an adapter makes: `hit(key)` takes one token for `key` and says whether it was
    granted; `close()` lets go of the connections and threads the limiter opened."""

    hit: Callable[[str], bool]
    close: Callable[[], None] = _nothing


class Library:
    """A measured library: `library` is its name on PyPI, `module` the package it is imported
    as (peers are installed by `make bench` only, so each may be missing)."""

    library: str
    module: str

    def available(self) -> bool:
        return importlib.util.find_spec(self.module) is not None

    def version(self) -> str:
        return importlib.metadata.version(self.library)


class Adapter(Library, ABC):
    """One library's limiters, made the same way for every library. A library offering the
    same `offered` algorithms on each of its `backends` needs no `algorithms` of its own."""

    offered: tuple[Algorithm, ...] = ()
    backends: tuple[BackendKind, ...] = ()

    def algorithms(self, backend: BackendKind) -> tuple[Algorithm, ...]:
        """The algorithms this library offers on `backend` (empty: it has no such backend)."""
        return self.offered if backend in self.backends else ()

    @abstractmethod
    def make(self, algorithm: str, limit: int, period: int, backend: Backend) -> Limiter:
        """A limiter of `limit` hits per `period` seconds, per key, with one of `algorithms`."""

    def policy_algorithm(self, policy: str, backend: BackendKind) -> Algorithm | None:
        """This library's algorithm for one of our policies on `backend`, if it has one."""
        for algorithm in self.algorithms(backend):
            if algorithm.policy == policy:
                return algorithm
        return None

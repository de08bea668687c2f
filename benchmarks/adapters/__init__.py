"""Every library measured, behind the same `Adapter` interface; ours first."""

from __future__ import annotations

from benchmarks.adapters.base import (
    MEMORY_POLICIES,
    POLICIES,
    Adapter,
    Algorithm,
    Backend,
    BackendKind,
    Limiter,
)
from benchmarks.adapters.limits import Limits
from benchmarks.adapters.pyrate_limiter import PyrateLimiter
from benchmarks.adapters.throttle_suite import ThrottleSuite
from benchmarks.adapters.throttled_py import ThrottledPy

OURS = ThrottleSuite()
PEERS: tuple[Adapter, ...] = (Limits(), PyrateLimiter(), ThrottledPy())
ADAPTERS: tuple[Adapter, ...] = (OURS, *PEERS)

__all__ = [
    "ADAPTERS",
    "MEMORY_POLICIES",
    "OURS",
    "PEERS",
    "POLICIES",
    "Adapter",
    "Algorithm",
    "Backend",
    "BackendKind",
    "Limiter",
]
